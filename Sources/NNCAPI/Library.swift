import CNN
import NNCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The library version: nn.h's NN_VERSION_STRING, the one place it is written.
nonisolated(unsafe) private let versionString: UnsafePointer<CChar> = UnsafePointer(strdup(NN_VERSION_STRING)!)

@c @implementation
public func nn_version() -> UnsafePointer<CChar>? {
    versionString
}

@c @implementation
public func nn_last_error() -> UnsafePointer<CChar>? {
    lastError()
}

private let statusStrings: [StaticString] = [
    "ok", "null pointer", "invalid argument", "shape mismatch", "invalid handle",
    "invalid state", "non-finite value", "out of memory", "internal error", "input/output error",
    "invalid model file", "model busy", "data-parallel communication failed",
]
private let unknownStatus: StaticString = "unknown status"

@c @implementation
public func nn_status_string(_ status: nn_status) -> UnsafePointer<CChar>? {
    let index = Int(status.rawValue)
    let s = index < statusStrings.count ? statusStrings[index] : unknownStatus
    return UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

@c @implementation
public func nn_sgemm(_ trans_a: Int32, _ trans_b: Int32, _ m: Int, _ n: Int, _ k: Int,
                     _ alpha: Float, _ a: UnsafePointer<Float>?, _ lda: Int,
                     _ b: UnsafePointer<Float>?, _ ldb: Int,
                     _ beta: Float, _ c: UnsafeMutablePointer<Float>?, _ ldc: Int) -> nn_status {
    guarded {
        let ta = try flagArgument(trans_a, "trans_a"), tb = try flagArgument(trans_b, "trans_b")
        for (value, name) in [(m, "m"), (n, "n"), (k, "k"), (lda, "lda"), (ldb, "ldb"), (ldc, "ldc")] where value < 0 {
            throw APIError.shape("\(name) = \(UInt(bitPattern: value)) is too large")
        }
        guard m > 0, n > 0 else { return }
        // Checks that a stored matrix of `rows` rows, `cols` columns and row
        // stride `ld` is addressable.
        func check(_ rows: Int, _ cols: Int, _ ld: Int, _ name: String, _ ldName: String) throws {
            guard ld >= max(cols, 1) else {
                throw APIError.shape("\(ldName) = \(ld) is smaller than the \(cols) columns of \(name) as stored")
            }
            let (span, o1) = (rows - 1).multipliedReportingOverflow(by: ld)
            let (_, o2) = span.addingReportingOverflow(cols)
            guard !o1, !o2, span <= Int.max / 8 else { throw APIError.shape("\(name) is too large to address") }
        }
        let cp = try required(c, "c")
        try check(m, n, ldc, "C", "ldc")
        var ap = UnsafePointer<Float>(cp), bp = UnsafePointer<Float>(cp)
        if k > 0 {
            ap = try required(a, "a")
            bp = try required(b, "b")
            try check(ta ? k : m, ta ? m : k, lda, "A", "lda")
            try check(tb ? n : k, tb ? k : n, ldb, "B", "ldb")
        }
        KernelTable<Float>.production.gemm(ta, tb, m, n, k, alpha, ap, lda, bp, ldb, beta, cp, ldc)
    }
}

@c @implementation
public func nn_set_num_threads(_ threads: Int) -> nn_status {
    guarded {
        guard threads >= 0, threads <= 256 else {
            throw APIError.invalid("threads must be between 0 (the default) and 256, got \(unsigned(threads))")
        }
        ThreadPool.shared.setThreadCount(threads == 0 ? ThreadPool.defaultThreadCount() : threads)
    }
}

@c @implementation
public func nn_num_threads(_ out: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded { try required(out, "out").pointee = ThreadPool.shared.threadCount }
}

private let levelNames: [StaticString] = ["baseline", "avx2", "avx512"]

@c @implementation
public func nn_cpu_level() -> UnsafePointer<CChar>? {
    UnsafeRawPointer(levelNames[CPULevel.selected.rawValue].utf8Start).assumingMemoryBound(to: CChar.self)
}

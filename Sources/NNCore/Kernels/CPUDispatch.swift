// Run-time choice of the kernels' instruction-set level: made once, from
// CPUID and the OS's enabled register state (NNCPUFeatures), overridable
// with the environment variable NN_CPU=baseline|avx2|avx512. A forced level
// the CPU lacks is refused with a message on stderr, and the best available
// level is used instead.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NNCPUFeatures
import NNKernelsBaseline
#if arch(x86_64)
import NNKernelsAVX2
import NNKernelsAVX512
#endif

/// The instruction-set levels with their own kernels, lowest first.
public enum CPULevel: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    /// SSE2 on x86-64, NEON on arm64: SIMD4, no FMA.
    case baseline
    /// AVX2 + FMA (Haswell and later, Zen): SIMD8, 6×16 tiles.
    case avx2
    /// AVX-512 F/CD/BW/DQ/VL (Skylake-SP and later, Zen 4/5): SIMD16, 12×32 tiles.
    case avx512

    public static func < (l: CPULevel, r: CPULevel) -> Bool { l.rawValue < r.rawValue }

    public var description: String {
        switch self {
        case .baseline: return "baseline"
        case .avx2: return "avx2"
        case .avx512: return "avx512"
        }
    }

    /// The highest level this CPU, this OS and this build support.
    public static var best: CPULevel {
        #if arch(x86_64)
        if nnk_cpu_has_avx512_skx() != 0 { return .avx512 }
        if nnk_cpu_has_avx2_fma() != 0 { return .avx2 }
        #endif
        return .baseline
    }

    /// Whether this CPU and OS can run the level's kernels.
    public var isSupported: Bool { self <= CPULevel.best }

    /// The level in use, chosen on first use (NN_CPU, else the best).
    public static let selected: CPULevel = chooseLevel()

    /// Adam's element-wise update over Float parameters, compiled for this level.
    typealias AdamStep = (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int,
                          UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>?,
                          Float, Float, Float, Float, Float, Float, Float, Float) -> Void
    var adamStep: AdamStep {
        switch self {
        case .baseline: return NNKernelsBaseline.adamStep
        #if arch(x86_64)
        case .avx2: return NNKernelsAVX2.adamStep
        case .avx512: return NNKernelsAVX512.adamStep
        #else
        case .avx2, .avx512: return NNKernelsBaseline.adamStep
        #endif
        }
    }

    /// The single-threaded GEMM of this level (whether or not the CPU supports it).
    var sgemm: KernelTable<Float>.Gemm {
        switch self {
        case .baseline: return sgemmBaseline
        #if arch(x86_64)
        case .avx2: return sgemmAVX2
        case .avx512: return sgemmAVX512
        #else
        case .avx2, .avx512: return sgemmBaseline
        #endif
        }
    }

    /// The level's GEMM from a packed B panel that threads share
    /// (GemmDriver.swift's `packPanel` and `gemmPanel`).
    struct PanelGemm {
        /// Floats of the panel of an op(B) of k × n.
        let floats: (_ k: Int, _ n: Int) -> Int
        /// Columns per strip (NR): the panel is packed and read strip-wise.
        let strip: Int
        /// Packs strips [s0, s1) of op(B) (transB, k, n, b, ldb) into the panel.
        let pack: (Bool, Int, Int, UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>, Int, Int) -> Void
        /// C = alpha · op(A) · panel[:, column ..< column + n] + beta · C
        /// (transA, m, n, k, alpha, a, lda, panel, panel width, column, beta, c, ldc).
        let gemm: (Bool, Int, Int, Int, Float, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int, Int,
                   Float, UnsafeMutablePointer<Float>, Int) -> Void
    }

    var panelGemm: PanelGemm {
        switch self {
        case .baseline:
            return PanelGemm(floats: panelFloatsBaseline, strip: panelStripBaseline, pack: packPanelBaseline,
                             gemm: gemmPanelBaseline)
        #if arch(x86_64)
        case .avx2:
            return PanelGemm(floats: panelFloatsAVX2, strip: panelStripAVX2, pack: packPanelAVX2, gemm: gemmPanelAVX2)
        case .avx512:
            return PanelGemm(floats: panelFloatsAVX512, strip: panelStripAVX512, pack: packPanelAVX512,
                             gemm: gemmPanelAVX512)
        #else
        case .avx2, .avx512:
            return PanelGemm(floats: panelFloatsBaseline, strip: panelStripBaseline, pack: packPanelBaseline,
                             gemm: gemmPanelBaseline)
        #endif
        }
    }
}

/// Writes a message to standard error.
private func warn(_ message: String) {
    var message = message
    message.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// Reads NN_CPU and picks the level; says so on stderr when it refuses a value.
private func chooseLevel() -> CPULevel {
    let best = CPULevel.best
    guard let raw = getenv("NN_CPU") else { return best }
    let value = String(cString: raw).lowercased()
    if value.isEmpty { return best }
    guard let wanted = CPULevel.allCases.first(where: { $0.description == value }) else {
        warn("libnn: NN_CPU=\(value) is not one of baseline, avx2, avx512; using \(best)\n")
        return best
    }
    guard wanted.isSupported else {
        warn("libnn: NN_CPU=\(value): this CPU does not support \(value); using \(best)\n")
        return best
    }
    return wanted
}

import CNN
import NNCore
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How a C call uses its model (nn.h, "Threading"): shared calls (inference
/// and reads) may overlap each other; an exclusive call (anything that
/// changes the model) overlaps nothing.
enum Access {
    case shared, exclusive
}

/// What an `nn_model *` points to: the model, the gate that keeps its calls
/// from overlapping in the wrong way, and the C strings handed out for it
/// (metric names), which live as long as the model.
final class ModelHandle: @unchecked Sendable {  // shared state behind `gate`, `names`
    let model: Sequential
    /// The C strings of names (`cString`), made by shared calls too.
    private var names: [String: UnsafeMutablePointer<CChar>] = [:]
    private let namesLock = PosixLock()

    /// The gate: `exclusiveBit` while an exclusive call runs, else the
    /// number of shared calls running.
    private let gate = Atomic<Int>(0)
    private static let exclusiveBit = Int.min
    /// The thread of the running exclusive call (0 when none): its callbacks
    /// may call into the model again (`enter`).
    private let owner = Atomic<UInt>(0)

    /// The last nn_model_diagnose's result, and the C strings of its
    /// findings (valid until the next diagnosis or the handle's end).
    private(set) var diagnosis: Diagnosis?
    private var diagnosisStrings: [String: UnsafeMutablePointer<CChar>] = [:]

    init(_ model: Sequential) { self.model = model }

    deinit {
        names.values.forEach { free($0) }
        diagnosisStrings.values.forEach { free($0) }
    }

    /// Lets a call of this kind in, or throws NN_ERROR_BUSY. Returns whether
    /// the call must `leave`: a call made from inside the exclusive call
    /// running on the same thread (a callback of fit) is part of it, and
    /// passes without a mark of its own.
    func enter(_ access: Access) throws -> Bool {
        let me = currentThread()
        if owner.load(ordering: .acquiring) == me { return false }
        switch access {
        case .shared:
            var seen = gate.load(ordering: .relaxed)
            while true {
                guard seen >= 0 else {
                    throw APIError(status: NN_ERROR_BUSY, message: "the model is busy: another thread is changing it "
                        + "(training it, setting its weights or its settings); a call that reads the model may not "
                        + "overlap that call: retry once it has returned")
                }
                let (done, now) = gate.compareExchange(expected: seen, desired: seen + 1, ordering: .acquiring)
                if done { return true }
                seen = now
            }
        case .exclusive:
            let (done, now) = gate.compareExchange(expected: 0, desired: Self.exclusiveBit, ordering: .acquiring)
            guard done else {
                throw APIError(status: NN_ERROR_BUSY, message: "the model is busy: "
                    + (now < 0 ? "another thread is changing it (training it, setting its weights or its settings)"
                               : "\(now) call\(now == 1 ? "" : "s") on other threads (predict, evaluate or a read) "
                                 + "\(now == 1 ? "is" : "are") using it")
                    + "; this call changes the model and needs it to itself: retry once \(now == 1 || now < 0 ? "that call has" : "they have") returned")
            }
            owner.store(me, ordering: .releasing)
            return true
        }
    }

    /// Ends a call that `enter` let in (and asked to leave).
    func leave(_ access: Access) {
        switch access {
        case .shared:
            gate.subtract(1, ordering: .releasing)
        case .exclusive:
            owner.store(0, ordering: .relaxed)
            gate.store(0, ordering: .releasing)
        }
    }

    func setDiagnosis(_ diagnosis: Diagnosis) {
        diagnosisStrings.values.forEach { free($0) }
        diagnosisStrings = [:]
        for f in diagnosis.findings {
            for text in [f.message, f.suggestion] where diagnosisStrings[text] == nil {
                diagnosisStrings[text] = strdup(text)!
            }
        }
        self.diagnosis = diagnosis
    }

    /// The C string of a string of the current diagnosis.
    func diagnosisString(_ text: String) -> UnsafePointer<CChar> {
        UnsafePointer(diagnosisStrings[text]!)
    }

    /// A C string for `name` that stays valid as long as this handle.
    func cString(_ name: String) -> UnsafePointer<CChar> {
        namesLock.withLock {
            if let p = names[name] { return UnsafePointer(p) }
            let p = strdup(name)!
            names[name] = p
            return UnsafePointer(p)
        }
    }
}

/// The calling thread, as a number that no other running thread has.
@inline(__always)
private func currentThread() -> UInt {
    #if canImport(Darwin)
    UInt(bitPattern: pthread_self())
    #else
    UInt(pthread_self())
    #endif
}

/// The set of live handles. Every entry point checks its handle here, so a
/// stale, foreign or wrong-kind pointer is an error rather than a crash.
///
/// An `nn_model *` is a token, not the address of the Swift object: tokens
/// count up and are never handed out twice, so a freed handle stays invalid
/// even when the allocator reuses its memory for a new model (an address
/// would then name the new model). Nothing ever dereferences a token.
enum Handles {
    /// The next token and the live handles, behind `lock` (a pthread mutex,
    /// which ThreadSanitizer sees: see PosixLock).
    private nonisolated(unsafe) static var next: UInt = 0x10_0000
    private nonisolated(unsafe) static var handles: [UInt: ModelHandle] = [:]
    private static let lock = PosixLock()

    static func register(_ handle: ModelHandle) -> OpaquePointer {
        let token = lock.withLock { () -> UInt in
            let token = next
            next += 16  // aligned like a heap pointer, for tools that print or check them
            handles[token] = handle
            return token
        }
        return OpaquePointer(bitPattern: token)!
    }

    /// Removes and releases a handle; false if it was not live.
    static func release(_ pointer: OpaquePointer) -> Bool {
        let handle = lock.withLock { handles.removeValue(forKey: UInt(bitPattern: UnsafeRawPointer(pointer))) }
        return handle != nil
    }

    /// The live model handle at `pointer`, or an error.
    static func model(_ pointer: OpaquePointer?) throws -> ModelHandle {
        guard let pointer else { throw APIError.null("model") }
        let handle = lock.withLock { handles[UInt(bitPattern: UnsafeRawPointer(pointer))] }
        guard let handle else {
            throw APIError(status: NN_ERROR_INVALID_HANDLE,
                           message: "model is not a live nn_model handle (never created, or already freed)")
        }
        return handle
    }
}

import CNN
import NNCore
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What an `nn_model *` points to: the model plus the C strings handed out
/// for it (metric names), which live as long as the model.
final class ModelHandle: @unchecked Sendable {  // one thread at a time, as nn.h states
    let model: Sequential
    private var cNames: [String: UnsafeMutablePointer<CChar>] = [:]

    /// The last nn_model_diagnose's result, and the C strings of its
    /// findings (valid until the next diagnosis or the handle's end).
    private(set) var diagnosis: Diagnosis?
    private var diagnosisStrings: [String: UnsafeMutablePointer<CChar>] = [:]

    init(_ model: Sequential) { self.model = model }

    deinit {
        cNames.values.forEach { free($0) }
        diagnosisStrings.values.forEach { free($0) }
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
        if let p = cNames[name] { return UnsafePointer(p) }
        let p = strdup(name)!
        cNames[name] = p
        return UnsafePointer(p)
    }
}

/// The set of live handles. Every entry point checks its handle here, so a
/// stale, foreign or wrong-kind pointer is an error rather than a crash.
///
/// An `nn_model *` is a token, not the address of the Swift object: tokens
/// count up and are never handed out twice, so a freed handle stays invalid
/// even when the allocator reuses its memory for a new model (an address
/// would then name the new model). Nothing ever dereferences a token.
enum Handles {
    private static let live = Mutex<(next: UInt, handles: [UInt: ModelHandle])>((next: 0x10_0000, handles: [:]))

    static func register(_ handle: ModelHandle) -> OpaquePointer {
        let token = live.withLock { state -> UInt in
            let token = state.next
            state.next += 16  // aligned like a heap pointer, for tools that print or check them
            state.handles[token] = handle
            return token
        }
        return OpaquePointer(bitPattern: token)!
    }

    /// Removes and releases a handle; false if it was not live.
    static func release(_ pointer: OpaquePointer) -> Bool {
        let handle = live.withLock { $0.handles.removeValue(forKey: UInt(bitPattern: UnsafeRawPointer(pointer))) }
        return handle != nil
    }

    /// The live model handle at `pointer`, or an error.
    static func model(_ pointer: OpaquePointer?) throws -> ModelHandle {
        guard let pointer else { throw APIError.null("model") }
        let handle = live.withLock { $0.handles[UInt(bitPattern: UnsafeRawPointer(pointer))] }
        guard let handle else {
            throw APIError(status: NN_ERROR_INVALID_HANDLE,
                           message: "model is not a live nn_model handle (never created, or already freed)")
        }
        return handle
    }
}

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

    init(_ model: Sequential) { self.model = model }

    deinit { cNames.values.forEach { free($0) } }

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
enum Handles {
    private static let live = Mutex<[UInt: ModelHandle]>([:])

    static func register(_ handle: ModelHandle) -> OpaquePointer {
        let pointer = Unmanaged.passRetained(handle).toOpaque()
        live.withLock { $0[UInt(bitPattern: pointer)] = handle }
        return OpaquePointer(pointer)
    }

    /// Removes and releases a handle; false if it was not live.
    static func release(_ pointer: OpaquePointer) -> Bool {
        let handle = live.withLock { $0.removeValue(forKey: UInt(bitPattern: UnsafeRawPointer(pointer))) }
        guard let handle else { return false }
        Unmanaged.passUnretained(handle).release()
        return true
    }

    /// The live model handle at `pointer`, or an error.
    static func model(_ pointer: OpaquePointer?) throws -> ModelHandle {
        guard let pointer else { throw APIError.null("model") }
        let handle = live.withLock { $0[UInt(bitPattern: UnsafeRawPointer(pointer))] }
        guard let handle else {
            throw APIError(status: NN_ERROR_INVALID_HANDLE,
                           message: "model is not a live nn_model handle (never created, or already freed)")
        }
        return handle
    }
}

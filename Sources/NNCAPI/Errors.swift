import CNN
import NNCore
import NNCPUFeatures
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An error raised at the C boundary, before the core runs.
struct APIError: Error {
    let status: nn_status
    let message: String

    static func null(_ name: String) -> APIError {
        APIError(status: NN_ERROR_NULL_POINTER, message: "\(name) is NULL")
    }
    static func invalid(_ message: String) -> APIError {
        APIError(status: NN_ERROR_INVALID_ARGUMENT, message: message)
    }
    static func shape(_ message: String) -> APIError {
        APIError(status: NN_ERROR_SHAPE_MISMATCH, message: message)
    }
}

// MARK: The per-thread last error

/// Per-thread storage of the last error message: a malloc'd C string freed
/// when the thread exits or the next error replaces it.
private var errorKey: pthread_key_t { nnk_error_key() }

private let emptyMessage: StaticString = ""

func setLastError(_ message: String) {
    let copy = strdup(message)
    free(pthread_getspecific(errorKey))
    pthread_setspecific(errorKey, copy)
}

func lastError() -> UnsafePointer<CChar> {
    guard let p = pthread_getspecific(errorKey) else {
        return UnsafeRawPointer(emptyMessage.utf8Start).assumingMemoryBound(to: CChar.self)
    }
    return UnsafePointer(p.assumingMemoryBound(to: CChar.self))
}

/// Runs `body`, turning every thrown error into a status and a message.
/// Nothing that the core throws escapes into C.
func guarded(_ body: () throws -> Void) -> nn_status {
    do {
        try body()
        return NN_OK
    } catch let error as APIError {
        setLastError(error.message)
        return error.status
    } catch let error as NNError {
        setLastError(error.message)
        switch error {
        case .invalidArgument: return NN_ERROR_INVALID_ARGUMENT
        case .shapeMismatch: return NN_ERROR_SHAPE_MISMATCH
        case .invalidState: return NN_ERROR_INVALID_STATE
        case .nonFinite: return NN_ERROR_NON_FINITE
        case .outOfMemory: return NN_ERROR_OUT_OF_MEMORY
        case .io: return NN_ERROR_IO
        case .invalidFile: return NN_ERROR_INVALID_FILE
        case .communication: return NN_ERROR_COMMUNICATION
        }
    } catch {
        setLastError("internal error: \(error)")
        return NN_ERROR_INTERNAL
    }
}

/// `guarded` for a call on a model: finds the live handle, lets the call in
/// through the model's gate as `access` (NN_ERROR_BUSY if it may not overlap
/// a call running on another thread: nn.h, "Threading"), runs `body` and
/// lets the call out.
func guarded(_ model: OpaquePointer?, _ access: Access, _ body: (ModelHandle) throws -> Void) -> nn_status {
    guarded {
        let handle = try Handles.model(model)
        let entered = try handle.enter(access)
        defer { if entered { handle.leave(access) } }
        try body(handle)
    }
}

/// Unwraps a required pointer argument.
@inline(__always)
func required<P>(_ pointer: P?, _ name: String) throws -> P {
    guard let pointer else { throw APIError.null(name) }
    return pointer
}

/// rows × cols, or a shape error naming `what` if it overflows.
func elementCount(_ rows: Int, _ cols: Int, _ what: String) throws -> Int {
    let (n, overflow) = rows.multipliedReportingOverflow(by: cols)
    guard rows >= 0, cols >= 0, !overflow, n <= Int.max / MemoryLayout<Double>.stride else {
        throw APIError.shape("\(what): \(UInt(bitPattern: rows)) × \(UInt(bitPattern: cols)) elements overflow the address space")
    }
    return n
}

// MARK: size_t arguments
//
// size_t arrives in Swift as Int: values of 2^63 and more are negative here.
// A capacity that large means "more than enough"; a count or index that
// large is out of range and is reported with its real (unsigned) value.

/// Writes `text` as nn.h's text getters do: into buffer (capacity bytes),
/// truncated to capacity - 1 bytes and NUL-terminated when capacity > 0;
/// *length (if not NULL) receives the full length without the NUL.
func writeText(_ text: String, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int,
               _ length: UnsafeMutablePointer<Int>?) throws {
    if capacity != 0 { _ = try required(buffer, "buffer") }
    let bytes = Array(text.utf8)
    if let buffer, capacity != 0 {
        let n = min(bytes.count, bufferCapacity(capacity) - 1)
        for i in 0..<n { buffer[i] = CChar(bitPattern: bytes[i]) }
        buffer[n] = 0
    }
    length?.pointee = bytes.count
}

/// A buffer capacity: sizes of 2^63 and more are taken as Int.max.
@inline(__always)
func bufferCapacity(_ value: Int) -> Int { value < 0 ? Int.max : value }

/// The value as the caller passed it, for messages.
@inline(__always)
func unsigned(_ value: Int) -> UInt { UInt(bitPattern: value) }

/// Checks that index < count; the message names the kind of index.
func checkIndex(_ index: Int, _ count: Int, _ what: String, _ container: String) throws {
    guard index >= 0, index < count else {
        throw APIError.invalid("\(what) index \(unsigned(index)) is out of range: the model has \(count) \(container)")
    }
}

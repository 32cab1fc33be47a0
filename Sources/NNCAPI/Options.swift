import CNN
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// MARK: Options structs that grow (nn.h, "ABI policy")
//
// An options struct starts with struct_size, the sizeof of the struct in the
// nn.h its caller was compiled with. A minor version may append fields, so a
// program built against an older nn.h passes a smaller struct than this
// library's. The rules, for every struct below:
//   - reading (nn_model_fit and the other calls that take options): any
//     struct_size from the struct's first size under this policy (`firstSize`)
//     up to this library's sizeof is accepted; the caller's bytes are copied
//     over the defaults, so the fields past its size keep their defaults; a
//     larger size (a newer nn.h than this library) or a smaller one is
//     refused with a message.
//   - initializing: nn_X_init_sized(options, size, ...) writes the defaults
//     into the first `size` bytes only, so an older program's smaller struct
//     is never overrun. nn.h's nn_X_init(options, ...) is a macro that passes
//     sizeof *options, compiled into the caller. The plain exported function
//     nn_X_init (programs built against 0.3.0 headers call it) writes
//     firstSize bytes: the layout those headers had.
//   - result structs (nn_layer_statistics) do not grow: writeResult writes
//     their first size.
// A field appended later must start at or after the previous sizeof (add an
// explicit padding field if the previous last field leaves a hole), so that
// no new field ever lies in an older struct's tail padding.

/// An options struct of nn.h with a leading struct_size.
protocol GrowableOptions {
    /// sizeof the struct in nn.h 0.3.0/0.4.0 (x86-64 and arm64 Linux, LP64),
    /// the first layout this policy covers. Never changes once published.
    static var firstSize: Int { get }
    var struct_size: Int { get set }
}

extension GrowableOptions {
    /// The struct's name in nn.h (the imported C type's name), for messages.
    static var cName: String { String(describing: Self.self) }
}

extension nn_dense_options: GrowableOptions { static var firstSize: Int { 72 } }
extension nn_loss_options: GrowableOptions { static var firstSize: Int { 24 } }
extension nn_optimizer_options: GrowableOptions { static var firstSize: Int { 176 } }
extension nn_schedule_options: GrowableOptions { static var firstSize: Int { 104 } }
extension nn_early_stopping_options: GrowableOptions { static var firstSize: Int { 40 } }
extension nn_fit_options: GrowableOptions { static var firstSize: Int { 120 } }
extension nn_gradient_check_options: GrowableOptions { static var firstSize: Int { 40 } }
/// A result struct that libnn fills; frozen at its first size (writeResult).
extension nn_layer_statistics: GrowableOptions { static var firstSize: Int { 88 } }

/// Writes `defaults` into the first `size` bytes at `pointer`, with
/// struct_size = size. A size beyond this library's sizeof (a newer nn.h)
/// gets this library's fields and zeros after them; the call that reads the
/// struct then refuses it with a message. Sizes below struct_size's own
/// 8 bytes write nothing.
func initialize<T: GrowableOptions>(_ pointer: UnsafeMutablePointer<T>?, size: Int, with defaults: T) {
    guard let pointer, size >= MemoryLayout<Int>.size else { return }
    var value = defaults
    value.struct_size = size
    let known = MemoryLayout<T>.stride
    let raw = UnsafeMutableRawPointer(pointer)
    withUnsafeBytes(of: &value) { raw.copyMemory(from: $0.baseAddress!, byteCount: min(size, known)) }
    if size > known { memset(raw + known, 0, size - known) }
}

/// The size range this library accepts for T, as a message fragment.
private func knownSizes<T: GrowableOptions>(_: T.Type) -> String {
    let current = MemoryLayout<T>.stride
    return T.firstSize == current ? "\(current)" : "\(T.firstSize) to \(current)"
}

/// The caller's struct_size, if this library accepts it.
private func checkedSize<T: GrowableOptions>(_ pointer: UnsafePointer<T>) throws -> Int {
    let size = UnsafeRawPointer(pointer).load(as: Int.self)
    let current = MemoryLayout<T>.stride
    guard size >= T.firstSize, size <= current else {
        let newer = size > current && size <= 1 << 20
        throw APIError.invalid(
            "\(T.cName).struct_size is \(UInt(bitPattern: size)); this libnn (\(NN_VERSION_STRING)) accepts "
            + "\(knownSizes(T.self)). "
            + (newer ? "The program was built against a newer nn.h than this library: install a libnn at least as new as its nn.h."
                     : "Initialize the struct with \(T.cName)_init before setting its fields."))
    }
    return size
}

/// Reads the caller's options struct over `defaults`: the caller's
/// struct_size bytes, so that fields past its size keep their defaults.
func readOptions<T: GrowableOptions>(_ pointer: UnsafePointer<T>, defaults: T) throws -> T {
    let size = try checkedSize(pointer)
    var value = defaults
    withUnsafeMutableBytes(of: &value) { $0.baseAddress!.copyMemory(from: UnsafeRawPointer(pointer), byteCount: size) }
    value.struct_size = MemoryLayout<T>.stride
    return value
}

/// Reads optional options: the defaults when the pointer is NULL.
func readOptions<T: GrowableOptions>(_ pointer: UnsafePointer<T>?, or defaults: T) throws -> T {
    guard let pointer else { return defaults }
    return try readOptions(pointer, defaults: defaults)
}

/// Writes a result struct that never grows within a major version (nn.h's
/// ABI policy) into the caller's: exactly its first size, whatever the
/// caller's struct_size holds (programs built against nn.h 0.3.0 never set
/// it), with struct_size set to that size.
func writeResult<T: GrowableOptions>(_ result: T, to pointer: UnsafeMutablePointer<T>) {
    var value = result
    value.struct_size = T.firstSize
    withUnsafeBytes(of: &value) { UnsafeMutableRawPointer(pointer).copyMemory(from: $0.baseAddress!, byteCount: T.firstSize) }
}

/// A field of the caller's struct that the first size already has (its
/// kind, say), read on its own for the defaults that depend on it, never
/// past the caller's struct_size.
func leadingField<T: GrowableOptions, F>(_ pointer: UnsafePointer<T>, _ field: KeyPath<T, F>) throws -> F {
    _ = try checkedSize(pointer)
    return UnsafeRawPointer(pointer).load(fromByteOffset: MemoryLayout<T>.offset(of: field)!, as: F.self)
}

/// A fixed-size, 64-byte aligned, zero-initialized block of scalars.
///
/// Kernels work on raw pointers for speed; `Buffer` owns the memory those
/// pointers point into and frees it when the last reference goes away.
/// Every trainable parameter of a model lives in one `Buffer`, and so does
/// every gradient (see `Network`).
public final class Buffer<T: NNFloat> {
    /// Start of the storage; valid while this object is alive.
    public let pointer: UnsafeMutablePointer<T>
    /// Number of scalars.
    public let count: Int

    public init(count: Int) {
        precondition(count >= 0)
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(count, 1) * MemoryLayout<T>.stride, alignment: 64)
        pointer = raw.bindMemory(to: T.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    /// A new buffer holding a copy of `values`.
    public convenience init<C: Collection>(_ values: C) where C.Element == T {
        self.init(count: values.count)
        var i = 0
        for v in values { pointer[i] = v; i += 1 }
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    public subscript(i: Int) -> T {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    /// The contents as an array (a copy).
    public var array: [T] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Sets every element to zero.
    public func zero() { pointer.update(repeating: 0, count: count) }
}

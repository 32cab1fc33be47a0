/// A read-only row-major view of `rows` × `cols` scalars that someone else
/// owns (a caller's array across the C ABI, a `Tensor`'s storage). Used to
/// pass data into the trainer without copying it.
package struct MatrixView<T: NNFloat> {
    package let base: UnsafePointer<T>
    package let rows: Int
    package let cols: Int

    package init(_ base: UnsafePointer<T>, rows: Int, cols: Int) {
        self.base = base
        self.rows = rows
        self.cols = cols
    }

    /// Whether count Floats at p are all finite, in one branch-free pass
    /// (a one-sample predict's input check is then a few dozen vector
    /// operations): x · 0 is 0 for a finite x and NaN for NaN or ±∞, so the
    /// sums stay ±0 exactly when every value is finite.
    @inline(__always)
    static func allFinite(_ p: UnsafeRawPointer, count: Int) -> Bool {
        let size = MemoryLayout<Float>.stride
        var lanes = SIMD16<Float>(repeating: 0)
        var i = 0
        while i + 16 <= count {
            lanes += p.loadUnaligned(fromByteOffset: i * size, as: SIMD16<Float>.self) * 0
            i += 16
        }
        var sum = lanes.sum()
        while i < count {
            sum += p.load(fromByteOffset: i * size, as: Float.self) * 0
            i += 1
        }
        return sum == 0
    }

    /// Pointer to row r.
    @inline(__always) package func row(_ r: Int) -> UnsafePointer<T> { base + r * cols }

    /// Throws `nonFinite`, naming the first offending element, if any value
    /// is NaN or infinite.
    package func checkFinite(_ what: @autoclosure () -> String) throws {
        if T.self == Float.self, Self.allFinite(UnsafeRawPointer(base), count: rows * cols) { return }
        for i in 0..<rows * cols where !base[i].isFinite {
            throw NNError.nonFinite("\(what()) holds a non-finite value (\(base[i])) at row \(i / cols), column \(i % cols)")
        }
    }
}

/// A dense row-major array of Float with a shape: the value type of the
/// Swift API. A matrix has shape [rows, cols].
public struct Tensor: Equatable, Sendable {
    public private(set) var shape: [Int]
    public private(set) var scalars: [Float]

    /// A tensor of `shape` holding `scalars` (row-major); the count must match.
    public init(shape: [Int], scalars: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw NNError.shapeMismatch("negative dimension in shape \(shape)") }
        var count = 1
        for d in shape {
            let (c, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw NNError.shapeMismatch("shape \(shape) has too many elements") }
            count = c
        }
        guard count == scalars.count else {
            throw NNError.shapeMismatch("shape \(shape) needs \(count) values, got \(scalars.count)")
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// A matrix from rows of equal length.
    public init(_ rows: [[Float]]) throws {
        let cols = rows.first?.count ?? 0
        guard rows.allSatisfy({ $0.count == cols }) else {
            throw NNError.shapeMismatch("rows of a matrix must all have \(cols) values")
        }
        try self.init(shape: [rows.count, cols], scalars: rows.flatMap { $0 })
    }

    /// Number of rows (the first dimension).
    public var rows: Int { shape.first ?? 0 }
    /// Number of columns: the product of the other dimensions.
    /// (The product cannot overflow: the initializer checked the shape.)
    public var cols: Int { shape.dropFirst().reduce(1, *) }

    public subscript(row: Int, col: Int) -> Float { scalars[row * cols + col] }

    /// Calls `body` with a view of the storage as a [rows, cols] matrix.
    func withMatrix<R>(_ body: (MatrixView<Float>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer { buffer in
            // An empty array may have no base address; give the view a valid one.
            var dummy: Float = 0
            if let base = buffer.baseAddress {
                return try body(MatrixView(base, rows: rows, cols: cols))
            }
            return try withUnsafePointer(to: &dummy) { try body(MatrixView($0, rows: rows, cols: cols)) }
        }
    }
}

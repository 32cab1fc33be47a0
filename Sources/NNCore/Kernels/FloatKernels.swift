/// Float kernels of the production table that live in NNCore: `gemm` is a
/// plain loop nest (SIMD8 axpy and dot products over contiguous rows) that
/// the production GEMM (`ParallelGemm`) uses for tiny products, where it
/// beats the blocked micro-kernels' set-up; the Dense epilogues below are
/// explicit SIMD16 loops for the common activations.
public enum FloatKernels {
    /// See `KernelTable.Gemm`.
    public static func gemm(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
        _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
        _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        // With beta == 0 the first term of each sum is stored rather than
        // added to zeros (no zeroing pass; a sum of -0 terms stays -0).
        let overwrite = beta == 0 && k > 0 && alpha != 0
        if !transA && !transB && n < 8 {
            // Narrow C (a network's one-unit output): each element summed in a
            // register, in the order of the loops below (the same bits as
            // axpy's scalar tail), without a store and reload per term.
            for i in 0..<m {
                let ci = c + i * ldc, ai = a + i * lda
                for j in 0..<n {
                    var sum: Float
                    var first = 0
                    if overwrite {
                        sum = alpha * ai[0] * b[j]
                        first = 1
                    } else {
                        sum = beta == 0 ? 0 : (beta == 1 ? ci[j] : ci[j] * beta)
                    }
                    if alpha != 0 {
                        for p in first..<k { sum += alpha * ai[p] * b[p * ldb + j] }
                    }
                    ci[j] = sum
                }
            }
            return
        }
        if !overwrite {
            // C = beta · C first (beta == 0 overwrites, so NaN in C disappears).
            for i in 0..<m {
                let ci = c + i * ldc
                if beta == 0 {
                    ci.update(repeating: 0, count: n)
                } else if beta != 1 {
                    for j in 0..<n { ci[j] *= beta }
                }
            }
            guard k > 0, alpha != 0 else { return }
        }
        switch (transA, transB) {
        case (false, false):
            // C[i, :] += alpha · A[i, p] · B[p, :], eight columns at a time
            // with their sums in a register across p: the operations of
            // `scale` then `axpy` (s · b, then c + s · b, rounded the same
            // way, in the same order), so the same bits, without a store and
            // a reload of C per term (a 1×128 · 128×10 layer: 0.55 µs before).
            let first = overwrite ? 1 : 0
            // The columns past the last 8 (n mod 8 of them) ride in the p
            // loop of the first 8, as lanes of a second vector: each lane
            // the same multiply and add as the scalar loop below, so the
            // same bits, with the tail's sums no longer a chain of k adds
            // after the block's (a 1×128 · 128×10 layer: 3 chains of 128
            // dependent adds become 1).
            let tail = n % 8, tailStart = n - tail
            let rideAlong = tail > 0 && n >= 8 && k > 0
            for i in 0..<m {
                let ci = c + i * ldc, ai = a + i * lda
                var j = 0
                if rideAlong {
                    // B's row tail as 8 lanes: rows before the last read 8
                    // floats in place (the lanes past the tail read the row's
                    // padding or the next row's first columns, inside B, and
                    // are never stored);
                    // the last row and C's tail lane by lane.
                    @inline(__always) func rowTail(_ p: Int) -> V8 {
                        if p < k - 1 { return load8(b + (p * ldb + tailStart)) }
                        var v = V8()
                        for l in 0..<tail { v[l] = b[p * ldb + tailStart + l] }
                        return v
                    }
                    var sum: V8, tailSum: V8
                    if overwrite {
                        let x = V8(repeating: alpha * ai[0])
                        sum = x * load8(b)
                        tailSum = x * rowTail(0)
                    } else {
                        sum = load8(UnsafePointer(ci))
                        tailSum = V8()
                        for l in 0..<tail { tailSum[l] = ci[tailStart + l] }
                    }
                    for p in first..<k {
                        let x = V8(repeating: alpha * ai[p])
                        sum = sum + x * load8(b + p * ldb)
                        tailSum = tailSum + x * rowTail(p)
                    }
                    store8(sum, ci)
                    for l in 0..<tail { ci[tailStart + l] = tailSum[l] }
                    j = 8
                }
                while j + 8 <= n {
                    var sum = overwrite ? V8(repeating: alpha * ai[0]) * load8(b + j) : load8(UnsafePointer(ci + j))
                    for p in first..<k { sum = sum + V8(repeating: alpha * ai[p]) * load8(b + (p * ldb + j)) }
                    store8(sum, ci + j)
                    j += 8
                }
                if rideAlong { continue }
                while j < n {
                    var sum = overwrite ? (alpha * ai[0]) * b[j] : ci[j]
                    for p in first..<k { sum += (alpha * ai[p]) * b[p * ldb + j] }
                    ci[j] = sum
                    j += 1
                }
            }
        case (true, false):
            // A is stored [k, m]: C[i, :] += alpha · A[p, i] · B[p, :]
            if overwrite {
                for i in 0..<m { scale(n, alpha * a[i], b, c + i * ldc) }
            }
            for p in (overwrite ? 1 : 0)..<k {
                let ap = a + p * lda, bp = b + p * ldb
                for i in 0..<m { axpy(n, alpha * ap[i], bp, c + i * ldc) }
            }
        case (false, true):
            // B is stored [n, k]: C[i, j] += alpha · <A[i, :], B[j, :]>
            for i in 0..<m {
                let ai = a + i * lda, ci = c + i * ldc
                for j in 0..<n {
                    let v = alpha * dot(k, ai, b + j * ldb)
                    ci[j] = overwrite ? v : ci[j] + v
                }
            }
        case (true, true):
            // A stored [k, m], B stored [n, k]: rare; plain loops.
            for i in 0..<m {
                let ci = c + i * ldc
                for j in 0..<n {
                    var s: Float = 0
                    for p in 0..<k { s += a[p * lda + i] * b[j * ldb + p] }
                    ci[j] = overwrite ? alpha * s : ci[j] + alpha * s
                }
            }
        }
    }

    /// y[0..<n] = s · x[0..<n]
    @inline(__always)
    static func scale(_ n: Int, _ s: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        var j = 0
        let sv = SIMD8<Float>(repeating: s)
        let xr = UnsafeRawPointer(x), yr = UnsafeMutableRawPointer(y)
        while j + 8 <= n {
            let off = j * MemoryLayout<Float>.stride
            yr.storeBytes(of: sv * xr.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self),
                          toByteOffset: off, as: SIMD8<Float>.self)
            j += 8
        }
        while j < n { y[j] = s * x[j]; j += 1 }
    }

    /// y[0..<n] += s · x[0..<n]
    @inline(__always)
    static func axpy(_ n: Int, _ s: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        var j = 0
        let sv = SIMD8<Float>(repeating: s)
        let xr = UnsafeRawPointer(x), yr = UnsafeMutableRawPointer(y)
        while j + 8 <= n {
            let off = j * MemoryLayout<Float>.stride
            let yv = yr.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self)
            let xv = xr.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self)
            yr.storeBytes(of: yv + sv * xv, toByteOffset: off, as: SIMD8<Float>.self)
            j += 8
        }
        while j < n { y[j] += s * x[j]; j += 1 }
    }

    /// Σ x[i] · y[i], in a fixed order (8 partial sums, then the tail; below
    /// 8 terms, +0 then the tail, as the sum of 8 zero partial sums is +0).
    @inline(__always)
    static func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
        var s: Float = 0
        var j = 0
        if n >= 8 {
            var acc = SIMD8<Float>(repeating: 0)
            let xr = UnsafeRawPointer(x), yr = UnsafeRawPointer(y)
            while j + 8 <= n {
                let off = j * MemoryLayout<Float>.stride
                acc += xr.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self)
                    * yr.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self)
                j += 8
            }
            s = acc.sum()
        }
        while j < n { s += x[j] * y[j]; j += 1 }
        return s
    }
}

// MARK: Dense epilogues, explicit SIMD for the common activations

extension FloatKernels {
    typealias V = SIMD16<Float>

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }
    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// Half a vector, for the rest of a row (and one row's short layers).
    typealias V8 = SIMD8<Float>
    @inline(__always) static func load8(_ p: UnsafePointer<Float>) -> V8 {
        UnsafeRawPointer(p).loadUnaligned(as: V8.self)
    }
    @inline(__always) static func store8(_ v: V8, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self)
    }

    /// See `KernelTable.biasActivation`. linear, relu and sigmoid run as
    /// SIMD16 loops (relu keeps NaN, as PyTorch; sigmoid is `sigmoid(_:)`);
    /// the others take the reference path.
    public static func biasActivation(
        _ f: Activation, _ bias: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>,
        _ y: UnsafeMutablePointer<Float>, _ rows: Int, _ cols: Int
    ) {
        guard f == .relu || f == .linear || f == .sigmoid else {
            Reference.biasActivation(f, bias, z, y, rows, cols)
            return
        }
        byColumns(rows, cols) { j0, width in
            biasActivation(f, bias + j0, z + j0, y + j0, rows, width, stride: cols)
        }
    }

    /// biasActivation on the columns [0, cols) of rows `stride` apart
    /// (linear, relu or sigmoid).
    static func biasActivation(
        _ f: Activation, _ bias: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>,
        _ y: UnsafeMutablePointer<Float>, _ rows: Int, _ cols: Int, stride: Int
    ) {
        if f == .sigmoid {
            for r in 0..<rows {
                let zr = z + r * stride
                for j in 0..<cols { zr[j] += bias[j] }
                sigmoid(zr, y + r * stride, cols)
            }
            return
        }
        let relu = f == .relu
        for r in 0..<rows {
            let zr = z + r * stride, yr = y + r * stride
            var j = 0
            while j + 16 <= cols {
                let v = load(zr + j) + load(bias + j)
                store(v, zr + j)
                store(relu ? v.replacing(with: 0, where: v .< 0) : v, yr + j)
                j += 16
            }
            while j < cols {
                let v = zr[j] + bias[j]
                zr[j] = v
                yr[j] = relu && v < 0 ? 0 : v
                j += 1
            }
        }
    }

    /// See `KernelTable.activationForward`: sigmoid by `sigmoid(_:)`, the
    /// others by the reference.
    public static func activationForward(
        _ f: Activation, _ z: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ rows: Int, _ cols: Int
    ) {
        if f == .sigmoid {
            sigmoid(z, y, rows * cols)
        } else {
            Reference.activationForward(f, z, y, rows, cols)
        }
    }

    /// See `KernelTable.activationBackwardBiasGradient`: linear, relu,
    /// sigmoid and tanh as SIMD16 loops (the same formulas as the reference,
    /// element by element, so the same bits), the others by the reference.
    public static func activationBackwardBiasGradient(
        _ f: Activation, _ z: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafeMutablePointer<Float>,
        _ dbias: UnsafeMutablePointer<Float>, _ rows: Int, _ cols: Int
    ) {
        guard backwardKind(f) != nil else {
            Reference.activationBackwardBiasGradient(f, z, y, dy, dbias, rows, cols)
            return
        }
        byColumns(rows, cols) { j0, width in
            activationBackwardBiasGradient(f, y + j0, dy + j0, dbias + j0, rows, width, stride: cols)
        }
    }

    /// The activations whose derivative the SIMD epilogues compute from the
    /// output y alone, as the `kind` they switch on; nil for the others.
    @inline(__always)
    static func backwardKind(_ f: Activation) -> Int? {
        switch f {
        case .linear: return 0
        case .relu: return 1
        case .sigmoid: return 2
        case .tanh: return 3
        default: return nil
        }
    }

    /// dy ⊙ f'(y) for a `backwardKind`, lane by lane, written once for every
    /// width (relu keeps d where y > 0, else 0: NaN too).
    @inline(__always)
    static func activationDerivative<W: FloatLanes>(_ kind: Int, _ d: W, _ y: W) -> W {
        switch kind {
        case 1: return (-y).select(ifNegative: d, otherwise: W(repeating: 0))
        case 2: return d * (y * (1 - y))
        case 3: return d * (1 - y * y)
        default: return d
        }
    }

    /// activationBackwardBiasGradient on the columns [0, cols) of rows
    /// `stride` apart (linear, relu, sigmoid or tanh): 16 lanes at a time,
    /// then 8, then one by one.
    static func activationBackwardBiasGradient(
        _ f: Activation, _ y: UnsafePointer<Float>, _ dy: UnsafeMutablePointer<Float>,
        _ dbias: UnsafeMutablePointer<Float>, _ rows: Int, _ cols: Int, stride: Int
    ) {
        let kind = backwardKind(f) ?? 3
        guard rows > 0 else {
            dbias.update(repeating: 0, count: cols)
            return
        }
        // dbias = 0 + the first row's terms (not a separate zeroing pass:
        // the same bits as zeroing and adding), then += the other rows'.
        for r in 0..<rows {
            let yr = y + r * stride, dr = dy + r * stride
            let zero: Float = 0
            var j = 0
            while j + 16 <= cols {
                let d = activationDerivative(kind, load(dr + j), load(yr + j))
                if kind != 0 { store(d, dr + j) }
                store((r == 0 ? V(repeating: zero) : load(dbias + j)) + d, dbias + j)
                j += 16
            }
            if j + 8 <= cols {
                let d = activationDerivative(kind, load8(dr + j), load8(yr + j))
                if kind != 0 { store8(d, dr + j) }
                store8((r == 0 ? V8(repeating: zero) : load8(dbias + j)) + d, dbias + j)
                j += 8
            }
            while j < cols {
                switch kind {
                case 1: if !(yr[j] > 0) { dr[j] = 0 }
                case 2: dr[j] *= yr[j] * (1 - yr[j])
                case 3: dr[j] *= 1 - yr[j] * yr[j]
                default: break
                }
                dbias[j] = (r == 0 ? zero : dbias[j]) + dr[j]
                j += 1
            }
        }
    }
}

extension FloatKernels {
    /// Epilogues of at least this many elements are split across the pool.
    static let parallelElements = 1 << 15

    /// Runs body(firstColumn, width) over [0, cols): on the calling thread,
    /// or, for large blocks, over column ranges (multiples of 16 wide) on the
    /// pool. Each column is then still processed row after row by one thread,
    /// so the bits (the bias gradient's sums included) are the same for any
    /// split and thread count.
    @inline(__always)
    static func byColumns(_ rows: Int, _ cols: Int, _ body: (Int, Int) -> Void) {
        // The size first: a small block (a tiny network's every step) never
        // touches the shared pool, whose lazy global costs a swift_once.
        guard rows * cols >= parallelElements else {
            body(0, cols)
            return
        }
        let pool = ThreadPool.shared
        let parts = min(pool.threadCount, cols / 16)
        guard parts > 1 else {
            body(0, cols)
            return
        }
        // Whole 16-column units shared out evenly (as ParallelGemm's blocks).
        pool.run(parts: parts) { p in
            let (start, width) = ParallelGemm.block(p, of: parts, total: cols, unit: 16)
            body(start, width)
        }
    }
}

// MARK: sigmoid in SIMD

extension FloatKernels {
    /// y[i] = 1 / (1 + e^−z[i]) for i < count, 16 lanes at a time (a partial
    /// last vector goes through the same lanes, so every element gets the
    /// same bits wherever it sits). Written as the reference writes it —
    /// 1 / (1 + e) for z ≥ 0, e / (1 + e) for z < 0, with e = e^−|z| — so it
    /// neither overflows nor loses the small values; `exp` is accurate to
    /// about 2 ulp. NaN stays NaN. z and y may be the same array.
    public static func sigmoid(_ z: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        var i = 0
        while i + 16 <= count {
            store(sigmoid(load(z + i)), y + i)
            i += 16
        }
        // The rest in 8, 4 and a last partial 4 lanes (built in registers:
        // lane-by-lane stores into memory would stall the vector load).
        let zr = UnsafeRawPointer(z), yr = UnsafeMutableRawPointer(y), size = MemoryLayout<Float>.stride
        if i + 8 <= count {
            yr.storeBytes(of: sigmoid(zr.loadUnaligned(fromByteOffset: i * size, as: SIMD8<Float>.self)),
                          toByteOffset: i * size, as: SIMD8<Float>.self)
            i += 8
        }
        if i + 4 <= count {
            yr.storeBytes(of: sigmoid(zr.loadUnaligned(fromByteOffset: i * size, as: SIMD4<Float>.self)),
                          toByteOffset: i * size, as: SIMD4<Float>.self)
            i += 4
        }
        let rest = count - i
        if rest > 0 {
            let lanes = SIMD4<Float>(z[i], rest > 1 ? z[i + 1] : 0, rest > 2 ? z[i + 2] : 0, 0)
            let out = sigmoid(lanes)
            y[i] = out[0]
            if rest > 1 { y[i + 1] = out[1] }
            if rest > 2 { y[i + 2] = out[2] }
        }
    }

    @inline(__always)
    static func sigmoid<W: FloatLanes>(_ z: W) -> W {
        // −|z|: the sign bit set.
        let bits = unsafeBitCast(z, to: W.MaskStorage.self) | W.MaskStorage(repeating: Int32(bitPattern: 0x8000_0000))
        let e = exp(unsafeBitCast(bits, to: W.self))
        return z.select(ifNegative: e, otherwise: W(repeating: 1)) / (e + 1)
    }

    /// e^x for x ≤ 0 (larger x are not needed by sigmoid and are not
    /// handled); 0 below −87.33 (where e^x leaves the normal floats); NaN
    /// stays NaN. x = n·ln 2 + r with |r| ≤ ln 2 / 2; e^r by its Taylor
    /// series to r⁷ (truncation below 10⁻⁸ relative); 2ⁿ built in the
    /// exponent bits. Within 2 ulp (tested through sigmoid).
    @inline(__always)
    static func exp<W: FloatLanes>(_ x: W) -> W {
        let log2e: Float = 1.44269504088896341
        let shifter: Float = 12582912  // 1.5 · 2^23: adding it rounds to an integer
        let t = x * log2e + shifter
        let n = t - shifter
        // ln 2 split so that n · ln2High is exact for |n| < 2^9.
        let ln2High: Float = 0.693359375, ln2Low: Float = -2.12194440e-4
        let r = (x - n * ln2High) - n * ln2Low
        // Estrin's scheme: four short chains instead of one of seven steps.
        let r2: W = r * r, r4: W = r2 * r2
        let c1: W = r + 1, c3: W = r * (1.0 / 6) + 0.5
        let c5: W = r * (1.0 / 120) + 1.0 / 24, c7: W = r * (1.0 / 5040) + 1.0 / 720
        let low: W = c1 + r2 * c3, high: W = c5 + r2 * c7
        let p: W = low + r4 * high
        let integer = unsafeBitCast(t, to: W.MaskStorage.self) &- 0x4B40_0000
        let scale = unsafeBitCast((integer &+ 127) &<< 23, to: W.self)
        return x.select(below: -87.33, 0, otherwise: p * scale)
    }
}

/// The Float vectors the SIMD sigmoid runs on. The arithmetic is written once,
/// generically; the two selections are written per width, because only the
/// concrete types compare lanes with vector instructions (generic code
/// compares them one by one).
protocol FloatLanes: SIMD where Scalar == Float, MaskStorage.Scalar == Int32 {
    /// ifNegative where self < 0, otherwise elsewhere.
    func select(ifNegative: Self, otherwise: Self) -> Self
    /// value where self < limit, otherwise elsewhere (NaN lanes: otherwise).
    func select(below limit: Float, _ value: Float, otherwise: Self) -> Self
}

extension SIMD16: FloatLanes where Scalar == Float {
    @inline(__always) func select(ifNegative: Self, otherwise: Self) -> Self {
        otherwise.replacing(with: ifNegative, where: self .< 0)
    }
    @inline(__always) func select(below limit: Float, _ value: Float, otherwise: Self) -> Self {
        otherwise.replacing(with: value, where: self .< limit)
    }
}

extension SIMD8: FloatLanes where Scalar == Float {
    @inline(__always) func select(ifNegative: Self, otherwise: Self) -> Self {
        otherwise.replacing(with: ifNegative, where: self .< 0)
    }
    @inline(__always) func select(below limit: Float, _ value: Float, otherwise: Self) -> Self {
        otherwise.replacing(with: value, where: self .< limit)
    }
}

extension SIMD4: FloatLanes where Scalar == Float {
    @inline(__always) func select(ifNegative: Self, otherwise: Self) -> Self {
        otherwise.replacing(with: ifNegative, where: self .< 0)
    }
    @inline(__always) func select(below limit: Float, _ value: Float, otherwise: Self) -> Self {
        otherwise.replacing(with: value, where: self .< limit)
    }
}

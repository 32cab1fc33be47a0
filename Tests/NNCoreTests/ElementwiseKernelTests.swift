import Foundation
import XCTest
@testable import NNCore

/// The Adam kernel compiled for each instruction-set level gives exactly the
/// bits of the generic reference update (same operations, same order, no
/// fused multiply-add), with and without amsgrad and decoupled decay.
final class ElementwiseKernelTests: XCTestCase {
    func testAdamStepIsTheSameOnEveryLevel() {
        let n = 1000
        let g0 = uniformValues(n, -1, 1, seed: 1).map { Float($0) }
        let p0 = uniformValues(n, -2, 2, seed: 2).map { Float($0) }
        for amsgrad in [false, true] {
            for (l2, decay) in [(Float(0.01), Float(1)), (0, Float(0.999))] {
                func run(_ step: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>,
                                  UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>?) -> Void) -> [Float] {
                    let p = Buffer<Float>(p0), g = Buffer<Float>(g0)
                    let m = Buffer<Float>(count: n), v = Buffer<Float>(count: n), vmax = Buffer<Float>(count: n)
                    for _ in 0..<3 { step(p.pointer, g.pointer, m.pointer, v.pointer, amsgrad ? vmax.pointer : nil) }
                    keepAlive(g, m, v, vmax)
                    return p.array + m.array + v.array
                }
                let reference = run { p, g, m, v, vmax in
                    adamUpdate(p, g, count: n, expAvg: m, expAvgSq: v, maxExpAvgSq: vmax, stepSize: 0.003,
                               bias2Sqrt: 0.04, beta1Complement: 0.1, beta2: 0.999, beta2Complement: 0.001,
                               epsilon: 1e-8, l2: l2, decay: decay)
                }
                for level in CPULevel.allCases where level.isSupported {
                    let got = run { p, g, m, v, vmax in
                        level.adamStep(p, g, n, m, v, vmax, 0.003, 0.04, 0.1, 0.999, 0.001, 1e-8, l2, decay)
                    }
                    XCTAssertEqual(got, reference, "level \(level), amsgrad \(amsgrad), l2 \(l2)")
                }
            }
        }
    }

    /// The production sigmoid (SIMD, its own e^x) against sigmoid in Double:
    /// within 3 ulp of the correctly rounded value over the whole range, with
    /// the special values of torch.sigmoid (0 and 1 at the infinities, NaN
    /// kept, 0.5 at 0).
    func testSIMDSigmoidMatchesDoubleWithinThreeUlp() {
        var z: [Float] = stride(from: -104.0, through: 30.0, by: 0.01).map { Float($0) }
        z += uniformValues(5000, -20, 20, seed: 7).map { Float($0) }
        z += [0, -0.0, 1e-30, -1e-30, Float.leastNormalMagnitude, -87.3, -87.4, 88.0, 1e30, -1e30]
        var y = [Float](repeating: -1, count: z.count)
        z.withUnsafeBufferPointer { zp in
            y.withUnsafeMutableBufferPointer { FloatKernels.sigmoid(zp.baseAddress!, $0.baseAddress!, z.count) }
        }
        var worst = 0.0
        for (zi, yi) in zip(z, y) {
            let exact = 1 / (1 + Foundation.exp(-Double(zi)))
            let rounded = Float(exact)
            if rounded < Float.leastNormalMagnitude {
                XCTAssertLessThan(Double(yi), 1.2e-38, "sigmoid(\(zi))")
                continue
            }
            worst = max(worst, abs(Double(yi) - exact) / Double(rounded.ulp))
        }
        XCTAssertLessThan(worst, 3, "worst error in ulp")
        let special: [Float] = [.infinity, -.infinity, .nan, 0]
        var out = [Float](repeating: 0, count: 4)
        special.withUnsafeBufferPointer { zp in
            out.withUnsafeMutableBufferPointer { FloatKernels.sigmoid(zp.baseAddress!, $0.baseAddress!, 4) }
        }
        XCTAssertEqual(out[0], 1)
        XCTAssertEqual(out[1], 0)
        XCTAssertTrue(out[2].isNaN)
        XCTAssertEqual(out[3], 0.5)
    }

    /// An element gets the same bits whether it sits in a full vector, in the
    /// partial last one, or alone (so a batch of 1 predicts like a batch of 100).
    func testSIMDSigmoidBitsDoNotDependOnPosition() {
        let z = uniformValues(37, -10, 10, seed: 3).map { Float($0) }
        var whole = [Float](repeating: 0, count: 37)
        z.withUnsafeBufferPointer { zp in
            whole.withUnsafeMutableBufferPointer { FloatKernels.sigmoid(zp.baseAddress!, $0.baseAddress!, 37) }
        }
        for i in 0..<37 {
            var one: Float = 0
            z.withUnsafeBufferPointer { zp in FloatKernels.sigmoid(zp.baseAddress! + i, &one, 1) }
            XCTAssertEqual(one.bitPattern, whole[i].bitPattern, "element \(i)")
        }
    }

    /// The SIMD backward epilogue gives the reference's bits for linear,
    /// relu, sigmoid and tanh (same formula element by element).
    func testBackwardEpilogueMatchesTheReferenceBitForBit() {
        let rows = 3, cols = 37
        let y0 = uniformValues(rows * cols, -1, 1, seed: 11).map { Float($0) }
        let dy0 = uniformValues(rows * cols, -1, 1, seed: 12).map { Float($0) }
        for f in [Activation.linear, .relu, .sigmoid, .tanh] {
            func run(_ kernel: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>,
                                UnsafeMutablePointer<Float>, Int, Int) -> Void) -> [Float] {
                let y = Buffer<Float>(y0), dy = Buffer<Float>(dy0), db = Buffer<Float>(count: cols)
                kernel(y.pointer, y.pointer, dy.pointer, db.pointer, rows, cols)
                keepAlive(y)
                return dy.array + db.array
            }
            let reference = run { Reference.activationBackwardBiasGradient(f, $0, $1, $2, $3, $4, $5) }
            let simd = run { FloatKernels.activationBackwardBiasGradient(f, $0, $1, $2, $3, $4, $5) }
            XCTAssertEqual(simd.map(\.bitPattern), reference.map(\.bitPattern), "\(f)")
        }
    }

    /// Large epilogues are split by columns over the pool: the same bits for
    /// 1, 2, 3 and 5 threads, and (backward) the reference's bits.
    func testLargeEpiloguesGiveTheSameBitsForAnyThreadCount() {
        let rows = 300, cols = 203
        XCTAssertGreaterThanOrEqual(rows * cols, FloatKernels.parallelElements)
        let z0 = uniformValues(rows * cols, -3, 3, seed: 21).map { Float($0) }
        let bias = Buffer<Float>(uniformValues(cols, -1, 1, seed: 22).map { Float($0) })
        let dy0 = uniformValues(rows * cols, -1, 1, seed: 23).map { Float($0) }
        let pool = ThreadPool.shared
        let saved = pool.threadCount
        defer { pool.setThreadCount(saved) }
        for f in [Activation.linear, .relu, .sigmoid, .tanh] {
            var results: [[UInt32]] = []
            for threads in [1, 2, 3, 5] {
                pool.setThreadCount(threads)
                let z = Buffer<Float>(z0), y = Buffer<Float>(count: rows * cols)
                let dy = Buffer<Float>(dy0), db = Buffer<Float>(count: cols)
                FloatKernels.biasActivation(f, bias.pointer, z.pointer, y.pointer, rows, cols)
                FloatKernels.activationBackwardBiasGradient(f, z.pointer, y.pointer, dy.pointer, db.pointer, rows, cols)
                results.append((z.array + y.array + dy.array + db.array).map(\.bitPattern))
                if threads == 1 {
                    let rdy = Buffer<Float>(dy0), rdb = Buffer<Float>(count: cols)
                    Reference.activationBackwardBiasGradient(f, z.pointer, y.pointer, rdy.pointer, rdb.pointer, rows, cols)
                    XCTAssertEqual((dy.array + db.array).map(\.bitPattern), (rdy.array + rdb.array).map(\.bitPattern),
                                   "\(f) backward vs reference")
                }
            }
            for (i, r) in results.enumerated().dropFirst() { XCTAssertEqual(r, results[0], "\(f), run \(i)") }
        }
        keepAlive(bias)
    }
}

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
}

import XCTest
@testable import NNCore

/// Weight initializers (Keras's formulas) and seeding.
final class InitializerTests: XCTestCase {
    let fanIn = 50, fanOut = 30, sampleSize = 200_000

    func sample(_ initializer: Initializer, seed: UInt64 = 1) -> [Double] {
        var rng = RandomGenerator(seed: seed)
        let b = Buffer<Double>(count: sampleSize)
        initializer.fill(b.pointer, count: sampleSize, fanIn: fanIn, fanOut: fanOut, rng: &rng)
        return b.array
    }

    func moments(_ v: [Double]) -> (mean: Double, std: Double) {
        let mean = v.reduce(0, +) / Double(v.count)
        let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count)
        return (mean, variance.squareRoot())
    }

    func testUniformInitializersStayWithinTheirLimits() {
        let cases: [(Initializer, Double)] = [
            (.glorotUniform, (6.0 / Double(fanIn + fanOut)).squareRoot()),
            (.heUniform, (6.0 / Double(fanIn)).squareRoot()),
            (.lecunUniform, (3.0 / Double(fanIn)).squareRoot()),
        ]
        for (initializer, limit) in cases {
            let v = sample(initializer)
            XCTAssertTrue(v.allSatisfy { $0 >= -limit && $0 < limit }, "\(initializer) outside ±\(limit)")
            // The whole range is used, not a narrower one.
            XCTAssertGreaterThan(v.max()!, 0.999 * limit)
            XCTAssertLessThan(v.min()!, -0.999 * limit)
            // U(−l, l) has mean 0 and standard deviation l/√3.
            let (mean, std) = moments(v)
            XCTAssertEqual(mean, 0, accuracy: 0.01 * limit, "\(initializer)")
            XCTAssertEqual(std, limit / 3.0.squareRoot(), accuracy: 0.01 * limit, "\(initializer)")
        }
    }

    func testNormalInitializersHaveTheIntendedStandardDeviation() {
        // Keras draws from a normal truncated at ±2σ with σ = target / 0.8796…,
        // so the truncated samples have the target standard deviation.
        let cases: [(Initializer, Double)] = [
            (.glorotNormal, (2.0 / Double(fanIn + fanOut)).squareRoot()),
            (.heNormal, (2.0 / Double(fanIn)).squareRoot()),
            (.lecunNormal, (1.0 / Double(fanIn)).squareRoot()),
        ]
        for (initializer, target) in cases {
            let v = sample(initializer)
            let (mean, std) = moments(v)
            XCTAssertEqual(mean, 0, accuracy: 0.01 * target, "\(initializer)")
            XCTAssertEqual(std, target, accuracy: 0.015 * target, "\(initializer): std \(std), intended \(target)")
            // Truncation: nothing beyond two standard deviations of the underlying normal.
            let bound = 2 * target / Initializer.truncationCorrection
            XCTAssertLessThanOrEqual(v.map(abs).max()!, bound * (1 + 1e-12))
            XCTAssertGreaterThan(v.map(abs).max()!, 0.99 * bound)
        }
    }

    func testTruncationCorrectionIsTheStdOfTheTruncatedNormal() {
        // Var of N(0,1) truncated to [−2, 2] is 1 − 2·2φ(2)/(2Φ(2) − 1), so its std is 0.87962566….
        let phi2 = Double.exp(-2) / (2 * Double.pi).squareRoot()
        let mass = 0.954499736103641585599  // 2Φ(2) − 1 = erf(√2)
        let std = (1 - 4 * phi2 / mass).squareRoot()
        XCTAssertEqual(Initializer.truncationCorrection, std, accuracy: 1e-12)
    }

    func testZerosAndOnes() {
        XCTAssertTrue(sample(.zeros).allSatisfy { $0 == 0 })
        XCTAssertTrue(sample(.ones).allSatisfy { $0 == 1 })
        // Constant initializers consume no randomness.
        var rng = RandomGenerator(seed: 4), untouched = RandomGenerator(seed: 4)
        let b = Buffer<Float>(count: 10)
        Initializer.ones.fill(b.pointer, count: 10, fanIn: 3, fanOut: 4, rng: &rng)
        XCTAssertEqual(rng.next(), untouched.next())
    }

    func testLeCunDependsOnFanInOnly() {
        // LeCun's limit and σ use fan_in alone: a different fan_out draws the same values.
        for initializer in [Initializer.lecunUniform, .lecunNormal] {
            var a = RandomGenerator(seed: 2), b = RandomGenerator(seed: 2)
            let x = Buffer<Double>(count: 100), y = Buffer<Double>(count: 100)
            initializer.fill(x.pointer, count: 100, fanIn: 12, fanOut: 3, rng: &a)
            initializer.fill(y.pointer, count: 100, fanIn: 12, fanOut: 300, rng: &b)
            XCTAssertEqual(x.array, y.array, "\(initializer)")
        }
        let v = sample(.lecunUniform)
        // √(3/50) ≈ 0.245: narrower than He uniform's √(6/50) ≈ 0.346.
        XCTAssertLessThan(v.map(abs).max()!, (3.0 / Double(fanIn)).squareRoot())
        XCTAssertGreaterThan(v.map(abs).max()!, 0.99 * (3.0 / Double(fanIn)).squareRoot())
    }

    func testConstantInitializer() throws {
        XCTAssertTrue(sample(.constant(0.25)).allSatisfy { $0 == 0.25 })
        XCTAssertTrue(sample(.constant(-3)).allSatisfy { $0 == -3 })
        XCTAssertTrue(sample(.constant(0)).allSatisfy { $0 == 0 })
        // Consumes no randomness, like zeros and ones.
        var rng = RandomGenerator(seed: 4), untouched = RandomGenerator(seed: 4)
        let b = Buffer<Float>(count: 10)
        Initializer.constant(7).fill(b.pointer, count: 10, fanIn: 3, fanOut: 4, rng: &rng)
        XCTAssertEqual(b.array, [Float](repeating: 7, count: 10))
        XCTAssertEqual(rng.next(), untouched.next())
        // Per layer, for kernel and bias.
        let model = try Sequential(inputDim: 2)
        try model.add(Dense(3, kernelInitializer: .constant(0.5), biasInitializer: .constant(-1)))
        XCTAssertEqual(try model.weight(0), [Float](repeating: 0.5, count: 6))
        XCTAssertEqual(try model.weight(1), [-1, -1, -1])
        XCTAssertEqual(try model.predict(try Tensor([[1, 2]])).scalars, [0.5, 0.5, 0.5])
        // A non-finite constant is refused when the layer is added.
        for bad in [Double.nan, .infinity] {
            assertNNError(.invalidArgument(""), messageContains: "constant", try Initializer.constant(bad).validate())
            assertNNError(.invalidArgument(""), messageContains: "constant",
                          try Sequential(inputDim: 2).add(Dense(3, biasInitializer: .constant(bad))))
        }
    }

    func testInitializerNames() {
        XCTAssertEqual(Initializer.allCases.map(\.name),
                       ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
                        "zeros", "ones", "constant"])
        for initializer in Initializer.allCases {
            XCTAssertEqual(Initializer(name: initializer.name), initializer)
        }
        XCTAssertEqual(Initializer(name: "constant", value: 0.3), .constant(0.3))
        XCTAssertEqual(Initializer(name: "constant"), .constant(0))
        XCTAssertEqual(Initializer(name: "ones", value: 5), .ones, "value applies to constant only")
        XCTAssertNil(Initializer(name: "glorot"))
        XCTAssertNil(Initializer(name: "Zeros"))
    }

    func testDenseUsesItsInitializersAndFans() throws {
        let net = try makeNetwork(Double.self, inputDim: fanIn,
                                  layers: [Dense(fanOut, kernelInitializer: .heUniform, biasInitializer: .ones),
                                           Dense(7)],
                                  seed: 3, kernels: .reference)
        let kernel = Array(net.parameters.array[0 ..< fanIn * fanOut])
        let bias = Array(net.parameters.array[fanIn * fanOut ..< fanIn * fanOut + fanOut])
        let limit = (6.0 / Double(fanIn)).squareRoot()
        XCTAssertTrue(kernel.allSatisfy { abs($0) <= limit })
        XCTAssertGreaterThan(kernel.map(abs).max()!, (6.0 / Double(fanIn + fanOut)).squareRoot(),
                             "He's limit is wider than Glorot's; the sample must reach beyond Glorot's")
        XCTAssertEqual(bias, [Double](repeating: 1, count: fanOut))
        // The second layer: Glorot uniform over fans (30, 7), zero bias.
        let second = net.parameterOffsets[1]
        let k2 = Array(net.parameters.array[second ..< second + fanOut * 7])
        XCTAssertTrue(k2.allSatisfy { abs($0) <= (6.0 / 37).squareRoot() })
        XCTAssertEqual(Array(net.parameters.array[second + fanOut * 7 ..< net.parameterCount]), [Double](repeating: 0, count: 7))
        XCTAssertEqual(net.parameterCount, fanIn * fanOut + fanOut + fanOut * 7 + 7)
    }

    func testSameSeedSameWeightsDifferentSeedDifferentWeights() throws {
        for initializer in [Initializer.glorotUniform, .glorotNormal, .heUniform, .heNormal, .lecunUniform, .lecunNormal] {
            XCTAssertEqual(sample(initializer, seed: 11), sample(initializer, seed: 11), "\(initializer)")
            XCTAssertNotEqual(sample(initializer, seed: 11), sample(initializer, seed: 12), "\(initializer)")
        }
        func model(_ seed: UInt64) throws -> [[Float]] {
            let m = try Sequential(inputDim: 5, seed: seed)
            try m.add(Dense(8, activation: .relu, kernelInitializer: .heNormal, biasInitializer: .glorotUniform))
            try m.add(Dense(3, activation: .softmax))
            return try (0..<m.weightShapes.count).map { try m.weight($0) }
        }
        let a = try model(99), b = try model(99), c = try model(100)
        XCTAssertEqual(a, b, "same seed, same bits")
        // Every randomly initialized array depends on the seed (the last bias is zeros in both).
        for i in 0..<3 { XCTAssertNotEqual(a[i], c[i], "weight array \(i) must depend on the seed") }
        XCTAssertEqual(a[3], c[3])
    }

    func testRandomGeneratorIsDeterministicAndUniform() {
        var a = RandomGenerator(seed: 123), b = RandomGenerator(seed: 123), c = RandomGenerator(seed: 124)
        let first = (0..<100).map { _ in a.next() }
        XCTAssertEqual(first, (0..<100).map { _ in b.next() })
        XCTAssertNotEqual(first, (0..<100).map { _ in c.next() })
        var u = RandomGenerator(seed: 5)
        let values = (0..<100_000).map { _ in u.nextUnit() }
        XCTAssertTrue(values.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(values.reduce(0, +) / 100_000, 0.5, accuracy: 0.005)
        // Shuffling is a permutation and depends on the seed.
        var s1 = RandomGenerator(seed: 8), s2 = RandomGenerator(seed: 8)
        var p = Array(0..<50), q = Array(0..<50)
        s1.shuffle(&p); s2.shuffle(&q)
        XCTAssertEqual(p, q)
        XCTAssertEqual(p.sorted(), Array(0..<50))
        XCTAssertNotEqual(p, Array(0..<50))
    }
}

/// Weight initializers, with Keras's formulas. fan_in is the number of inputs
/// of a Dense layer and fan_out its number of units.
public enum Initializer: String, CaseIterable, Sendable {
    /// U(−l, l) with l = √(6 / (fan_in + fan_out)) — Keras's default for kernels.
    case glorotUniform = "glorot_uniform"
    /// Truncated normal (±2σ) with σ = √(2 / (fan_in + fan_out)) / 0.8796 (Keras).
    case glorotNormal = "glorot_normal"
    /// U(−l, l) with l = √(6 / fan_in).
    case heUniform = "he_uniform"
    /// Truncated normal (±2σ) with σ = √(2 / fan_in) / 0.8796 (Keras).
    case heNormal = "he_normal"
    case zeros
    case ones

    /// Standard deviation of a normal truncated at ±2σ, divided out so the
    /// truncated distribution has the intended variance (Keras's constant).
    static let truncationCorrection = 0.87962566103423978

    /// Fills `count` values at `out` for a layer with the given fans.
    public func fill<T: NNFloat>(_ out: UnsafeMutablePointer<T>, count: Int,
                                 fanIn: Int, fanOut: Int, rng: inout RandomGenerator) {
        let fi = Double(max(fanIn, 1)), fo = Double(max(fanOut, 1))
        switch self {
        case .zeros:
            out.update(repeating: 0, count: count)
        case .ones:
            out.update(repeating: 1, count: count)
        case .glorotUniform, .heUniform:
            let limit = self == .glorotUniform ? (6 / (fi + fo)).squareRoot() : (6 / fi).squareRoot()
            for i in 0..<count { out[i] = T(rng.uniform(-limit, limit)) }
        case .glorotNormal, .heNormal:
            let variance = self == .glorotNormal ? 2 / (fi + fo) : 2 / fi
            let stddev = variance.squareRoot() / Self.truncationCorrection
            for i in 0..<count { out[i] = T(rng.truncatedNormal(stddev: stddev)) }
        }
    }
}

/// Weight initializers, with Keras's formulas. fan_in is the number of inputs
/// of a Dense layer and fan_out its number of units.
public enum Initializer: Hashable, Sendable {
    /// U(−l, l) with l = √(6 / (fan_in + fan_out)) — Keras's default for kernels.
    case glorotUniform
    /// Truncated normal (±2σ) with σ = √(2 / (fan_in + fan_out)) / 0.8796 (Keras).
    case glorotNormal
    /// U(−l, l) with l = √(6 / fan_in).
    case heUniform
    /// Truncated normal (±2σ) with σ = √(2 / fan_in) / 0.8796 (Keras).
    case heNormal
    /// U(−l, l) with l = √(3 / fan_in).
    case lecunUniform
    /// Truncated normal (±2σ) with σ = √(1 / fan_in) / 0.8796 (Keras).
    case lecunNormal
    case zeros
    case ones
    /// Every value equal to the given constant.
    case constant(Double)

    /// Every initializer (constant with value 0).
    public static let allCases: [Initializer] = [
        .glorotUniform, .glorotNormal, .heUniform, .heNormal, .lecunUniform, .lecunNormal, .zeros, .ones, .constant(0),
    ]

    /// Keras's name ("glorot_uniform", ..., "constant").
    public var name: String {
        switch self {
        case .glorotUniform: return "glorot_uniform"
        case .glorotNormal: return "glorot_normal"
        case .heUniform: return "he_uniform"
        case .heNormal: return "he_normal"
        case .lecunUniform: return "lecun_uniform"
        case .lecunNormal: return "lecun_normal"
        case .zeros: return "zeros"
        case .ones: return "ones"
        case .constant: return "constant"
        }
    }

    /// The initializer called `name` ("constant" takes `value`); nil if unknown.
    public init?(name: String, value: Double = 0) {
        guard let match = Initializer.allCases.first(where: { $0.name == name }) else { return nil }
        self = match == .constant(0) ? .constant(value) : match
    }

    /// Standard deviation of a normal truncated at ±2σ, divided out so the
    /// truncated distribution has the intended variance (Keras's constant).
    static let truncationCorrection = 0.87962566103423978

    /// Throws invalidArgument for a non-finite constant.
    public func validate() throws {
        if case .constant(let v) = self, !v.isFinite {
            throw NNError.invalidArgument("constant initializer value must be finite, got \(v)")
        }
    }

    /// Fills `count` values at `out` for a layer with the given fans.
    public func fill<T: NNFloat>(_ out: UnsafeMutablePointer<T>, count: Int,
                                 fanIn: Int, fanOut: Int, rng: inout RandomGenerator) {
        let fi = Double(max(fanIn, 1)), fo = Double(max(fanOut, 1))
        func uniform(_ limit: Double) {
            for i in 0..<count { out[i] = T(rng.uniform(-limit, limit)) }
        }
        func truncated(variance: Double) {
            let stddev = variance.squareRoot() / Self.truncationCorrection
            for i in 0..<count { out[i] = T(rng.truncatedNormal(stddev: stddev)) }
        }
        switch self {
        case .zeros: out.update(repeating: 0, count: count)
        case .ones: out.update(repeating: 1, count: count)
        case .constant(let v): out.update(repeating: T(v), count: count)
        case .glorotUniform: uniform((6 / (fi + fo)).squareRoot())
        case .heUniform: uniform((6 / fi).squareRoot())
        case .lecunUniform: uniform((3 / fi).squareRoot())
        case .glorotNormal: truncated(variance: 2 / (fi + fo))
        case .heNormal: truncated(variance: 2 / fi)
        case .lecunNormal: truncated(variance: 1 / fi)
        }
    }
}

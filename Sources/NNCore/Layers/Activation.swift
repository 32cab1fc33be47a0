/// Activation functions, with Keras's and PyTorch's formulas:
/// - `linear`:    f(z) = z
/// - `sigmoid`:   f(z) = 1 / (1 + e^−z)
/// - `tanh`:      f(z) = tanh z
/// - `relu`:      f(z) = max(z, 0)   (derivative 0 at z = 0, as PyTorch)
/// - `softmax`:   f(z)ᵢ = e^zᵢ / Σⱼ e^zⱼ over each row
/// - `leakyRelu`: f(z) = z for z > 0, else slope · z (slope ≥ 0; default 0.2
///   as `keras.activations.leaky_relu`; PyTorch's LeakyReLU module uses 0.01)
/// - `elu`:       f(z) = z for z > 0, else α (e^z − 1) (α > 0; default 1)
/// - `gelu`:      f(z) = z · Φ(z), Φ the standard normal CDF (the exact form,
///   PyTorch's default and Keras's `approximate=False`)
/// - `softplus`:  f(z) = log(1 + e^z)
/// - `mish`:      f(z) = z · tanh(softplus(z)) (PyTorch's `nn.Mish`,
///   Keras's `mish`)
/// - `step`:      f(z) = 1 for z > 0, else 0 — the classic perceptron's
///   threshold unit, for inference only: its derivative is 0 almost
///   everywhere, so training through it is refused.
public enum Activation: Hashable, Sendable {
    case linear, sigmoid, tanh, relu, softmax
    case leakyRelu(negativeSlope: Double)
    case elu(alpha: Double)
    case gelu, softplus, step, mish

    /// leaky_relu with Keras's default slope 0.2.
    public static let defaultLeakyRelu = Activation.leakyRelu(negativeSlope: 0.2)
    /// elu with the default α = 1.
    public static let defaultElu = Activation.elu(alpha: 1)

    /// Every activation, parameterized ones with their defaults.
    public static let allCases: [Activation] = [
        .linear, .sigmoid, .tanh, .relu, .softmax, defaultLeakyRelu, defaultElu, .gelu, .softplus, .step, .mish,
    ]

    /// Every activation that can be trained through.
    public static var differentiable: [Activation] { allCases.filter(\.isDifferentiable) }

    /// The name used by Keras and in files ("relu", "leaky_relu", ...).
    public var name: String {
        switch self {
        case .linear: return "linear"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .relu: return "relu"
        case .softmax: return "softmax"
        case .leakyRelu: return "leaky_relu"
        case .elu: return "elu"
        case .gelu: return "gelu"
        case .softplus: return "softplus"
        case .step: return "step"
        case .mish: return "mish"
        }
    }

    /// The activation called `name`, with default parameters; nil if unknown.
    public init?(name: String) {
        guard let match = Activation.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    /// The activation's parameter (leaky_relu's slope, elu's α), if it has one.
    public var parameter: Double? {
        switch self {
        case .leakyRelu(let s): return s
        case .elu(let a): return a
        default: return nil
        }
    }

    /// The same activation with its parameter set to `value`; nil for one
    /// without a parameter.
    public func with(parameter value: Double) -> Activation? {
        switch self {
        case .leakyRelu: return .leakyRelu(negativeSlope: value)
        case .elu: return .elu(alpha: value)
        default: return nil
        }
    }

    /// f(z) of an element-wise activation (every one but softmax, which
    /// normalizes rows: see `Reference.activationForward`).
    @inline(__always)
    public func value<T: NNFloat>(_ z: T) -> T {
        switch self {
        case .linear, .softmax: return z
        case .sigmoid: return Reference.sigmoid(z)
        case .tanh: return T.tanh(z)
        // NaN propagates (NaN > 0 is false, but NaN is kept), as PyTorch.
        case .relu: return z > 0 || z.isNaN ? z : 0
        case .leakyRelu(let slope): return z > 0 ? z : T(slope) * z
        case .elu(let alpha): return z > 0 ? z : T(alpha) * (T.exp(z) - 1)
        case .gelu: return z * Reference.normalCDF(z)
        // log(1 + e^z) = max(z, 0) + log1p(e^−|z|), finite for any z
        case .softplus: return max(z, 0) + T.log1p(T.exp(-abs(z)))
        case .step: return z > 0 ? 1 : 0
        case .mish: return z * T.tanh(Activation.softplus.value(z))
        }
    }

    /// dz = dy · f'(z) of an element-wise activation, from z and y = f(z)
    /// (only those whose `needsPreactivation` is true read z).
    @inline(__always)
    public func backward<T: NNFloat>(_ dy: T, z: T, y: T) -> T {
        switch self {
        case .linear, .softmax: return dy
        case .sigmoid: return dy * (y * (1 - y))
        case .tanh: return dy * (1 - y * y)
        case .relu: return y > 0 ? dy : 0
        // y > 0 exactly when z > 0 (slope ≥ 0)
        case .leakyRelu(let slope): return y > 0 ? dy : dy * T(slope)
        // z ≤ 0: f'(z) = α e^z = y + α
        case .elu(let alpha): return y > 0 ? dy : dy * (y + T(alpha))
        // f'(z) = Φ(z) + z φ(z)
        case .gelu: return dy * (Reference.normalCDF(z) + z * Reference.normalPDF(z))
        // f'(z) = σ(z) = 1 − e^−y
        case .softplus: return dy * -T.expm1(-y)
        case .step: return 0
        // f'(z) = tanh(sp) + z σ(z) (1 − tanh²(sp)), sp = softplus(z)
        case .mish:
            let t = T.tanh(Activation.softplus.value(z))
            return dy * (t + z * Reference.sigmoid(z) * (1 - t * t))
        }
    }

    /// nn.h's `nn_activation` value (a test checks every value of nn.h
    /// against these).
    public var code: UInt32 {
        switch self {
        case .linear: return 0
        case .sigmoid: return 1
        case .tanh: return 2
        case .relu: return 3
        case .softmax: return 4
        case .leakyRelu: return 5
        case .elu: return 6
        case .gelu: return 7
        case .softplus: return 8
        case .step: return 9
        case .mish: return 10
        }
    }

    /// The activation whose nn.h value is `code`, with its default
    /// parameter; nil if unknown.
    public init?(code: UInt32) {
        guard let match = Activation.allCases.first(where: { $0.code == code }) else { return nil }
        self = match
    }

    /// Whether gradients can flow through it (all but `step`).
    public var isDifferentiable: Bool { self != .step }

    /// Whether the backward pass needs the pre-activation z (not only the
    /// output y): gelu's and mish's derivatives cannot be written in terms of y.
    public var needsPreactivation: Bool { self == .gelu || self == .mish }

    /// Throws invalidArgument if the parameter is out of range.
    public func validate() throws {
        switch self {
        case .leakyRelu(let s):
            guard s.isFinite, s >= 0 else {
                throw NNError.invalidArgument("leaky_relu: negative_slope must be a finite number >= 0, got \(s)")
            }
        case .elu(let a):
            guard a.isFinite, a > 0 else {
                throw NNError.invalidArgument("elu: alpha must be a finite number > 0, got \(a)")
            }
        default: break
        }
    }
}

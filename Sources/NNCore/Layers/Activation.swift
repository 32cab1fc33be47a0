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
/// - `step`:      f(z) = 1 for z > 0, else 0 — the classic perceptron's
///   threshold unit, for inference only: its derivative is 0 almost
///   everywhere, so training through it is refused.
public enum Activation: Hashable, Sendable {
    case linear, sigmoid, tanh, relu, softmax
    case leakyRelu(negativeSlope: Double)
    case elu(alpha: Double)
    case gelu, softplus, step

    /// leaky_relu with Keras's default slope 0.2.
    public static let defaultLeakyRelu = Activation.leakyRelu(negativeSlope: 0.2)
    /// elu with the default α = 1.
    public static let defaultElu = Activation.elu(alpha: 1)

    /// Every activation, parameterized ones with their defaults.
    public static let allCases: [Activation] = [
        .linear, .sigmoid, .tanh, .relu, .softmax, defaultLeakyRelu, defaultElu, .gelu, .softplus, .step,
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

    /// Whether gradients can flow through it (all but `step`).
    public var isDifferentiable: Bool { self != .step }

    /// Whether the backward pass needs the pre-activation z (not only the
    /// output y): only gelu's derivative cannot be written in terms of y.
    public var needsPreactivation: Bool { self == .gelu }

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

/// One optimization algorithm, the way torch.optim keeps one optimizer per
/// file: its defaults, its validation rules, the names and initial values of
/// its per-parameter state, and its step. Each conforming type lives in its
/// own file of this folder (SGD.swift, Adam.swift, RMSprop.swift,
/// Adagrad.swift, Rprop.swift); `OptimizerOptions.Kind.algorithm` (below) is
/// the one registry that maps a kind to its type, and `Optimizer` dispatches
/// through it once per update (per chunk for large blocks), never per element.
///
/// Adding an algorithm: a file with a type conforming to this protocol, and
/// its case in `OptimizerOptions.Kind` with its two registry lines (below).
protocol OptimizerAlgorithm {
    /// PyTorch's defaults for this algorithm (SGD: learning rate 0.01, as Keras).
    static var defaults: OptimizerOptions { get }

    /// Throws `invalidArgument` naming the first of this algorithm's own
    /// hyper-parameters out of range (the learning rate, weight decay and
    /// clipping are checked by `OptimizerOptions.validate()` before).
    static func validate(_ options: OptimizerOptions) throws

    /// The names of the state buffers for `options` (the keys of PyTorch's
    /// `state_dict()["state"][i]`), in the order the step reads them.
    static func stateNames(for options: OptimizerOptions) -> [String]

    /// Sets the freshly made state (one buffer of `count` values per name of
    /// `stateNames(for:)`, zeroed) to PyTorch's initial values. The default
    /// leaves every buffer at zero.
    static func initializeState<T: NNFloat>(_ buffers: [UnsafeMutablePointer<T>], count: Int,
                                            options: OptimizerOptions, learningRate: Double)

    /// One update of params[0..<count] with grads[0..<count], which start
    /// at element `offset` of the whole block (a chunk of it for large
    /// blocks); the state buffers are `optimizer.state(i, at: offset)`, in the
    /// order of `stateNames(for:)`, and the hyper-parameters, learning rate
    /// and step number are read from `optimizer` (a reference: nothing is
    /// copied per call). Element-wise, so that a block may be split into
    /// chunks. Implementations carry `@_specialize(where T == Float)`: the
    /// call through the registry is generic, and the specialization keeps
    /// the Float loops tight.
    static func step<T: NNFloat>(_ params: UnsafeMutablePointer<T>, _ grads: UnsafePointer<T>, count: Int,
                                 offset: Int, _ optimizer: Optimizer<T>)
}

extension OptimizerAlgorithm {
    static func initializeState<T: NNFloat>(_ buffers: [UnsafeMutablePointer<T>], count: Int,
                                            options: OptimizerOptions, learningRate: Double) {}
}

extension OptimizerOptions {
    /// The optimization algorithms, named as torch.optim's classes in lower
    /// case (the names in files, in errors and in Python).
    public enum Kind: String, CaseIterable, Sendable {
        /// torch.optim.SGD
        case sgd
        /// torch.optim.Adam (L2 weight decay added to the gradient)
        case adam
        /// torch.optim.AdamW (decoupled weight decay)
        case adamw
        /// torch.optim.RMSprop
        case rmsprop
        /// torch.optim.Adagrad
        case adagrad
        /// torch.optim.Rprop (FANN's default training algorithm)
        case rprop
        /// torch.optim.Adamax (Adam with the infinity norm)
        case adamax
    }
}

/// An algorithm's `step` on Float parameters, compiled for that algorithm
/// (a direct call of its Float specialization).
typealias FloatStep = (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int, Int, Optimizer<Float>) -> Void

extension OptimizerOptions.Kind {
    /// The algorithm that implements each kind.
    var algorithm: any OptimizerAlgorithm.Type { registered.algorithm }

    /// Its Float step. A call through `algorithm` reaches the generic
    /// `step`, whose entry then picks the Float specialization at run time
    /// (about 30 ns a step with everything around it, measured on the 2-8-1
    /// network, whose whole step is under 200 ns); this closure calls the
    /// specialization directly.
    var floatStep: FloatStep { registered.floatStep }

    /// The registry. This is the only place that lists the kinds' types.
    private var registered: (algorithm: any OptimizerAlgorithm.Type, floatStep: FloatStep) {
        switch self {
        case .sgd: return register(SGD.self)
        case .adam: return register(Adam.self)
        case .adamw: return register(AdamW.self)
        case .rmsprop: return register(RMSprop.self)
        case .adagrad: return register(Adagrad.self)
        case .rprop: return register(Rprop.self)
        case .adamax: return register(Adamax.self)
        }
    }

    /// nn.h's `nn_optimizer` value of each kind (a test checks every value
    /// of nn.h against these).
    public var code: UInt32 {
        switch self {
        case .sgd: return 1
        case .adam: return 2
        case .adamw: return 3
        case .rmsprop: return 4
        case .adagrad: return 5
        case .rprop: return 6
        case .adamax: return 7
        }
    }

    /// The kind whose nn.h value is `code`.
    public init?(code: UInt32) {
        guard let kind = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = kind
    }
}

// Range checks shared by the algorithms' `validate`, with one message format.
extension OptimizerOptions {
    func invalid(_ name: String, _ value: Double, _ rule: String) -> NNError {
        .invalidArgument("\(kind.rawValue): \(name) must be \(rule), got \(value)")
    }

    func requireNonNegative(_ name: String, _ v: Double) throws {
        guard v.isFinite, v >= 0 else { throw invalid(name, v, "a finite number >= 0") }
    }

    func requirePositive(_ name: String, _ v: Double) throws {
        guard v.isFinite, v > 0 else { throw invalid(name, v, "a finite number > 0") }
    }

    /// v in [0, 1).
    func requireUnit(_ name: String, _ v: Double) throws {
        guard v >= 0, v < 1 else { throw invalid(name, v, "in [0, 1)") }
    }
}

/// A registry entry: the algorithm, and its Float step compiled for it.
private func register<A: OptimizerAlgorithm>(_ algorithm: A.Type)
    -> (algorithm: any OptimizerAlgorithm.Type, floatStep: FloatStep) {
    (algorithm, { A.step($0, $1, count: $2, offset: $3, $4) })
}

/// The configuration of an optimizer: which one and its hyper-parameters.
/// Update rules and defaults are PyTorch's (`torch.optim.*`), except SGD's
/// default learning rate, which is Keras's 0.01. Gradient clipping
/// (`clipValue`, `clipNorm`, `globalClipNorm`) follows Keras's optimizer
/// arguments `clipvalue`, `clipnorm`, `global_clipnorm`.
public struct OptimizerOptions: Equatable, Sendable {
    /// Which algorithm (`Kind` and its registry: OptimizerAlgorithm.swift).
    public var kind: Kind
    /// Step size (Rprop: the initial per-parameter step).
    public var learningRate: Double
    /// SGD, RMSprop: momentum factor (0 disables momentum).
    public var momentum: Double = 0
    /// SGD: dampening of the momentum.
    public var dampening: Double = 0
    /// SGD: Nesterov momentum (needs momentum > 0 and dampening 0).
    public var nesterov: Bool = false
    /// Adam, AdamW: decay rates of the moment estimates.
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    /// Adam, AdamW, RMSprop, Adagrad: term added to the denominator.
    public var epsilon: Double = 1e-8
    /// L2 penalty added to the gradient (SGD, Adam, RMSprop, Adagrad) or the
    /// decoupled decay (AdamW), as PyTorch's `weight_decay`.
    public var weightDecay: Double = 0
    /// Adam, AdamW: use the maximum of past second moments.
    public var amsgrad: Bool = false
    /// RMSprop: smoothing constant of the squared-gradient average.
    public var alpha: Double = 0.99
    /// RMSprop: normalize by the estimated variance of the gradient.
    public var centered: Bool = false
    /// Adagrad: learning-rate decay.
    public var lrDecay: Double = 0
    /// Adagrad: initial value of the sum of squares.
    public var initialAccumulatorValue: Double = 0
    /// Rprop: multiplicative decrease and increase factors (0 < etaMinus < 1 < etaPlus).
    public var etaMinus: Double = 0.5
    public var etaPlus: Double = 1.2
    /// Rprop: minimal and maximal step sizes.
    public var stepSizeMin: Double = 1e-6
    public var stepSizeMax: Double = 50
    /// Clip every gradient element to [−clipValue, clipValue] (Keras clipvalue).
    public var clipValue: Double? = nil
    /// Rescale each weight array's gradient to norm ≤ clipNorm (Keras clipnorm).
    public var clipNorm: Double? = nil
    /// Rescale the whole gradient to global norm ≤ globalClipNorm (Keras global_clipnorm).
    public var globalClipNorm: Double? = nil

    /// An optimizer of `kind` with `learningRate` and the other defaults of
    /// the fields above (use `defaults(for:)` for each kind's own defaults).
    public init(kind: Kind, learningRate: Double) {
        self.kind = kind
        self.learningRate = learningRate
    }

    /// PyTorch's defaults for `kind` (SGD: learning rate 0.01, as Keras;
    /// AdamW: weight decay 0.01; Adagrad: epsilon 1e-10).
    public static func defaults(for kind: Kind) -> OptimizerOptions {
        kind.algorithm.defaults
    }

    /// SGD; the default learning rate 0.01 is Keras's.
    public static func sgd(learningRate: Double = 0.01, momentum: Double = 0, dampening: Double = 0,
                           nesterov: Bool = false, weightDecay: Double = 0) -> OptimizerOptions {
        var o = defaults(for: .sgd)
        o.learningRate = learningRate; o.momentum = momentum; o.dampening = dampening
        o.nesterov = nesterov; o.weightDecay = weightDecay
        return o
    }

    /// Adam with PyTorch's defaults.
    public static func adam(learningRate: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999,
                            epsilon: Double = 1e-8, weightDecay: Double = 0, amsgrad: Bool = false) -> OptimizerOptions {
        var o = defaults(for: .adam)
        o.learningRate = learningRate; o.beta1 = beta1; o.beta2 = beta2; o.epsilon = epsilon
        o.weightDecay = weightDecay; o.amsgrad = amsgrad
        return o
    }

    /// AdamW with PyTorch's defaults (weight decay 0.01, decoupled).
    public static func adamw(learningRate: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999,
                             epsilon: Double = 1e-8, weightDecay: Double = 0.01, amsgrad: Bool = false) -> OptimizerOptions {
        var o = defaults(for: .adamw)
        o.learningRate = learningRate; o.beta1 = beta1; o.beta2 = beta2; o.epsilon = epsilon
        o.weightDecay = weightDecay; o.amsgrad = amsgrad
        return o
    }

    /// RMSprop with PyTorch's defaults.
    public static func rmsprop(learningRate: Double = 0.01, alpha: Double = 0.99, epsilon: Double = 1e-8,
                               weightDecay: Double = 0, momentum: Double = 0, centered: Bool = false) -> OptimizerOptions {
        var o = defaults(for: .rmsprop)
        o.learningRate = learningRate; o.alpha = alpha; o.epsilon = epsilon
        o.weightDecay = weightDecay; o.momentum = momentum; o.centered = centered
        return o
    }

    /// Adagrad with PyTorch's defaults.
    public static func adagrad(learningRate: Double = 0.01, lrDecay: Double = 0, weightDecay: Double = 0,
                               initialAccumulatorValue: Double = 0, epsilon: Double = 1e-10) -> OptimizerOptions {
        var o = defaults(for: .adagrad)
        o.learningRate = learningRate; o.lrDecay = lrDecay; o.weightDecay = weightDecay
        o.initialAccumulatorValue = initialAccumulatorValue; o.epsilon = epsilon
        return o
    }

    /// Rprop with PyTorch's defaults.
    public static func rprop(learningRate: Double = 0.01, etaMinus: Double = 0.5, etaPlus: Double = 1.2,
                             stepSizeMin: Double = 1e-6, stepSizeMax: Double = 50) -> OptimizerOptions {
        var o = defaults(for: .rprop)
        o.learningRate = learningRate; o.etaMinus = etaMinus; o.etaPlus = etaPlus
        o.stepSizeMin = stepSizeMin; o.stepSizeMax = stepSizeMax
        return o
    }

    /// Throws `invalidArgument` naming the first hyper-parameter out of range:
    /// those every kind has here, then the kind's own (its algorithm's `validate`).
    public func validate() throws {
        try requirePositive("learning_rate", learningRate)
        try requireNonNegative("weight_decay", weightDecay)
        if let c = clipValue { try requirePositive("clipvalue", c) }
        if let c = clipNorm { try requirePositive("clipnorm", c) }
        if let c = globalClipNorm { try requirePositive("global_clipnorm", c) }
        if [clipValue, clipNorm, globalClipNorm].compactMap({ $0 }).count > 1 {
            throw NNError.invalidArgument("only one of clipvalue, clipnorm and global_clipnorm can be set (as in Keras)")
        }
        try kind.algorithm.validate(self)
    }
}

/// An optimizer with its state over the model's flat parameter block.
///
/// Each kind applies PyTorch's update rule (the single-tensor path of
/// `torch.optim`, maximize = False), one file per algorithm in this folder:
/// SGD.swift, Adam.swift (Adam and AdamW), RMSprop.swift, Adagrad.swift,
/// Rprop.swift, each an `OptimizerAlgorithm` found through the registry
/// `OptimizerOptions.Kind.algorithm` (OptimizerAlgorithm.swift). The state is part of the model: it is made by the first
/// update and survives everything except `reset()`.
final class Optimizer<T: NNFloat> {
    var options: OptimizerOptions
    /// The algorithm of options.kind, looked up once, and for Float its
    /// step compiled for it (`OptimizerOptions.Kind.floatStep`).
    private let algorithm: any OptimizerAlgorithm.Type
    private let floatStep: FloatStep?
    /// The current learning rate: starts at options.learningRate; a
    /// learning-rate schedule changes it between epochs, and each update reads
    /// it. (Rprop reads it once, as PyTorch does: it is the initial step size
    /// of every parameter when the state is made.)
    var learningRate: Double
    /// Number of updates since creation or the last `reset()` (PyTorch's
    /// state "step").
    private(set) var step = 0
    /// True during the update that made the state (PyTorch: the buffer was None).
    private(set) var isFirstStep = false
    /// The per-parameter state, one buffer of `parameterCount` values per
    /// entry, named as the keys of PyTorch's `state_dict()["state"][i]`
    /// (see `stateNames(for:)` for which entries a configuration has, in
    /// this order). Empty before the first update and after `reset()`.
    private(set) var stateBuffers: [(name: String, buffer: Buffer<T>)] = []
    /// The buffers' pointers, in the same order (kept so a step allocates nothing).
    private var statePointers: [UnsafeMutablePointer<T>] = []
    /// The number of parameters the state was made for; nil while there is no state.
    private(set) var parameterCount: Int?

    init(_ options: OptimizerOptions) {
        self.options = options
        algorithm = options.kind.algorithm
        floatStep = T.self == Float.self ? options.kind.floatStep : nil
        learningRate = options.learningRate
    }

    /// The names of the state buffers of `options`, in the order of
    /// `stateBuffers` (each algorithm's `stateNames(for:)`, PyTorch's keys):
    ///
    ///     SGD            "momentum_buffer" (only with momentum ≠ 0)
    ///     Adam, AdamW    "exp_avg", "exp_avg_sq", then "max_exp_avg_sq" with amsgrad
    ///     RMSprop        "square_avg", then "momentum_buffer" with momentum > 0,
    ///                    then "grad_avg" when centered
    ///     Adagrad        "sum"
    ///     Rprop          "prev", "step_size"
    static func stateNames(for options: OptimizerOptions) -> [String] {
        options.kind.algorithm.stateNames(for: options)
    }

    /// State buffer `i` (in the order of `stateNames(for:)`) from element
    /// `offset` on: what an algorithm's step reads (allocates nothing).
    @inline(__always)
    func state(_ i: Int, at offset: Int) -> UnsafeMutablePointer<T> { statePointers[i] + offset }

    /// The state buffer called `name`, if this configuration has one.
    func stateBuffer(_ name: String) -> Buffer<T>? {
        stateBuffers.first { $0.name == name }?.buffer
    }

    /// Continues from saved state: `step` updates done, the current learning
    /// rate, and one buffer of `parameterCount` values for each name of
    /// `stateNames(for: options)`, in that order (none when step is 0).
    func restore(step: Int, learningRate: Double, parameterCount: Int, buffers: [[T]]) {
        reset()
        self.learningRate = learningRate
        guard step > 0 else { return }
        makeState(count: parameterCount)
        for (i, values) in buffers.enumerated() where i < stateBuffers.count {
            values.withUnsafeBufferPointer { stateBuffers[i].buffer.pointer.update(from: $0.baseAddress!, count: parameterCount) }
        }
        self.step = step
    }

    /// Forgets all state and the step count (after the parameter layout changed).
    func reset() {
        stateBuffers = []
        statePointers = []
        parameterCount = nil
        step = 0
        isFirstStep = false
    }

    /// One update of params[0..<count] with gradients grads[0..<count].
    /// The first update after creation or `reset()` makes the state for
    /// `count` parameters; every later one must pass the same count.
    ///
    /// Specialized for Float here, so that a caller in any module gets the
    /// tight loops (a generic call runs every arithmetic operation through
    /// the NNFloat witness table, about 100 times slower).
    @_specialize(where T == Float)
    func update(_ params: UnsafeMutablePointer<T>, _ grads: UnsafePointer<T>, count: Int) {
        let fresh = parameterCount == nil
        if fresh {
            makeState(count: count)
        } else {
            precondition(count == parameterCount,
                         "the optimizer state is for \(parameterCount!) parameters, got \(count); reset() it first")
        }
        step &+= 1
        // Every update rule is element-wise: large blocks are split into fixed
        // chunks run by the thread pool (the same bits for any thread count).
        // One dispatch per chunk, through the algorithm looked up at init;
        // it reads options, learning rate, step and state from self (nothing
        // is copied or allocated).
        isFirstStep = fresh
        let algorithm = self.algorithm
        func apply(_ offset: Int, _ count: Int) {
            if let floatStep {
                // T is Float (floatStep is nil otherwise): the same pointers and object.
                floatStep(UnsafeMutableRawPointer(params + offset).assumingMemoryBound(to: Float.self),
                          UnsafeRawPointer(grads + offset).assumingMemoryBound(to: Float.self), count, offset,
                          unsafeBitCast(self, to: Optimizer<Float>.self))
            } else {
                algorithm.step(params + offset, grads + offset, count: count, offset: offset, self)
            }
        }
        parallelChunks(count, apply)
    }

    /// Allocates the state for `count` parameters with PyTorch's initial
    /// values (zeros, then the algorithm's `initializeState`: Adagrad's
    /// "sum" is initial_accumulator_value, Rprop's "step_size" the learning rate).
    private func makeState(count: Int) {
        parameterCount = count
        stateBuffers = Self.stateNames(for: options).map { (name: $0, buffer: Buffer<T>(count: count)) }
        statePointers = stateBuffers.map(\.buffer.pointer)
        algorithm.initializeState(statePointers, count: count, options: options, learningRate: learningRate)
    }
}

/// x^n for a small whole n, in Double (exact bias corrections for Adam).
@inline(__always)
func pow(_ x: Double, _ n: Int) -> Double {
    var r = 1.0, b = x, e = n
    while e > 0 {
        if e & 1 == 1 { r *= b }
        b *= b
        e >>= 1
    }
    return r
}

/// Calls body(offset, count) over [0, total) in fixed chunks of at least
/// 16 384 elements, spread over the shared thread pool (one call on the
/// calling thread when the block is small or the pool has one thread).
/// Chunk boundaries depend on the thread count, so body must be
/// element-wise for results not to.
func parallelChunks(_ total: Int, _ body: (Int, Int) -> Void) {
    let minimum = 16_384
    // The size first: a small block never touches the shared pool (a lazy
    // global: a swift_once per call).
    guard total >= 2 * minimum else {
        body(0, total)
        return
    }
    let pool = ThreadPool.shared
    let threads = pool.threadCount
    guard threads > 1 else {
        body(0, total)
        return
    }
    let parts = min(threads, total / minimum)
    let chunk = ((total + parts - 1) / parts + 15) / 16 * 16
    pool.run(parts: parts) { p in
        let start = p * chunk
        if start < total { body(start, min(chunk, total - start)) }
    }
}

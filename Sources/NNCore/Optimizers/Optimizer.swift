/// The configuration of an optimizer: which one and its hyper-parameters.
/// Update rules and defaults are PyTorch's (`torch.optim.*`), except SGD's
/// default learning rate, which is Keras's 0.01. Gradient clipping
/// (`clipValue`, `clipNorm`, `globalClipNorm`) follows Keras's optimizer
/// arguments `clipvalue`, `clipnorm`, `global_clipnorm`.
public struct OptimizerOptions: Equatable, Sendable {
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
    }

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
        switch kind {
        case .sgd: return OptimizerOptions(kind: .sgd, learningRate: 0.01)
        case .adam: return OptimizerOptions(kind: .adam, learningRate: 0.001)
        case .adamw:
            var o = OptimizerOptions(kind: .adamw, learningRate: 0.001)
            o.weightDecay = 0.01
            return o
        case .rmsprop: return OptimizerOptions(kind: .rmsprop, learningRate: 0.01)
        case .adagrad:
            var o = OptimizerOptions(kind: .adagrad, learningRate: 0.01)
            o.epsilon = 1e-10
            return o
        case .rprop: return OptimizerOptions(kind: .rprop, learningRate: 0.01)
        }
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

    /// Throws `invalidArgument` naming the first hyper-parameter out of range.
    public func validate() throws {
        func bad(_ name: String, _ value: Double, _ rule: String) -> NNError {
            .invalidArgument("\(kind.rawValue): \(name) must be \(rule), got \(value)")
        }
        func nonNegative(_ name: String, _ v: Double) throws {
            guard v.isFinite, v >= 0 else { throw bad(name, v, "a finite number >= 0") }
        }
        func positive(_ name: String, _ v: Double) throws {
            guard v.isFinite, v > 0 else { throw bad(name, v, "a finite number > 0") }
        }
        func unit(_ name: String, _ v: Double) throws {
            guard v >= 0, v < 1 else { throw bad(name, v, "in [0, 1)") }
        }
        try positive("learning_rate", learningRate)
        try nonNegative("weight_decay", weightDecay)
        if let c = clipValue { try positive("clipvalue", c) }
        if let c = clipNorm { try positive("clipnorm", c) }
        if let c = globalClipNorm { try positive("global_clipnorm", c) }
        if [clipValue, clipNorm, globalClipNorm].compactMap({ $0 }).count > 1 {
            throw NNError.invalidArgument("only one of clipvalue, clipnorm and global_clipnorm can be set (as in Keras)")
        }
        switch kind {
        case .sgd:
            try nonNegative("momentum", momentum)
            try nonNegative("dampening", dampening)
            if nesterov && (momentum <= 0 || dampening != 0) {
                throw NNError.invalidArgument(
                    "sgd: nesterov momentum requires momentum > 0 and dampening 0, got momentum \(momentum), dampening \(dampening)")
            }
        case .adam, .adamw:
            try unit("beta_1", beta1)
            try unit("beta_2", beta2)
            try positive("epsilon", epsilon)
        case .rmsprop:
            try unit("alpha", alpha)
            try positive("epsilon", epsilon)
            try nonNegative("momentum", momentum)
        case .adagrad:
            try nonNegative("lr_decay", lrDecay)
            try nonNegative("initial_accumulator_value", initialAccumulatorValue)
            try positive("epsilon", epsilon)
        case .rprop:
            guard weightDecay == 0 else {
                throw NNError.invalidArgument("rprop: weight_decay is not supported (PyTorch's Rprop has none), got \(weightDecay)")
            }
            guard etaMinus > 0, etaMinus < 1 else { throw bad("eta_minus", etaMinus, "in (0, 1)") }
            guard etaPlus.isFinite, etaPlus > 1 else { throw bad("eta_plus", etaPlus, "a finite number > 1") }
            try positive("step_size_min", stepSizeMin)
            guard stepSizeMax.isFinite, stepSizeMax >= stepSizeMin else {
                throw bad("step_size_max", stepSizeMax, "finite and >= step_size_min (\(stepSizeMin))")
            }
        }
    }
}

/// An optimizer with its state over the model's flat parameter block.
///
/// Each kind applies PyTorch's update rule (the single-tensor path of
/// `torch.optim`, maximize = False), one file per algorithm in this folder:
/// SGD.swift, Adam.swift (Adam and AdamW), RMSprop.swift, Adagrad.swift,
/// Rprop.swift. The state is part of the model: it is made by the first
/// update and survives everything except `reset()`.
final class Optimizer<T: NNFloat> {
    let options: OptimizerOptions
    /// The current learning rate: starts at options.learningRate; a
    /// learning-rate schedule changes it between epochs, and each update reads
    /// it. (Rprop reads it once, as PyTorch does: it is the initial step size
    /// of every parameter when the state is made.)
    var learningRate: Double
    /// Number of updates since creation or the last `reset()` (PyTorch's
    /// state "step").
    private(set) var step = 0
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
        learningRate = options.learningRate
    }

    /// The names of the state buffers of `options`, in the order of
    /// `stateBuffers`:
    ///
    ///     SGD            "momentum_buffer" (only with momentum ≠ 0)
    ///     Adam, AdamW    "exp_avg", "exp_avg_sq", then "max_exp_avg_sq" with amsgrad
    ///     RMSprop        "square_avg", then "momentum_buffer" with momentum > 0,
    ///                    then "grad_avg" when centered
    ///     Adagrad        "sum"
    ///     Rprop          "prev", "step_size"
    static func stateNames(for options: OptimizerOptions) -> [String] {
        switch options.kind {
        case .sgd:
            return options.momentum != 0 ? ["momentum_buffer"] : []
        case .adam, .adamw:
            return ["exp_avg", "exp_avg_sq"] + (options.amsgrad ? ["max_exp_avg_sq"] : [])
        case .rmsprop:
            return ["square_avg"] + (options.momentum > 0 ? ["momentum_buffer"] : [])
                + (options.centered ? ["grad_avg"] : [])
        case .adagrad:
            return ["sum"]
        case .rprop:
            return ["prev", "step_size"]
        }
    }

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
        // The buffers are in the order of stateNames(for:); reading them here
        // allocates nothing.
        let o = options
        let learningRate = self.learningRate, step = self.step
        let buffers = statePointers
        func apply(_ offset: Int, _ count: Int) {
            let params = params + offset, grads = grads + offset
            func state(_ i: Int) -> UnsafeMutablePointer<T> { buffers[i] + offset }
            switch o.kind {
            case .sgd:
                sgdUpdate(params, grads, count: count,
                          momentumBuffer: o.momentum != 0 ? state(0) : nil, firstStep: fresh,
                          lr: T(learningRate), momentum: T(o.momentum), dampeningComplement: T(1 - o.dampening),
                          nesterov: o.nesterov, weightDecay: T(o.weightDecay))
            case .adam, .adamw:
                let bias1 = 1 - pow(o.beta1, step), bias2 = 1 - pow(o.beta2, step)
                let decoupled = o.kind == .adamw
                if T.self == Float.self {
                    // The same arithmetic, compiled for the CPU's widest registers.
                    func f(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
                        UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
                    }
                    CPULevel.selected.adamStep(
                        f(params), UnsafeRawPointer(grads).assumingMemoryBound(to: Float.self), count,
                        f(state(0)), f(state(1)), o.amsgrad ? f(state(2)) : nil,
                        Float(learningRate / bias1), Float(bias2.squareRoot()), Float(1 - o.beta1), Float(o.beta2),
                        Float(1 - o.beta2), Float(o.epsilon), decoupled ? 0 : Float(o.weightDecay),
                        decoupled ? Float(1 - learningRate * o.weightDecay) : 1)
                    return
                }
                adamUpdate(params, grads, count: count,
                           expAvg: state(0), expAvgSq: state(1), maxExpAvgSq: o.amsgrad ? state(2) : nil,
                           stepSize: T(learningRate / bias1), bias2Sqrt: T(bias2.squareRoot()),
                           beta1Complement: T(1 - o.beta1), beta2: T(o.beta2), beta2Complement: T(1 - o.beta2),
                           epsilon: T(o.epsilon),
                           l2: decoupled ? 0 : T(o.weightDecay),
                           decay: decoupled ? T(1 - learningRate * o.weightDecay) : 1)
            case .rmsprop:
                var next = 1
                let buffer = o.momentum > 0 ? state(next) : nil
                if buffer != nil { next += 1 }
                let gradAvg = o.centered ? state(next) : nil
                rmspropUpdate(params, grads, count: count,
                              squareAvg: state(0), momentumBuffer: buffer, gradAvg: gradAvg,
                              lr: T(learningRate), alpha: T(o.alpha), alphaComplement: T(1 - o.alpha),
                              epsilon: T(o.epsilon), momentum: T(o.momentum), weightDecay: T(o.weightDecay))
            case .adagrad:
                let clr = learningRate / (1 + Double(step - 1) * o.lrDecay)
                adagradUpdate(params, grads, count: count, sum: state(0),
                              clr: T(clr), epsilon: T(o.epsilon), weightDecay: T(o.weightDecay))
            case .rprop:
                rpropUpdate(params, grads, count: count, prev: state(0), stepSize: state(1),
                            etaMinus: T(o.etaMinus), etaPlus: T(o.etaPlus),
                            stepSizeMin: T(o.stepSizeMin), stepSizeMax: T(o.stepSizeMax))
            }
        }
        parallelChunks(count, apply)
    }

    /// Allocates the state for `count` parameters with PyTorch's initial
    /// values: zeros, except Adagrad's "sum" (initial_accumulator_value) and
    /// Rprop's "step_size" (the learning rate).
    private func makeState(count: Int) {
        parameterCount = count
        stateBuffers = Self.stateNames(for: options).map { (name: $0, buffer: Buffer<T>(count: count)) }
        statePointers = stateBuffers.map(\.buffer.pointer)
        switch options.kind {
        case .adagrad:
            stateBuffers[0].buffer.pointer.update(repeating: T(options.initialAccumulatorValue), count: count)
        case .rprop:
            stateBuffers[1].buffer.pointer.update(repeating: T(learningRate), count: count)
        case .sgd, .adam, .adamw, .rmsprop:
            break
        }
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
    let pool = ThreadPool.shared
    let threads = pool.threadCount
    guard threads > 1, total >= 2 * minimum else {
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

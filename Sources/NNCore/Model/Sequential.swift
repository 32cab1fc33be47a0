#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A sequential model: a stack of layers over rows of `inputDim` features,
/// a loss, an optimizer (with its state), metrics, one seeded random
/// generator and the history of its training.
///
/// ```swift
/// let model = try Sequential(inputDim: 2, seed: 42)
/// try model.add(Dense(8, activation: .tanh))
/// try model.add(Dense(1, activation: .sigmoid))
/// try model.compile(loss: .binaryCrossentropy, optimizer: .adam(learningRate: 0.05), metrics: [.accuracy])
/// let history = try model.fit(x: x, y: y, options: FitOptions(epochs: 500, batchSize: 4))
/// let p = try model.predict(x)
/// ```
///
/// Threads: `predict`, `evaluate` and `confusionMatrix` may run on any
/// number of threads at once (each call computes on a network of its own
/// over the model's shared, read-only weights: `withInferenceNetwork`);
/// every other call needs the model to itself — no inference call may run
/// during it. The C ABI enforces this rule (NN_ERROR_BUSY); Swift callers
/// keep it themselves, as for any class.
///
/// Why two types for one model: `Sequential` is what users hold — the layer
/// descriptions (`Layer`), the loss, optimizer, metrics, generator and
/// history, in Float. It builds a `Network<T>`, the numeric engine over the
/// flat parameter/gradient blocks, generic over the scalar, so that the
/// same layers also run as `Network<Double>` on the reference kernels for
/// gradient checks. `Layer` / `LayerOperation` split a layer the same way:
/// the value-type description versus the computation in a given precision.
public final class Sequential {
    public let inputDim: Int
    public let seed: UInt64
    public private(set) var layers: [any Layer] = []
    public private(set) var loss: Loss?
    public private(set) var optimizerOptions: OptimizerOptions?
    public private(set) var metrics: [Metric] = []
    /// The learning-rate schedule applied between epochs, if any.
    public private(set) var learningRateSchedule: LearningRateSchedule?
    /// Per-epoch logs of every `fit` so far, appended epoch by epoch.
    public internal(set) var history = History()
    /// The logs of the most recent `fit` call alone, appended epoch by epoch
    /// (after a failed call, the epochs it completed); what that call returns.
    public internal(set) var lastFit = History()

    /// Empties `lastFit`, for a caller whose own checks refuse a fit before
    /// `fit` runs (nn_model_fit), so that it never shows an older call's logs.
    public func forgetLastFit() { lastFit = History() }

    let network: Network<Float>
    /// Networks for inference calls (`withInferenceNetwork`), one per call
    /// that runs at once, kept for the next calls.
    private var inferenceNetworks: [Network<Float>] = []
    private let inferenceLock = PosixLock()
    var rng: RandomGenerator
    var optimizer: Optimizer<Float>?
    var plateau: PlateauState?
    private var trained = false
    /// Anomaly detection: while on, `fit` checks every forward output,
    /// gradient and updated parameter for NaN and infinity and stops at the
    /// first one with an error naming the layer, the stage, the epoch, the
    /// batch and the element (see `Anomaly`). Off by default (no cost).
    public var anomalyDetection = false

    /// Data-parallel training across processes (`DataParallel`): nil, or a
    /// size of 1, trains in this process alone.
    public var dataParallel: DataParallel?

    /// Per-layer statistics (`LayerStatistics`, in `History.layerStatistics`)
    /// from every k-th batch of each epoch; 0 (the default) collects none.
    public var layerStatisticsEvery = 0 {
        didSet { if layerStatisticsEvery < 0 { layerStatisticsEvery = 0 } }
    }

    /// Training batches run so far, over all fits (PyTorch's BatchNorm
    /// num_batches_tracked: every normalization layer sees every batch).
    var trainingSteps = 0
    /// The training call running now ("fit", "train_on_batch"), if any.
    var trainingCall: String?
    /// Whether the model has been trained (layers can no longer be added).
    var isTrained: Bool { trained }

    /// An empty model over rows of `inputDim` features; `seed` seeds weight
    /// initialization and shuffling.
    public init(inputDim: Int, seed: UInt64 = 0) throws {
        guard inputDim > 0 else { throw NNError.shapeMismatch("a model needs at least 1 input column, got \(inputDim)") }
        self.inputDim = inputDim
        self.seed = seed
        rng = RandomGenerator(seed: seed)
        network = Network(inputDim: inputDim, kernels: .production)
    }

    /// Number of output columns (the last layer's units, or inputDim if empty).
    public var outputDim: Int { network.outputDim }
    /// Total number of trainable scalars.
    public var parameterCount: Int { network.parameterCount }
    /// Total number of non-trainable scalars (normalization statistics).
    public var nonTrainableCount: Int { network.stateCount }
    /// Output width of layer `index` (0-based; must be in range).
    public func outputDim(ofLayer index: Int) -> Int { network.operations[index].outputDim }

    /// Appends a layer and initializes its weights from the model's generator.
    public func add(_ layer: any Layer) throws {
        guard !trained else {
            throw NNError.invalidState("layers cannot be added to a model that has been trained")
        }
        try network.append(layer, rng: &rng)
        layers.append(layer)
        optimizer?.reset()
    }

    /// Sets the loss (throws for options that do not fit it).
    public func setLoss(_ loss: Loss) throws {
        try loss.validate()
        self.loss = loss
    }

    /// Sets the optimizer and resets its state (and a plateau schedule's).
    public func setOptimizer(_ options: OptimizerOptions) throws {
        try options.validate()
        optimizerOptions = options
        optimizer = Optimizer(options)
        plateau = nil
    }

    /// The optimizer's current learning rate (nil without an optimizer).
    public var learningRate: Double? { optimizer?.learningRate }

    /// Updates the optimizer has made since it was set (Keras's
    /// `optimizer.iterations`, PyTorch's state "step"); nil without an
    /// optimizer.
    public var optimizerIterations: Int? { optimizer?.step }

    /// Sets the optimizer's current learning rate, used from its next update
    /// on (also when called from a callback during fit: the running fit
    /// updates with the same optimizer). 0 is allowed (Keras's schedules
    /// reach it: CosineDecay's end, a warmup's start). Without a learning-rate
    /// schedule, a rate > 0 also becomes the optimizer's configured rate (what
    /// the model's configuration and files report; a configured rate is > 0);
    /// an epoch schedule computes its next epoch's rate from the configured
    /// rate as before, and a plateau schedule reduces from the new rate. The
    /// optimizer's state is kept. (Rprop takes its rate as every weight's
    /// initial step size when its state is made, as PyTorch's does: later
    /// rates change nothing.)
    public func setLearningRate(_ rate: Double) throws {
        guard let optimizer, var options = optimizerOptions else {
            throw NNError.invalidState("no optimizer is set; compile (set an optimizer) before setting its learning rate")
        }
        guard rate.isFinite, rate >= 0 else {
            throw NNError.invalidArgument("learning_rate must be a finite number >= 0, got \(rate)")
        }
        optimizer.learningRate = rate
        if rate > 0, learningRateSchedule == nil || learningRateSchedule!.isPlateau {
            options.learningRate = rate
            optimizerOptions = options
            optimizer.options.learningRate = rate
        }
    }

    /// Sets (or, with nil, removes) the learning-rate schedule. The current
    /// rate is kept (as when a PyTorch scheduler is dropped): a rate that a
    /// plateau reduced stays reduced; the epoch schedules compute their rate
    /// from the optimizer's own learning rate at the next epoch.
    public func setLearningRateSchedule(_ schedule: LearningRateSchedule?) throws {
        try schedule?.validate()
        learningRateSchedule = schedule
        plateau = nil
    }

    /// Adds a metric (no effect if already present). Its parameter is checked
    /// now; whether it fits the model's loss and outputs, when training or
    /// evaluation starts.
    public func addMetric(_ metric: Metric) throws {
        try metric.validateParameter()
        if !metrics.contains(metric) { metrics.append(metric) }
    }

    /// Removes every metric.
    public func clearMetrics() { metrics = [] }

    /// Sets loss, optimizer and metrics at once, as Keras's `compile`.
    public func compile(loss: Loss, optimizer: OptimizerOptions, metrics: [Metric] = []) throws {
        try loss.validate()
        try metrics.forEach { try $0.validateParameter() }
        try setOptimizer(optimizer)
        try setLoss(loss)
        clearMetrics()
        try metrics.forEach(addMetric)
    }

    /// Names of the values `evaluate` returns: "loss", then each metric.
    public var metricNames: [String] { ["loss"] + metrics.map(\.name) }

    // MARK: Weights

    /// The weight arrays in Keras's get_weights() order (trainable ones and
    /// normalization statistics).
    public var weightSpecs: [WeightSpec] { network.weightArrays.map(\.spec) }

    /// Shapes of the weight arrays in Keras's get_weights() order.
    public var weightShapes: [[Int]] { weightSpecs.map(\.shape) }

    /// A copy of weight array `index`, row-major.
    public func weight(_ index: Int) throws -> [Float] {
        let (offset, spec) = try weightArray(index)
        let storage = network.storage(trainable: spec.trainable)
        return Array(UnsafeBufferPointer(start: storage.pointer + offset, count: spec.count))
    }

    /// Replaces weight array `index` with `values` (row-major); the count must
    /// match and every value must be finite.
    public func setWeight(_ index: Int, _ values: [Float]) throws {
        try values.withUnsafeBufferPointer { try setWeight(index, $0) }
    }

    /// As `setWeight(_:_:)`, from a buffer (no intermediate copy).
    public func setWeight(_ index: Int, _ values: UnsafeBufferPointer<Float>) throws {
        let (offset, spec) = try weightArray(index)
        guard values.count == spec.count else {
            throw NNError.shapeMismatch("weight \(index) has shape \(spec.shape) (\(spec.count) values), got \(values.count) values")
        }
        for (i, v) in values.enumerated() where !v.isFinite {
            throw NNError.nonFinite("weight \(index) value \(i) is \(v); weights must be finite")
        }
        if spec.name == "moving_variance", let i = values.firstIndex(where: { $0 < 0 }) {
            throw NNError.invalidArgument("weight \(index) (moving_variance) value \(i) is \(values[i]); variances must be >= 0")
        }
        if let base = values.baseAddress {
            (network.storage(trainable: spec.trainable).pointer + offset).update(from: base, count: spec.count)
        }
    }

    /// Copies weight array `index` into `out`, whose count must match.
    public func copyWeight(_ index: Int, into out: UnsafeMutableBufferPointer<Float>) throws {
        let (offset, spec) = try weightArray(index)
        guard out.count == spec.count else {
            throw NNError.shapeMismatch("weight \(index) has shape \(spec.shape) (\(spec.count) values), the buffer holds \(out.count)")
        }
        if let base = out.baseAddress {
            base.update(from: network.storage(trainable: spec.trainable).pointer + offset, count: spec.count)
        }
    }

    private func weightArray(_ index: Int) throws -> (Int, WeightSpec) {
        let arrays = network.weightArrays
        guard index >= 0, index < arrays.count else {
            throw NNError.invalidArgument("weight index \(index) is out of range: the model has \(arrays.count) weight arrays")
        }
        return arrays[index]
    }

    /// A copy of every parameter and statistic (for restoring a best epoch).
    func snapshot() -> (parameters: [Float], state: [Float]) {
        (network.parameters.array, network.state.array)
    }

    func restore(_ snapshot: (parameters: [Float], state: [Float])) {
        snapshot.parameters.withUnsafeBufferPointer { network.parameters.pointer.update(from: $0.baseAddress!, count: $0.count) }
        snapshot.state.withUnsafeBufferPointer { b in
            if let base = b.baseAddress { network.state.pointer.update(from: base, count: b.count) }
        }
    }

    // MARK: Summary

    /// Keras-style names of the layers: dense, dense_1, dropout, ...
    public var layerNames: [String] {
        var seen: [String: Int] = [:]
        return layers.map { layer in
            let base = snakeCase(layer.kindName)
            let k = seen[base, default: 0]
            seen[base] = k + 1
            return k == 0 ? base : "\(base)_\(k)"
        }
    }

    /// A Keras-style text summary.
    public func summary() -> String {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        let rule = String(repeating: "_", count: 80), double = String(repeating: "=", count: 80)
        var lines = ["Model: \"sequential\"", rule,
                     pad(" Layer (type)", 46) + pad("Output Shape", 22) + "Param #", double]
        for (i, (layer, name)) in zip(layers, layerNames).enumerated() {
            let op = network.operations[i]
            lines.append(pad(" \(name) (\(layer.summaryLabel))", 46) + pad("(None, \(op.outputDim))", 22)
                         + "\(op.parameterCount + op.stateCount)")
        }
        if layers.isEmpty { lines.append(" (no layers; input width \(inputDim))") }
        lines += [double, "Total params: \(parameterCount + nonTrainableCount)", "Trainable params: \(parameterCount)",
                  "Non-trainable params: \(nonTrainableCount)", rule]
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: Inference networks

    /// At most this many idle inference networks are kept (more threads than
    /// this predicting at once allocate the extra ones per call).
    static let inferencePoolLimit = 64

    /// Runs `body` on a network that computes what `network` does and that no
    /// other call uses meanwhile: a replica over the same weights
    /// (`Network(inferenceReplicaOf:layers:)`) taken from the pool, or made
    /// if the pool is empty or the layers have changed since it was made; it
    /// goes back to the pool afterwards. So concurrent inference calls never
    /// share a workspace, and a steady state allocates nothing.
    func withInferenceNetwork<R>(_ body: (Network<Float>) throws -> R) rethrows -> R {
        var net = inferenceLock.withLock { inferenceNetworks.popLast() }
        if net == nil || !net!.isReplica(of: network) {
            net = Network(inferenceReplicaOf: network, layers: layers)
        }
        let replica = net!
        defer {
            inferenceLock.withLock {
                if inferenceNetworks.count < Self.inferencePoolLimit { inferenceNetworks.append(replica) }
            }
        }
        return try ThreadPool.shared.asCaller { try body(replica) }
    }

    /// The idle networks in the inference pool (tests).
    var inferenceNetworkCount: Int { inferenceLock.withLock { inferenceNetworks.count } }

    // MARK: State checks

    func requireLayers() throws {
        guard !layers.isEmpty else { throw NNError.invalidState("the model has no layers; add a layer first") }
    }

    func requireCompiled() throws -> (Loss, Optimizer<Float>) {
        try requireLayers()
        guard let loss else { throw NNError.invalidState("no loss is set; set a loss (compile) before fit or evaluate") }
        guard let optimizer else { throw NNError.invalidState("no optimizer is set; set an optimizer (compile) before fit") }
        try requireDifferentiable("train with sigmoid (or tanh) and switch to step for inference")
        return (loss, optimizer)
    }

    /// Refuses a model with a layer whose activation passes no gradient
    /// (step); `advice` ends the message.
    func requireDifferentiable(_ advice: String) throws {
        for (layer, name) in zip(layers, layerNames) where !layer.activation.isDifferentiable {
            throw NNError.invalidState(
                "layer \(name) uses the \(layer.activation.name) activation, whose derivative is 0 almost everywhere, "
                + "so no gradient can pass through it: \(advice)")
        }
    }

    /// Checks that every metric fits the loss and the outputs.
    func checkMetrics(_ loss: Loss) throws {
        try metrics.forEach { try $0.validate(loss: loss, outputs: outputDim) }
    }

    /// Checks x (and y) against the model's widths and for finiteness.
    func checkData(x: MatrixView<Float>, y: MatrixView<Float>?, loss: Loss?, what: String) throws {
        guard x.rows > 0 else { throw NNError.shapeMismatch("\(what) data has 0 rows") }
        guard x.cols == inputDim else {
            throw NNError.shapeMismatch("expected \(inputDim) input columns, got \(x.cols)")
        }
        _ = try checkedElementCount(x.rows, x.cols, "\(what) inputs")
        try x.checkFinite("\(what) input")
        if let y, let loss {
            guard y.rows == x.rows else {
                throw NNError.shapeMismatch("\(what) inputs have \(x.rows) rows but targets have \(y.rows)")
            }
            try loss.checkCompatible(outputs: outputDim, targetColumns: y.cols)
            _ = try checkedElementCount(y.rows, y.cols, "\(what) targets")
            try y.checkFinite("\(what) target")
            try loss.checkTargets(y.base, rows: y.rows, cols: y.cols, outputs: outputDim)
        }
    }

    func markTrained() { trained = true }
}

/// A pthread mutex. Synchronization's Mutex would do, but ThreadSanitizer
/// does not see it (its lock word lives in the uninstrumented standard
/// library), so it reported every network handed from thread to thread
/// through the inference pool as a race (`make sanitize`).
public final class PosixLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    public init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// "BatchNormalization" → "batch_normalization", as Keras names layers.
func snakeCase(_ s: String) -> String {
    var out = ""
    for (i, c) in s.enumerated() {
        if c.isUppercase {
            if i > 0 { out += "_" }
            out += c.lowercased()
        } else {
            out.append(c)
        }
    }
    return out
}


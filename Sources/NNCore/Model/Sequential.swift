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
/// A model is used by one thread at a time.
public final class Sequential {
    public let inputDim: Int
    public let seed: UInt64
    public private(set) var layers: [any Layer] = []
    public private(set) var loss: Loss?
    public private(set) var optimizerOptions: OptimizerOptions?
    public private(set) var metrics: [Metric] = []
    /// Per-epoch logs of every `fit` so far, appended epoch by epoch.
    public internal(set) var history = History()

    let network: Network<Float>
    var rng: RandomGenerator
    var optimizer: Optimizer<Float>?
    private var trained = false

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

    /// Sets the loss.
    public func setLoss(_ loss: Loss) { self.loss = loss }

    /// Sets the optimizer and resets its state.
    public func setOptimizer(_ options: OptimizerOptions) throws {
        try options.validate()
        optimizerOptions = options
        optimizer = Optimizer(options)
    }

    /// Adds a metric (no effect if already present).
    public func addMetric(_ metric: Metric) {
        if !metrics.contains(metric) { metrics.append(metric) }
    }

    /// Sets loss, optimizer and metrics at once, as Keras's `compile`.
    public func compile(loss: Loss, optimizer: OptimizerOptions, metrics: [Metric] = []) throws {
        try setOptimizer(optimizer)
        setLoss(loss)
        self.metrics = []
        metrics.forEach(addMetric)
    }

    /// Names of the values `evaluate` returns: "loss", then each metric.
    public var metricNames: [String] { ["loss"] + metrics.map(\.name) }

    // MARK: Weights

    /// Shapes of the weight arrays in Keras's get_weights() order.
    public var weightShapes: [[Int]] { network.weightArrays.map(\.shape) }

    /// A copy of weight array `index`, row-major.
    public func weight(_ index: Int) throws -> [Float] {
        let (offset, shape) = try weightArray(index)
        return Array(UnsafeBufferPointer(start: network.parameters.pointer + offset, count: shape.reduce(1, *)))
    }

    /// Replaces weight array `index` with `values` (row-major); the count must
    /// match and every value must be finite.
    public func setWeight(_ index: Int, _ values: [Float]) throws {
        try values.withUnsafeBufferPointer { try setWeight(index, $0) }
    }

    /// As `setWeight(_:_:)`, from a buffer (no intermediate copy).
    public func setWeight(_ index: Int, _ values: UnsafeBufferPointer<Float>) throws {
        let (offset, shape) = try weightArray(index)
        let count = shape.reduce(1, *)
        guard values.count == count else {
            throw NNError.shapeMismatch("weight \(index) has shape \(shape) (\(count) values), got \(values.count) values")
        }
        for (i, v) in values.enumerated() where !v.isFinite {
            throw NNError.nonFinite("weight \(index) value \(i) is \(v); weights must be finite")
        }
        if let base = values.baseAddress { (network.parameters.pointer + offset).update(from: base, count: count) }
    }

    /// Copies weight array `index` into `out`, whose count must match.
    public func copyWeight(_ index: Int, into out: UnsafeMutableBufferPointer<Float>) throws {
        let (offset, shape) = try weightArray(index)
        let count = shape.reduce(1, *)
        guard out.count == count else {
            throw NNError.shapeMismatch("weight \(index) has shape \(shape) (\(count) values), the buffer holds \(out.count)")
        }
        if let base = out.baseAddress { base.update(from: network.parameters.pointer + offset, count: count) }
    }

    private func weightArray(_ index: Int) throws -> (Int, [Int]) {
        let arrays = network.weightArrays
        guard index >= 0, index < arrays.count else {
            throw NNError.invalidArgument("weight index \(index) is out of range: the model has \(arrays.count) weight arrays")
        }
        return arrays[index]
    }

    // MARK: Summary

    /// A Keras-style text summary.
    public func summary() -> String {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        let rule = String(repeating: "_", count: 65), double = String(repeating: "=", count: 65)
        var lines = ["Model: \"sequential\"", rule,
                     pad(" Layer (type)", 29) + pad("Output Shape", 26) + "Param #", double]
        var kinds: [String: Int] = [:]
        for (i, layer) in layers.enumerated() {
            let kind = layer.kindName.lowercased()
            let k = kinds[kind, default: 0]
            kinds[kind] = k + 1
            let name = k == 0 ? kind : "\(kind)_\(k)"
            let op = network.operations[i]
            let act = layer.activation == .linear ? "" : ", \(layer.activation.rawValue)"
            lines.append(pad(" \(name) (\(layer.kindName)\(act))", 29) + pad("(None, \(op.outputDim))", 26)
                         + "\(op.parameterCount)")
        }
        if layers.isEmpty { lines.append(" (no layers; input width \(inputDim))") }
        lines += [double, "Total params: \(parameterCount)", "Trainable params: \(parameterCount)",
                  "Non-trainable params: 0", rule]
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: State checks

    func requireLayers() throws {
        guard !layers.isEmpty else { throw NNError.invalidState("the model has no layers; add a layer first") }
    }

    func requireCompiled() throws -> (Loss, Optimizer<Float>) {
        try requireLayers()
        guard let loss else { throw NNError.invalidState("no loss is set; set a loss (compile) before fit or evaluate") }
        guard let optimizer else { throw NNError.invalidState("no optimizer is set; set an optimizer (compile) before fit") }
        return (loss, optimizer)
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

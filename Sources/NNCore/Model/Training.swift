/// What a per-epoch callback tells the training loop.
public enum TrainingControl: Sendable { case `continue`, stop }

/// The logs of one epoch, in Keras's order: "loss", each metric, then
/// "val_loss" and "val_" + each metric when there is validation data.
public struct EpochLogs: Sendable {
    public var names: [String]
    public var values: [Double]
    public subscript(name: String) -> Double? {
        names.firstIndex(of: name).map { values[$0] }
    }
}

/// Per-epoch values of every log name over all `fit` calls of a model.
public struct History: Sendable {
    /// Epoch numbers (counting from 0 over all fits).
    public private(set) var epochs: [Int] = []
    /// Log names in order of first appearance, and each one's values.
    private var names: [String] = []
    private var columns: [[Double]] = []
    public init() {}

    /// Epochs trained before the ones listed in `epochs` (a loaded model's:
    /// their logs were not kept, only their number, which schedules need).
    public private(set) var earlierEpochs = 0
    /// Epochs trained so far, over all fits (and before loading).
    public var epochCount: Int { earlierEpochs + epochs.count }

    /// A history of `epochCount` epochs whose logs were not kept.
    init(epochCount: Int) { earlierEpochs = epochCount }

    /// Per-layer statistics of the epochs that collected them
    /// (`Sequential.layerStatisticsEvery` > 0), in epoch order.
    public private(set) var layerStatistics: [EpochLayerStatistics] = []

    mutating func append(_ statistics: EpochLayerStatistics) { layerStatistics.append(statistics) }

    /// Values per log name ("loss", "accuracy", "val_loss", ...).
    public var values: [String: [Double]] {
        Dictionary(uniqueKeysWithValues: zip(names, columns))
    }

    /// The values of one log name, or nil if no epoch logged it.
    public subscript(name: String) -> [Double]? {
        names.firstIndex(of: name).map { columns[$0] }
    }

    mutating func append(epoch: Int, _ logs: EpochLogs) {
        epochs.append(epoch)
        for (i, (n, v)) in zip(logs.names, logs.values).enumerated() {
            // Names usually come in the same order every epoch: try i first.
            let column = i < names.count && names[i] == n ? i : names.firstIndex(of: n) ?? {
                names.append(n)
                columns.append([])
                return names.count - 1
            }()
            columns[column].append(v)
        }
    }
}

/// The per-layer statistics of one epoch.
public struct EpochLayerStatistics: Equatable, Sendable {
    /// The epoch's number (counting from 0 over all fits, as `History.epochs`).
    public var epoch: Int
    /// One entry per layer, in order.
    public var layers: [LayerStatistics]
}

/// Options of `Sequential.fit`.
public struct FitOptions {
    /// Passes over the data.
    public var epochs: Int = 1
    /// Samples per gradient step; the last batch of an epoch may be smaller.
    public var batchSize: Int = 32
    /// Reshuffle the samples before each epoch.
    public var shuffle: Bool = true
    /// Seed of the shuffling of this call; nil continues the model's generator.
    public var seed: UInt64? = nil
    /// Optional validation data, evaluated after each epoch.
    public var validation: (x: Tensor, y: Tensor)? = nil
    /// Fraction in [0, 1) of the rows, taken from the end before any
    /// shuffling (as Keras), held out as validation data. Not with `validation`.
    public var validationSplit: Double = 0
    /// One weight per training row: its loss counts that many times (Keras's
    /// sample_weight; the weighted mean divides by the batch size).
    public var sampleWeight: [Float]? = nil
    /// Weight of each class, indexed by class (Keras's class_weight): a row's
    /// loss is multiplied by the weight of its class (class index, argmax of
    /// a one-hot row, or the 0/1 target of a one-output model).
    public var classWeight: [Double]? = nil
    /// Stop when a monitored log stops improving.
    public var earlyStopping: EarlyStopping? = nil
    /// Called after each epoch with its index (from 0 within this call) and logs.
    public var onEpochEnd: ((Int, EpochLogs) -> TrainingControl)? = nil

    public init(epochs: Int = 1, batchSize: Int = 32, shuffle: Bool = true, seed: UInt64? = nil,
                validation: (x: Tensor, y: Tensor)? = nil, validationSplit: Double = 0,
                sampleWeight: [Float]? = nil, classWeight: [Double]? = nil,
                earlyStopping: EarlyStopping? = nil,
                onEpochEnd: ((Int, EpochLogs) -> TrainingControl)? = nil) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.validation = validation
        self.validationSplit = validationSplit
        self.sampleWeight = sampleWeight
        self.classWeight = classWeight
        self.earlyStopping = earlyStopping
        self.onEpochEnd = onEpochEnd
    }
}

extension Sequential {
    // MARK: Swift API on tensors

    /// Trains on x [n, inputDim] and y [n, target columns]; returns the logs
    /// of this call's epochs.
    @discardableResult
    public func fit(x: Tensor, y: Tensor, options: FitOptions = FitOptions()) throws -> History {
        if let w = options.sampleWeight, w.count != x.rows {
            throw NNError.shapeMismatch("sample_weight has \(w.count) values but x has \(x.rows) rows")
        }
        return try x.withMatrix { xv in
            try y.withMatrix { yv in
                try (options.sampleWeight ?? []).withUnsafeBufferPointer { w in
                    let weights = options.sampleWeight == nil ? nil : w.baseAddress
                    if let (vx, vy) = options.validation {
                        return try vx.withMatrix { vxv in
                            try vy.withMatrix { vyv in
                                try fit(x: xv, y: yv, sampleWeights: weights, validation: (vxv, vyv), options: options)
                            }
                        }
                    }
                    return try fit(x: xv, y: yv, sampleWeights: weights, validation: nil, options: options)
                }
            }
        }
    }

    /// Loss and metrics on (x, y), in the order of `metricNames`.
    public func evaluate(x: Tensor, y: Tensor) throws -> [Double] {
        try x.withMatrix { xv in try y.withMatrix { yv in try evaluate(x: xv, y: yv) } }
    }

    /// Outputs [n, outputDim] for inputs x [n, inputDim].
    public func predict(_ x: Tensor) throws -> Tensor {
        var out = [Float](repeating: 0, count: x.rows * outputDim)
        try x.withMatrix { xv in
            try out.withUnsafeMutableBufferPointer { try predict(x: xv, into: $0) }
        }
        return try Tensor(shape: [x.rows, outputDim], scalars: out)
    }

    /// The confusion matrix of the model's predictions on (x, y) (rows: true
    /// class, columns: predicted class).
    public func confusionMatrix(x: Tensor, y: Tensor) throws -> ConfusionMatrix {
        try x.withMatrix { xv in try y.withMatrix { yv in try confusionMatrix(x: xv, y: yv) } }
    }

    // MARK: Buffer API (no copies; used by the C ABI)

    /// Mini-batch training. See `fit(x:y:options:)`; `sampleWeights`, if not
    /// nil, holds one weight per row of x (options.sampleWeight is ignored).
    package func fit(x: MatrixView<Float>, y: MatrixView<Float>, sampleWeights: UnsafePointer<Float>?,
                     validation: (MatrixView<Float>, MatrixView<Float>)?,
                     options: FitOptions) throws -> History {
        let (loss, optimizer) = try requireCompiled()
        guard options.epochs >= 0 else { throw NNError.invalidArgument("epochs must be >= 0, got \(options.epochs)") }
        guard options.batchSize > 0 else { throw NNError.invalidArgument("batch_size must be > 0, got \(options.batchSize)") }
        let split = options.validationSplit
        guard split.isFinite, split >= 0, split < 1 else {
            throw NNError.invalidArgument("validation_split must be in [0, 1), got \(split)")
        }
        if split > 0 && validation != nil {
            throw NNError.invalidArgument("give either validation data or validation_split, not both")
        }
        try checkData(x: x, y: y, loss: loss, what: "training")
        try checkMetrics(loss)
        try options.earlyStopping?.validate()

        // validation_split: the last rows, before shuffling, as Keras; their
        // sample weights (not class weights, which are for training) weigh
        // the validation loss.
        var train = (x: x, y: y), held = validation
        var heldWeights: UnsafePointer<Float>? = nil
        if split > 0 {
            let at = Int(Double(x.rows) * (1 - split))
            guard at > 0, at < x.rows else {
                throw NNError.invalidArgument(
                    "validation_split \(split) of \(x.rows) rows leaves \(at) training and \(x.rows - at) validation rows; both must be > 0")
            }
            train = (MatrixView(x.base, rows: at, cols: x.cols), MatrixView(y.base, rows: at, cols: y.cols))
            held = (MatrixView(x.row(at), rows: x.rows - at, cols: x.cols),
                    MatrixView(y.row(at), rows: y.rows - at, cols: y.cols))
            heldWeights = sampleWeights.map { $0 + at }
        }
        // Per-row weights of the training rows: sample weight × class weight.
        let weights = try rowWeights(y: train.y, loss: loss, sampleWeights: sampleWeights, classWeight: options.classWeight)
        if let heldWeights, let (vx, _) = held {
            for r in 0..<vx.rows where !(heldWeights[r].isFinite && heldWeights[r] >= 0) {
                throw NNError.invalidArgument("sample_weight \(train.x.rows + r) is \(heldWeights[r]); weights must be finite and >= 0")
            }
        }
        if let (vx, vy) = held { try checkData(x: vx, y: vy, loss: loss, what: "validation") }

        let epochNames = metricNames
        var epochValues: [Double] = []
        epochValues.reserveCapacity(epochNames.count)
        var logNames = epochNames
        if held != nil { logNames += epochNames.map { "val_" + $0 } }
        if learningRateSchedule != nil { logNames.append("learning_rate") }
        func checkMonitor(_ monitor: String, _ who: String) throws {
            guard logNames.contains(monitor) else {
                throw NNError.invalidArgument(
                    "\(who) monitors '\(monitor)', but this fit logs \(logNames.joined(separator: ", "))"
                    + (monitor.hasPrefix("val_") && held == nil ? " (give validation data or a validation_split)" : ""))
            }
        }
        if let stopping = options.earlyStopping { try checkMonitor(stopping.monitor, "early stopping") }
        if case .reduceOnPlateau(let p) = learningRateSchedule { try checkMonitor(p.monitor, "reduce-on-plateau") }

        let n = train.x.rows, batch = min(options.batchSize, n)
        try checkWorkspace(rows: batch, what: "batch_size \(batch)")
        let outputs = outputDim
        let fused = loss.fusesActivation(layers.last!.activation)
        let logits = fused || loss.fromLogits
        var shuffler = options.seed.map { RandomGenerator(seed: $0) }
        var order = Array(0..<n)

        network.reserve(rows: batch)
        let bx = Buffer<Float>(count: batch * x.cols), by = Buffer<Float>(count: batch * y.cols)
        let bw = Buffer<Float>(count: weights == nil ? 0 : batch)
        var thisCall = History()
        if options.epochs > 0 { markTrained() }
        var stopper = options.earlyStopping.map {
            ImprovementTracker(monitor: $0.monitor, mode: $0.mode, minDelta: $0.minDelta)
        }
        var best: (parameters: [Float], state: [Float])?
        if case .reduceOnPlateau(let p) = learningRateSchedule, plateau == nil { plateau = PlateauState(p) }
        let trainable = network.weightArrays.filter(\.spec.trainable)
        // Skip the penalty pass when no layer can have one (this library's
        // layers: only a Dense with a kernel regularizer; any other Layer type
        // is asked every step).
        let regularized = layers.contains { layer in
            if let dense = layer as? Dense { return !(dense.kernelRegularizer?.isZero ?? true) }
            return !(layer is Dropout || layer is BatchNormalization || layer is ActivationLayer)
        }
        let clipping = optimizer.options.clipValue != nil || optimizer.options.clipNorm != nil
            || optimizer.options.globalClipNorm != nil
        // Debugging aids, each off unless asked for (then one test per stage).
        let anomaly = anomalyDetection
        let watch = AnomalyWatch()
        if anomaly { network.backwardObserver = backwardWatcher(watch) }
        defer {
            network.backwardObserver = nil
            network.lastActivationDeferred = false
        }
        let statisticsEvery = layerStatisticsEvery
        var collector = statisticsEvery > 0 ? LayerStatisticsCollector(model: self) : nil

        for epoch in 0..<options.epochs {
            let epochNumber = history.epochCount
            if let schedule = learningRateSchedule,
               let lr = schedule.learningRate(initial: optimizer.options.learningRate, epoch: epochNumber) {
                optimizer.learningRate = lr
            }
            let epochLearningRate = optimizer.learningRate
            if options.shuffle {
                // A fresh permutation of the rows every epoch (as PyTorch's
                // DataLoader), so an epoch's order depends only on the
                // generator's state: training resumes exactly after a save.
                for i in 0..<n { order[i] = i }
                if shuffler != nil { shuffler!.shuffle(&order) } else { rng.shuffle(&order) }
            }
            var accumulators = metrics.map { $0.makeAccumulator(loss: loss, outputs: outputs, outputsAreLogits: logits) }
            var lossSum = 0.0
            var start = 0, batchIndex = 0
            network.lastActivationDeferred = fused
            while start < n {
                let rows = min(batch, n - start)
                // Gather the batch (or point into the caller's arrays when in order).
                let xb: UnsafePointer<Float>, yb: UnsafePointer<Float>
                var wb: UnsafePointer<Float>? = nil
                if options.shuffle {
                    for r in 0..<rows {
                        let source = order[start + r]
                        (bx.pointer + r * x.cols).update(from: train.x.row(source), count: x.cols)
                        (by.pointer + r * y.cols).update(from: train.y.row(source), count: y.cols)
                        if let weights { bw.pointer[r] = weights[source] }
                    }
                    xb = UnsafePointer(bx.pointer); yb = UnsafePointer(by.pointer)
                    if weights != nil { wb = UnsafePointer(bw.pointer) }
                } else {
                    xb = train.x.row(start); yb = train.y.row(start)
                    wb = weights.map { UnsafePointer($0.pointer + start) }
                }
                var context = ForwardContext(training: true, rng: rng)
                let out = network.forward(xb, rows: rows, context: &context)
                rng = context.rng
                if anomaly {
                    watch.epoch = epoch + 1
                    watch.batch = batchIndex + 1
                    if let a = forwardAnomaly(rows: rows, epoch: epoch + 1, batch: batchIndex + 1) {
                        throw NNError.nonFinite(a.message)
                    }
                }
                let sampled = statisticsEvery > 0 && batchIndex % statisticsEvery == 0
                if sampled { collector!.recordForward(self, rows: rows) }
                let grad = network.outputGradientBuffer(rows: rows)
                let batchLoss = loss.evaluate(predictions: out, targets: yb, rows: rows, cols: outputs,
                                              logits: logits, grad: grad, divisor: Float(rows), weights: wb)
                for i in accumulators.indices { accumulators[i].add(out, yb, rows: rows, cols: outputs) }
                network.backward(xb, rows: rows, outputGradient: grad)
                if anomaly, let a = watch.found { throw NNError.nonFinite(a.message) }
                let penalty = regularized ? network.regularization(addGradients: true) : 0
                let total = batchLoss + penalty * Double(rows)
                if !total.isFinite {
                    throw NNError.nonFinite(
                        "the loss became \(total / Double(rows)) at epoch \(epoch + 1), batch \(batchIndex + 1) "
                        + "(counting from 1); try a lower learning rate, gradient clipping or scaled inputs")
                }
                lossSum += total
                if clipping { clipGradients(optimizer.options, trainable) }
                if sampled { collector!.recordGradients(self) }
                optimizer.update(network.parameters.pointer, network.gradients.pointer,
                                 count: network.parameterCount)
                if anomaly {
                    for i in layers.indices {
                        if let a = parameterAnomaly(layer: i, gradients: false, stage: .update, epoch: epoch + 1,
                                                    batch: batchIndex + 1) {
                            throw NNError.nonFinite(a.message)
                        }
                    }
                }
                if sampled { collector!.recordUpdate(self) }
                start += rows
                batchIndex += 1
                trainingSteps &+= 1
            }
            network.lastActivationDeferred = false

            // One array reused for every epoch (its buffer is free again once
            // the epoch's logs are gone): no allocation per epoch.
            epochValues.removeAll(keepingCapacity: true)
            epochValues.append(lossSum / Double(n))
            for accumulator in accumulators { epochValues.append(accumulator.result) }
            var logs = EpochLogs(names: epochNames, values: epochValues)
            if let (vx, vy) = held {
                logs.names += epochNames.map { "val_" + $0 }
                logs.values += try evaluateChecked(x: vx, y: vy, loss: loss, weights: heldWeights)
            }
            if learningRateSchedule != nil {
                logs.names.append("learning_rate")
                logs.values.append(epochLearningRate)
            }
            history.append(epoch: epochNumber, logs)
            thisCall.append(epoch: epochNumber, logs)
            if collector != nil {
                let statistics = EpochLayerStatistics(epoch: epochNumber, layers: collector!.finish(self))
                history.append(statistics)
                thisCall.append(statistics)
                collector!.reset(self)
            }
            var stop = false
            if let callback = options.onEpochEnd, callback(epoch, logs) == .stop { stop = true }
            if case .reduceOnPlateau(let p) = learningRateSchedule, let value = logs[p.monitor] {
                optimizer.learningRate = plateau!.step(p, value: value, learningRate: optimizer.learningRate)
            }
            if let stopping = options.earlyStopping, let value = logs[stopping.monitor] {
                if stopper!.record(value) {
                    if stopping.restoreBestWeights { best = snapshot() }
                } else if stopper!.wait >= stopping.patience && epoch > 0 {
                    stop = true
                }
            }
            if stop { break }
        }
        if let best { restore(best) }
        return thisCall
    }

    /// The combined per-row weights (sample weight × class weight), or nil
    /// if neither is given.
    private func rowWeights(y: MatrixView<Float>, loss: Loss, sampleWeights: UnsafePointer<Float>?,
                            classWeight: [Double]?) throws -> Buffer<Float>? {
        guard sampleWeights != nil || classWeight != nil else { return nil }
        let weights = Buffer<Float>(count: y.rows)
        for r in 0..<y.rows {
            var w: Float = 1
            if let sampleWeights {
                w = sampleWeights[r]
                guard w.isFinite, w >= 0 else {
                    throw NNError.invalidArgument("sample_weight \(r) is \(w); weights must be finite and >= 0")
                }
            }
            if let classWeight {
                let c = try classIndex(y: y, row: r, loss: loss)
                guard c < classWeight.count else {
                    throw NNError.invalidArgument(
                        "class_weight gives \(classWeight.count) weights but row \(r) is of class \(c)")
                }
                let cw = classWeight[c]
                guard cw.isFinite, cw >= 0 else {
                    throw NNError.invalidArgument("class_weight of class \(c) is \(cw); weights must be finite and >= 0")
                }
                w *= Float(cw)
            }
            weights[r] = w
        }
        return weights
    }

    /// The class of a training row, for class_weight.
    private func classIndex(y: MatrixView<Float>, row r: Int, loss: Loss) throws -> Int {
        let t = y.row(r)
        if loss.kind == .sparseCategoricalCrossentropy { return Int(t[0]) }
        if y.cols == 1 {
            guard t[0] == 0 || t[0] == 1 else {
                throw NNError.invalidArgument("class_weight needs class targets; row \(r) has target \(t[0])")
            }
            return Int(t[0])
        }
        var best = 0
        for j in 1..<y.cols where t[j] > t[best] { best = j }
        return best
    }

    /// Keras's gradient clipping: per weight array by norm, then by the
    /// global norm, then element-wise by value.
    private func clipGradients(_ o: OptimizerOptions, _ trainable: [(offset: Int, spec: WeightSpec)]) {
        let g = network.gradients.pointer
        func norm(_ p: UnsafeMutablePointer<Float>, _ count: Int) -> Double {
            var s = 0.0
            for i in 0..<count { s += Double(p[i]) * Double(p[i]) }
            return s.squareRoot()
        }
        func scale(_ p: UnsafeMutablePointer<Float>, _ count: Int, _ f: Float) {
            for i in 0..<count { p[i] *= f }
        }
        if let c = o.clipNorm {
            for (offset, spec) in trainable {
                let nrm = norm(g + offset, spec.count)
                if nrm > c { scale(g + offset, spec.count, Float(c / nrm)) }
            }
        }
        if let c = o.globalClipNorm {
            let nrm = norm(g, network.parameterCount)
            if nrm > c { scale(g, network.parameterCount, Float(c / nrm)) }
        }
        if let c = o.clipValue {
            let v = Float(c)
            for i in 0..<network.parameterCount { g[i] = min(max(g[i], -v), v) }
        }
    }

    /// Loss and metrics, in inference mode. See `evaluate(x:y:)`.
    package func evaluate(x: MatrixView<Float>, y: MatrixView<Float>) throws -> [Double] {
        try requireLayers()
        guard let loss else { throw NNError.invalidState("no loss is set; set a loss (compile) before evaluate") }
        try checkData(x: x, y: y, loss: loss, what: "evaluation")
        try checkMetrics(loss)
        return try evaluateChecked(x: x, y: y, loss: loss)
    }

    /// Refuses, before anything is allocated, a batch whose workspace (every
    /// layer's output and gradient rows) would exceed 2^31 floats (8 GiB).
    func checkWorkspace(rows: Int, what: String) throws {
        let perRow = network.operations.reduce(inputDim) { $0 + 3 * $1.outputDim } + 2 * inputDim
        let (floats, overflow) = rows.multipliedReportingOverflow(by: perRow)
        guard !overflow, floats <= 1 << 31 else {
            throw NNError.outOfMemory("\(what) needs a workspace of \(rows) × \(perRow) floats, more than 2^31; use a smaller batch")
        }
    }

    /// Rows per chunk when evaluating or predicting large inputs.
    static let inferenceChunk = 256

    /// Loss (with the regularization penalty, as Keras) and metrics in
    /// inference mode, on checked data.
    private func evaluateChecked(x: MatrixView<Float>, y: MatrixView<Float>, loss: Loss,
                                 weights: UnsafePointer<Float>? = nil) throws -> [Double] {
        let outputs = outputDim
        let fused = loss.fusesActivation(layers.last!.activation)
        let logits = fused || loss.fromLogits
        var accumulators = metrics.map { $0.makeAccumulator(loss: loss, outputs: outputs, outputsAreLogits: logits) }
        network.lastActivationDeferred = fused
        defer { network.lastActivationDeferred = false }
        var lossSum = 0.0, start = 0
        while start < x.rows {
            let rows = min(Self.inferenceChunk, x.rows - start)
            let out = network.forward(x.row(start), rows: rows)
            lossSum += loss.evaluate(predictions: out, targets: y.row(start), rows: rows, cols: outputs,
                                     logits: logits, grad: nil, divisor: 1, weights: weights.map { $0 + start })
            for i in accumulators.indices { accumulators[i].add(out, y.row(start), rows: rows, cols: outputs) }
            start += rows
        }
        return [lossSum / Double(x.rows) + network.regularization(addGradients: false)] + accumulators.map(\.result)
    }

    /// The confusion matrix on checked (x, y). See `confusionMatrix(x:y:)`.
    package func confusionMatrix(x: MatrixView<Float>, y: MatrixView<Float>) throws -> ConfusionMatrix {
        try requireLayers()
        guard let loss else { throw NNError.invalidState("no loss is set; set a loss (compile) before asking for a confusion matrix") }
        guard [.binaryCrossentropy, .categoricalCrossentropy, .sparseCategoricalCrossentropy].contains(loss.kind) else {
            throw NNError.invalidState("a confusion matrix needs a classification loss, the model uses \(loss.kind.rawValue)")
        }
        try checkData(x: x, y: y, loss: loss, what: "evaluation")
        let fused = loss.fusesActivation(layers.last!.activation)
        let logits = fused || loss.fromLogits
        network.lastActivationDeferred = fused
        defer { network.lastActivationDeferred = false }
        var result: ConfusionMatrix?
        var start = 0
        while start < x.rows {
            let rows = min(Self.inferenceChunk, x.rows - start)
            let out = network.forward(x.row(start), rows: rows)
            let part = NNCore.confusionMatrix(predictions: out, targets: y.row(start), rows: rows, cols: outputDim,
                                              loss: loss, outputsAreLogits: logits)
            result = result.map { $0.adding(part) } ?? part
            start += rows
        }
        return result!
    }
    /// Writes outputs [x.rows, outputDim] into `out` (count >= x.rows · outputDim).
    package func predict(x: MatrixView<Float>, into out: UnsafeMutableBufferPointer<Float>) throws {
        try requireLayers()
        try checkData(x: x, y: nil, loss: nil, what: "prediction")
        let outputs = outputDim
        let needed = try checkedElementCount(x.rows, outputs, "prediction outputs")
        guard out.count >= needed, let base = out.baseAddress else {
            throw NNError.shapeMismatch(
                "the output buffer holds \(out.count) values but \(x.rows) rows × \(outputs) outputs need \(needed)")
        }
        network.lastActivationDeferred = false
        var start = 0
        while start < x.rows {
            let rows = min(Self.inferenceChunk, x.rows - start)
            let y = network.forward(x.row(start), rows: rows)
            (base + start * outputs).update(from: y, count: rows * outputs)
            start += rows
        }
    }
}

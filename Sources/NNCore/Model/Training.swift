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

    /// The log names, in order of first appearance.
    public var logNames: [String] { names }

    /// The values of one log name, or nil if no epoch logged it.
    public subscript(name: String) -> [Double]? {
        names.firstIndex(of: name).map { columns[$0] }
    }

    /// Appends epochs firstEpoch, firstEpoch + 1, ... each with the one log
    /// `name` (the loss of a fit whose epochs log nothing else) in one pass:
    /// what `append(epoch:_:)` for each would give.
    mutating func append(firstEpoch: Int, name: String, values: [Double]) {
        guard !values.isEmpty else { return }
        epochs.append(contentsOf: firstEpoch..<(firstEpoch + values.count))
        let column = names.firstIndex(of: name) ?? {
            names.append(name)
            columns.append([])
            return names.count - 1
        }()
        columns[column].append(contentsOf: values)
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
    /// Called after each batch (Keras's on_train_batch_end; for progress
    /// bars) with the epoch (from 0 within this call), the batch (from 0
    /// within the epoch), the epoch's number of batches, and the logs so far
    /// in this epoch: the mean loss and the metrics over its batches run so
    /// far (as Keras's). `.stop` ends the epoch after this batch (its logs,
    /// validation and callbacks then cover the batches run) and the fit after
    /// it. Costs nothing when nil.
    public var onBatchEnd: ((Int, Int, Int, EpochLogs) -> TrainingControl)? = nil
    /// Asked before each batch; true stops the fit at once, between two
    /// batches: the epoch in progress is neither logged nor finished (as a
    /// Ctrl-C in Keras), the model keeps the weights of the last batch run.
    /// For a cancel flag set from another thread or a signal handler.
    public var shouldStop: (() -> Bool)? = nil

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

    // The buffer-API fit and its phases are in FitLoop.swift.

    /// Loss and metrics, in inference mode. See `evaluate(x:y:)`.
    package func evaluate(x: MatrixView<Float>, y: MatrixView<Float>) throws -> [Double] {
        try requireLayers()
        guard let loss else { throw NNError.invalidState("no loss is set; set a loss (compile) before evaluate") }
        try checkData(x: x, y: y, loss: loss, what: "evaluation")
        try checkMetrics(loss)
        return try withInferenceNetwork { try evaluateChecked(x: x, y: y, loss: loss, on: $0) }
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

    /// Loss (with the regularization penalty, as Keras) and metrics (the
    /// model's, or those a running fit began with) in inference mode, on
    /// checked data.
    /// Runs on `network` (a running fit's validation) or on a network of the
    /// inference pool (evaluate).
    func evaluateChecked(x: MatrixView<Float>, y: MatrixView<Float>, loss: Loss,
                         weights: UnsafePointer<Float>? = nil, metrics: [Metric]? = nil,
                         on network: Network<Float>) throws -> [Double] {
        let outputs = outputDim
        let fused = loss.fusesActivation(layers.last!.activation)
        let logits = fused || loss.fromLogits
        var accumulators = (metrics ?? self.metrics).map { $0.makeAccumulator(loss: loss, outputs: outputs, outputsAreLogits: logits) }
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
        return withInferenceNetwork { network in
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
        withInferenceNetwork { network in
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
}

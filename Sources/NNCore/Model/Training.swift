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
    public var epochs: [Int] = []
    /// Values per log name ("loss", "accuracy", "val_loss", ...).
    public var values: [String: [Double]] = [:]
    public init() {}
    mutating func append(epoch: Int, _ logs: EpochLogs) {
        epochs.append(epoch)
        for (n, v) in zip(logs.names, logs.values) { values[n, default: []].append(v) }
    }
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
    /// Called after each epoch with its index (from 0 within this call) and logs.
    public var onEpochEnd: ((Int, EpochLogs) -> TrainingControl)? = nil

    public init(epochs: Int = 1, batchSize: Int = 32, shuffle: Bool = true, seed: UInt64? = nil,
                validation: (x: Tensor, y: Tensor)? = nil,
                onEpochEnd: ((Int, EpochLogs) -> TrainingControl)? = nil) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.validation = validation
        self.onEpochEnd = onEpochEnd
    }
}

extension Sequential {
    // MARK: Swift API on tensors

    /// Trains on x [n, inputDim] and y [n, target columns]; returns the logs
    /// of this call's epochs.
    @discardableResult
    public func fit(x: Tensor, y: Tensor, options: FitOptions = FitOptions()) throws -> History {
        try x.withMatrix { xv in
            try y.withMatrix { yv in
                if let (vx, vy) = options.validation {
                    return try vx.withMatrix { vxv in
                        try vy.withMatrix { vyv in
                            try fit(x: xv, y: yv, validation: (vxv, vyv), options: options)
                        }
                    }
                }
                return try fit(x: xv, y: yv, validation: nil, options: options)
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

    // MARK: Buffer API (no copies; used by the C ABI)

    /// Mini-batch training. See `fit(x:y:options:)`.
    package func fit(x: MatrixView<Float>, y: MatrixView<Float>,
                     validation: (MatrixView<Float>, MatrixView<Float>)?,
                     options: FitOptions) throws -> History {
        let (loss, optimizer) = try requireCompiled()
        guard options.epochs >= 0 else { throw NNError.invalidArgument("epochs must be >= 0, got \(options.epochs)") }
        guard options.batchSize > 0 else { throw NNError.invalidArgument("batch_size must be > 0, got \(options.batchSize)") }
        try checkData(x: x, y: y, loss: loss, what: "training")
        if let (vx, vy) = validation { try checkData(x: vx, y: vy, loss: loss, what: "validation") }

        let n = x.rows, batch = min(options.batchSize, n)
        let outputs = outputDim
        let fused = loss.fusesActivation(layers.last!.activation)
        let logits = fused || loss.fromLogits
        let accuracy = metrics.contains(.accuracy)
            ? AccuracyCounter(loss: loss, outputs: outputs, outputsAreLogits: logits) : nil
        var shuffler = options.seed.map { RandomGenerator(seed: $0) }
        var order = Array(0..<n)

        network.reserve(rows: batch)
        let bx = Buffer<Float>(count: batch * x.cols), by = Buffer<Float>(count: batch * y.cols)
        var thisCall = History()
        if options.epochs > 0 { markTrained() }

        for epoch in 0..<options.epochs {
            if options.shuffle {
                if shuffler != nil { shuffler!.shuffle(&order) } else { rng.shuffle(&order) }
            }
            var lossSum = 0.0, correct = 0, units = 0
            var start = 0, batchIndex = 0
            while start < n {
                let rows = min(batch, n - start)
                // Gather the batch (or point into the caller's arrays when in order).
                let xb: UnsafePointer<Float>, yb: UnsafePointer<Float>
                if options.shuffle {
                    for r in 0..<rows {
                        (bx.pointer + r * x.cols).update(from: x.row(order[start + r]), count: x.cols)
                        (by.pointer + r * y.cols).update(from: y.row(order[start + r]), count: y.cols)
                    }
                    xb = UnsafePointer(bx.pointer); yb = UnsafePointer(by.pointer)
                } else {
                    xb = x.row(start); yb = y.row(start)
                }
                network.lastActivationDeferred = fused
                let out = network.forward(xb, rows: rows)
                let grad = network.outputGradientBuffer(rows: rows)
                let batchLoss = loss.evaluate(predictions: out, targets: yb, rows: rows, cols: outputs,
                                              logits: logits, grad: grad, divisor: Float(rows))
                if !batchLoss.isFinite {
                    throw NNError.nonFinite(
                        "the loss became \(batchLoss) at epoch \(epoch + 1), batch \(batchIndex + 1) "
                        + "(counting from 1); try a lower learning rate or scaled inputs")
                }
                lossSum += batchLoss
                if let accuracy {
                    correct += accuracy.correct(out, yb, rows: rows, cols: outputs)
                    units += accuracy.units(rows: rows, cols: outputs)
                }
                network.backward(xb, rows: rows, outputGradient: grad)
                optimizer.update(network.parameters.pointer, network.gradients.pointer,
                                 count: network.parameterCount)
                start += rows
                batchIndex += 1
            }
            network.lastActivationDeferred = false

            var logs = EpochLogs(names: ["loss"], values: [lossSum / Double(n)])
            if accuracy != nil {
                logs.names.append(Metric.accuracy.name)
                logs.values.append(Double(correct) / Double(max(units, 1)))
            }
            if let (vx, vy) = validation {
                let values = try evaluateChecked(x: vx, y: vy, loss: loss)
                logs.names += metricNames.map { "val_" + $0 }
                logs.values += values
            }
            let epochNumber = history.epochs.count
            history.append(epoch: epochNumber, logs)
            thisCall.append(epoch: epochNumber, logs)
            if let callback = options.onEpochEnd, callback(epoch, logs) == .stop { break }
        }
        return thisCall
    }

    /// Loss and metrics, in inference mode. See `evaluate(x:y:)`.
    package func evaluate(x: MatrixView<Float>, y: MatrixView<Float>) throws -> [Double] {
        try requireLayers()
        guard let loss else { throw NNError.invalidState("no loss is set; set a loss (compile) before evaluate") }
        try checkData(x: x, y: y, loss: loss, what: "evaluation")
        return try evaluateChecked(x: x, y: y, loss: loss)
    }

    /// Rows per chunk when evaluating or predicting large inputs.
    static let inferenceChunk = 256

    private func evaluateChecked(x: MatrixView<Float>, y: MatrixView<Float>, loss: Loss) throws -> [Double] {
        let outputs = outputDim
        let fused = loss.fusesActivation(layers.last!.activation)
        let logits = fused || loss.fromLogits
        let accuracy = metrics.contains(.accuracy)
            ? AccuracyCounter(loss: loss, outputs: outputs, outputsAreLogits: logits) : nil
        network.lastActivationDeferred = fused
        defer { network.lastActivationDeferred = false }
        var lossSum = 0.0, correct = 0, units = 0, start = 0
        while start < x.rows {
            let rows = min(Self.inferenceChunk, x.rows - start)
            let out = network.forward(x.row(start), rows: rows)
            lossSum += loss.evaluate(predictions: out, targets: y.row(start), rows: rows, cols: outputs,
                                     logits: logits, grad: nil, divisor: 1)
            if let accuracy {
                correct += accuracy.correct(out, y.row(start), rows: rows, cols: outputs)
                units += accuracy.units(rows: rows, cols: outputs)
            }
            start += rows
        }
        var values = [lossSum / Double(x.rows)]
        if accuracy != nil { values.append(Double(correct) / Double(max(units, 1))) }
        return values
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

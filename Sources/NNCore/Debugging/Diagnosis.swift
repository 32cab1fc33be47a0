/// `Sequential.diagnose`: runs a few training steps on a copy of the model
/// and reports, with numbers, what a practitioner would look for in a
/// network that does not train, each finding with the usual remedy.

/// One thing `diagnose` found.
public struct Finding: Equatable, Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        /// The gradient shrinks by orders of magnitude from the last layer to the first.
        case vanishingGradients = "vanishing_gradients"
        /// The gradient grows by orders of magnitude, or becomes huge or non-finite.
        case explodingGradients = "exploding_gradients"
        /// Most units of a ReLU layer never fire.
        case deadUnits = "dead_units"
        /// Most outputs of a sigmoid or tanh layer sit on its flat tails.
        case saturatedUnits = "saturated_units"
        /// The loss rises (or becomes non-finite) during the steps.
        case learningRateTooHigh = "learning_rate_too_high"
        /// Input features have scales that differ by orders of magnitude, or large scales.
        case unscaledInputs = "unscaled_inputs"
        /// The targets do not fit the loss or the output layer.
        case labelMismatch = "label_mismatch"
        /// The loss stays at the value of guessing.
        case lossAtChance = "loss_at_chance"
    }

    public var kind: Kind
    /// The layer concerned (0-based), if the finding is about one layer.
    public var layer: Int?
    /// The figure behind the finding (the gradient ratio, the fraction of
    /// dead units, the ratio of feature scales, ...), as in `message`.
    public var value: Double
    /// What was seen, with the numbers.
    public var message: String
    /// What to try.
    public var suggestion: String
}

/// The result of `Sequential.diagnose`.
public struct Diagnosis: Equatable, Sendable {
    public var findings: [Finding]
    /// Steps run, and the loss before the first and after the last.
    public var steps: Int
    public var initialLoss: Double
    public var finalLoss: Double
    /// Per-layer gradient L2 norms averaged over the steps (nil for layers
    /// without parameters).
    public var gradientNorms: [Double?]

    /// A readable report: one paragraph per finding, or a line saying that
    /// nothing looks wrong.
    public var report: String {
        var lines = ["Diagnosis after \(steps) training steps on a copy of the model "
                     + "(loss \(format(initialLoss)) -> \(format(finalLoss))):"]
        if findings.isEmpty { lines.append("  nothing looks wrong.") }
        for f in findings {
            lines.append("  [\(f.kind.rawValue)] \(f.message)")
            lines.append("      try: \(f.suggestion)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A number in a message: 3 significant digits.
func format(_ v: Double) -> String {
    guard v.isFinite else { return "\(v)" }
    if v == 0 { return "0" }
    let magnitude = abs(v)
    if magnitude >= 1e4 || magnitude < 1e-3 {
        // d.dde±x
        var exponent = Int(magnitude.exponentBase10)
        var mantissa = v / pow10(exponent)
        if abs(mantissa) >= 9.995 { exponent += 1; mantissa /= 10 }
        return "\(rounded(mantissa, 2))e\(exponent)"
    }
    let digits = magnitude >= 100 ? 1 : magnitude >= 10 ? 2 : 3
    return "\(rounded(v, digits))"
}

private extension Double {
    /// floor(log10(self)) for self > 0.
    var exponentBase10: Double {
        var e = 0.0, x = self
        while x >= 10 { x /= 10; e += 1 }
        while x < 1 { x *= 10; e -= 1 }
        return e
    }
}

private func pow10(_ e: Int) -> Double {
    var r = 1.0
    for _ in 0..<abs(e) { r *= 10 }
    return e >= 0 ? r : 1 / r
}

private func rounded(_ v: Double, _ digits: Int) -> Double {
    let scale = pow10(digits)
    return (v * scale).rounded() / scale
}

extension Sequential {
    /// Trains a copy of the model for `steps` mini-batches of `batchSize`
    /// rows drawn from (x, y), watching gradients, activations and the loss,
    /// and reports what looks wrong (see `Finding.Kind`). The model itself is
    /// not changed. Needs a compiled model.
    package func diagnose(x: MatrixView<Float>, y: MatrixView<Float>, steps: Int = 20,
                          batchSize: Int = 32) throws -> Diagnosis {
        guard let loss else { throw NNError.invalidState("no loss is set; compile the model before diagnose") }
        guard optimizerOptions != nil else { throw NNError.invalidState("no optimizer is set; compile the model before diagnose") }
        try requireLayers()
        guard steps >= 2, steps <= 100_000 else { throw NNError.invalidArgument("steps must be in [2, 100000], got \(steps)") }
        guard batchSize > 0 else { throw NNError.invalidArgument("batch_size must be > 0, got \(batchSize)") }
        // The inputs as fit checks them; targets that do not fit the loss
        // are a finding (below), not an error.
        try checkData(x: x, y: nil, loss: nil, what: "diagnose")
        guard y.rows == x.rows else {
            throw NNError.shapeMismatch("inputs have \(x.rows) rows but targets have \(y.rows)")
        }
        try y.checkFinite("diagnose target")

        var findings: [Finding] = []
        findings += inputScaleFindings(x)
        let labelFindings = labelMismatchFindings(y: y, loss: loss)
        findings += labelFindings
        if labelFindings.contains(where: { $0.value.isNaN }) {
            // The targets cannot train this model at all: nothing more to run.
            return Diagnosis(findings: findings, steps: 0, initialLoss: .nan, finalLoss: .nan,
                             gradientNorms: layers.map { _ in nil })
        }

        // A copy of the model (weights, optimizer state, generator) that the
        // steps may change freely.
        let copy = try Sequential.load(serialized: try serialized(includeOptimizer: true))
        copy.layerStatisticsEvery = 1
        // Each step is a one-epoch fit of the copy: a schedule would move the
        // learning rate every step (and a plateau would want validation
        // data), so the copy keeps the current rate throughout.
        try copy.setLearningRateSchedule(nil)
        let rows = min(batchSize, x.rows)
        var sampler = RandomGenerator(seed: seed ^ 0x6469_6167)
        let bx = Buffer<Float>(count: rows * x.cols), by = Buffer<Float>(count: rows * y.cols)
        var losses: [Double] = []
        var gradientSums = [Double](repeating: 0, count: layers.count)
        var fired: [[Bool]] = copy.network.operations.map { [Bool](repeating: false, count: $0.outputDim) }
        var saturated = [Double](repeating: 0, count: layers.count), seen = [Double](repeating: 0, count: layers.count)
        for _ in 0..<steps {
            for r in 0..<rows {
                let source = Int(sampler.next() % UInt64(x.rows))
                (bx.pointer + r * x.cols).update(from: x.row(source), count: x.cols)
                (by.pointer + r * y.cols).update(from: y.row(source), count: y.cols)
            }
            let stepLoss: Double
            do {
                let h = try copy.fit(x: MatrixView(bx.pointer, rows: rows, cols: x.cols),
                                     y: MatrixView(by.pointer, rows: rows, cols: y.cols), sampleWeights: nil,
                                     validation: nil, options: FitOptions(epochs: 1, batchSize: rows, shuffle: false))
                stepLoss = h.values["loss"]?.first ?? .nan
            } catch NNError.nonFinite {
                stepLoss = .infinity
            }
            losses.append(stepLoss)
            guard stepLoss.isFinite, let statistics = copy.history.layerStatistics.last else { break }
            for s in statistics.layers {
                if let g = s.gradientNorm { gradientSums[s.layer] += g }
            }
            // Activations over all steps: which ReLU units ever fired, how
            // many sigmoid/tanh outputs sat on a tail.
            copy.network.lastActivationDeferred = false
            copy.network.forward(bx.pointer, rows: rows)
            for i in 0..<layers.count {
                let width = copy.network.operations[i].outputDim
                let yv = copy.network.layerOutput(i)
                let activation = layers[i].activation
                switch activation {
                case .relu:
                    for k in 0..<rows * width where yv[k] > 0 { fired[i][k % width] = true }
                case .sigmoid, .tanh:
                    for k in 0..<rows * width where activation.isSaturated(yv[k]) { saturated[i] += 1 }
                    seen[i] += Double(rows * width)
                default: break
                }
            }
        }
        let done = losses.filter(\.isFinite).count
        let gradientNorms: [Double?] = (0..<layers.count).map {
            network.operations[$0].parameterCount > 0 && done > 0 ? gradientSums[$0] / Double(done) : nil
        }
        findings += gradientFindings(gradientNorms)
        findings += activationFindings(fired: fired, saturated: saturated, seen: seen)
        findings += lossFindings(losses, loss: loss, targets: y)
        return Diagnosis(findings: findings, steps: losses.count, initialLoss: losses.first ?? .nan,
                         finalLoss: losses.last ?? .nan, gradientNorms: gradientNorms)
    }

    // MARK: The checks

    private func inputScaleFindings(_ x: MatrixView<Float>) -> [Finding] {
        var scales: [(feature: Int, scale: Double)] = []
        for j in 0..<x.cols {
            var sum = 0.0, squares = 0.0
            for r in 0..<x.rows {
                let v = Double(x.base[r * x.cols + j])
                sum += v
                squares += v * v
            }
            let mean = sum / Double(x.rows)
            let std = max(0, squares / Double(x.rows) - mean * mean).squareRoot()
            // A feature's scale: its spread, or its magnitude if it is far off zero.
            let scale = max(std, abs(mean))
            if std > 0 { scales.append((j, scale)) }
        }
        guard let largest = scales.max(by: { $0.scale < $1.scale }),
              let smallest = scales.min(by: { $0.scale < $1.scale }) else { return [] }
        let ratio = largest.scale / smallest.scale
        guard ratio >= 1e3 || largest.scale >= 1e3 else { return [] }
        let message = ratio >= 1e3
            ? "input feature scales span \(format(ratio.exponentBase10)) orders of magnitude: feature \(largest.feature) "
                + "has scale \(format(largest.scale)) (standard deviation or |mean|), feature \(smallest.feature) "
                + "\(format(smallest.scale)) (ratio \(format(ratio)))"
            : "input feature \(largest.feature) has scale \(format(largest.scale)) (standard deviation or |mean|)"
        return [Finding(kind: .unscaledInputs, layer: nil, value: ratio, message: message,
                        suggestion: "standardize the inputs (subtract each feature's mean and divide by its standard "
                            + "deviation, computed on the training data), or scale them to [0, 1]")]
    }

    /// Findings about targets vs loss vs output layer. A finding whose value
    /// is NaN means the targets cannot be trained on at all.
    private func labelMismatchFindings(y: MatrixView<Float>, loss: Loss) -> [Finding] {
        let last = layers.last!.activation, outputs = outputDim
        func finding(_ value: Double, _ message: String, _ suggestion: String) -> Finding {
            Finding(kind: .labelMismatch, layer: layers.count - 1, value: value, message: message, suggestion: suggestion)
        }
        do {
            try loss.checkCompatible(outputs: outputs, targetColumns: y.cols)
            try loss.checkTargets(y.base, rows: y.rows, cols: y.cols, outputs: outputs)
        } catch let error as NNError {
            return [finding(.nan, "the targets do not fit \(loss.kind.rawValue) with \(outputs) outputs: \(error.message)",
                            "match the loss to the labels: one-hot rows with categorical_crossentropy, class indices "
                                + "with sparse_categorical_crossentropy, 0/1 with binary_crossentropy")]
        } catch {
            return []
        }
        var found: [Finding] = []
        let n = y.rows * y.cols
        switch loss.kind {
        case .categoricalCrossentropy:
            var bad = 0
            for r in 0..<y.rows {
                var sum = 0.0
                for j in 0..<y.cols { sum += Double(y.base[r * y.cols + j]) }
                if abs(sum - 1) > 1e-3 { bad += 1 }
            }
            if bad > 0 {
                found.append(finding(Double(bad) / Double(y.rows),
                                     "\(bad) of \(y.rows) target rows do not sum to 1, as categorical_crossentropy needs "
                                     + "(one-hot or probability rows)",
                                     "one-hot encode the labels (to_categorical), or use binary_crossentropy for "
                                     + "several independent labels per row"))
            }
        case .meanSquaredError, .meanAbsoluteError, .huber:
            if last == .softmax || last == .sigmoid {
                var outside = 0
                for i in 0..<n where y.base[i] < 0 || y.base[i] > 1 { outside += 1 }
                if outside > 0 {
                    found.append(finding(Double(outside) / Double(n),
                                         "the output layer's \(last.name) gives values in (0, 1), but \(outside) of \(n) "
                                         + "targets lie outside [0, 1]",
                                         "use a linear output layer for regression, or scale the targets to [0, 1]"))
                }
            }
            if last == .softmax || last == .sigmoid, (0..<n).allSatisfy({ y.base[$0] == 0 || y.base[$0] == 1 }) {
                found.append(finding(1, "the targets are 0/1 labels but the loss is \(loss.kind.rawValue), a regression loss",
                                     last == .softmax ? "use categorical_crossentropy" : "use binary_crossentropy"))
            }
        default:
            break
        }
        if [.categoricalCrossentropy, .sparseCategoricalCrossentropy].contains(loss.kind), !loss.fromLogits,
           last != .softmax {
            found.append(finding(1, "\(loss.kind.rawValue) expects probabilities from a softmax output layer, but the "
                                 + "last layer's activation is \(last.name)",
                                 "give the last layer activation=\"softmax\", or compile the loss with from_logits=True "
                                 + "if it outputs logits"))
        }
        if loss.kind == .binaryCrossentropy, !loss.fromLogits, last != .sigmoid {
            found.append(finding(1, "binary_crossentropy expects probabilities from a sigmoid output layer, but the "
                                 + "last layer's activation is \(last.name)",
                                 "give the last layer activation=\"sigmoid\", or use from_logits=True"))
        }
        return found
    }

    private func gradientFindings(_ norms: [Double?]) -> [Finding] {
        // Per-parameter size (RMS) so that wide and narrow layers compare.
        let sized: [(layer: Int, rms: Double)] = norms.enumerated().compactMap { i, g in
            guard let g else { return nil }
            return (i, g / Double(network.operations[i].parameterCount).squareRoot())
        }
        var found: [Finding] = []
        if let bad = sized.first(where: { !$0.rms.isFinite || $0.rms > 1e3 }) {
            found.append(Finding(kind: .explodingGradients, layer: bad.layer, value: bad.rms,
                                 message: "layer \(bad.layer) (\(layerDescription(bad.layer))) has gradients of RMS "
                                     + "\(format(bad.rms)) per parameter",
                                 suggestion: "clip gradients (clipnorm=1.0), lower the learning rate, or add batch "
                                     + "normalization"))
        }
        guard found.isEmpty, let first = sized.first, let last = sized.last, first.layer != last.layer, last.rms > 0 else {
            return found
        }
        let ratio = first.rms / last.rms
        if ratio < 1e-3 {
            found.append(Finding(kind: .vanishingGradients, layer: first.layer, value: ratio,
                                 message: "the gradient of the first layer (\(layerDescription(first.layer))) is "
                                     + "\(format(ratio)) times that of the last (\(layerDescription(last.layer))) "
                                     + "(RMS per parameter \(format(first.rms)) vs \(format(last.rms))): the early "
                                     + "layers barely learn",
                                 suggestion: "use ReLU activations with He initialization (kernel_initializer="
                                     + "\"he_normal\"), add batch normalization, or use fewer layers"))
        } else if ratio > 1e3 {
            found.append(Finding(kind: .explodingGradients, layer: first.layer, value: ratio,
                                 message: "the gradient of the first layer is \(format(ratio)) times that of the last "
                                     + "(RMS per parameter)",
                                 suggestion: "clip gradients (clipnorm=1.0), use Glorot/He initialization, or add batch "
                                     + "normalization"))
        }
        return found
    }

    private func activationFindings(fired: [[Bool]], saturated: [Double], seen: [Double]) -> [Finding] {
        var found: [Finding] = []
        for i in layers.indices {
            if layers[i].activation == .relu, !fired[i].isEmpty {
                let dead = Double(fired[i].filter { !$0 }.count) / Double(fired[i].count)
                if dead >= 0.5 {
                    found.append(Finding(kind: .deadUnits, layer: i, value: dead,
                                         message: "\(format(dead * 100))% of the units of layer \(i) "
                                             + "(\(layerDescription(i))) never fired on the diagnosed batches",
                                         suggestion: "lower the learning rate, initialize biases at 0 (or slightly "
                                             + "positive) with He initialization, or use leaky_relu"))
                }
            }
            if seen[i] > 0 {
                let fraction = saturated[i] / seen[i]
                if fraction >= 0.5 {
                    found.append(Finding(kind: .saturatedUnits, layer: i, value: fraction,
                                         message: "\(format(fraction * 100))% of the outputs of layer \(i) "
                                             + "(\(layerDescription(i))) sit on the flat tails of "
                                             + "\(layers[i].activation.name), where its derivative is under 5% of "
                                             + "its maximum",
                                         suggestion: "standardize the inputs, use Glorot initialization, add batch "
                                             + "normalization, or use ReLU"))
                }
            }
        }
        return found
    }

    private func lossFindings(_ losses: [Double], loss: Loss, targets y: MatrixView<Float>) -> [Finding] {
        var found: [Finding] = []
        let lr = optimizer?.learningRate ?? optimizerOptions?.learningRate ?? 0
        if let bad = losses.firstIndex(where: { !$0.isFinite }) {
            found.append(Finding(kind: .learningRateTooHigh, layer: nil, value: lr,
                                 message: "the loss became non-finite at step \(bad + 1) with learning rate \(format(lr))",
                                 suggestion: "lower the learning rate (try \(format(lr / 10))), clip gradients, or "
                                     + "standardize the inputs"))
            return found
        }
        guard losses.count >= 4 else { return found }
        let third = max(1, losses.count / 3)
        let early = losses.prefix(third).reduce(0, +) / Double(third)
        let late = losses.suffix(third).reduce(0, +) / Double(third)
        if late > early * 1.1 {
            found.append(Finding(kind: .learningRateTooHigh, layer: nil, value: late / early,
                                 message: "the loss rose from \(format(early)) to \(format(late)) (mean of the first "
                                     + "and last \(third) steps) with learning rate \(format(lr))",
                                 suggestion: "lower the learning rate (try \(format(lr / 10))) or clip gradients"))
        }
        // Chance level of classification losses.
        let outputs = outputDim
        var chance: Double? = nil
        switch loss.kind {
        case .categoricalCrossentropy, .sparseCategoricalCrossentropy: chance = Double.log(Double(outputs))
        case .binaryCrossentropy: chance = Double.log(2)
        default: break
        }
        if let chance, abs(late - chance) < 0.05 * chance, early - late < 0.02 * chance {
            found.append(Finding(kind: .lossAtChance, layer: nil, value: late,
                                 message: "the loss stays at \(format(late)), the value of guessing (\(format(chance)) = "
                                     + "ln \(loss.kind == .binaryCrossentropy ? 2 : outputs)), over \(losses.count) steps",
                                 suggestion: "check that inputs and labels match (shuffled together?), raise the learning "
                                     + "rate, or look at the other findings (vanishing gradients, dead units)"))
        }
        return found
    }
}

// MARK: Swift API on tensors

extension Sequential {
    /// See `gradientCheck(x:y:options:)` on matrix views: the gradient check
    /// of every layer with parameters on x [n, inputDim] and y [n, target columns].
    public func gradientCheck(x: Tensor, y: Tensor,
                              options: GradientCheckOptions = GradientCheckOptions()) throws -> [LayerGradientCheck] {
        try x.withMatrix { xv in try y.withMatrix { yv in try gradientCheck(x: xv, y: yv, options: options) } }
    }

    /// See `diagnose(x:y:steps:batchSize:)` on matrix views: what looks wrong
    /// after `steps` training steps on a copy of the model.
    public func diagnose(x: Tensor, y: Tensor, steps: Int = 20, batchSize: Int = 32) throws -> Diagnosis {
        try x.withMatrix { xv in
            try y.withMatrix { yv in try diagnose(x: xv, y: yv, steps: steps, batchSize: batchSize) }
        }
    }
}

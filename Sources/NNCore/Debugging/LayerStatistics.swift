/// Per-layer statistics of training (opt-in, `Sequential.layerStatisticsEvery`):
/// what people look at when a network will not train — activation mean and
/// spread, dead ReLU units, saturated sigmoid/tanh units, gradient and
/// weight norms, and the update-to-weight ratio (Karpathy's rule of thumb:
/// about 1e-3 per step).

/// One layer's statistics over one epoch (over the sampled batches).
public struct LayerStatistics: Equatable, Sendable {
    /// Index of the layer (0-based) and its Keras-style name.
    public var layer: Int
    public var name: String
    /// Mean and standard deviation of the layer's outputs (every element of
    /// every sampled batch; for an output layer whose softmax or sigmoid the
    /// loss applies, of its logits).
    public var activationMean: Double
    public var activationStd: Double
    /// ReLU layers: the fraction of units that were never positive for any
    /// sampled row of the epoch ("dead"); nil for other activations.
    public var deadFraction: Double?
    /// Sigmoid and tanh layers: the fraction of outputs where the
    /// activation's derivative is below 5 % of its maximum (sigmoid y < 0.0127
    /// or y > 0.9873, tanh |y| > 0.9747); nil for other activations.
    public var saturatedFraction: Double?
    /// Layers with parameters: mean over the sampled batches of the L2 norm
    /// of the layer's parameter gradient, the L2 norm of its parameters at
    /// the end of the epoch, and the mean over the sampled batches of
    /// ‖Δθ‖ / ‖θ‖ for one update. nil for layers without parameters.
    public var gradientNorm: Double?
    public var weightNorm: Double?
    public var updateRatio: Double?
    /// Number of batches sampled.
    public var batches: Int
}

extension Activation {
    /// Whether the output y of a sigmoid or tanh sits on a flat tail, where
    /// the derivative is below 5 % of its maximum: sigmoid y < 0.0127 or
    /// y > 0.9873 (with `logit`, y is the pre-activation z: |z| > 4.353, the
    /// same outputs), tanh |y| > 0.9747. False for other activations.
    @inline(__always)
    func isSaturated(_ y: Float, logit: Bool = false) -> Bool {
        switch self {
        case .sigmoid: return logit ? abs(y) > 4.353 : (y < 0.0127 || y > 0.9873)
        case .tanh: return abs(y) > 0.9747
        default: return false
        }
    }
}

/// Accumulates `LayerStatistics` during an epoch of `fit`.
struct LayerStatisticsCollector {
    private struct Accumulator {
        var sum = 0.0, sumSquares = 0.0, count = 0.0
        var fired: [Bool]
        var saturated = 0.0
        var gradientNorms = 0.0, updateRatios = 0.0
        var batches = 0
    }
    private var accumulators: [Accumulator] = []
    /// The parameters before the sampled update.
    private var before: [Float]

    init(model: Sequential) {
        before = [Float](repeating: 0, count: model.parameterCount)
        reset(model)
    }

    mutating func reset(_ model: Sequential) {
        accumulators = model.network.operations.map { Accumulator(fired: [Bool](repeating: false, count: $0.outputDim)) }
    }

    /// After the forward pass of a sampled batch.
    mutating func recordForward(_ model: Sequential, rows: Int) {
        let network = model.network
        for i in 0..<accumulators.count {
            let width = network.operations[i].outputDim
            let y = network.layerOutput(i)
            let activation = model.layers[i].activation
            // The output layer holds logits while the loss applies its sigmoid.
            let logits = i == accumulators.count - 1 && network.lastActivationDeferred
            var sum = 0.0, squares = 0.0, saturated = 0
            for r in 0..<rows {
                for u in 0..<width {
                    let v = y[r * width + u]
                    let d = Double(v)
                    sum += d
                    squares += d * d
                    switch activation {
                    case .relu: if v > 0 { accumulators[i].fired[u] = true }
                    case .sigmoid, .tanh: if activation.isSaturated(v, logit: logits) { saturated += 1 }
                    default: break
                    }
                }
            }
            accumulators[i].sum += sum
            accumulators[i].sumSquares += squares
            accumulators[i].count += Double(rows * width)
            accumulators[i].saturated += Double(saturated)
        }
    }

    /// After the backward pass of a sampled batch, before the update.
    mutating func recordGradients(_ model: Sequential) {
        let network = model.network
        for i in 0..<accumulators.count {
            let count = network.operations[i].parameterCount
            guard count > 0 else { continue }
            accumulators[i].gradientNorms += norm(network.gradients.pointer + network.parameterOffsets[i], count)
        }
        before.withUnsafeMutableBufferPointer {
            $0.baseAddress!.update(from: network.parameters.pointer, count: $0.count)
        }
    }

    /// After the update of a sampled batch.
    mutating func recordUpdate(_ model: Sequential) {
        let network = model.network
        before.withUnsafeBufferPointer { old in
            for i in 0..<accumulators.count {
                accumulators[i].batches += 1
                let count = network.operations[i].parameterCount
                guard count > 0 else { continue }
                let offset = network.parameterOffsets[i]
                var change = 0.0, size = 0.0
                for k in 0..<count {
                    let w = Double(old[offset + k])
                    let d = Double(network.parameters.pointer[offset + k]) - w
                    change += d * d
                    size += w * w
                }
                accumulators[i].updateRatios += size > 0 ? (change / size).squareRoot() : 0
            }
        }
    }

    /// The epoch's statistics.
    func finish(_ model: Sequential) -> [LayerStatistics] {
        let network = model.network, names = model.layerNames
        return accumulators.enumerated().map { i, a in
            let mean = a.count > 0 ? a.sum / a.count : 0
            let variance = a.count > 0 ? max(0, a.sumSquares / a.count - mean * mean) : 0
            let activation = model.layers[i].activation
            let count = network.operations[i].parameterCount
            let batches = Double(max(a.batches, 1))
            return LayerStatistics(
                layer: i, name: names[i], activationMean: mean, activationStd: variance.squareRoot(),
                deadFraction: activation == .relu && a.batches > 0
                    ? Double(a.fired.filter { !$0 }.count) / Double(max(a.fired.count, 1)) : nil,
                saturatedFraction: (activation == .sigmoid || activation == .tanh) && a.count > 0
                    ? a.saturated / a.count : nil,
                gradientNorm: count > 0 ? a.gradientNorms / batches : nil,
                weightNorm: count > 0 ? norm(network.parameters.pointer + network.parameterOffsets[i], count) : nil,
                updateRatio: count > 0 ? a.updateRatios / batches : nil,
                batches: a.batches)
        }
    }
}

/// The L2 norm of count values, summed in Double.
func norm(_ p: UnsafePointer<Float>, _ count: Int) -> Double {
    var s = 0.0
    for k in 0..<count { s += Double(p[k]) * Double(p[k]) }
    return s.squareRoot()
}

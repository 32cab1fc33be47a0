/// Anomaly detection (PyTorch's `torch.autograd.detect_anomaly`, for a whole
/// training loop): with `Sequential.anomalyDetection` on, every forward
/// output, every gradient and every updated parameter is checked for NaN and
/// infinity, and the first one found stops training with an error that names
/// the layer, the stage, the epoch, the batch and the element:
///
///     non-finite value (inf) in forward of layer 2 (dense_2, relu) at epoch 37,
///     batch 12 (counting from 1), element [5, 17] of its output
///
/// Off by default; when off, a training step pays one Bool test per stage.

/// Where a non-finite value was found.
public struct Anomaly: Equatable, Sendable {
    public enum Stage: String, Sendable {
        case forward, backward, update
    }
    public var stage: Stage
    /// Index of the layer (0-based) and its Keras-style name.
    public var layer: Int
    public var layerName: String
    /// Epoch and batch, counting from 1.
    public var epoch: Int
    public var batch: Int
    /// What holds the value ("output", "input gradient", "gradient of kernel",
    /// "kernel") and the element's indices in it.
    public var array: String
    public var indices: [Int]
    public var value: Float

    public var message: String {
        "non-finite value (\(value)) in \(stage.rawValue) of layer \(layer) (\(layerName)) at epoch \(epoch), "
            + "batch \(batch) (counting from 1), element \(indices) of its \(array)"
    }
}

/// The index of the first non-finite value among count values at p, if any.
@inline(__always)
func firstNonFinite(_ p: UnsafePointer<Float>, _ count: Int) -> Int? {
    // x · 0 is 0 for every finite x and NaN otherwise, so the sum is 0
    // exactly when every value is finite (a loop that vectorizes); the
    // element is looked for only then.
    var sum: Float = 0
    for i in 0..<count { sum += p[i] * 0 }
    if sum == 0 { return nil }
    for i in 0..<count where !p[i].isFinite { return i }
    return nil
}

extension Sequential {
    /// "dense_2, relu", "batch_normalization", "activation, tanh", "dropout".
    func layerDescription(_ i: Int) -> String {
        layers[i].describe(name: layerNames[i])
    }

    /// The first non-finite forward output, layers in order.
    func forwardAnomaly(rows: Int, epoch: Int, batch: Int) -> Anomaly? {
        for i in 0..<layers.count {
            let width = network.operations[i].outputDim
            if let k = firstNonFinite(network.layerOutput(i), rows * width) {
                return Anomaly(stage: .forward, layer: i, layerName: layerDescription(i), epoch: epoch, batch: batch,
                               array: "output", indices: [k / width, k % width], value: network.layerOutput(i)[k])
            }
        }
        return nil
    }

    /// The first non-finite parameter gradient of layer i (or parameter, with
    /// `gradients` false), as an anomaly of `stage`.
    func parameterAnomaly(layer i: Int, gradients: Bool, stage: Anomaly.Stage, epoch: Int, batch: Int) -> Anomaly? {
        let block = gradients ? network.gradients.pointer : network.parameters.pointer
        var offset = network.parameterOffsets[i]
        for spec in network.operations[i].weights where spec.trainable {
            if let k = firstNonFinite(block + offset, spec.count) {
                let indices = spec.shape.count == 2 ? [k / spec.shape[1], k % spec.shape[1]] : [k]
                return Anomaly(stage: stage, layer: i, layerName: layerDescription(i), epoch: epoch, batch: batch,
                               array: gradients ? "gradient of \(spec.name)" : spec.name, indices: indices,
                               value: block[offset + k])
            }
            offset += spec.count
        }
        return nil
    }

    /// A backward observer that records the first anomaly into `watch`.
    func backwardWatcher(_ watch: AnomalyWatch) -> (Int, UnsafePointer<Float>?, Int) -> Void {
        { [unowned self] i, dx, rows in
            guard watch.found == nil else { return }
            let (e, b) = (watch.epoch, watch.batch)
            if let a = parameterAnomaly(layer: i, gradients: true, stage: .backward, epoch: e, batch: b) {
                watch.found = a
            } else if let dx {
                let width = network.operations[i].inputDim
                if let k = firstNonFinite(dx, rows * width) {
                    watch.found = Anomaly(stage: .backward, layer: i, layerName: layerDescription(i), epoch: e, batch: b,
                                          array: "input gradient", indices: [k / width, k % width], value: dx[k])
                }
            }
        }
    }
}

/// What the backward observer of a fit shares with the loop.
final class AnomalyWatch {
    var epoch = 0, batch = 0
    var found: Anomaly?
}

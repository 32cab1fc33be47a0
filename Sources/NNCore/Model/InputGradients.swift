/// Gradients with respect to the inputs, for explanations (saliency maps,
/// integrated gradients): back-propagation in inference mode down to x.
///
/// Both run in inference mode, as PyTorch's `torch.autograd.grad` on a model
/// in eval mode: Dropout is the identity and BatchNorm uses its running
/// statistics, so every row is independent of the others and the model is
/// not changed. They run on a network of the inference pool with a gradient
/// block of its own, so they may run beside predictions and each other.
extension Sequential {
    /// ∂outputs/∂x weighted by `outputGradient` [n, outputDim] for inputs x
    /// [n, inputDim]: see `inputGradient(x:outputGradient:into:)`.
    public func inputGradient(_ x: Tensor, outputGradient: Tensor) throws -> Tensor {
        var out = [Float](repeating: 0, count: x.rows * inputDim)
        try x.withMatrix { xv in
            try outputGradient.withMatrix { gv in
                try out.withUnsafeMutableBufferPointer { try inputGradient(x: xv, outputGradient: gv, into: $0) }
            }
        }
        return try Tensor(shape: [x.rows, inputDim], scalars: out)
    }

    /// ∂(mean loss)/∂x [n, inputDim]: see `lossInputGradient(x:y:into:)`.
    public func lossInputGradient(x: Tensor, y: Tensor) throws -> Tensor {
        var out = [Float](repeating: 0, count: x.rows * inputDim)
        try x.withMatrix { xv in
            try y.withMatrix { yv in
                try out.withUnsafeMutableBufferPointer { try lossInputGradient(x: xv, y: yv, into: $0) }
            }
        }
        return try Tensor(shape: [x.rows, inputDim], scalars: out)
    }

    /// The vector-Jacobian product of the model's outputs (its predictions,
    /// after the last activation): for each row r,
    /// `out[r, i] = Σ_j outputGradient[r, j] · ∂output[r, j] / ∂x[r, i]`.
    /// A one-hot `outputGradient` row selects ∂output_j/∂x.
    package func inputGradient(x: MatrixView<Float>, outputGradient: MatrixView<Float>,
                               into out: UnsafeMutableBufferPointer<Float>) throws {
        try requireLayers()
        try checkData(x: x, y: nil, loss: nil, what: "input gradient")
        guard outputGradient.rows == x.rows else {
            throw NNError.shapeMismatch("x has \(x.rows) rows but output_gradient has \(outputGradient.rows)")
        }
        guard outputGradient.cols == outputDim else {
            throw NNError.shapeMismatch(
                "output_gradient must have the model's \(outputDim) output columns, got \(outputGradient.cols)")
        }
        try outputGradient.checkFinite("output gradient")
        let base = try inputGradientOutput(out, rows: x.rows)
        try requireDifferentiable("an input gradient needs differentiable activations (step's is 0 almost everywhere)")
        withInferenceNetwork { network in
            network.lastActivationDeferred = false
            network.ownGradients()
            let outputs = outputDim
            var start = 0
            while start < x.rows {
                let rows = min(Self.inferenceChunk, x.rows - start)
                network.forward(x.row(start), rows: rows)
                let dy = network.outputGradientBuffer(rows: rows)
                dy.update(from: outputGradient.row(start), count: rows * outputs)
                network.backward(x.row(start), rows: rows, outputGradient: dy, inputGradient: base + start * inputDim)
                start += rows
            }
        }
    }

    /// ∂L/∂x of the model's loss L as `evaluate` computes it (the mean over
    /// rows of each row's loss, Keras's and PyTorch's `reduction="mean"`),
    /// without the regularization penalty (which does not depend on x): row r
    /// of the result is ∂(loss of row r)/∂x[r] / rows.
    package func lossInputGradient(x: MatrixView<Float>, y: MatrixView<Float>,
                                   into out: UnsafeMutableBufferPointer<Float>) throws {
        try requireLayers()
        guard let loss else {
            throw NNError.invalidState("no loss is set; set a loss (compile) before asking for the loss's input gradient")
        }
        try checkData(x: x, y: y, loss: loss, what: "input gradient")
        let base = try inputGradientOutput(out, rows: x.rows)
        try requireDifferentiable("an input gradient needs differentiable activations (step's is 0 almost everywhere)")
        let fused = loss.fusesActivation(layers.last!.activation)
        withInferenceNetwork { network in
            network.lastActivationDeferred = fused
            defer { network.lastActivationDeferred = false }
            network.ownGradients()
            var start = 0
            while start < x.rows {
                let rows = min(Self.inferenceChunk, x.rows - start)
                let predictions = network.forward(x.row(start), rows: rows)
                let dy = network.outputGradientBuffer(rows: rows)
                _ = loss.evaluate(predictions: predictions, targets: y.row(start), rows: rows, cols: outputDim,
                                  logits: fused || loss.fromLogits, grad: dy, divisor: Float(x.rows), weights: nil)
                network.backward(x.row(start), rows: rows, outputGradient: dy, inputGradient: base + start * inputDim)
                start += rows
            }
        }
    }

    /// The start of `out` after checking it holds rows × inputDim floats.
    private func inputGradientOutput(_ out: UnsafeMutableBufferPointer<Float>, rows: Int) throws -> UnsafeMutablePointer<Float> {
        let needed = try checkedElementCount(rows, inputDim, "input gradient")
        guard out.count >= needed, let base = out.baseAddress else {
            throw NNError.shapeMismatch(
                "the input gradient buffer holds \(out.count) values but \(rows) rows × \(inputDim) inputs need \(needed)")
        }
        return base
    }
}

/// Gradient checking as an API: the analytic gradient of every parameter
/// against central finite differences, layer by layer (PyTorch's
/// `torch.autograd.gradcheck`, for a whole model on given data).

/// Options of `Sequential.gradientCheck`.
public struct GradientCheckOptions: Equatable, Sendable {
    /// The arithmetic the check runs in.
    public enum Precision: String, Sendable {
        /// The model's layers rebuilt in Double over the generic reference
        /// kernels: a sharp answer (errors around 1e-9 for a correct layer).
        case double
        /// The production float32 kernels themselves (errors around 1e-3
        /// are normal: finite differences in float32 are coarse).
        case float
    }

    public var precision: Precision = .double
    /// The finite-difference step h (relative to 1; (L(θ+h) − L(θ−h)) / 2h).
    /// nil: 1e-6 in double precision, 1e-2 in float.
    public var epsilon: Double? = nil
    /// At most this many elements of each weight array are checked (chosen
    /// at random from `seed`, always including the element of largest
    /// gradient); 0 checks every element.
    public var maxChecksPerArray: Int = 64
    /// Seeds the choice of elements and the Dropout masks, which are held
    /// fixed for every evaluation.
    public var seed: UInt64 = 0

    public init(precision: Precision = .double, epsilon: Double? = nil, maxChecksPerArray: Int = 64, seed: UInt64 = 0) {
        self.precision = precision
        self.epsilon = epsilon
        self.maxChecksPerArray = maxChecksPerArray
        self.seed = seed
    }
}

/// The result of the gradient check for one layer with parameters.
public struct LayerGradientCheck: Equatable, Sendable {
    /// Index of the layer in the model (0-based) and its Keras-style name.
    public var layer: Int
    public var name: String
    /// ‖analytic − numeric‖ / max(‖analytic‖ + ‖numeric‖, 1e-30) over the
    /// checked elements of the layer: the figure to compare with a tolerance
    /// (the norm ratio of CS231n's gradient checks; robust to the tiny
    /// gradients where an element-wise ratio is noise).
    public var relativeError: Double
    /// Where the largest |analytic − numeric| of the layer occurs: the
    /// index of the weight array (Keras's get_weights order, over the whole
    /// model), its name ("kernel", "bias", "gamma", "beta"), the element's
    /// flat index in that array (row-major, Keras's layout), and the two values.
    public var weightIndex: Int
    public var weightName: String
    public var element: Int
    public var analytic: Double
    public var numeric: Double
    /// Number of elements checked in this layer (compared, in the norms).
    public var checked: Int
    /// Elements whose analytic and numeric derivatives are both below what
    /// finite differences can resolve in this precision (about 8·|L|·ε/h:
    /// 2e-9 for a loss near 1 in double with h = 1e-6): they are left out of
    /// the comparison, as PyTorch's gradcheck lets them pass under its atol.
    /// Many of them in the first layers is itself a sign of vanishing
    /// gradients.
    public var belowResolution: Int
}

extension Sequential {
    /// Checks the gradient of the training loss (loss + regularization, in
    /// training mode: Dropout with fixed masks, BatchNorm on batch
    /// statistics) on (x, y) against central finite differences, for every
    /// layer with parameters. The model is not changed: the check runs on a
    /// copy of its parameters and statistics.
    package func gradientCheck(x: MatrixView<Float>, y: MatrixView<Float>,
                               options: GradientCheckOptions = GradientCheckOptions()) throws -> [LayerGradientCheck] {
        try requireLayers()
        guard let loss else { throw NNError.invalidState("no loss is set; set a loss (compile) before a gradient check") }
        try checkData(x: x, y: y, loss: loss, what: "gradient check")
        guard options.maxChecksPerArray >= 0 else {
            throw NNError.invalidArgument("maxChecksPerArray must be >= 0, got \(options.maxChecksPerArray)")
        }
        if let h = options.epsilon, !(h.isFinite && h > 0) {
            throw NNError.invalidArgument("epsilon must be a finite number > 0, got \(h)")
        }
        try checkWorkspace(rows: x.rows, what: "gradient check of \(x.rows) rows")
        switch options.precision {
        case .double:
            let net = try copyNetwork(Double.self, kernels: .reference)
            return try runGradientCheck(net, x: x, y: y, loss: loss, h: options.epsilon ?? 1e-6, options: options)
        case .float:
            let net = try copyNetwork(Float.self, kernels: .production)
            return try runGradientCheck(net, x: x, y: y, loss: loss, h: options.epsilon ?? 1e-2, options: options)
        }
    }

    /// A new network of this model's layers in scalar type T over `kernels`,
    /// holding this model's parameters and statistics.
    func copyNetwork<T: NNFloat>(_ scalar: T.Type, kernels: KernelTable<T>) throws -> Network<T> {
        let net = Network<T>(inputDim: inputDim, kernels: kernels)
        var scratch = RandomGenerator(seed: 0)
        for layer in layers { try net.append(layer, rng: &scratch) }
        for i in 0..<network.parameterCount { net.parameters.pointer[i] = T(Double(network.parameters.pointer[i])) }
        for i in 0..<network.stateCount { net.state.pointer[i] = T(Double(network.state.pointer[i])) }
        return net
    }

    private func runGradientCheck<T: NNFloat>(_ net: Network<T>, x: MatrixView<Float>, y: MatrixView<Float>,
                                              loss: Loss, h: Double,
                                              options: GradientCheckOptions) throws -> [LayerGradientCheck] {
        let rows = x.rows
        let xs = (0..<rows * x.cols).map { T(Double(x.base[$0])) }
        let ys = (0..<rows * y.cols).map { T(Double(y.base[$0])) }
        let fused = loss.fusesActivation(layers.last!.activation)
        let logits = fused || loss.fromLogits
        let regularized = layers.contains(where: \.hasPenalty)
        net.lastActivationDeferred = fused
        let outputs = net.outputDim
        let maskSeed = RandomGenerator(seed: options.seed ^ 0x6D61_736B)  // the same Dropout masks every pass

        /// The mean training loss; with `gradients`, also ∂loss/∂θ into net.gradients.
        func evaluate(gradients: Bool) -> Double {
            xs.withUnsafeBufferPointer { xb in
                ys.withUnsafeBufferPointer { yb in
                    var context = ForwardContext(training: true, rng: maskSeed)
                    let out = net.forward(xb.baseAddress!, rows: rows, context: &context)
                    let grad = gradients ? net.outputGradientBuffer(rows: rows) : nil
                    let total = loss.evaluate(predictions: out, targets: yb.baseAddress!, rows: rows, cols: outputs,
                                              logits: logits, grad: grad, divisor: T(rows))
                    if let grad { net.backward(xb.baseAddress!, rows: rows, outputGradient: grad) }
                    let penalty = regularized ? net.regularization(addGradients: gradients) : 0
                    return total / Double(rows) + penalty
                }
            }
        }

        let lossValue = evaluate(gradients: true)
        let analytic = net.gradientArray
        // What central differences can resolve: the loss is known to about
        // |L|·ε, so a derivative below ~8·|L|·ε/h is noise.
        let resolution = 8 * max(abs(lossValue), 1) * Double(T.ulpOfOne) / h
        // BatchNorm's running statistics move with every training pass;
        // they do not enter the training-mode loss, so the check ignores them.
        var chooser = RandomGenerator(seed: options.seed)
        var results: [LayerGradientCheck] = []
        let names = layerNames
        var weightIndex = 0
        let p = net.parameters.pointer
        for (i, op) in net.operations.enumerated() {
            var offset = net.parameterOffsets[i]
            var diff2 = 0.0, analytic2 = 0.0, numeric2 = 0.0, checked = 0, unresolved = 0
            var worst: (weight: Int, name: String, element: Int, a: Double, n: Double, gap: Double)? = nil
            for spec in op.weights {
                defer { weightIndex += 1 }
                guard spec.trainable else { continue }
                let count = spec.count
                var elements = Array(0..<count)
                if options.maxChecksPerArray > 0 && count > options.maxChecksPerArray {
                    var largest = 0
                    for e in 0..<count where abs(Double(analytic[offset + e])) > abs(Double(analytic[offset + largest])) {
                        largest = e
                    }
                    chooser.shuffle(&elements)
                    elements = Array(elements.prefix(options.maxChecksPerArray - 1))
                    if !elements.contains(largest) { elements.append(largest) }
                    elements.sort()
                }
                for e in elements {
                    let index = offset + e
                    let saved = p[index]
                    p[index] = saved + T(h)
                    let plus = evaluate(gradients: false)
                    p[index] = saved - T(h)
                    let minus = evaluate(gradients: false)
                    p[index] = saved
                    // The step actually taken (T(saved ± h) is rounded in float).
                    let step = Double(saved + T(h)) - Double(saved - T(h))
                    let numeric = (plus - minus) / step
                    let a = Double(analytic[index])
                    let gap = abs(a - numeric)
                    if max(abs(a), abs(numeric)) < resolution {
                        unresolved += 1
                        if worst == nil { worst = (weightIndex, spec.name, e, a, numeric, 0) }
                        continue
                    }
                    diff2 += gap * gap
                    analytic2 += a * a
                    numeric2 += numeric * numeric
                    checked += 1
                    if worst == nil || gap > worst!.gap || gap.isNaN {
                        worst = (weightIndex, spec.name, e, a, numeric, gap)
                    }
                }
                offset += count
            }
            guard let worst else { continue }
            let scale = max(analytic2.squareRoot() + numeric2.squareRoot(), 1e-30)
            results.append(LayerGradientCheck(
                layer: i, name: names[i], relativeError: diff2.squareRoot() / scale,
                weightIndex: worst.weight, weightName: worst.name, element: worst.element,
                analytic: worst.a, numeric: worst.n, checked: checked, belowResolution: unresolved))
        }
        return results
    }
}

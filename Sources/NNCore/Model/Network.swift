/// The numeric engine of a sequential model, generic over the scalar type:
/// `Network<Float>` with the production kernels trains and predicts;
/// `Network<Double>` with the reference kernels checks gradients.
///
/// Every trainable parameter lives in one contiguous block (`parameters`),
/// and every gradient in a second block of the same layout (`gradients`):
/// layer i owns the slice starting at `parameterOffsets[i]`. Non-trainable
/// state (BatchNorm's running statistics) lives in a third block (`state`),
/// layer i's slice starting at `stateOffsets[i]`.
public final class Network<T: NNFloat> {
    public let inputDim: Int
    public private(set) var operations: [any LayerOperation<T>] = []
    public private(set) var parameterOffsets: [Int] = []
    public private(set) var stateOffsets: [Int] = []
    public private(set) var parameters: Buffer<T>
    public private(set) var gradients: Buffer<T>
    public private(set) var state: Buffer<T>
    public var kernels: KernelTable<T>

    // Workspace, sized for `capacity` rows: each layer's output, and two
    // ping-pong buffers for the gradient flowing backwards.
    private var capacity = 0
    private var outputs: [Buffer<T>] = []
    private var gradientA = Buffer<T>(count: 0)
    private var gradientB = Buffer<T>(count: 0)
    /// The layers as plain Dense steps (with the offset of each one's
    /// parameters) when every layer's operation can be one (`denseStep`);
    /// nil otherwise.
    private var densePlan: [(step: DenseStep, offset: Int)]? = []
    /// The largest inputs × units of the plan's layers.
    private var largestDenseProduct = 0
    /// The last layer's deferActivation, mirrored for the dense path.
    private var lastDeferred = false
    /// The dense plan with every pointer resolved (Float networks only),
    /// rebuilt whenever the workspace or the parameter block moves, so that a
    /// tiny network's step touches no Swift array and no reference count.
    private var resolvedPlan = UnsafeMutableBufferPointer<ResolvedDenseStep>(start: nil, count: 0)

    public init(inputDim: Int, kernels: KernelTable<T>) {
        self.inputDim = inputDim
        self.kernels = kernels
        parameters = Buffer(count: 0)
        gradients = Buffer(count: 0)
        state = Buffer(count: 0)
    }

    deinit { resolvedPlan.deallocate() }

    /// Floats after the gradients in their block (never gradients): a
    /// data-parallel step sends them with the gradients in its one
    /// all-reduce, in place (DataParallel.swift: failed, cancel, stop).
    static var reductionSlots: Int { 3 }

    /// The gradients, parameterCount of them, as an array (a copy).
    public var gradientArray: [T] { Array(UnsafeBufferPointer(start: gradients.pointer, count: parameterCount)) }

    public var outputDim: Int { operations.last?.outputDim ?? inputDim }
    public var parameterCount: Int { parameters.count }
    public var stateCount: Int { state.count }

    /// Appends a layer, keeping the existing parameters and state and
    /// initializing the new ones from `rng`.
    public func append(_ layer: any Layer, rng: inout RandomGenerator) throws {
        let width = outputDim
        _ = try layer.outputDim(inputDim: width)
        let op = layer.makeOperation(inputDim: width, scalar: T.self)
        let offset = parameters.count, stateOffset = state.count
        let newParameters = Buffer<T>(count: offset + op.parameterCount)
        newParameters.pointer.update(from: parameters.pointer, count: offset)
        let newState = Buffer<T>(count: stateOffset + op.stateCount)
        newState.pointer.update(from: state.pointer, count: stateOffset)
        op.initialize(newParameters.pointer + offset, newState.pointer + stateOffset, rng: &rng)
        operations.forEach { $0.deferActivation = false }
        lastDeferred = false
        plan(op, offset: offset)
        operations.append(op)
        parameterOffsets.append(offset)
        stateOffsets.append(stateOffset)
        parameters = newParameters
        gradients = Buffer(count: newParameters.count + Self.reductionSlots)
        state = newState
        capacity = 0
        outputs = []
        releasePlan()
    }

    /// A network for inference beside `source` (a predict on another
    /// thread): the same layers over the same parameter and state blocks —
    /// shared, not copied, and only read — with operations and a workspace of
    /// its own. It stays a replica of `source` while `isReplica(of:)`, which
    /// `append` ends (new blocks). `layers` are `source`'s, in order.
    public init(inferenceReplicaOf source: Network<T>, layers: [any Layer]) {
        precondition(layers.count == source.operations.count, "a replica needs the source's layers")
        inputDim = source.inputDim
        kernels = source.kernels
        parameters = source.parameters
        // A replica's inference needs no gradients; `inputGradient` gives it
        // a block of its own when first asked (`ownGradients`).
        gradients = Buffer(count: 0)
        state = source.state
        parameterOffsets = source.parameterOffsets
        stateOffsets = source.stateOffsets
        var width = inputDim
        for (layer, offset) in zip(layers, parameterOffsets) {
            let op = layer.makeOperation(inputDim: width, scalar: T.self)
            plan(op, offset: offset)
            operations.append(op)
            width = op.outputDim
        }
    }

    /// Whether this network still computes what `source` does: it reads the
    /// same blocks with the same kernels.
    public func isReplica(of source: Network<T>) -> Bool {
        parameters === source.parameters && state === source.state && kernels === source.kernels
            && operations.count == source.operations.count
    }

    /// Adds the operation (whose parameters start at `offset`) to the dense
    /// plan, or ends the plan for good if it is not a Dense step.
    private func plan(_ op: any LayerOperation<T>, offset: Int) {
        if let step = op.denseStep, densePlan != nil {
            densePlan!.append((step, offset))
            largestDenseProduct = max(largestDenseProduct, step.inputs * step.units)
        } else {
            densePlan = nil
        }
    }

    /// Makes the workspace hold at least `rows` rows (grows only).
    public func reserve(rows: Int) {
        guard rows > capacity else { return }
        capacity = rows
        outputs = operations.map { Buffer(count: rows * $0.outputDim) }
        operations.forEach { $0.reserve(rows: rows) }
        let widest = operations.reduce(inputDim) { max($0, $1.outputDim) }
        gradientA = Buffer(count: rows * widest)
        gradientB = Buffer(count: rows * widest)
        if lossGradient.count < rows * outputDim { lossGradient = Buffer(count: rows * outputDim) }
        resolvePlan()
    }

    /// Whether the last layer leaves its activation to the loss.
    public var lastActivationDeferred: Bool {
        get { lastDeferred }
        set {
            // lastDeferred mirrors the last operation's flag (append resets
            // both), so an unchanged value costs no call into the operation.
            let value = newValue && !operations.isEmpty
            guard value != lastDeferred else { return }
            operations.last?.deferActivation = value
            lastDeferred = value
        }
    }

    /// Runs every layer on x [rows, inputDim] in inference mode; returns the
    /// last layer's output [rows, outputDim] (logits if
    /// `lastActivationDeferred`), valid until the next call. Needs a layer.
    @discardableResult
    public func forward(_ x: UnsafePointer<T>, rows: Int) -> UnsafeMutablePointer<T> {
        var context = ForwardContext(training: false)
        return forward(x, rows: rows, context: &context)
    }

    /// As `forward(_:rows:)`, in the mode of `context` (training: Dropout
    /// draws masks from context.rng, BatchNorm uses and updates batch
    /// statistics).
    @discardableResult
    public func forward(_ x: UnsafePointer<T>, rows: Int, context: inout ForwardContext) -> UnsafeMutablePointer<T> {
        reserve(rows: rows)
        if let out = denseForward(x, rows: rows) { return out }
        var input = x
        for (i, op) in operations.enumerated() {
            let y = outputs[i].pointer
            op.forward(x: input, y: y, rows: rows, params: parameters.pointer + parameterOffsets[i],
                       state: state.pointer + stateOffsets[i], context: &context, kernels: kernels)
            input = UnsafePointer(y)
        }
        return outputs[operations.count - 1].pointer
    }

    /// The sum of every layer's regularization penalty; with `addGradients`,
    /// also adds the penalties' gradients to `gradients`.
    public func regularization(addGradients: Bool) -> Double {
        var total = 0.0
        for (i, op) in operations.enumerated() {
            total += op.regularize(parameters.pointer + parameterOffsets[i],
                                   addGradients ? gradients.pointer + parameterOffsets[i] : nil)
        }
        return total
    }

    /// The output of layer i from the last forward pass.
    public func layerOutput(_ i: Int) -> UnsafeMutablePointer<T> { outputs[i].pointer }

    /// Back-propagates `outputGradient` = ∂L/∂(last output) [rows, outputDim]
    /// (∂L/∂logits if the activation is deferred) through the layers of the
    /// last `forward(x, rows)`, overwriting `gradients`. outputGradient may be
    /// overwritten. With `inputGradient`, also writes ∂L/∂x [rows, inputDim]
    /// there (the first layer's input gradient, which training skips).
    public func backward(_ x: UnsafePointer<T>, rows: Int, outputGradient: UnsafeMutablePointer<T>,
                         inputGradient: UnsafeMutablePointer<T>? = nil) {
        if backwardObserver == nil, !testHookActive,
           denseBackward(x, rows: rows, outputGradient: outputGradient, inputGradient: inputGradient) { return }
        var dy = outputGradient
        var spare = gradientA.pointer
        for i in stride(from: operations.count - 1, through: 0, by: -1) {
            let op = operations[i]
            let input = i == 0 ? x : UnsafePointer(outputs[i - 1].pointer)
            let dx: UnsafeMutablePointer<T>? = i == 0 ? inputGradient : spare
            op.backward(x: input, y: outputs[i].pointer, dy: dy, dx: dx, rows: rows,
                        params: parameters.pointer + parameterOffsets[i],
                        grads: gradients.pointer + parameterOffsets[i], kernels: kernels)
            #if NN_TEST_HOOKS
            if i == testHookPerturbedLayer {
                let g = gradients.pointer + parameterOffsets[i]
                for k in 0..<op.parameterCount { g[k] *= T(1.01) }
            }
            #endif
            backwardObserver?(i, dx.map { UnsafePointer($0) }, rows)
            if i > 0, let dx {
                spare = (dx == gradientA.pointer) ? gradientB.pointer : gradientA.pointer
                dy = dx
            }
        }
    }

    /// Called after each layer's backward pass (last layer first) with the
    /// layer's index and its input gradient dx [rows, inputDim] (nil for the
    /// first layer); the layer's parameter gradients are then in
    /// `gradients`. Set only while someone watches (anomaly detection): the
    /// small-network path is off meanwhile.
    public var backwardObserver: ((Int, UnsafePointer<T>?, Int) -> Void)? = nil

    /// Whether a test hook changes backward (debug builds only).
    private var testHookActive: Bool {
        #if NN_TEST_HOOKS
        return testHookPerturbedLayer != nil
        #else
        return false
        #endif
    }

    /// Makes the gradient block this network's own: an inference replica
    /// shares none with its source (`backward` writes the block, and a
    /// replica may run beside the source's training or other replicas).
    /// The block stays with the replica in the inference pool (one per
    /// pooled network that has computed an input gradient), so a steady
    /// stream of input gradients allocates nothing.
    public func ownGradients() {
        guard gradients.count < parameters.count + Self.reductionSlots else { return }
        gradients = Buffer(count: parameters.count + Self.reductionSlots)
        resolvePlan()
    }

    /// A scratch buffer of at least rows × outputDim for the loss gradient.
    /// It is distinct from the buffers `backward` writes.
    public func outputGradientBuffer(rows: Int) -> UnsafeMutablePointer<T> {
        reserve(rows: rows)
        return lossGradient.pointer
    }
    private var lossGradient = Buffer<T>(count: 0)

    /// Weight arrays in Keras's get_weights() order: where each lives (the
    /// parameter block if trainable, else the state block), its offset there,
    /// and its description.
    public var weightArrays: [(offset: Int, spec: WeightSpec)] {
        var result: [(Int, WeightSpec)] = []
        for (i, op) in operations.enumerated() {
            var p = parameterOffsets[i], s = stateOffsets[i]
            for w in op.weights {
                if w.trainable {
                    result.append((p, w)); p += w.count
                } else {
                    result.append((s, w)); s += w.count
                }
            }
        }
        return result
    }

    /// The buffer that holds weight arrays of this kind.
    public func storage(trainable: Bool) -> Buffer<T> { trainable ? parameters : state }
}

#if NN_TEST_HOOKS
/// Test hook (debug builds only): the backward pass of the layer with this
/// index multiplies its parameter gradients by 1.01, a planted fault that
/// the gradient check must find.
nonisolated(unsafe) public var testHookPerturbedLayer: Int? = nil
#endif

/// A `DenseStep` of the small-network path with its pointers resolved into
/// the current blocks.
struct ResolvedDenseStep {
    let step: DenseStep
    /// The layer's parameters: its kernel, then its bias.
    let kernel: UnsafeMutablePointer<Float>
    let kernelGradient: UnsafeMutablePointer<Float>
    let output: UnsafeMutablePointer<Float>
}

// MARK: The small-network path

extension Network {
    /// Resolves `densePlan` against the current parameter, gradient and
    /// output buffers (Float networks with a dense plan only).
    fileprivate func resolvePlan() {
        releasePlan()
        guard T.self == Float.self, let plan = densePlan, !plan.isEmpty, outputs.count == plan.count else { return }
        func float(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
            UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
        }
        resolvedPlan = .allocate(capacity: plan.count)
        for (i, (step, offset)) in plan.enumerated() {
            resolvedPlan.initializeElement(at: i, to: ResolvedDenseStep(
                step: step, kernel: float(parameters.pointer) + offset, kernelGradient: float(gradients.pointer) + offset,
                output: float(outputs[i].pointer)))
        }
    }

    /// Frees the resolved plan (the dense path is then off until the next
    /// `resolvePlan`).
    fileprivate func releasePlan() {
        resolvedPlan.deallocate()
        resolvedPlan = UnsafeMutableBufferPointer(start: nil, count: 0)
    }

    /// Whether this pass can take the dense path: Float, the unmodified
    /// production kernels, only Dense layers, and products small enough that
    /// the production GEMM would run its plain loops anyway — so the path
    /// calls the very same kernels (the same bits) directly, without the
    /// per-layer dynamic dispatch and reference counting that dominate a tiny
    /// network's step (an XOR network trains one sample at a time). One row
    /// takes the fused row kernels (`denseRowForward`, the same bits again).
    @inline(__always)
    private func denseSteps(rows: Int) -> UnsafeMutableBufferPointer<ResolvedDenseStep>? {
        guard !resolvedPlan.isEmpty, rows <= capacity, rows * largestDenseProduct <= ParallelGemm.tinyLimit,
              kernels.isProduction else { return nil }
        return resolvedPlan
    }

    /// Layer i's step on the dense path: its own, or linear for the last
    /// layer when the loss takes the logits.
    @inline(__always)
    private func denseStep(_ resolved: ResolvedDenseStep, last: Bool) -> DenseStep {
        guard last, lastDeferred else { return resolved.step }
        return DenseStep(inputs: resolved.step.inputs, units: resolved.step.units, activation: .linear)
    }

    fileprivate func denseForward(_ x: UnsafePointer<T>, rows: Int) -> UnsafeMutablePointer<T>? {
        guard let plan = denseSteps(rows: rows) else { return nil }
        var input = UnsafeRawPointer(x).assumingMemoryBound(to: Float.self)
        let last = plan.count - 1
        for i in 0...last {
            let resolved = plan[i]
            let step = denseStep(resolved, last: i == last)
            if rows != 1 || !FloatKernels.denseRowForward(step.activation, input, inputs: step.inputs, units: step.units,
                                                          resolved.kernel, resolved.output) {
                step.forward(ProductionKernels(), x: input, z: resolved.output, y: resolved.output, rows: rows,
                             params: resolved.kernel)
            }
            input = UnsafePointer(resolved.output)
        }
        return UnsafeMutableRawPointer(plan[last].output).assumingMemoryBound(to: T.self)
    }

    fileprivate func denseBackward(_ x: UnsafePointer<T>, rows: Int, outputGradient: UnsafeMutablePointer<T>,
                                   inputGradient: UnsafeMutablePointer<T>?) -> Bool {
        guard let plan = denseSteps(rows: rows) else { return false }
        let a = UnsafeMutableRawPointer(gradientA.pointer).assumingMemoryBound(to: Float.self)
        let b = UnsafeMutableRawPointer(gradientB.pointer).assumingMemoryBound(to: Float.self)
        var dy = UnsafeMutableRawPointer(outputGradient).assumingMemoryBound(to: Float.self), spare = a
        let last = plan.count - 1
        for i in stride(from: last, through: 0, by: -1) {
            let resolved = plan[i]
            let input = i == 0 ? UnsafeRawPointer(x).assumingMemoryBound(to: Float.self) : UnsafePointer(plan[i - 1].output)
            let y = UnsafePointer(resolved.output)
            // The dense path's activations need no pre-activation: z is y.
            let step = denseStep(resolved, last: i == last)
            let dx = i > 0 ? spare : inputGradient.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: Float.self) }
            if rows != 1 || !FloatKernels.denseRowBackward(step.activation, input, inputs: step.inputs, units: step.units,
                                                           resolved.kernel, y, dy, dx, resolved.kernelGradient) {
                step.backward(ProductionKernels(), x: input, z: y, y: y, dy: dy, dx: dx, rows: rows,
                              params: resolved.kernel, grads: resolved.kernelGradient)
            }
            if i > 0 {
                dy = spare
                spare = spare == a ? b : a
            }
        }
        return true
    }
}

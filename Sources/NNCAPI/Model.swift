import CNN
import NNCore

// MARK: Lifecycle and construction

@c @implementation
public func nn_model_create(_ input_dim: Int, _ seed: UInt64, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> nn_status {
    guarded {
        let out = try required(out, "out")
        guard input_dim > 0, input_dim <= 1 << 31 else {
            throw APIError.shape("input_dim must be between 1 and 2^31, got \(UInt(bitPattern: input_dim))")
        }
        out.pointee = Handles.register(ModelHandle(try Sequential(inputDim: input_dim, seed: seed)))
    }
}

@c @implementation
public func nn_model_free(_ model: OpaquePointer?) {
    guard let model else { return }
    _ = Handles.release(model)
}

/// nn_dense_options's defaults for `units` outputs.
func denseDefaults(units: Int) -> nn_dense_options {
    var o = nn_dense_options()
    o.struct_size = MemoryLayout<nn_dense_options>.stride
    o.units = units
    o.activation = NN_ACTIVATION_LINEAR
    o.kernel_initializer = NN_INIT_DEFAULT
    o.bias_initializer = NN_INIT_DEFAULT
    o.activation_parameter = .nan
    return o
}

@c @implementation
public func nn_dense_options_init_sized(_ options: UnsafeMutablePointer<nn_dense_options>?, _ size: Int,
                                        _ units: Int) {
    initialize(options, size: size, with: denseDefaults(units: units))
}

@c @implementation
public func nn_dense_options_init(_ options: UnsafeMutablePointer<nn_dense_options>?, _ units: Int) {
    initialize(options, size: nn_dense_options.firstSize, with: denseDefaults(units: units))
}

@c @implementation
public func nn_model_add_dense(_ model: OpaquePointer?, _ units: Int, _ activation: nn_activation) -> nn_status {
    var options = denseDefaults(units: units)
    options.activation = activation
    return nn_model_add_dense_ex(model, &options)
}

@c @implementation
public func nn_model_add_dense_ex(_ model: OpaquePointer?, _ options: UnsafePointer<nn_dense_options>?) -> nn_status {
    guarded(model, .exclusive) { handle in
        let o = try readOptions(try required(options, "options"), defaults: denseDefaults(units: 0))
        guard o.units > 0, o.units <= 1 << 31 else {
            throw APIError.shape("a Dense layer needs between 1 and 2^31 units, got \(UInt(bitPattern: o.units))")
        }
        let regularizer = Regularizer(l1: o.kernel_l1, l2: o.kernel_l2)
        let layer = Dense(
            o.units, activation: try Activation(c: o.activation, parameter: o.activation_parameter),
            kernelInitializer: try Initializer.from(c: o.kernel_initializer, constant: o.kernel_initializer_value) ?? .glorotUniform,
            biasInitializer: try Initializer.from(c: o.bias_initializer, constant: o.bias_initializer_value) ?? .zeros,
            kernelRegularizer: regularizer.isZero && o.kernel_l1 == 0 && o.kernel_l2 == 0 ? nil : regularizer)
        try handle.model.add(layer)
    }
}

@c @implementation
public func nn_model_add_dropout(_ model: OpaquePointer?, _ rate: Double) -> nn_status {
    guarded(model, .exclusive) { try $0.model.add(Dropout(rate)) }
}

@c @implementation
public func nn_model_add_batch_normalization(_ model: OpaquePointer?, _ momentum: Double, _ epsilon: Double) -> nn_status {
    guarded(model, .exclusive) { try $0.model.add(BatchNormalization(momentum: momentum, epsilon: epsilon)) }
}

@c @implementation
public func nn_model_add_activation(_ model: OpaquePointer?, _ activation: nn_activation, _ parameter: Double) -> nn_status {
    guarded(model, .exclusive) { handle in
        try handle.model.add(ActivationLayer(try Activation(c: activation, parameter: parameter)))
    }
}

@c @implementation
public func nn_model_set_loss(_ model: OpaquePointer?, _ loss: nn_loss, _ from_logits: Int32) -> nn_status {
    guarded(model, .exclusive) { handle in
        try handle.model.setLoss(Loss(try Loss.Kind(c: loss), fromLogits: try flagArgument(from_logits, "from_logits")))
    }
}

/// nn_loss_options's defaults for `loss`.
func lossDefaults(_ loss: nn_loss) -> nn_loss_options {
    var o = nn_loss_options()
    o.struct_size = MemoryLayout<nn_loss_options>.stride
    o.loss = loss
    o.huber_delta = 1
    return o
}

@c @implementation
public func nn_loss_options_init_sized(_ options: UnsafeMutablePointer<nn_loss_options>?, _ size: Int, _ loss: nn_loss) {
    initialize(options, size: size, with: lossDefaults(loss))
}

@c @implementation
public func nn_loss_options_init(_ options: UnsafeMutablePointer<nn_loss_options>?, _ loss: nn_loss) {
    initialize(options, size: nn_loss_options.firstSize, with: lossDefaults(loss))
}

@c @implementation
public func nn_model_set_loss_ex(_ model: OpaquePointer?, _ options: UnsafePointer<nn_loss_options>?) -> nn_status {
    guarded(model, .exclusive) { handle in
        let options = try required(options, "options")
        let o = try readOptions(options, defaults: lossDefaults(try leadingField(options, \.loss)))
        try handle.model.setLoss(Loss(try Loss.Kind(c: o.loss), fromLogits: try flagArgument(o.from_logits, "from_logits"),
                                      delta: o.huber_delta))
    }
}

/// nn_optimizer_options's defaults for optimizer `kind` (PyTorch's).
func optimizerDefaults(_ kind: nn_optimizer) throws -> nn_optimizer_options {
    let d = OptimizerOptions.defaults(for: try OptimizerOptions.Kind(c: kind))
    var o = nn_optimizer_options()
    o.struct_size = MemoryLayout<nn_optimizer_options>.stride
    o.kind = kind
    o.learning_rate = d.learningRate
    o.momentum = d.momentum
    o.nesterov = d.nesterov ? 1 : 0
    o.beta1 = d.beta1
    o.beta2 = d.beta2
    o.epsilon = d.epsilon
    o.weight_decay = d.weightDecay
    o.dampening = d.dampening
    o.amsgrad = d.amsgrad ? 1 : 0
    o.alpha = d.alpha
    o.centered = d.centered ? 1 : 0
    o.lr_decay = d.lrDecay
    o.initial_accumulator_value = d.initialAccumulatorValue
    o.eta_minus = d.etaMinus
    o.eta_plus = d.etaPlus
    o.step_size_min = d.stepSizeMin
    o.step_size_max = d.stepSizeMax
    return o   // clipping: 0, off
}

@c @implementation
public func nn_optimizer_options_init_sized(_ options: UnsafeMutablePointer<nn_optimizer_options>?, _ size: Int,
                                            _ kind: nn_optimizer) -> nn_status {
    guarded { initialize(try required(options, "options"), size: size, with: try optimizerDefaults(kind)) }
}

@c @implementation
public func nn_optimizer_options_init(_ options: UnsafeMutablePointer<nn_optimizer_options>?,
                                      _ kind: nn_optimizer) -> nn_status {
    nn_optimizer_options_init_sized(options, nn_optimizer_options.firstSize, kind)
}

@c @implementation
public func nn_model_set_optimizer(_ model: OpaquePointer?, _ options: UnsafePointer<nn_optimizer_options>?) -> nn_status {
    guarded(model, .exclusive) { handle in
        let options = try required(options, "options")
        let o = try readOptions(options, defaults: try optimizerDefaults(try leadingField(options, \.kind)))
        var config = OptimizerOptions(kind: try OptimizerOptions.Kind(c: o.kind), learningRate: o.learning_rate)
        config.momentum = o.momentum
        config.nesterov = try flagArgument(o.nesterov, "nesterov")
        config.beta1 = o.beta1
        config.beta2 = o.beta2
        config.epsilon = o.epsilon
        config.weightDecay = o.weight_decay
        config.dampening = o.dampening
        config.amsgrad = try flagArgument(o.amsgrad, "amsgrad")
        config.alpha = o.alpha
        config.centered = try flagArgument(o.centered, "centered")
        config.lrDecay = o.lr_decay
        config.initialAccumulatorValue = o.initial_accumulator_value
        config.etaMinus = o.eta_minus
        config.etaPlus = o.eta_plus
        config.stepSizeMin = o.step_size_min
        config.stepSizeMax = o.step_size_max
        // 0 disables a clipping option; anything else is validated by the core.
        config.clipValue = o.clip_value == 0 ? nil : o.clip_value
        config.clipNorm = o.clip_norm == 0 ? nil : o.clip_norm
        config.globalClipNorm = o.global_clip_norm == 0 ? nil : o.global_clip_norm
        try handle.model.setOptimizer(config)
    }
}

@c @implementation
public func nn_model_add_metric(_ model: OpaquePointer?, _ metric: nn_metric) -> nn_status {
    guarded(model, .exclusive) {
        try $0.model.addMetric(Metric(try Metric.Kind(c: metric)))
    }
}

@c @implementation
public func nn_model_add_metric_ex(_ model: OpaquePointer?, _ metric: nn_metric, _ parameter: Double) -> nn_status {
    guarded(model, .exclusive) { handle in
        try handle.model.addMetric(Metric(try Metric.Kind(c: metric), parameter: parameter.isNaN ? nil : parameter))
    }
}

@c @implementation
public func nn_model_clear_metrics(_ model: OpaquePointer?) -> nn_status {
    guarded(model, .exclusive) { $0.model.clearMetrics() }
}

/// nn_schedule_options's defaults for schedule `kind`.
func scheduleDefaults(_ kind: nn_schedule) throws -> nn_schedule_options {
    guard kind.rawValue <= NN_SCHEDULE_REDUCE_ON_PLATEAU.rawValue else {
        throw APIError.invalid("unknown schedule \(kind.rawValue); valid values are 0 (none) to 4 (reduce on plateau)")
    }
    let plateau = LearningRateSchedule.ReduceOnPlateau()
    var o = nn_schedule_options()
    o.struct_size = MemoryLayout<nn_schedule_options>.stride
    o.kind = kind
    o.step_size = 10
    o.gamma = kind == NN_SCHEDULE_EXPONENTIAL ? 0.95 : 0.1
    o.t_max = 50
    o.eta_min = 0
    o.monitor = UnsafeRawPointer(defaultMonitor.utf8Start).assumingMemoryBound(to: CChar.self)
    o.factor = plateau.factor
    o.patience = plateau.patience
    o.min_delta = plateau.minDelta
    o.cooldown = plateau.cooldown
    o.min_lr = plateau.minLR
    o.mode = NN_MONITOR_AUTO
    return o
}

@c @implementation
public func nn_schedule_options_init_sized(_ options: UnsafeMutablePointer<nn_schedule_options>?, _ size: Int,
                                           _ kind: nn_schedule) -> nn_status {
    guarded { initialize(try required(options, "options"), size: size, with: try scheduleDefaults(kind)) }
}

@c @implementation
public func nn_schedule_options_init(_ options: UnsafeMutablePointer<nn_schedule_options>?, _ kind: nn_schedule) -> nn_status {
    nn_schedule_options_init_sized(options, nn_schedule_options.firstSize, kind)
}

/// The default monitored log, as a static C string.
let defaultMonitor: StaticString = "val_loss"

@c @implementation
public func nn_model_set_lr_schedule(_ model: OpaquePointer?, _ options: UnsafePointer<nn_schedule_options>?) -> nn_status {
    guarded(model, .exclusive) { handle in
        guard let options else { return try handle.model.setLearningRateSchedule(nil) }
        let o = try readOptions(options, defaults: try scheduleDefaults(try leadingField(options, \.kind)))
        let schedule: LearningRateSchedule?
        switch o.kind {
        case NN_SCHEDULE_NONE: schedule = nil
        case NN_SCHEDULE_STEP: schedule = .step(stepSize: try countArgument(o.step_size, "step_size"), gamma: o.gamma)
        case NN_SCHEDULE_EXPONENTIAL: schedule = .exponential(gamma: o.gamma)
        case NN_SCHEDULE_COSINE: schedule = .cosine(tMax: try countArgument(o.t_max, "t_max"), etaMin: o.eta_min)
        case NN_SCHEDULE_REDUCE_ON_PLATEAU:
            schedule = .reduceOnPlateau(LearningRateSchedule.ReduceOnPlateau(
                monitor: try stringArgument(o.monitor, "monitor"), factor: o.factor, patience: try countArgument(o.patience, "patience"),
                minDelta: o.min_delta, cooldown: try countArgument(o.cooldown, "cooldown"), minLR: o.min_lr,
                mode: try MonitorMode(c: o.mode)))
        default:
            throw APIError.invalid("unknown schedule \(o.kind.rawValue); valid values are 0 (none) to 4 (reduce on plateau)")
        }
        try handle.model.setLearningRateSchedule(schedule)
    }
}

@c @implementation
public func nn_model_learning_rate(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Double>?) -> nn_status {
    guarded(model, .shared) { handle in
        let out = try required(out, "out")
        guard let rate = handle.model.learningRate else {
            throw APIError(status: NN_ERROR_INVALID_STATE, message: "no optimizer is set, so there is no learning rate")
        }
        out.pointee = rate
    }
}

@c @implementation
public func nn_model_set_learning_rate(_ model: OpaquePointer?, _ learning_rate: Double) -> nn_status {
    guarded(model, .exclusive) { handle in
        try handle.model.setLearningRate(learning_rate)
    }
}

@c @implementation
public func nn_model_optimizer_iterations(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded(model, .shared) { handle in
        let out = try required(out, "out")
        guard let steps = handle.model.optimizerIterations else {
            throw APIError(status: NN_ERROR_INVALID_STATE, message: "no optimizer is set, so it has made no iterations")
        }
        out.pointee = steps
    }
}

@c @implementation
public func nn_model_metric_count(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded(model, .shared) { handle in
        try required(out, "out").pointee = handle.model.metricNames.count
    }
}

@c @implementation
public func nn_model_metric_name(_ model: OpaquePointer?, _ index: Int,
                                 _ out: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> nn_status {
    guarded(model, .shared) { handle in
        let out = try required(out, "out")
        let names = handle.model.metricNames
        try checkIndex(index, names.count, "metric", "values (loss and metrics)")
        out.pointee = handle.cString(names[index])
    }
}

// MARK: Inspection

@c @implementation
public func nn_model_input_dim(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded(model, .shared) { h in try required(out, "out").pointee = h.model.inputDim }
}

@c @implementation
public func nn_model_output_dim(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded(model, .shared) { h in try required(out, "out").pointee = h.model.outputDim }
}

@c @implementation
public func nn_model_layer_count(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded(model, .shared) { h in try required(out, "out").pointee = h.model.layers.count }
}

@c @implementation
public func nn_model_layer_kind(_ model: OpaquePointer?, _ index: Int, _ out: UnsafeMutablePointer<nn_layer_kind>?) -> nn_status {
    guarded(model, .shared) { h in
        let out = try required(out, "out")
        try checkIndex(index, h.model.layers.count, "layer", "layers")
        guard let code = h.model.layers[index].layerKindCode else {
            throw APIError(status: NN_ERROR_INTERNAL, message: "layer \(index) has a kind the C API does not know")
        }
        out.pointee = nn_layer_kind(rawValue: code)
    }
}

@c @implementation
public func nn_model_layer_info(_ model: OpaquePointer?, _ index: Int, _ units: UnsafeMutablePointer<Int>?,
                                _ activation: UnsafeMutablePointer<nn_activation>?) -> nn_status {
    guarded(model, .shared) { h in
        try checkIndex(index, h.model.layers.count, "layer", "layers")
        units?.pointee = h.model.outputDim(ofLayer: index)
        activation?.pointee = h.model.layers[index].activation.c
    }
}

@c @implementation
public func nn_model_parameter_count(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded(model, .shared) { h in try required(out, "out").pointee = h.model.parameterCount }
}

@c @implementation
public func nn_model_summary(_ model: OpaquePointer?, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                             _ length: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded(model, .shared) { h in
        try writeText(h.model.summary(), buffer, capacity, length)
    }
}

// MARK: Weights

@c @implementation
public func nn_model_weight_count(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded(model, .shared) { h in try required(out, "out").pointee = h.model.weightShapes.count }
}

@c @implementation
public func nn_model_weight_info(_ model: OpaquePointer?, _ index: Int, _ name: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                                 _ trainable: UnsafeMutablePointer<Int32>?) -> nn_status {
    guarded(model, .shared) { h in
        let specs = h.model.weightSpecs
        try checkIndex(index, specs.count, "weight", "weight arrays")
        name?.pointee = h.cString(specs[index].name)
        trainable?.pointee = specs[index].trainable ? 1 : 0
    }
}

@c @implementation
public func nn_model_weight_shape(_ model: OpaquePointer?, _ index: Int, _ ndim: UnsafeMutablePointer<Int>?,
                                  _ dims: UnsafeMutablePointer<Int>?, _ dims_capacity: Int) -> nn_status {
    guarded(model, .shared) { h in
        let ndim = try required(ndim, "ndim"), dims = try required(dims, "dims")
        let shapes = h.model.weightShapes
        try checkIndex(index, shapes.count, "weight", "weight arrays")
        let shape = shapes[index]
        guard bufferCapacity(dims_capacity) >= shape.count else {
            throw APIError.shape("dims holds \(dims_capacity) entries but weight \(index) has \(shape.count) dimensions")
        }
        for (i, d) in shape.enumerated() { dims[i] = d }
        ndim.pointee = shape.count
    }
}

@c @implementation
public func nn_model_get_weight(_ model: OpaquePointer?, _ index: Int, _ out: UnsafeMutablePointer<Float>?,
                                _ count: Int) -> nn_status {
    guarded(model, .shared) { h in
        let out = try required(out, "out")
        try checkWeightCount(h, index, count)
        try h.model.copyWeight(index, into: UnsafeMutableBufferPointer(start: out, count: count))
    }
}

@c @implementation
public func nn_model_set_weight(_ model: OpaquePointer?, _ index: Int, _ values: UnsafePointer<Float>?,
                                _ count: Int) -> nn_status {
    guarded(model, .exclusive) { h in
        let values = try required(values, "values")
        try checkWeightCount(h, index, count)
        try h.model.setWeight(index, UnsafeBufferPointer(start: values, count: count))
    }
}

/// Checks a weight index and that `count` is that array's element count.
private func checkWeightCount(_ h: ModelHandle, _ index: Int, _ count: Int) throws {
    let shapes = h.model.weightShapes
    try checkIndex(index, shapes.count, "weight", "weight arrays")
    let expected = shapes[index].reduce(1, *)
    guard count == expected else {
        throw APIError.shape("weight \(index) has shape \(shapes[index]) (\(expected) values), got count \(unsigned(count))")
    }
}

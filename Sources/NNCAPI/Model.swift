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

@c @implementation
public func nn_dense_options_init(_ options: UnsafeMutablePointer<nn_dense_options>?, _ units: Int) {
    guard let options else { return }
    options.pointee = nn_dense_options(
        struct_size: MemoryLayout<nn_dense_options>.stride, units: units,
        activation: NN_ACTIVATION_LINEAR, kernel_initializer: NN_INIT_DEFAULT, bias_initializer: NN_INIT_DEFAULT,
        activation_parameter: .nan, kernel_initializer_value: 0, bias_initializer_value: 0, kernel_l1: 0, kernel_l2: 0)
}

@c @implementation
public func nn_model_add_dense(_ model: OpaquePointer?, _ units: Int, _ activation: nn_activation) -> nn_status {
    var options = nn_dense_options()
    nn_dense_options_init(&options, units)
    options.activation = activation
    return nn_model_add_dense_ex(model, &options)
}

@c @implementation
public func nn_model_add_dense_ex(_ model: OpaquePointer?, _ options: UnsafePointer<nn_dense_options>?) -> nn_status {
    guarded {
        let handle = try Handles.model(model)
        let o = try readOptions(try required(options, "options"), "nn_dense_options")
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
    guarded { try Handles.model(model).model.add(Dropout(rate)) }
}

@c @implementation
public func nn_model_add_batch_normalization(_ model: OpaquePointer?, _ momentum: Double, _ epsilon: Double) -> nn_status {
    guarded { try Handles.model(model).model.add(BatchNormalization(momentum: momentum, epsilon: epsilon)) }
}

@c @implementation
public func nn_model_add_activation(_ model: OpaquePointer?, _ activation: nn_activation, _ parameter: Double) -> nn_status {
    guarded {
        let handle = try Handles.model(model)
        try handle.model.add(ActivationLayer(try Activation(c: activation, parameter: parameter)))
    }
}

@c @implementation
public func nn_model_set_loss(_ model: OpaquePointer?, _ loss: nn_loss, _ from_logits: Int32) -> nn_status {
    guarded {
        let handle = try Handles.model(model)
        try handle.model.setLoss(Loss(try Loss.Kind(c: loss), fromLogits: try flag(from_logits, "from_logits")))
    }
}

@c @implementation
public func nn_loss_options_init(_ options: UnsafeMutablePointer<nn_loss_options>?, _ loss: nn_loss) {
    guard let options else { return }
    options.pointee = nn_loss_options(struct_size: MemoryLayout<nn_loss_options>.stride, loss: loss,
                                      from_logits: 0, huber_delta: 1)
}

@c @implementation
public func nn_model_set_loss_ex(_ model: OpaquePointer?, _ options: UnsafePointer<nn_loss_options>?) -> nn_status {
    guarded {
        let handle = try Handles.model(model)
        let o = try readOptions(try required(options, "options"), "nn_loss_options")
        try handle.model.setLoss(Loss(try Loss.Kind(c: o.loss), fromLogits: try flag(o.from_logits, "from_logits"),
                                      delta: o.huber_delta))
    }
}

@c @implementation
public func nn_optimizer_options_init(_ options: UnsafeMutablePointer<nn_optimizer_options>?,
                                      _ kind: nn_optimizer) -> nn_status {
    guarded {
        let options = try required(options, "options")
        let d = OptimizerOptions.defaults(for: try OptimizerOptions.Kind(c: kind))
        options.pointee = nn_optimizer_options(
            struct_size: MemoryLayout<nn_optimizer_options>.stride, kind: kind,
            learning_rate: d.learningRate, momentum: d.momentum, nesterov: d.nesterov ? 1 : 0,
            beta1: d.beta1, beta2: d.beta2, epsilon: d.epsilon, weight_decay: d.weightDecay,
            dampening: d.dampening, amsgrad: d.amsgrad ? 1 : 0, alpha: d.alpha, centered: d.centered ? 1 : 0,
            lr_decay: d.lrDecay, initial_accumulator_value: d.initialAccumulatorValue,
            eta_minus: d.etaMinus, eta_plus: d.etaPlus, step_size_min: d.stepSizeMin, step_size_max: d.stepSizeMax,
            clip_value: 0, clip_norm: 0, global_clip_norm: 0)
    }
}

@c @implementation
public func nn_model_set_optimizer(_ model: OpaquePointer?, _ options: UnsafePointer<nn_optimizer_options>?) -> nn_status {
    guarded {
        let handle = try Handles.model(model)
        let o = try readOptions(try required(options, "options"), "nn_optimizer_options")
        var config = OptimizerOptions(kind: try OptimizerOptions.Kind(c: o.kind), learningRate: o.learning_rate)
        config.momentum = o.momentum
        config.nesterov = try flag(o.nesterov, "nesterov")
        config.beta1 = o.beta1
        config.beta2 = o.beta2
        config.epsilon = o.epsilon
        config.weightDecay = o.weight_decay
        config.dampening = o.dampening
        config.amsgrad = try flag(o.amsgrad, "amsgrad")
        config.alpha = o.alpha
        config.centered = try flag(o.centered, "centered")
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
    guarded {
        try Handles.model(model).model.addMetric(Metric(try Metric.Kind(c: metric)))
    }
}

@c @implementation
public func nn_model_add_metric_ex(_ model: OpaquePointer?, _ metric: nn_metric, _ parameter: Double) -> nn_status {
    guarded {
        let handle = try Handles.model(model)
        try handle.model.addMetric(Metric(try Metric.Kind(c: metric), parameter: parameter.isNaN ? nil : parameter))
    }
}

@c @implementation
public func nn_model_clear_metrics(_ model: OpaquePointer?) -> nn_status {
    guarded { try Handles.model(model).model.clearMetrics() }
}

@c @implementation
public func nn_schedule_options_init(_ options: UnsafeMutablePointer<nn_schedule_options>?, _ kind: nn_schedule) -> nn_status {
    guarded {
        let options = try required(options, "options")
        guard kind.rawValue <= NN_SCHEDULE_REDUCE_ON_PLATEAU.rawValue else {
            throw APIError.invalid("unknown schedule \(kind.rawValue); valid values are 0 (none) to 4 (reduce on plateau)")
        }
        let plateau = LearningRateSchedule.ReduceOnPlateau()
        options.pointee = nn_schedule_options(
            struct_size: MemoryLayout<nn_schedule_options>.stride, kind: kind, step_size: 10,
            gamma: kind == NN_SCHEDULE_EXPONENTIAL ? 0.95 : 0.1, t_max: 50, eta_min: 0,
            monitor: UnsafeRawPointer(defaultMonitor.utf8Start).assumingMemoryBound(to: CChar.self),
            factor: plateau.factor, patience: plateau.patience, min_delta: plateau.minDelta,
            cooldown: plateau.cooldown, min_lr: plateau.minLR, mode: NN_MONITOR_AUTO)
    }
}

/// The default monitored log, as a static C string.
let defaultMonitor: StaticString = "val_loss"

@c @implementation
public func nn_model_set_lr_schedule(_ model: OpaquePointer?, _ options: UnsafePointer<nn_schedule_options>?) -> nn_status {
    guarded {
        let handle = try Handles.model(model)
        guard let options else { return try handle.model.setLearningRateSchedule(nil) }
        let o = try readOptions(options, "nn_schedule_options")
        let schedule: LearningRateSchedule?
        switch o.kind {
        case NN_SCHEDULE_NONE: schedule = nil
        case NN_SCHEDULE_STEP: schedule = .step(stepSize: try count(o.step_size, "step_size"), gamma: o.gamma)
        case NN_SCHEDULE_EXPONENTIAL: schedule = .exponential(gamma: o.gamma)
        case NN_SCHEDULE_COSINE: schedule = .cosine(tMax: try count(o.t_max, "t_max"), etaMin: o.eta_min)
        case NN_SCHEDULE_REDUCE_ON_PLATEAU:
            schedule = .reduceOnPlateau(LearningRateSchedule.ReduceOnPlateau(
                monitor: try string(o.monitor, "monitor"), factor: o.factor, patience: try count(o.patience, "patience"),
                minDelta: o.min_delta, cooldown: try count(o.cooldown, "cooldown"), minLR: o.min_lr,
                mode: try MonitorMode(c: o.mode)))
        default:
            throw APIError.invalid("unknown schedule \(o.kind.rawValue); valid values are 0 (none) to 4 (reduce on plateau)")
        }
        try handle.model.setLearningRateSchedule(schedule)
    }
}

@c @implementation
public func nn_model_learning_rate(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Double>?) -> nn_status {
    guarded {
        let handle = try Handles.model(model)
        let out = try required(out, "out")
        guard let rate = handle.model.learningRate else {
            throw APIError(status: NN_ERROR_INVALID_STATE, message: "no optimizer is set, so there is no learning rate")
        }
        out.pointee = rate
    }
}

@c @implementation
public func nn_model_metric_count(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded {
        let handle = try Handles.model(model)
        try required(out, "out").pointee = handle.model.metricNames.count
    }
}

@c @implementation
public func nn_model_metric_name(_ model: OpaquePointer?, _ index: Int,
                                 _ out: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> nn_status {
    guarded {
        let handle = try Handles.model(model)
        let out = try required(out, "out")
        let names = handle.model.metricNames
        try checkIndex(index, names.count, "metric", "values (loss and metrics)")
        out.pointee = handle.cString(names[index])
    }
}

// MARK: Inspection

@c @implementation
public func nn_model_input_dim(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded { let h = try Handles.model(model); try required(out, "out").pointee = h.model.inputDim }
}

@c @implementation
public func nn_model_output_dim(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded { let h = try Handles.model(model); try required(out, "out").pointee = h.model.outputDim }
}

@c @implementation
public func nn_model_layer_count(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded { let h = try Handles.model(model); try required(out, "out").pointee = h.model.layers.count }
}

@c @implementation
public func nn_model_layer_kind(_ model: OpaquePointer?, _ index: Int, _ out: UnsafeMutablePointer<nn_layer_kind>?) -> nn_status {
    guarded {
        let h = try Handles.model(model)
        let out = try required(out, "out")
        try checkIndex(index, h.model.layers.count, "layer", "layers")
        switch h.model.layers[index] {
        case is Dense: out.pointee = NN_LAYER_DENSE
        case is Dropout: out.pointee = NN_LAYER_DROPOUT
        case is BatchNormalization: out.pointee = NN_LAYER_BATCH_NORMALIZATION
        case is ActivationLayer: out.pointee = NN_LAYER_ACTIVATION
        default: throw APIError(status: NN_ERROR_INTERNAL, message: "layer \(index) has a kind the C API does not know")
        }
    }
}

@c @implementation
public func nn_model_layer_info(_ model: OpaquePointer?, _ index: Int, _ units: UnsafeMutablePointer<Int>?,
                                _ activation: UnsafeMutablePointer<nn_activation>?) -> nn_status {
    guarded {
        let h = try Handles.model(model)
        try checkIndex(index, h.model.layers.count, "layer", "layers")
        units?.pointee = h.model.outputDim(ofLayer: index)
        activation?.pointee = h.model.layers[index].activation.c
    }
}

@c @implementation
public func nn_model_parameter_count(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded { let h = try Handles.model(model); try required(out, "out").pointee = h.model.parameterCount }
}

@c @implementation
public func nn_model_summary(_ model: OpaquePointer?, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                             _ length: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded {
        let h = try Handles.model(model)
        try writeText(h.model.summary(), buffer, capacity, length)
    }
}

// MARK: Weights

@c @implementation
public func nn_model_weight_count(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded { let h = try Handles.model(model); try required(out, "out").pointee = h.model.weightShapes.count }
}

@c @implementation
public func nn_model_weight_info(_ model: OpaquePointer?, _ index: Int, _ name: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                                 _ trainable: UnsafeMutablePointer<Int32>?) -> nn_status {
    guarded {
        let h = try Handles.model(model)
        let specs = h.model.weightSpecs
        try checkIndex(index, specs.count, "weight", "weight arrays")
        name?.pointee = h.cString(specs[index].name)
        trainable?.pointee = specs[index].trainable ? 1 : 0
    }
}

@c @implementation
public func nn_model_weight_shape(_ model: OpaquePointer?, _ index: Int, _ ndim: UnsafeMutablePointer<Int>?,
                                  _ dims: UnsafeMutablePointer<Int>?, _ dims_capacity: Int) -> nn_status {
    guarded {
        let h = try Handles.model(model)
        let ndim = try required(ndim, "ndim"), dims = try required(dims, "dims")
        let shapes = h.model.weightShapes
        try checkIndex(index, shapes.count, "weight", "weight arrays")
        let shape = shapes[index]
        guard capacity(dims_capacity) >= shape.count else {
            throw APIError.shape("dims holds \(dims_capacity) entries but weight \(index) has \(shape.count) dimensions")
        }
        for (i, d) in shape.enumerated() { dims[i] = d }
        ndim.pointee = shape.count
    }
}

@c @implementation
public func nn_model_get_weight(_ model: OpaquePointer?, _ index: Int, _ out: UnsafeMutablePointer<Float>?,
                                _ count: Int) -> nn_status {
    guarded {
        let h = try Handles.model(model)
        let out = try required(out, "out")
        try checkWeightCount(h, index, count)
        try h.model.copyWeight(index, into: UnsafeMutableBufferPointer(start: out, count: count))
    }
}

@c @implementation
public func nn_model_set_weight(_ model: OpaquePointer?, _ index: Int, _ values: UnsafePointer<Float>?,
                                _ count: Int) -> nn_status {
    guarded {
        let h = try Handles.model(model)
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

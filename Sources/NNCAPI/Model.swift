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
        activation: NN_ACTIVATION_LINEAR, kernel_initializer: NN_INIT_DEFAULT, bias_initializer: NN_INIT_DEFAULT)
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
        let layer = Dense(o.units, activation: try Activation(c: o.activation),
                          kernelInitializer: try Initializer.from(c: o.kernel_initializer) ?? .glorotUniform,
                          biasInitializer: try Initializer.from(c: o.bias_initializer) ?? .zeros)
        try handle.model.add(layer)
    }
}

@c @implementation
public func nn_model_set_loss(_ model: OpaquePointer?, _ loss: nn_loss, _ from_logits: Int32) -> nn_status {
    guarded {
        let handle = try Handles.model(model)
        handle.model.setLoss(Loss(try Loss.Kind(c: loss), fromLogits: try flag(from_logits, "from_logits")))
    }
}

@c @implementation
public func nn_optimizer_options_init(_ options: UnsafeMutablePointer<nn_optimizer_options>?,
                                      _ kind: nn_optimizer) -> nn_status {
    guarded {
        let options = try required(options, "options")
        let defaults: OptimizerOptions = try OptimizerOptions.Kind(c: kind) == .sgd ? .sgd() : .adam()
        options.pointee = nn_optimizer_options(
            struct_size: MemoryLayout<nn_optimizer_options>.stride, kind: kind,
            learning_rate: defaults.learningRate, momentum: defaults.momentum,
            nesterov: defaults.nesterov ? 1 : 0, beta1: defaults.beta1, beta2: defaults.beta2,
            epsilon: defaults.epsilon, weight_decay: defaults.weightDecay)
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
        try handle.model.setOptimizer(config)
    }
}

@c @implementation
public func nn_model_add_metric(_ model: OpaquePointer?, _ metric: nn_metric) -> nn_status {
    guarded {
        let handle = try Handles.model(model)
        handle.model.addMetric(try Metric(c: metric))
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
        if capacity > 0 { _ = try required(buffer, "buffer") }
        let text = Array(h.model.summary().utf8)
        if let buffer, capacity != 0 {
            let n = min(text.count, NNCAPI.capacity(capacity) - 1)
            for i in 0..<n { buffer[i] = CChar(bitPattern: text[i]) }
            buffer[n] = 0
        }
        length?.pointee = text.count
    }
}

// MARK: Weights

@c @implementation
public func nn_model_weight_count(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded { let h = try Handles.model(model); try required(out, "out").pointee = h.model.weightShapes.count }
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

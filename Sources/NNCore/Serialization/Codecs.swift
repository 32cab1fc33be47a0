/// The JSON forms of layers, optimizer options and learning-rate schedules
/// in a model file's metadata (names as Keras and PyTorch spell them).
/// Every decoder checks types and ranges and throws `NNError.invalidFile`
/// naming the field; values are validated again by the model when applied.

// MARK: Layers

enum LayerCodec {
    static func encode(_ layer: any Layer) -> JSONValue {
        switch layer {
        case let dense as Dense:
            var object: [String: JSONValue] = [
                "kind": .string("Dense"), "units": .integer(dense.units),
                "activation": activation(dense.activation),
                "kernel_initializer": initializer(dense.kernelInitializer),
                "bias_initializer": initializer(dense.biasInitializer),
                "kernel_regularizer": .null,
            ]
            if let r = dense.kernelRegularizer { object["kernel_regularizer"] = .object(["l1": .number(r.l1), "l2": .number(r.l2)]) }
            return .object(object)
        case let dropout as Dropout:
            return .object(["kind": .string("Dropout"), "rate": .number(dropout.rate)])
        case let norm as BatchNormalization:
            return .object(["kind": .string("BatchNormalization"), "momentum": .number(norm.momentum),
                            "epsilon": .number(norm.epsilon)])
        case let act as ActivationLayer:
            return .object(["kind": .string("Activation"), "activation": activation(act.activation)])
        default:
            return .object(["kind": .string(layer.kindName)])
        }
    }

    static func decode(_ field: Field) throws -> any Layer {
        let kind = try field.string("kind")
        switch kind {
        case "Dense":
            let units = try field.int("units", 1...(1 << 31))
            var regularizer: Regularizer? = nil
            if let r = try field.optional("kernel_regularizer") {
                regularizer = Regularizer(l1: try r.double("l1"), l2: try r.double("l2"))
                try inFile(field.path) { try regularizer!.validate() }
            }
            let dense = Dense(units, activation: try activation(field.member("activation")),
                              kernelInitializer: try initializer(field.member("kernel_initializer")),
                              biasInitializer: try initializer(field.member("bias_initializer")),
                              kernelRegularizer: regularizer)
            return dense
        case "Dropout":
            return Dropout(try field.double("rate"))
        case "BatchNormalization":
            return BatchNormalization(momentum: try field.double("momentum"), epsilon: try field.double("epsilon"))
        case "Activation":
            return ActivationLayer(try activation(field.member("activation")))
        default:
            throw NNError.invalidFile(
                "\(field.path): unknown layer kind \"\(kind)\"; this libnn (\(ModelFile.libraryVersion)) reads "
                + "Dense, Dropout, BatchNormalization and Activation")
        }
    }

    /// The number of weights (parameters and statistics) `layer` has on
    /// `inputDim`-wide rows, and whether counting overflowed.
    static func weightCount(_ layer: any Layer, inputDim: Int) -> (Int, Bool) {
        switch layer {
        case let dense as Dense:
            let (kernel, o1) = inputDim.multipliedReportingOverflow(by: dense.units)
            let (total, o2) = kernel.addingReportingOverflow(dense.units)
            return (total, o1 || o2)
        case is BatchNormalization:
            return inputDim.multipliedReportingOverflow(by: 4)
        default:
            return (0, false)
        }
    }

    private static func activation(_ a: Activation) -> JSONValue {
        .object(["name": .string(a.name), "parameter": a.parameter.map { .number($0) } ?? .null])
    }

    private static func activation(_ field: Field) throws -> Activation {
        let name = try field.string("name")
        guard var a = Activation(name: name) else {
            throw NNError.invalidFile("\(field.path): unknown activation \"\(name)\"")
        }
        if let p = try field.optional("parameter") {
            let value = try p.asDouble()
            switch a {
            case .leakyRelu: a = .leakyRelu(negativeSlope: value)
            case .elu: a = .elu(alpha: value)
            default: throw NNError.invalidFile("\(field.path): \(name) takes no parameter")
            }
        }
        try inFile(field.path) { try a.validate() }
        return a
    }

    private static func initializer(_ i: Initializer) -> JSONValue {
        var value = JSONValue.null
        if case .constant(let v) = i { value = .number(v) }
        return .object(["name": .string(i.name), "value": value])
    }

    private static func initializer(_ field: Field) throws -> Initializer {
        let name = try field.string("name")
        let value = try field.optional("value").map { try $0.asDouble() } ?? 0
        guard let i = Initializer(name: name, value: value) else {
            throw NNError.invalidFile("\(field.path): unknown initializer \"\(name)\"")
        }
        try inFile(field.path) { try i.validate() }
        return i
    }
}

// MARK: Optimizers

enum OptimizerCodec {
    static func encode(_ o: OptimizerOptions) -> JSONValue {
        func optional(_ v: Double?) -> JSONValue { v.map { .number($0) } ?? .null }
        return .object([
            "kind": .string(o.kind.rawValue), "learning_rate": .number(o.learningRate),
            "momentum": .number(o.momentum), "dampening": .number(o.dampening), "nesterov": .bool(o.nesterov),
            "beta1": .number(o.beta1), "beta2": .number(o.beta2), "epsilon": .number(o.epsilon),
            "weight_decay": .number(o.weightDecay), "amsgrad": .bool(o.amsgrad), "alpha": .number(o.alpha),
            "centered": .bool(o.centered), "lr_decay": .number(o.lrDecay),
            "initial_accumulator_value": .number(o.initialAccumulatorValue),
            "eta_minus": .number(o.etaMinus), "eta_plus": .number(o.etaPlus),
            "step_size_min": .number(o.stepSizeMin), "step_size_max": .number(o.stepSizeMax),
            "clipvalue": optional(o.clipValue), "clipnorm": optional(o.clipNorm),
            "global_clipnorm": optional(o.globalClipNorm),
        ])
    }

    static func decode(_ field: Field) throws -> OptimizerOptions {
        let kindName = try field.string("kind")
        guard let kind = OptimizerOptions.Kind(rawValue: kindName) else {
            throw NNError.invalidFile("\(field.path): unknown optimizer \"\(kindName)\"")
        }
        var o = OptimizerOptions(kind: kind, learningRate: try field.double("learning_rate"))
        o.momentum = try field.double("momentum")
        o.dampening = try field.double("dampening")
        o.nesterov = try field.bool("nesterov")
        o.beta1 = try field.double("beta1")
        o.beta2 = try field.double("beta2")
        o.epsilon = try field.double("epsilon")
        o.weightDecay = try field.double("weight_decay")
        o.amsgrad = try field.bool("amsgrad")
        o.alpha = try field.double("alpha")
        o.centered = try field.bool("centered")
        o.lrDecay = try field.double("lr_decay")
        o.initialAccumulatorValue = try field.double("initial_accumulator_value")
        o.etaMinus = try field.double("eta_minus")
        o.etaPlus = try field.double("eta_plus")
        o.stepSizeMin = try field.double("step_size_min")
        o.stepSizeMax = try field.double("step_size_max")
        o.clipValue = try field.optional("clipvalue").map { try $0.asDouble() }
        o.clipNorm = try field.optional("clipnorm").map { try $0.asDouble() }
        o.globalClipNorm = try field.optional("global_clipnorm").map { try $0.asDouble() }
        try inFile(field.path) { try o.validate() }
        return o
    }
}

// MARK: Learning-rate schedules

enum ScheduleCodec {
    static func encode(_ s: LearningRateSchedule) -> JSONValue {
        switch s {
        case .step(let stepSize, let gamma):
            return .object(["kind": .string("step"), "step_size": .integer(stepSize), "gamma": .number(gamma)])
        case .exponential(let gamma):
            return .object(["kind": .string("exponential"), "gamma": .number(gamma)])
        case .cosine(let tMax, let etaMin):
            return .object(["kind": .string("cosine"), "t_max": .integer(tMax), "eta_min": .number(etaMin)])
        case .reduceOnPlateau(let p):
            return .object([
                "kind": .string("reduce_on_plateau"), "monitor": .string(p.monitor), "factor": .number(p.factor),
                "patience": .integer(p.patience), "min_delta": .number(p.minDelta), "cooldown": .integer(p.cooldown),
                "min_lr": .number(p.minLR), "mode": .string(p.mode.rawValue),
            ])
        }
    }

    static func decode(_ field: Field) throws -> LearningRateSchedule {
        let kind = try field.string("kind")
        let schedule: LearningRateSchedule
        let count = 0...Int(Int32.max)
        switch kind {
        case "step":
            schedule = .step(stepSize: try field.int("step_size", count), gamma: try field.double("gamma"))
        case "exponential":
            schedule = .exponential(gamma: try field.double("gamma"))
        case "cosine":
            schedule = .cosine(tMax: try field.int("t_max", count), etaMin: try field.double("eta_min"))
        case "reduce_on_plateau":
            let modeName = try field.string("mode")
            guard let mode = MonitorMode(rawValue: modeName) else {
                throw NNError.invalidFile("\(field.path): unknown mode \"\(modeName)\"")
            }
            schedule = .reduceOnPlateau(.init(
                monitor: try field.string("monitor"), factor: try field.double("factor"),
                patience: try field.int("patience", count), minDelta: try field.double("min_delta"),
                cooldown: try field.int("cooldown", count), minLR: try field.double("min_lr"), mode: mode))
        default:
            throw NNError.invalidFile("\(field.path): unknown schedule \"\(kind)\"")
        }
        try inFile(field.path) { try schedule.validate() }
        return schedule
    }
}

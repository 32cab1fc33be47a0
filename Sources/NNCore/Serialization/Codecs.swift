/// The JSON forms of optimizer options and learning-rate schedules
/// in a model file's metadata (names as Keras and PyTorch spell them).
/// Every decoder checks types and ranges and throws `NNError.invalidFile`
/// naming the field; values are validated again by the model when applied.

// (A layer's JSON is written and read by the layer itself: see
// `LayerRegistry` and `RegisteredLayer`.)

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

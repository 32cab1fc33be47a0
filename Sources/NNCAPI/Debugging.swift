import CNN
import NNCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// MARK: Seeing inside (see nn.h, "Seeing inside")

/// nn_gradient_check_options's defaults.
func gradientCheckDefaults() -> nn_gradient_check_options {
    var o = nn_gradient_check_options()
    o.struct_size = MemoryLayout<nn_gradient_check_options>.stride
    o.max_checks_per_array = 64
    return o
}

@c @implementation
public func nn_gradient_check_options_init_sized(_ options: UnsafeMutablePointer<nn_gradient_check_options>?,
                                                 _ size: Int) {
    initialize(options, size: size, with: gradientCheckDefaults())
}

@c @implementation
public func nn_gradient_check_options_init(_ options: UnsafeMutablePointer<nn_gradient_check_options>?) {
    initialize(options, size: nn_gradient_check_options.firstSize, with: gradientCheckDefaults())
}

@c @implementation
public func nn_model_gradient_check(_ model: OpaquePointer?, _ x: UnsafePointer<Float>?, _ y: UnsafePointer<Float>?,
                                    _ rows: Int, _ x_cols: Int, _ y_cols: Int,
                                    _ options: UnsafePointer<nn_gradient_check_options>?,
                                    _ results: UnsafeMutablePointer<nn_gradient_check_result>?, _ capacity: Int,
                                    _ count: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded(model, .exclusive) { h in
        let count = try required(count, "count")
        let o = try readOptions(options, or: gradientCheckDefaults())
        if capacity != 0 { _ = try required(results, "results") }
        guard o.epsilon.isFinite, o.epsilon >= 0 else {
            throw APIError.invalid("epsilon must be a finite number >= 0 (0: the default), got \(o.epsilon)")
        }
        guard o.max_checks_per_array >= 0 else {
            throw APIError.invalid("max_checks_per_array \(unsigned(o.max_checks_per_array)) is too large")
        }
        let checks = try h.model.gradientCheck(
            x: try matrix(x, rows, x_cols, "x"), y: try matrix(y, rows, y_cols, "y"),
            options: GradientCheckOptions(precision: try flagArgument(o.use_float, "use_float") ? .float : .double,
                                          epsilon: o.epsilon == 0 ? nil : o.epsilon,
                                          maxChecksPerArray: o.max_checks_per_array, seed: o.seed))
        count.pointee = checks.count
        guard bufferCapacity(capacity) >= checks.count else {
            throw APIError.shape("results holds \(unsigned(capacity)) entries, the model has \(checks.count) layers with parameters")
        }
        guard let results else { return }
        for (i, c) in checks.enumerated() {
            results[i] = nn_gradient_check_result(layer: c.layer, relative_error: c.relativeError, weight_index: c.weightIndex,
                                                  element: c.element, analytic: c.analytic, numeric: c.numeric,
                                                  checked: c.checked, below_resolution: c.belowResolution)
        }
    }
}

@c @implementation
public func nn_model_set_anomaly_detection(_ model: OpaquePointer?, _ enabled: Int32) -> nn_status {
    guarded(model, .exclusive) { $0.model.anomalyDetection = try flagArgument(enabled, "enabled") }
}

@c @implementation
public func nn_model_set_layer_statistics(_ model: OpaquePointer?, _ every_batches: Int) -> nn_status {
    guarded(model, .exclusive) { h in
        guard every_batches >= 0, every_batches <= Int(Int32.max) else {
            throw APIError.invalid("every_batches must be at most 2^31 - 1, got \(unsigned(every_batches))")
        }
        h.model.layerStatisticsEvery = every_batches
    }
}

@c @implementation
public func nn_model_layer_statistics_count(_ model: OpaquePointer?, _ count: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded(model, .shared) { h in
        try required(count, "count").pointee = h.model.history.layerStatistics.count
    }
}

@c @implementation
public func nn_model_layer_statistics(_ model: OpaquePointer?, _ entry: Int, _ layer: Int,
                                      _ out: UnsafeMutablePointer<nn_layer_statistics>?) -> nn_status {
    guarded(model, .shared) { h in
        let out = try required(out, "out")
        let all = h.model.history.layerStatistics
        guard entry >= 0, entry < all.count else {
            throw APIError.invalid("entry \(unsigned(entry)) is out of range: \(all.count) epochs have statistics")
        }
        guard layer >= 0, layer < all[entry].layers.count else {
            throw APIError.invalid("layer \(unsigned(layer)) is out of range: the model has \(all[entry].layers.count) layers")
        }
        let s = all[entry].layers[layer]
        var r = nn_layer_statistics()
        r.epoch = all[entry].epoch
        r.layer = layer
        r.batches = s.batches
        r.activation_mean = s.activationMean
        r.activation_std = s.activationStd
        r.dead_fraction = s.deadFraction ?? .nan
        r.saturated_fraction = s.saturatedFraction ?? .nan
        r.gradient_norm = s.gradientNorm ?? .nan
        r.weight_norm = s.weightNorm ?? .nan
        r.update_ratio = s.updateRatio ?? .nan
        writeResult(r, to: out)
    }
}

@c @implementation
public func nn_model_diagnose(_ model: OpaquePointer?, _ x: UnsafePointer<Float>?, _ y: UnsafePointer<Float>?,
                              _ rows: Int, _ x_cols: Int, _ y_cols: Int, _ steps: Int, _ batch_size: Int,
                              _ count: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded(model, .exclusive) { h in
        let count = try required(count, "count")
        guard steps >= 0, steps <= 100_000 else { throw APIError.invalid("steps must be at most 100000, got \(unsigned(steps))") }
        guard batch_size >= 0, batch_size <= Int(Int32.max) else {
            throw APIError.invalid("batch_size must be at most 2^31 - 1, got \(unsigned(batch_size))")
        }
        let diagnosis = try h.model.diagnose(x: try matrix(x, rows, x_cols, "x"), y: try matrix(y, rows, y_cols, "y"),
                                             steps: steps == 0 ? 20 : steps, batchSize: batch_size == 0 ? 32 : batch_size)
        h.setDiagnosis(diagnosis)
        count.pointee = diagnosis.findings.count
    }
}

private let findingKinds: [Finding.Kind: nn_finding_kind] = [
    .vanishingGradients: NN_FINDING_VANISHING_GRADIENTS, .explodingGradients: NN_FINDING_EXPLODING_GRADIENTS,
    .deadUnits: NN_FINDING_DEAD_UNITS, .saturatedUnits: NN_FINDING_SATURATED_UNITS,
    .learningRateTooHigh: NN_FINDING_LEARNING_RATE_TOO_HIGH, .unscaledInputs: NN_FINDING_UNSCALED_INPUTS,
    .labelMismatch: NN_FINDING_LABEL_MISMATCH, .lossAtChance: NN_FINDING_LOSS_AT_CHANCE,
]

@c @implementation
public func nn_model_finding(_ model: OpaquePointer?, _ index: Int, _ out: UnsafeMutablePointer<nn_finding>?) -> nn_status {
    guarded(model, .shared) { h in
        let out = try required(out, "out")
        guard let diagnosis = h.diagnosis else {
            throw APIError(status: NN_ERROR_INVALID_STATE, message: "no diagnosis yet: call nn_model_diagnose first")
        }
        guard index >= 0, index < diagnosis.findings.count else {
            throw APIError.invalid("finding \(unsigned(index)) is out of range: the diagnosis has \(diagnosis.findings.count)")
        }
        let f = diagnosis.findings[index]
        out.pointee = nn_finding(kind: findingKinds[f.kind]!, layer: Int64(f.layer ?? -1), value: f.value,
                                 message: h.diagnosisString(f.message), suggestion: h.diagnosisString(f.suggestion))
    }
}

@c @implementation
public func nn_model_diagnosis_report(_ model: OpaquePointer?, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                                      _ length: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded(model, .shared) { h in
        if capacity > 0 { _ = try required(buffer, "buffer") }
        guard let diagnosis = h.diagnosis else {
            throw APIError(status: NN_ERROR_INVALID_STATE, message: "no diagnosis yet: call nn_model_diagnose first")
        }
        try writeText(diagnosis.report, buffer, capacity, length)
    }
}

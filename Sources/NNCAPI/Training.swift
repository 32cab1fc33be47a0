import CNN
import NNCore
import NNCPUFeatures
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Wraps a caller's array as a matrix view after checking pointer and size.
func matrix(_ pointer: UnsafePointer<Float>?, _ rows: Int, _ cols: Int, _ name: String) throws -> MatrixView<Float> {
    let p = try required(pointer, name)
    _ = try elementCount(rows, cols, name)
    return MatrixView(p, rows: rows, cols: cols)
}

/// nn_fit_options's defaults (the pointers and weights NULL, the counts 0).
func fitDefaults() -> nn_fit_options {
    var o = nn_fit_options()
    o.struct_size = MemoryLayout<nn_fit_options>.stride
    o.epochs = 1
    o.batch_size = 32
    o.shuffle = 1
    return o
}

@c @implementation
public func nn_fit_options_init_sized(_ options: UnsafeMutablePointer<nn_fit_options>?, _ size: Int) {
    initialize(options, size: size, with: fitDefaults())
}

@c @implementation
public func nn_fit_options_init(_ options: UnsafeMutablePointer<nn_fit_options>?) {
    initialize(options, size: nn_fit_options.firstSize, with: fitDefaults())
}

/// nn_early_stopping_options's defaults.
func earlyStoppingDefaults() -> nn_early_stopping_options {
    var o = nn_early_stopping_options()
    o.struct_size = MemoryLayout<nn_early_stopping_options>.stride
    o.monitor = UnsafeRawPointer(defaultMonitor.utf8Start).assumingMemoryBound(to: CChar.self)
    o.mode = NN_MONITOR_AUTO
    return o
}

@c @implementation
public func nn_early_stopping_options_init_sized(_ options: UnsafeMutablePointer<nn_early_stopping_options>?,
                                                 _ size: Int) {
    initialize(options, size: size, with: earlyStoppingDefaults())
}

@c @implementation
public func nn_early_stopping_options_init(_ options: UnsafeMutablePointer<nn_early_stopping_options>?) {
    initialize(options, size: nn_early_stopping_options.firstSize, with: earlyStoppingDefaults())
}

@c @implementation
public func nn_model_fit(_ model: OpaquePointer?, _ x: UnsafePointer<Float>?, _ y: UnsafePointer<Float>?,
                         _ rows: Int, _ x_cols: Int, _ y_cols: Int,
                         _ options: UnsafePointer<nn_fit_options>?) -> nn_status {
    guarded(model, .exclusive) { handle in
        // Whatever happens next, nn_model_fit_logs describes this call (a
        // fit refused because one is running describes nothing: the
        // running one keeps its logs).
        try handle.model.refuseNestedTraining("fit")
        handle.model.forgetLastFit()
        // The arguments, checked; a data-parallel model's other processes
        // learn of a refusal here too (they would wait in the fit's first
        // all-reduce).
        let xv: MatrixView<Float>, yv: MatrixView<Float>, o: nn_fit_options
        var validation: (MatrixView<Float>, MatrixView<Float>)?
        var fit: FitOptions
        do {
            o = try readOptions(options, or: fitDefaults())
            xv = try matrix(x, rows, x_cols, "x")
            yv = try matrix(y, rows, y_cols, "y")
            guard o.epochs >= 0, o.epochs <= Int(Int32.max) else {
                throw APIError.invalid("epochs must be at most 2^31 - 1, got \(unsigned(o.epochs))")
            }
            guard o.batch_size != 0 else { throw APIError.invalid("batch_size must be > 0, got 0") }
            if o.validation_x != nil || o.validation_y != nil {
                validation = (try matrix(o.validation_x, o.validation_rows, x_cols, "validation_x"),
                              try matrix(o.validation_y, o.validation_rows, y_cols, "validation_y"))
            }
            fit = FitOptions(epochs: o.epochs, batchSize: bufferCapacity(o.batch_size), shuffle: try flagArgument(o.shuffle, "shuffle"),
                                 seed: o.seed == 0 ? nil : o.seed)
            fit.validationSplit = o.validation_split
            if let weights = o.class_weights {
                let n = try countArgument(o.class_weight_count, "class_weight_count")
                fit.classWeight = (0..<n).map { Double(weights[$0]) }
            } else if o.class_weight_count != 0 {
                throw APIError.null("class_weights (class_weight_count is \(unsigned(o.class_weight_count)))")
            }
            if let stopping = o.early_stopping {
                let e = try readOptions(stopping, defaults: earlyStoppingDefaults())
                fit.earlyStopping = EarlyStopping(
                    monitor: try stringArgument(e.monitor, "early_stopping.monitor"), minDelta: e.min_delta,
                    patience: try countArgument(e.patience, "early_stopping.patience"), mode: try MonitorMode(c: e.mode),
                    restoreBestWeights: try flagArgument(e.restore_best_weights, "early_stopping.restore_best_weights"))
            }
            if let callback = o.on_epoch_end {
                let userData = o.user_data
                fit.onEpochEnd = { epoch, logs in
                    // C strings for the names, valid during the call.
                    let names = logs.names.map { handle.cString($0) }
                    let stop = names.map { Optional($0) }.withUnsafeBufferPointer { namesBuffer in
                        logs.values.withUnsafeBufferPointer { valuesBuffer in
                            callback(userData, epoch, logs.names.count, namesBuffer.baseAddress, valuesBuffer.baseAddress)
                        }
                    }
                    return stop == 0 ? .continue : .stop
                }
            }
            if let callback = o.on_batch_end {
                let userData = o.user_data
                // Every batch of a fit logs the same names: their C strings once.
                var names: [UnsafePointer<CChar>?] = []
                fit.onBatchEnd = { epoch, batch, batches, logs in
                    if names.count != logs.names.count { names = logs.names.map { handle.cString($0) } }
                    let stop = names.withUnsafeBufferPointer { namesBuffer in
                        logs.values.withUnsafeBufferPointer { valuesBuffer in
                            callback(userData, epoch, batch, batches, logs.names.count, namesBuffer.baseAddress,
                                     valuesBuffer.baseAddress)
                        }
                    }
                    return stop == 0 ? .continue : .stop
                }
            }
            if let flag = o.stop_flag {
                fit.shouldStop = { nnk_load_flag(flag) != 0 }
            }
        } catch {
            try handle.model.refuseDataParallelFit(error)
        }
        _ = try handle.model.fit(x: xv, y: yv, sampleWeights: o.sample_weights, validation: validation, options: fit)
    }
}

@c @implementation
public func nn_model_fit_logs(_ model: OpaquePointer?, _ epochs: UnsafeMutablePointer<Int>?,
                              _ logs: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded(model, .shared) { handle in
        let epochsOut = try required(epochs, "epochs"), logsOut = try required(logs, "logs")
        let last = handle.model.lastFit
        epochsOut.pointee = last.epochs.count
        logsOut.pointee = last.logNames.count
    }
}

@c @implementation
public func nn_model_fit_log(_ model: OpaquePointer?, _ index: Int, _ name: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                             _ values: UnsafeMutablePointer<Double>?, _ capacity: Int) -> nn_status {
    guarded(model, .shared) { handle in
        let last = handle.model.lastFit
        let names = last.logNames, epochs = last.epochs.count
        try checkIndex(index, names.count, "log", "logs of the last fit")
        let nameOut = try required(name, "name")
        if epochs > 0 {
            let out = try required(values, "values")
            guard bufferCapacity(capacity) >= epochs else {
                throw APIError.shape("values holds \(capacity) numbers but the last fit ran \(epochs) epochs")
            }
            // Every epoch of one fit logs the same names (its schedule and
            // metrics are fixed when it begins); NaN fills a shorter column
            // all the same.
            let column = last[names[index]] ?? []
            for e in 0..<epochs { out[e] = e < column.count ? column[e] : .nan }
        }
        nameOut.pointee = handle.cString(names[index])
    }
}

@c @implementation
public func nn_model_evaluate(_ model: OpaquePointer?, _ x: UnsafePointer<Float>?, _ y: UnsafePointer<Float>?,
                              _ rows: Int, _ x_cols: Int, _ y_cols: Int,
                              _ values: UnsafeMutablePointer<Double>?, _ capacity: Int) -> nn_status {
    logsCall(model, .shared, x, y, rows, x_cols, y_cols, values, capacity) { try $0.evaluate(x: $1, y: $2) }
}

/// The calls that fill `values` with the model's logs - loss, then each
/// metric (evaluate, train_on_batch, test_on_batch): checks values, x and y,
/// and that values holds every log, in that order, then runs `compute`.
private func logsCall(_ model: OpaquePointer?, _ access: Access, _ x: UnsafePointer<Float>?,
                      _ y: UnsafePointer<Float>?, _ rows: Int, _ x_cols: Int, _ y_cols: Int,
                      _ values: UnsafeMutablePointer<Double>?, _ capacity: Int,
                      _ compute: (Sequential, MatrixView<Float>, MatrixView<Float>) throws -> [Double]) -> nn_status {
    guarded(model, access) { handle in
        let out = try required(values, "values")
        let xv = try matrix(x, rows, x_cols, "x"), yv = try matrix(y, rows, y_cols, "y")
        let count = handle.model.metricNames.count
        guard bufferCapacity(capacity) >= count else {
            throw APIError.shape("values holds \(capacity) numbers but the model reports \(count) (loss and metrics)")
        }
        for (i, v) in try compute(handle.model, xv, yv).enumerated() { out[i] = v }
    }
}

@c @implementation
public func nn_model_train_on_batch(_ model: OpaquePointer?, _ x: UnsafePointer<Float>?, _ y: UnsafePointer<Float>?,
                                    _ rows: Int, _ x_cols: Int, _ y_cols: Int,
                                    _ sample_weights: UnsafePointer<Float>?,
                                    _ values: UnsafeMutablePointer<Double>?, _ capacity: Int) -> nn_status {
    logsCall(model, .exclusive, x, y, rows, x_cols, y_cols, values, capacity) {
        try $0.trainOnBatch(x: $1, y: $2, sampleWeights: sample_weights)
    }
}

@c @implementation
public func nn_model_test_on_batch(_ model: OpaquePointer?, _ x: UnsafePointer<Float>?, _ y: UnsafePointer<Float>?,
                                   _ rows: Int, _ x_cols: Int, _ y_cols: Int,
                                   _ sample_weights: UnsafePointer<Float>?,
                                   _ values: UnsafeMutablePointer<Double>?, _ capacity: Int) -> nn_status {
    logsCall(model, .shared, x, y, rows, x_cols, y_cols, values, capacity) {
        try $0.testOnBatch(x: $1, y: $2, sampleWeights: sample_weights)
    }
}

@c @implementation
public func nn_model_set_data_parallel(_ model: OpaquePointer?, _ rank: Int, _ size: Int,
                                       _ allreduce: nn_allreduce_callback?,
                                       _ user_data: UnsafeMutableRawPointer?) -> nn_status {
    guarded(model, .exclusive) { handle in
        // (size_t arrives as Int: a value of 2^63 or more is negative here)
        guard size >= 1, rank >= 0, rank < size else {
            throw APIError.invalid("data-parallel rank \(unsigned(rank)) of size \(unsigned(size)): "
                                   + "the size must be >= 1 and the rank < size")
        }
        if size == 1 {
            handle.model.dataParallel = nil
            return
        }
        guard let allreduce else { throw APIError.null("allreduce") }
        let data = user_data
        handle.model.dataParallel = try DataParallel(rank: rank, size: size) { values, count in
            Int(allreduce(values, count, data))
        }
    }
}

@c @implementation
public func nn_model_predict(_ model: OpaquePointer?, _ x: UnsafePointer<Float>?, _ rows: Int, _ x_cols: Int,
                             _ out: UnsafeMutablePointer<Float>?, _ out_capacity: Int) -> nn_status {
    guarded(model, .shared) { handle in
        let xv = try matrix(x, rows, x_cols, "x")
        let out = try required(out, "out")
        try handle.model.predict(x: xv, into: UnsafeMutableBufferPointer(start: out, count: bufferCapacity(out_capacity)))
    }
}

@c @implementation
public func nn_model_confusion_matrix(_ model: OpaquePointer?, _ x: UnsafePointer<Float>?, _ y: UnsafePointer<Float>?,
                                     _ rows: Int, _ x_cols: Int, _ y_cols: Int,
                                     _ counts: UnsafeMutablePointer<Int>?, _ capacity: Int,
                                     _ classes: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded(model, .shared) { handle in
        let classesOut = try required(classes, "classes")
        if capacity != 0 { _ = try required(counts, "counts") }
        let xv = try matrix(x, rows, x_cols, "x"), yv = try matrix(y, rows, y_cols, "y")
        let m = try handle.model.confusionMatrix(x: xv, y: yv)
        if let counts, capacity != 0 {
            guard bufferCapacity(capacity) >= m.counts.count else {
                throw APIError.shape("counts holds \(capacity) entries but the \(m.classes)-class matrix needs \(m.counts.count)")
            }
            for (i, c) in m.counts.enumerated() { counts[i] = c }
        }
        classesOut.pointee = m.classes
    }
}

@c @implementation
public func nn_model_input_gradient(_ model: OpaquePointer?, _ x: UnsafePointer<Float>?, _ rows: Int, _ x_cols: Int,
                                    _ output_gradient: UnsafePointer<Float>?, _ output_cols: Int,
                                    _ input_gradient: UnsafeMutablePointer<Float>?, _ input_capacity: Int) -> nn_status {
    guarded(model, .shared) { handle in
        let xv = try matrix(x, rows, x_cols, "x")
        let gv = try matrix(output_gradient, rows, output_cols, "output_gradient")
        let out = try required(input_gradient, "input_gradient")
        try handle.model.inputGradient(x: xv, outputGradient: gv,
                                       into: UnsafeMutableBufferPointer(start: out, count: bufferCapacity(input_capacity)))
    }
}

@c @implementation
public func nn_model_loss_input_gradient(_ model: OpaquePointer?, _ x: UnsafePointer<Float>?, _ y: UnsafePointer<Float>?,
                                         _ rows: Int, _ x_cols: Int, _ y_cols: Int,
                                         _ input_gradient: UnsafeMutablePointer<Float>?, _ input_capacity: Int) -> nn_status {
    guarded(model, .shared) { handle in
        let xv = try matrix(x, rows, x_cols, "x"), yv = try matrix(y, rows, y_cols, "y")
        let out = try required(input_gradient, "input_gradient")
        try handle.model.lossInputGradient(x: xv, y: yv,
                                           into: UnsafeMutableBufferPointer(start: out, count: bufferCapacity(input_capacity)))
    }
}

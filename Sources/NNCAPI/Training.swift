import CNN
import NNCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Wraps a caller's array as a matrix view after checking pointer and size.
private func matrix(_ pointer: UnsafePointer<Float>?, _ rows: Int, _ cols: Int, _ name: String) throws -> MatrixView<Float> {
    let p = try required(pointer, name)
    _ = try elementCount(rows, cols, name)
    return MatrixView(p, rows: rows, cols: cols)
}

@c @implementation
public func nn_fit_options_init(_ options: UnsafeMutablePointer<nn_fit_options>?) {
    guard let options else { return }
    options.pointee = nn_fit_options(
        struct_size: MemoryLayout<nn_fit_options>.stride, epochs: 1, batch_size: 32, shuffle: 1, seed: 0,
        validation_x: nil, validation_y: nil, validation_rows: 0, on_epoch_end: nil, user_data: nil)
}

@c @implementation
public func nn_model_fit(_ model: OpaquePointer?, _ x: UnsafePointer<Float>?, _ y: UnsafePointer<Float>?,
                         _ rows: Int, _ x_cols: Int, _ y_cols: Int,
                         _ options: UnsafePointer<nn_fit_options>?) -> nn_status {
    guarded {
        let handle = try Handles.model(model)
        var o = nn_fit_options()
        if let options { o = try readOptions(options, "nn_fit_options") } else { nn_fit_options_init(&o) }
        let xv = try matrix(x, rows, x_cols, "x"), yv = try matrix(y, rows, y_cols, "y")
        guard o.epochs >= 0, o.epochs <= Int(Int32.max) else {
            throw APIError.invalid("epochs must be at most 2^31 - 1, got \(unsigned(o.epochs))")
        }
        guard o.batch_size != 0 else { throw APIError.invalid("batch_size must be > 0, got 0") }
        var validation: (MatrixView<Float>, MatrixView<Float>)?
        if o.validation_x != nil || o.validation_y != nil {
            validation = (try matrix(o.validation_x, o.validation_rows, x_cols, "validation_x"),
                          try matrix(o.validation_y, o.validation_rows, y_cols, "validation_y"))
        }
        var fit = FitOptions(epochs: o.epochs, batchSize: capacity(o.batch_size), shuffle: try flag(o.shuffle, "shuffle"),
                             seed: o.seed == 0 ? nil : o.seed)
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
        _ = try handle.model.fit(x: xv, y: yv, validation: validation, options: fit)
    }
}

@c @implementation
public func nn_model_evaluate(_ model: OpaquePointer?, _ x: UnsafePointer<Float>?, _ y: UnsafePointer<Float>?,
                              _ rows: Int, _ x_cols: Int, _ y_cols: Int,
                              _ values: UnsafeMutablePointer<Double>?, _ capacity: Int) -> nn_status {
    guarded {
        let handle = try Handles.model(model)
        let out = try required(values, "values")
        let xv = try matrix(x, rows, x_cols, "x"), yv = try matrix(y, rows, y_cols, "y")
        let count = handle.model.metricNames.count
        guard NNCAPI.capacity(capacity) >= count else {
            throw APIError.shape("values holds \(capacity) numbers but the model reports \(count) (loss and metrics)")
        }
        let result = try handle.model.evaluate(x: xv, y: yv)
        for (i, v) in result.enumerated() { out[i] = v }
    }
}

@c @implementation
public func nn_model_predict(_ model: OpaquePointer?, _ x: UnsafePointer<Float>?, _ rows: Int, _ x_cols: Int,
                             _ out: UnsafeMutablePointer<Float>?, _ out_capacity: Int) -> nn_status {
    guarded {
        let handle = try Handles.model(model)
        let xv = try matrix(x, rows, x_cols, "x")
        let out = try required(out, "out")
        try handle.model.predict(x: xv, into: UnsafeMutableBufferPointer(start: out, count: capacity(out_capacity)))
    }
}

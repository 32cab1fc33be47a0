import CNN
import NNCore

// MARK: Saving and loading (see nn.h, "Saving and loading")

/// The flags nn.h defines for saving.
private func includeOptimizer(_ flags: UInt32) throws -> Bool {
    guard flags & ~UInt32(NN_SAVE_INCLUDE_OPTIMIZER) == 0 else {
        throw APIError.invalid("unknown save flags 0x\(String(flags, radix: 16)); the only flag is NN_SAVE_INCLUDE_OPTIMIZER (1)")
    }
    return flags & UInt32(NN_SAVE_INCLUDE_OPTIMIZER) != 0
}

/// A path argument: non-NULL and not empty.
private func pathArgument(_ path: UnsafePointer<CChar>?) throws -> String {
    let path = String(cString: try required(path, "path"))
    guard !path.isEmpty else { throw APIError.invalid("path is empty") }
    return path
}

/// A copy of the caller's bytes (libnn keeps no pointer after the call).
private func bytesArgument(_ data: UnsafeRawPointer?, _ size: Int) throws -> [UInt8] {
    guard size != 0 else { return [] }
    let data = try required(data, "data")
    guard size > 0 else {
        throw APIError.shape("size \(UInt(bitPattern: size)) is larger than any buffer can be")
    }
    return Array(UnsafeRawBufferPointer(start: data, count: size))
}

@c @implementation
public func nn_model_save(_ model: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ flags: UInt32) -> nn_status {
    guarded(model, .shared) { h in
        let path = try pathArgument(path)
        try h.model.save(to: path, includeOptimizer: try includeOptimizer(flags))
    }
}

@c @implementation
public func nn_model_save_to_buffer(_ model: OpaquePointer?, _ flags: UInt32, _ buffer: UnsafeMutableRawPointer?,
                                    _ capacity: Int, _ size: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded(model, .shared) { h in
        let size = try required(size, "size")
        if capacity != 0 { _ = try required(buffer, "buffer") }
        let bytes = try h.model.serialized(includeOptimizer: try includeOptimizer(flags))
        size.pointee = bytes.count
        guard let buffer else { return }
        guard bufferCapacity(capacity) >= bytes.count else {
            throw APIError.shape("the buffer holds \(UInt(bitPattern: capacity)) bytes, the model needs \(bytes.count)")
        }
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
    }
}

@c @implementation
public func nn_model_load(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> nn_status {
    guarded {
        let out = try required(out, "out")
        let model = try Sequential.load(from: try pathArgument(path))
        out.pointee = Handles.register(ModelHandle(model))
    }
}

@c @implementation
public func nn_model_load_from_buffer(_ data: UnsafeRawPointer?, _ size: Int,
                                      _ out: UnsafeMutablePointer<OpaquePointer?>?) -> nn_status {
    guarded {
        let out = try required(out, "out")
        let model = try Sequential.load(serialized: try bytesArgument(data, size))
        out.pointee = Handles.register(ModelHandle(model))
    }
}

@c @implementation
public func nn_model_load_weights(_ model: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> nn_status {
    guarded(model, .exclusive) { h in
        try h.model.loadWeights(from: try pathArgument(path))
    }
}

@c @implementation
public func nn_model_load_weights_from_buffer(_ model: OpaquePointer?, _ data: UnsafeRawPointer?, _ size: Int) -> nn_status {
    guarded(model, .exclusive) { h in
        try h.model.loadWeights(serialized: try bytesArgument(data, size))
    }
}

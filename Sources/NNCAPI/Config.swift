import CNN
import NNCore

// MARK: The model's configuration (see nn.h, "Saving and loading")

@c @implementation
public func nn_model_config(_ model: OpaquePointer?, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                            _ length: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded {
        let h = try Handles.model(model)
        try writeText(h.model.configuration(), buffer, capacity, length)
    }
}

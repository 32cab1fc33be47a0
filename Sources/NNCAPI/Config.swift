import CNN
import NNCore

// MARK: The model's configuration (see nn.h, "Saving and loading")

@c @implementation
public func nn_model_config(_ model: OpaquePointer?, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                            _ length: UnsafeMutablePointer<Int>?) -> nn_status {
    guarded(model, .shared) { h in
        try writeText(h.model.configuration(), buffer, capacity, length)
    }
}

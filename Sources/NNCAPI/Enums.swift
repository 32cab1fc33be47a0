import CNN
import NNCore

// Conversions between the C enums of nn.h and the core's Swift enums. An
// unknown C value is an invalid-argument error that names the value and
// the valid ones.

extension Activation {
    init(c value: nn_activation) throws {
        switch value {
        case NN_ACTIVATION_LINEAR: self = .linear
        case NN_ACTIVATION_SIGMOID: self = .sigmoid
        case NN_ACTIVATION_TANH: self = .tanh
        case NN_ACTIVATION_RELU: self = .relu
        case NN_ACTIVATION_SOFTMAX: self = .softmax
        default:
            throw APIError.invalid("unknown activation \(value.rawValue); valid values are 0 (linear) to 4 (softmax)")
        }
    }

    var c: nn_activation {
        switch self {
        case .linear: return NN_ACTIVATION_LINEAR
        case .sigmoid: return NN_ACTIVATION_SIGMOID
        case .tanh: return NN_ACTIVATION_TANH
        case .relu: return NN_ACTIVATION_RELU
        case .softmax: return NN_ACTIVATION_SOFTMAX
        }
    }
}

extension Initializer {
    /// nil for NN_INIT_DEFAULT (the layer's own default).
    static func from(c value: nn_initializer) throws -> Initializer? {
        switch value {
        case NN_INIT_DEFAULT: return nil
        case NN_INIT_GLOROT_UNIFORM: return .glorotUniform
        case NN_INIT_GLOROT_NORMAL: return .glorotNormal
        case NN_INIT_HE_UNIFORM: return .heUniform
        case NN_INIT_HE_NORMAL: return .heNormal
        case NN_INIT_ZEROS: return .zeros
        case NN_INIT_ONES: return .ones
        default:
            throw APIError.invalid("unknown initializer \(value.rawValue); valid values are 0 (default) to 6 (ones)")
        }
    }
}

extension Loss.Kind {
    init(c value: nn_loss) throws {
        switch value {
        case NN_LOSS_MEAN_SQUARED_ERROR: self = .meanSquaredError
        case NN_LOSS_BINARY_CROSSENTROPY: self = .binaryCrossentropy
        case NN_LOSS_CATEGORICAL_CROSSENTROPY: self = .categoricalCrossentropy
        case NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY: self = .sparseCategoricalCrossentropy
        default:
            throw APIError.invalid("unknown loss \(value.rawValue); valid values are 1 (mean_squared_error) "
                                   + "to 4 (sparse_categorical_crossentropy)")
        }
    }
}

extension OptimizerOptions.Kind {
    init(c value: nn_optimizer) throws {
        switch value {
        case NN_OPTIMIZER_SGD: self = .sgd
        case NN_OPTIMIZER_ADAM: self = .adam
        default: throw APIError.invalid("unknown optimizer \(value.rawValue); valid values are 1 (sgd) and 2 (adam)")
        }
    }
}

extension Metric {
    init(c value: nn_metric) throws {
        switch value {
        case NN_METRIC_ACCURACY: self = .accuracy
        default: throw APIError.invalid("unknown metric \(value.rawValue); the valid value is 1 (accuracy)")
        }
    }
}

/// A C boolean flag that must be 0 or 1.
func flag(_ value: Int32, _ name: String) throws -> Bool {
    guard value == 0 || value == 1 else { throw APIError.invalid("\(name) must be 0 or 1, got \(value)") }
    return value == 1
}

import CNN
import NNCore

// Conversions between the C enums of nn.h and the core's Swift enums. An
// unknown C value is an invalid-argument error that names the value and
// the valid ones.

extension Activation {
    /// The activation `value`, with `parameter` (NaN: the default) for the
    /// parameterized ones.
    init(c value: nn_activation, parameter: Double = .nan) throws {
        guard let named = Activation(code: value.rawValue) else {
            throw APIError.invalid("unknown activation \(value.rawValue); valid values are "
                                   + validValues(Activation.allCases.map { ($0.code, $0.name) }))
        }
        self = named
        if !parameter.isNaN {
            guard let given = named.with(parameter: parameter) else {
                throw APIError.invalid("the \(name) activation takes no parameter, got \(parameter)")
            }
            self = given
        }
        try validate()
    }

    var c: nn_activation { nn_activation(rawValue: code) }
}

extension Initializer {
    /// nil for NN_INIT_DEFAULT (the layer's own default); `value` is the
    /// constant of NN_INIT_CONSTANT.
    static func from(c value: nn_initializer, constant: Double) throws -> Initializer? {
        switch value {
        case NN_INIT_DEFAULT: return nil
        case NN_INIT_GLOROT_UNIFORM: return .glorotUniform
        case NN_INIT_GLOROT_NORMAL: return .glorotNormal
        case NN_INIT_HE_UNIFORM: return .heUniform
        case NN_INIT_HE_NORMAL: return .heNormal
        case NN_INIT_ZEROS: return .zeros
        case NN_INIT_ONES: return .ones
        case NN_INIT_LECUN_UNIFORM: return .lecunUniform
        case NN_INIT_LECUN_NORMAL: return .lecunNormal
        case NN_INIT_CONSTANT: return .constant(constant)
        default:
            throw APIError.invalid("unknown initializer \(value.rawValue); valid values are 0 (default) to 9 (constant)")
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
        case NN_LOSS_MEAN_ABSOLUTE_ERROR: self = .meanAbsoluteError
        case NN_LOSS_HUBER: self = .huber
        default:
            throw APIError.invalid("unknown loss \(value.rawValue); valid values are 1 (mean_squared_error) to 6 (huber)")
        }
    }
}

extension OptimizerOptions.Kind {
    /// The kind whose C value is `value` (the values are the core
    /// registry's `code`s).
    init(c value: nn_optimizer) throws {
        guard let kind = Self(code: value.rawValue) else {
            throw APIError.invalid("unknown optimizer \(value.rawValue); valid values are \(Self.validCValues)")
        }
        self = kind
    }

    /// nn.h's value of this kind.
    var c: nn_optimizer { nn_optimizer(rawValue: code) }

    /// "1 (sgd) to 6 (rprop)", from the registry.
    static var validCValues: String { validValues(allCases.map { ($0.code, $0.rawValue) }) }
}

/// "1 (sgd) to 6 (rprop)" when the values are consecutive, else every value
/// listed: generated from the core's registries, so that error texts cannot
/// drift from them.
func validValues(_ named: [(code: UInt32, name: String)]) -> String {
    let values = named.sorted { $0.code < $1.code }
    let consecutive = zip(values, values.dropFirst()).allSatisfy { $1.code == $0.code + 1 }
    if consecutive, values.count > 2, let first = values.first, let last = values.last {
        return "\(first.code) (\(first.name)) to \(last.code) (\(last.name))"
    }
    return values.map { "\($0.code) (\($0.name))" }.joined(separator: ", ")
}

extension Metric.Kind {
    init(c value: nn_metric) throws {
        switch value {
        case NN_METRIC_ACCURACY: self = .accuracy
        case NN_METRIC_BINARY_ACCURACY: self = .binaryAccuracy
        case NN_METRIC_CATEGORICAL_ACCURACY: self = .categoricalAccuracy
        case NN_METRIC_SPARSE_CATEGORICAL_ACCURACY: self = .sparseCategoricalAccuracy
        case NN_METRIC_PRECISION: self = .precision
        case NN_METRIC_RECALL: self = .recall
        case NN_METRIC_F1_SCORE: self = .f1Score
        case NN_METRIC_F1_MACRO: self = .f1Macro
        case NN_METRIC_TOP_K_ACCURACY: self = .topKAccuracy
        case NN_METRIC_MEAN_ABSOLUTE_ERROR: self = .meanAbsoluteError
        default: throw APIError.invalid("unknown metric \(value.rawValue); valid values are 1 (accuracy) to 10 (mean_absolute_error)")
        }
    }
}

extension MonitorMode {
    init(c value: nn_monitor_mode) throws {
        switch value {
        case NN_MONITOR_AUTO: self = .auto
        case NN_MONITOR_MIN: self = .min
        case NN_MONITOR_MAX: self = .max
        default: throw APIError.invalid("unknown monitor mode \(value.rawValue); valid values are 0 (auto), 1 (min), 2 (max)")
        }
    }
}

/// A size_t count that must fit an Int of the core (epochs, patience, ...).
func countArgument(_ value: Int, _ name: String) throws -> Int {
    guard value >= 0, value <= Int(Int32.max) else {
        throw APIError.invalid("\(name) must be at most 2^31 - 1, got \(unsigned(value))")
    }
    return value
}

/// A C string argument that must be valid UTF-8.
func stringArgument(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> String {
    guard let pointer else { throw APIError.null(name) }
    guard let s = String(validatingCString: pointer) else { throw APIError.invalid("\(name) is not valid UTF-8") }
    return s
}

/// A C boolean flag that must be 0 or 1.
func flagArgument(_ value: Int32, _ name: String) throws -> Bool {
    guard value == 0 || value == 1 else { throw APIError.invalid("\(name) must be 0 or 1, got \(value)") }
    return value == 1
}

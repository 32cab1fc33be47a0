import CNN
import NNCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// nn_enum_name: the names of nn.h's enum values, taken from the core's
// registries and the C conversions of Enums.swift, so that a binding can
// list what libnn knows instead of restating it.

@c @implementation
public func nn_enum_name(_ enumeration: nn_enum, _ value: Int32) -> UnsafePointer<CChar>? {
    guard value >= 0, value < enumNameLimit else { return nil }
    return enumNames[Int(enumeration.rawValue) &* Int(enumNameLimit) &+ Int(value)] ?? nil
}

/// Every enum of nn.h has values below this.
private let enumNameLimit: Int32 = 256

/// The names, as static C strings, keyed by enumeration × limit + value;
/// made once on first use (a global's initializer runs exactly once).
nonisolated(unsafe) private let enumNames: [Int: UnsafePointer<CChar>] = {
    var table: [Int: UnsafePointer<CChar>] = [:]
    func add(_ enumeration: nn_enum, _ name: (UInt32) -> String?) {
        for value in 0..<UInt32(enumNameLimit) {
            guard let text = name(value) else { continue }
            table[Int(enumeration.rawValue) * Int(enumNameLimit) + Int(value)] = UnsafePointer(strdup(text)!)
        }
    }
    add(NN_ENUM_ACTIVATION) { Activation(code: $0)?.name }
    add(NN_ENUM_INITIALIZER) { code in
        guard let known = try? Initializer.from(c: nn_initializer(rawValue: code), constant: 0) else {
            return code == NN_INIT_DEFAULT.rawValue ? "default" : nil
        }
        return known.name
    }
    add(NN_ENUM_LOSS) { (try? Loss.Kind(c: nn_loss(rawValue: $0)))?.rawValue }
    add(NN_ENUM_OPTIMIZER) { OptimizerOptions.Kind(code: $0)?.rawValue }
    add(NN_ENUM_METRIC) { (try? Metric.Kind(c: nn_metric(rawValue: $0)))?.rawValue }
    add(NN_ENUM_LAYER_KIND) { LayerRegistry.defaultName(code: $0) }
    return table
}()

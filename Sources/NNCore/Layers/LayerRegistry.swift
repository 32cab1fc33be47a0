/// The one registry of layer kinds: the list of the types this library can
/// write to and read from a model file and name through nn.h. Everything
/// else about a kind lives with the kind (its file in this folder): its
/// forward and backward passes, weights, penalty, summary label, PyTorch
/// module count and names, and its codec below.
///
/// Adding a layer kind: its file (a `Layer` that is also a
/// `RegisteredLayer`), its line in `LayerRegistry.kinds`, and nn.h's
/// `nn_layer_kind` value with an `nn_model_add_*` function.
public enum LayerRegistry {
    static let kinds: [any RegisteredLayer.Type] = [
        Dense.self, Dropout.self, BatchNormalization.self, ActivationLayer.self,
    ]

    /// The layer's JSON in a model file's `architecture.layers`:
    /// {"kind": ..., the kind's own fields}. A layer type outside the
    /// registry writes only its kind (and cannot be read back).
    static func encode(_ layer: any Layer) -> JSONValue {
        var object = (layer as? any RegisteredLayer)?.configuration ?? [:]
        object["kind"] = .string(layer.kindName)
        return .object(object)
    }

    /// The layer a model file's JSON describes.
    static func decode(_ field: Field) throws -> any RegisteredLayer {
        let kind = try field.string("kind")
        guard let type = kinds.first(where: { $0.kindName == kind }) else {
            throw NNError.invalidFile(
                "\(field.path): unknown layer kind \"\(kind)\"; this libnn (\(ModelFile.libraryVersion)) reads "
                + listed(kinds.map { $0.kindName }))
        }
        return try make(type, field)
    }

    private static func make<L: RegisteredLayer>(_ type: L.Type, _ field: Field) throws -> any RegisteredLayer {
        try L(configuration: field)
    }

    /// "A, B, C and D".
    private static func listed(_ names: [String]) -> String {
        names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " and " + names.last!
    }
}

/// A layer kind of the registry: how it is written to and read from a
/// model file, and its number in nn.h.
protocol RegisteredLayer: Layer {
    /// Keras's class name, which is also the file's "kind" ("Dense").
    static var kindName: String { get }
    /// nn.h's `nn_layer_kind` value.
    static var code: UInt32 { get }
    /// The kind's fields in a model file (Keras's config names).
    var configuration: [String: JSONValue] { get }
    /// Reads the fields `configuration` writes; throws `invalidFile` naming
    /// the field that is missing, mistyped or out of range.
    init(configuration field: Field) throws
    /// How many weights (parameters and statistics) the layer has on
    /// `inputDim`-wide rows, and whether counting overflowed: a file must
    /// hold them before anything is allocated.
    func weightCount(inputDim: Int) -> (Int, Bool)
}

extension RegisteredLayer {
    func weightCount(inputDim: Int) -> (Int, Bool) { (0, false) }
}

extension Layer {
    /// nn.h's `nn_layer_kind` value of this layer; nil for a layer type
    /// outside the registry.
    public var layerKindCode: UInt32? { (self as? any RegisteredLayer).map { type(of: $0).code } }
}

// MARK: The JSON of a layer's parts

extension Activation {
    /// {"name": "leaky_relu", "parameter": 0.2 or null}.
    var json: JSONValue {
        .object(["name": .string(name), "parameter": parameter.map { .number($0) } ?? .null])
    }

    init(json field: Field) throws {
        let name = try field.string("name")
        guard let named = Activation(name: name) else {
            throw NNError.invalidFile("\(field.path): unknown activation \"\(name)\"")
        }
        var a = named
        if let p = try field.optional("parameter") {
            guard let given = a.with(parameter: try p.asDouble()) else {
                throw NNError.invalidFile("\(field.path): \(name) takes no parameter")
            }
            a = given
        }
        try inFile(field.path) { try a.validate() }
        self = a
    }
}

extension Initializer {
    /// {"name": "glorot_uniform", "value": the constant or null}.
    var json: JSONValue {
        var value = JSONValue.null
        if case .constant(let v) = self { value = .number(v) }
        return .object(["name": .string(name), "value": value])
    }

    init(json field: Field) throws {
        let name = try field.string("name")
        let value = try field.optional("value").map { try $0.asDouble() } ?? 0
        guard let i = Initializer(name: name, value: value) else {
            throw NNError.invalidFile("\(field.path): unknown initializer \"\(name)\"")
        }
        try inFile(field.path) { try i.validate() }
        self = i
    }
}

extension LayerRegistry {
    /// The Keras default layer name of the registered kind whose nn.h value
    /// is `code` ("dense", "batch_normalization"); nil if unknown.
    public static func defaultName(code: UInt32) -> String? {
        kinds.first { $0.code == code }.map { snakeCase($0.kindName) }
    }
}

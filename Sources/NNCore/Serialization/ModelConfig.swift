/// The model's configuration as JSON, for bindings that rebuild their own
/// objects around a libnn model (nn_model_config; Python's nn.load_model):
///
///     format        ModelFile.formatVersion (1)
///     architecture  as in a model file's metadata: {"input_dim", "seed", "layers": [...]}
///     compile       as in a model file's metadata: {"loss", "optimizer", "metrics", "schedule"}
///     layer_names   the Keras default names of the layers ("dense", "dense_1", ...)
///
/// The "architecture" and "compile" objects are those `serialized()` writes
/// into a file's `__metadata__` (one encoder for both), so a binding reads
/// what libnn would save without parsing the file itself. No weights and no
/// training state: those stay in libnn.
extension Sequential {
    /// The configuration as compact JSON (members sorted; see `JSON.serialize`).
    public func configuration() -> String {
        JSON.serialize(configurationJSON())
    }

    func configurationJSON() -> JSONValue {
        .object([
            "format": .integer(ModelFile.formatVersion),
            "architecture": architectureJSON(),
            "compile": compileJSON(),
            "layer_names": .array(layerNames.map { .string($0) }),
        ])
    }
}

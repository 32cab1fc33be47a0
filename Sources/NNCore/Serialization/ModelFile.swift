/// libnn's model file: a safetensors file whose tensors carry PyTorch's
/// state_dict names for the equivalent `torch.nn.Sequential`, and whose
/// `__metadata__` carries the rest of the model as JSON strings:
///
///     format          "libnn"
///     format_version  "1"
///     libnn_version   the library that wrote it
///     architecture    {"input_dim", "seed", "layers": [{"kind": "Dense", ...}, ...]}
///     compile         {"loss", "optimizer", "metrics", "schedule"} (each may be null)
///     training        {"rng", "epochs", "steps", "trained", and with the
///                      optimizer's state: "optimizer_step", "learning_rate", "plateau"}
///
/// Tensor names (module indices count a Dense layer's activation as a module
/// of its own, as in `nn.Sequential(nn.Linear(...), nn.ReLU(), ...)`):
///
///     Dense               i.weight [units, inputs] (the kernel transposed), i.bias [units]
///     BatchNormalization  i.weight (gamma), i.bias (beta), i.running_mean,
///                         i.running_var [features], i.num_batches_tracked (I64, [])
///     Dropout, Activation no tensors (one module index each)
///     optimizer state     optimizer.<tensor>.<state>, in the tensor's layout
///                         (state names as torch.optim's: exp_avg, exp_avg_sq, ...)
enum ModelFile {
    /// The version of this layout; files with a larger one are refused.
    static let formatVersion = 1
    /// The library version written into files.
    static let libraryVersion = "0.8.0"
    static let optimizerPrefix = "optimizer."
}

/// Where one weight array of a model lives in a file.
struct TensorSlot {
    /// PyTorch's state_dict name ("0.weight").
    let name: String
    /// Offset in the model's parameter block (trainable) or state block.
    let offset: Int
    let trainable: Bool
    /// Shape in the file (PyTorch's layout).
    let shape: [Int]
    /// Whether the file holds the transpose of libnn's array (a Dense
    /// kernel [inputs, units] is stored as Linear.weight [units, inputs]).
    let transposed: Bool
    var count: Int { shape.reduce(1, *) }

    /// Copies `count` values from libnn's layout at `source` into file order.
    func toFile(_ source: UnsafePointer<Float>) -> [Float] {
        guard transposed else { return Array(UnsafeBufferPointer(start: source, count: count)) }
        let units = shape[0], inputs = shape[1]
        var out = [Float](repeating: 0, count: count)
        for u in 0..<units {
            for i in 0..<inputs { out[u * inputs + i] = source[i * units + u] }
        }
        return out
    }

    /// Copies file-ordered `values` into libnn's layout at `destination`.
    func fromFile(_ values: [Float], into destination: UnsafeMutablePointer<Float>) {
        guard transposed else {
            values.withUnsafeBufferPointer { destination.update(from: $0.baseAddress!, count: count) }
            return
        }
        let units = shape[0], inputs = shape[1]
        for u in 0..<units {
            for i in 0..<inputs { destination[i * units + u] = values[u * inputs + i] }
        }
    }
}

// MARK: Names

extension Sequential {
    /// The file slots of every weight array, in get_weights() order, and the
    /// names of the batch-normalization counters (num_batches_tracked).
    func tensorSlots() -> (slots: [TensorSlot], counters: [String]) {
        var slots: [TensorSlot] = [], counters: [String] = []
        var module = 0
        for (i, layer) in layers.enumerated() {
            var parameterOffset = network.parameterOffsets[i], stateOffset = network.stateOffsets[i]
            for spec in network.operations[i].weights {
                let transposed = spec.torchTransposed
                let offset = spec.trainable ? parameterOffset : stateOffset
                slots.append(TensorSlot(name: "\(module).\(spec.torchName)", offset: offset, trainable: spec.trainable,
                                        shape: transposed ? spec.shape.reversed() : spec.shape,
                                        transposed: transposed))
                if spec.trainable { parameterOffset += spec.count } else { stateOffset += spec.count }
            }
            counters += layer.torchCounters.map { "\(module).\($0)" }
            module += layer.torchModuleCount
        }
        return (slots, counters)
    }
}

// MARK: Saving

extension Sequential {
    /// The model as a model file (see `ModelFile`); with `includeOptimizer`
    /// also the optimizer's state, so that training resumes exactly.
    public func serialized(includeOptimizer: Bool = true) throws -> [UInt8] {
        try requireLayers()
        var writer = SafeTensorsWriter()
        let (slots, counters) = tensorSlots()
        for slot in slots {
            let values = slot.toFile(network.storage(trainable: slot.trainable).pointer + slot.offset)
            try values.withUnsafeBufferPointer { try writer.add(slot.name, floats: $0, shape: slot.shape) }
        }
        for name in counters { try writer.add(name, int64s: [Int64(trainingSteps)], shape: []) }

        var training: [String: JSONValue] = [
            "rng": .array(rng.state.map { .string(String($0, radix: 16)) }),
            "epochs": .integer(history.epochCount),
            "steps": .integer(trainingSteps),
            "trained": .bool(isTrained),
        ]
        if includeOptimizer, let optimizer {
            training["learning_rate"] = .number(optimizer.learningRate)
            training["optimizer_step"] = .integer(optimizer.step)
            if optimizer.step > 0 {
                for (stateName, buffer) in optimizer.stateBuffers {
                    for slot in slots where slot.trainable {
                        let values = slot.toFile(buffer.pointer + slot.offset)
                        try values.withUnsafeBufferPointer {
                            try writer.add(ModelFile.optimizerPrefix + slot.name + "." + stateName, floats: $0,
                                           shape: slot.shape)
                        }
                    }
                }
            }
            if let plateau {
                let saved = plateau.saved
                training["plateau"] = .object([
                    "best": saved.best.isFinite ? .number(saved.best) : .null,
                    "wait": .integer(saved.wait), "cooldown_left": .integer(saved.cooldownLeft),
                ])
            }
        }
        let metadata = [
            "format": "libnn",
            "format_version": String(ModelFile.formatVersion),
            "libnn_version": ModelFile.libraryVersion,
            "architecture": JSON.serialize(architectureJSON()),
            "compile": JSON.serialize(compileJSON()),
            "training": JSON.serialize(.object(training)),
        ]
        return writer.serialized(metadata: metadata)
    }

    /// Saves the model file at `path`, atomically: a crash leaves the old
    /// file or the new one (see `FileIO.writeAtomically`).
    public func save(to path: String, includeOptimizer: Bool = true) throws {
        try FileIO.writeAtomically(try serialized(includeOptimizer: includeOptimizer), to: path)
    }

    func architectureJSON() -> JSONValue {
        .object([
            "input_dim": .integer(inputDim),
            "seed": .string(String(seed)),
            "layers": .array(layers.map(LayerRegistry.encode)),
        ])
    }

    func compileJSON() -> JSONValue {
        var schedule = JSONValue.null
        if let learningRateSchedule { schedule = ScheduleCodec.encode(learningRateSchedule) }
        return .object([
            "loss": loss.map { .object(["kind": .string($0.kind.rawValue), "from_logits": .bool($0.fromLogits),
                                        "delta": .number($0.delta)]) } ?? .null,
            "optimizer": optimizerOptions.map(OptimizerCodec.encode) ?? .null,
            "metrics": .array(metrics.map { m in
                .object(["kind": .string(m.kind.rawValue), "parameter": m.parameter.map { .number($0) } ?? .null])
            }),
            "schedule": schedule,
        ])
    }
}

// MARK: Loading

extension Sequential {
    /// The model in a model file's bytes. Every failure is an
    /// `NNError.invalidFile` that says what is wrong.
    public static func load(serialized bytes: [UInt8]) throws -> Sequential {
        let file = try SafeTensorsFile(bytes: bytes)
        guard file.metadata["format"] == "libnn" else {
            throw NNError.invalidFile(
                "not a libnn model file (its safetensors metadata has no \"format\": \"libnn\"); to use its tensors, "
                + "build the model and load them with load_weights")
        }
        guard let versionText = file.metadata["format_version"], let version = Int(versionText), version >= 1 else {
            throw NNError.invalidFile("the file's format_version is missing or not a positive integer")
        }
        guard version <= ModelFile.formatVersion else {
            throw NNError.invalidFile(
                "the file has format version \(version), newer than this libnn (\(ModelFile.libraryVersion)) reads "
                + "(\(ModelFile.formatVersion)); written by libnn \(file.metadata["libnn_version"] ?? "?")")
        }
        let architecture = try Field(metadataJSON(file, "architecture"), "architecture")
        let inputDim = try architecture.int("input_dim", 1...(1 << 31))
        guard let seed = UInt64(try architecture.string("seed")) else {
            throw NNError.invalidFile("architecture.seed is not an unsigned 64-bit integer")
        }
        let layerList = try architecture.array("layers")
        guard !layerList.isEmpty else { throw NNError.invalidFile("architecture.layers is empty") }
        // Decode every layer and add up its weights before allocating any:
        // a file cannot make libnn allocate more than its own size justifies.
        var layers: [any Layer] = []
        var width = inputDim, weightCount = 0
        for (i, item) in layerList.enumerated() {
            let layer = try LayerRegistry.decode(Field(item, "layer \(i)"))
            let outputDim = try inFile("layer \(i) (\(layer.kindName))") { try layer.outputDim(inputDim: width) }
            let (count, overflow) = layer.weightCount(inputDim: width)
            let (sum, overflow2) = weightCount.addingReportingOverflow(count)
            guard !overflow, !overflow2, sum <= bytes.count / MemoryLayout<Float>.size else {
                throw NNError.invalidFile("layer \(i) (\(layer.kindName)) declares more weights than the file holds")
            }
            weightCount = sum
            layers.append(layer)
            width = outputDim
        }
        let model = try Sequential(inputDim: inputDim, seed: seed)
        for (i, layer) in layers.enumerated() {
            try inFile("layer \(i) (\(layer.kindName))") { try model.add(layer) }
        }
        try model.applyCompile(Field(metadataJSON(file, "compile"), "compile"))
        do { try model.applyWeights(file, requireCounters: true) } catch NNError.nonFinite(let message) {
            throw NNError.invalidFile(message)
        }
        try model.applyTraining(Field(metadataJSON(file, "training"), "training"), file: file)
        return model
    }

    /// The model saved at `path`.
    public static func load(from path: String) throws -> Sequential {
        try load(serialized: try FileIO.readAll(path))
    }

    /// Replaces this model's weights with the tensors of a safetensors file
    /// named as `ModelFile` describes (written by libnn, or by PyTorch for
    /// the equivalent nn.Sequential). Every weight must be there with its
    /// shape and dtype F32; "optimizer." tensors are ignored; any other
    /// tensor is an error (PyTorch's strict load_state_dict). All or
    /// nothing: on error the model is unchanged. Keeps the optimizer state.
    public func loadWeights(serialized bytes: [UInt8]) throws {
        try requireLayers()
        try applyWeights(try SafeTensorsFile(bytes: bytes), requireCounters: false)
    }

    /// As `loadWeights(serialized:)`, from the file at `path`.
    public func loadWeights(from path: String) throws {
        try loadWeights(serialized: try FileIO.readAll(path))
    }

    private static func metadataJSON(_ file: SafeTensorsFile, _ key: String) throws -> JSONValue {
        guard let text = file.metadata[key] else { throw NNError.invalidFile("the file's metadata has no \"\(key)\"") }
        return try inFile("metadata \"\(key)\"") { try JSON.parse(text) }
    }

    /// Checks every tensor of the file against this model, then copies the
    /// weights (nothing is written before everything is checked). Tensors
    /// under "optimizer." are left to the caller; num_batches_tracked is
    /// checked when present (required with `requireCounters`) and not used:
    /// libnn counts training batches itself.
    private func applyWeights(_ file: SafeTensorsFile, requireCounters: Bool) throws {
        let (slots, counterNames) = tensorSlots()
        var values: [[Float]] = []
        for slot in slots {
            guard let entry = file.entries[slot.name] else {
                throw NNError.invalidFile("the file has no tensor \"\(slot.name)\" (shape \(slot.shape)); "
                                          + "it holds \(describe(file.orderedNames))")
            }
            guard entry.dtype == .f32 else {
                throw NNError.invalidFile("tensor \"\(slot.name)\" has dtype \(entry.dtype.rawValue), expected F32")
            }
            guard entry.shape == slot.shape else {
                throw NNError.invalidFile("tensor \"\(slot.name)\" has shape \(entry.shape), the model needs \(slot.shape)"
                                          + (slot.transposed ? " (PyTorch's Linear layout: [units, inputs])" : ""))
            }
            let v = try file.floats(slot.name)
            if let bad = v.firstIndex(where: { !$0.isFinite }) {
                throw NNError.nonFinite("tensor \"\(slot.name)\" value \(bad) is \(v[bad]); weights must be finite")
            }
            if slot.name.hasSuffix(".running_var"), let bad = v.firstIndex(where: { $0 < 0 }) {
                throw NNError.invalidFile("tensor \"\(slot.name)\" value \(bad) is \(v[bad]); variances must be >= 0")
            }
            values.append(v)
        }
        for name in counterNames {
            guard let entry = file.entries[name] else {
                if requireCounters { throw NNError.invalidFile("the file has no tensor \"\(name)\"") }
                continue
            }
            guard entry.dtype == .i64, entry.shape.isEmpty || entry.shape == [1] else {
                throw NNError.invalidFile("tensor \"\(name)\" must be an I64 scalar, got \(entry.dtype.rawValue) \(entry.shape)")
            }
            let count = try file.int64s(name)[0]
            guard count >= 0 else { throw NNError.invalidFile("tensor \"\(name)\" is \(count); it counts batches, so >= 0") }
        }
        let known = Set(slots.map(\.name) + counterNames)
        for name in file.orderedNames where !known.contains(name) {
            if name.hasPrefix(ModelFile.optimizerPrefix) { continue }
            throw NNError.invalidFile("the file has a tensor \"\(name)\" that this model does not have "
                                      + "(the model's tensors: \(describe(slots.map(\.name) + counterNames)))")
        }
        for (slot, v) in zip(slots, values) {
            slot.fromFile(v, into: network.storage(trainable: slot.trainable).pointer + slot.offset)
        }
    }

    private func describe(_ names: [String]) -> String {
        names.isEmpty ? "no tensors" : names.prefix(8).joined(separator: ", ") + (names.count > 8 ? ", ..." : "")
    }

    private func applyCompile(_ compile: Field) throws {
        if let loss = try compile.optional("loss") {
            guard let kind = Loss.Kind(rawValue: try loss.string("kind")) else {
                throw NNError.invalidFile("compile.loss: unknown loss \"\(try loss.string("kind"))\"")
            }
            try inFile("compile.loss") {
                try setLoss(Loss(kind, fromLogits: try loss.bool("from_logits"), delta: try loss.double("delta")))
            }
        }
        if let optimizer = try compile.optional("optimizer") {
            let options = try OptimizerCodec.decode(optimizer)
            try inFile("compile.optimizer") { try setOptimizer(options) }
        }
        for (i, item) in try compile.array("metrics").enumerated() {
            let metric = Field(item, "compile.metrics[\(i)]")
            guard let kind = Metric.Kind(rawValue: try metric.string("kind")) else {
                throw NNError.invalidFile("\(metric.path): unknown metric \"\(try metric.string("kind"))\"")
            }
            let parameter = try metric.optional("parameter").map { try $0.asDouble() }
            try inFile(metric.path) { try addMetric(Metric(kind, parameter: parameter)) }
        }
        if let schedule = try compile.optional("schedule") {
            let decoded = try ScheduleCodec.decode(schedule)
            try inFile("compile.schedule") { try setLearningRateSchedule(decoded) }
        }
    }

    private func applyTraining(_ training: Field, file: SafeTensorsFile) throws {
        let words = try training.array("rng").enumerated().map { i, item -> UInt64 in
            guard let word = UInt64(try Field(item, "training.rng[\(i)]").asString(), radix: 16) else {
                throw NNError.invalidFile("training.rng[\(i)] is not a hexadecimal 64-bit word")
            }
            return word
        }
        guard let generator = RandomGenerator(state: words) else {
            throw NNError.invalidFile("training.rng must be four words, not all zero")
        }
        rng = generator
        // Counters stay far from Int.max, so that training on cannot overflow them.
        let counters = 0...(1 << 53)
        history = History(epochCount: try training.int("epochs", counters))
        trainingSteps = try training.int("steps", counters)
        if try training.bool("trained") { markTrained() }
        guard let optimizer else {
            if file.orderedNames.contains(where: { $0.hasPrefix(ModelFile.optimizerPrefix) }) {
                throw NNError.invalidFile("the file has optimizer state but no optimizer in compile")
            }
            return
        }
        guard let step = try training.optional("optimizer_step").map({ try $0.asInt(counters) }) else {
            if file.orderedNames.contains(where: { $0.hasPrefix(ModelFile.optimizerPrefix) }) {
                throw NNError.invalidFile("the file has optimizer tensors but no training.optimizer_step")
            }
            return
        }
        let learningRate = try training.double("learning_rate")
        guard learningRate.isFinite, learningRate >= 0 else {
            throw NNError.invalidFile("training.learning_rate must be a finite number >= 0, got \(learningRate)")
        }
        // Every state buffer of this optimizer, assembled from its per-tensor
        // pieces; all must be present when the optimizer has taken a step.
        let slots = tensorSlots().slots.filter(\.trainable)
        let stateNames = Optimizer<Float>.stateNames(for: optimizer.options)
        var buffers: [[Float]] = []
        if step > 0 {
            for stateName in stateNames {
                var buffer = [Float](repeating: 0, count: parameterCount)
                for slot in slots {
                    let name = ModelFile.optimizerPrefix + slot.name + "." + stateName
                    guard let entry = file.entries[name] else {
                        throw NNError.invalidFile("the file has no optimizer tensor \"\(name)\"")
                    }
                    guard entry.dtype == .f32, entry.shape == slot.shape else {
                        throw NNError.invalidFile("optimizer tensor \"\(name)\" is \(entry.dtype.rawValue) \(entry.shape), "
                                                  + "expected F32 \(slot.shape)")
                    }
                    let values = try file.floats(name)
                    if let bad = values.firstIndex(where: { $0.isNaN }) {
                        throw NNError.invalidFile("optimizer tensor \"\(name)\" value \(bad) is NaN")
                    }
                    buffer.withUnsafeMutableBufferPointer { slot.fromFile(values, into: $0.baseAddress! + slot.offset) }
                }
                buffers.append(buffer)
            }
        }
        let expected = Set(step > 0 ? stateNames.flatMap { s in slots.map { ModelFile.optimizerPrefix + $0.name + "." + s } } : [])
        for name in file.orderedNames where name.hasPrefix(ModelFile.optimizerPrefix) && !expected.contains(name) {
            throw NNError.invalidFile("the file has an optimizer tensor \"\(name)\" that a \(optimizer.options.kind.rawValue) "
                                      + "optimizer with this configuration does not have")
        }
        optimizer.restore(step: step, learningRate: learningRate, parameterCount: parameterCount, buffers: buffers)
        if let plateauJSON = try training.optional("plateau") {
            guard case .reduceOnPlateau(let p) = learningRateSchedule else {
                throw NNError.invalidFile("training.plateau is given but the schedule is not reduce-on-plateau")
            }
            let best = try plateauJSON.optional("best").map { try $0.asDouble() } ?? .nan
            plateau = PlateauState(p, best: best, wait: try plateauJSON.int("wait", 0...Int(Int32.max)),
                                   cooldownLeft: try plateauJSON.int("cooldown_left", 0...Int(Int32.max)))
        }
    }
}

// MARK: Reading JSON fields with messages

/// Runs body; an NNError it throws (a value out of range, an invalid layer
/// configuration) becomes an invalid-file error that says where in the file
/// the value came from.
func inFile<R>(_ path: @autoclosure () -> String, _ body: () throws -> R) throws -> R {
    do { return try body() } catch let error as NNError {
        throw NNError.invalidFile("\(path()): \(error.message)")
    }
}

/// A JSON value with its path in the file, for messages ("layer 2.units").
struct Field {
    let value: JSONValue
    let path: String

    init(_ value: JSONValue, _ path: String) {
        self.value = value
        self.path = path
    }

    private func fail(_ what: String) -> NNError { .invalidFile("\(path): \(what)") }

    /// The member `key` of this object (an error if missing).
    func member(_ key: String) throws -> Field {
        guard case .object(let members) = value else { throw fail("expected a JSON object") }
        guard let member = members[key] else { throw fail("missing \"\(key)\"") }
        return Field(member, "\(path).\(key)")
    }

    /// The member `key`, or nil if it is missing or null.
    func optional(_ key: String) throws -> Field? {
        guard case .object(let members) = value else { throw fail("expected a JSON object") }
        guard let member = members[key], member != .null else { return nil }
        return Field(member, "\(path).\(key)")
    }

    func asString() throws -> String {
        guard case .string(let s) = value else { throw fail("expected a string") }
        return s
    }

    func asBool() throws -> Bool {
        guard case .bool(let b) = value else { throw fail("expected true or false") }
        return b
    }

    func asDouble() throws -> Double {
        switch value {
        case .integer(let i): return Double(i)
        case .number(let d): return d
        default: throw fail("expected a number")
        }
    }

    func asInt(_ range: ClosedRange<Int>) throws -> Int {
        guard case .integer(let i) = value else { throw fail("expected an integer") }
        guard range.contains(i) else { throw fail("\(i) is out of range \(range.lowerBound)...\(range.upperBound)") }
        return i
    }

    func asArray() throws -> [JSONValue] {
        guard case .array(let items) = value else { throw fail("expected an array") }
        return items
    }

    func string(_ key: String) throws -> String { try member(key).asString() }
    func bool(_ key: String) throws -> Bool { try member(key).asBool() }
    func double(_ key: String) throws -> Double { try member(key).asDouble() }
    func int(_ key: String, _ range: ClosedRange<Int>) throws -> Int { try member(key).asInt(range) }
    func array(_ key: String) throws -> [JSONValue] { try member(key).asArray() }
}

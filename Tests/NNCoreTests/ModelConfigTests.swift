import Foundation
import XCTest
@testable import NNCore

/// `Sequential.configuration()` (nn_model_config): JSON that Foundation's
/// parser reads, with the architecture and compile objects a saved file's
/// metadata holds and the Keras layer names.
final class ModelConfigTests: XCTestCase {
    /// Every layer kind, compiled with SGD, two metrics and a schedule.
    func compiledModel() throws -> Sequential {
        let model = try Sequential(inputDim: 4, seed: 11)
        try model.add(Dense(6, activation: .relu, kernelInitializer: .heNormal, kernelRegularizer: .l2(1e-3)))
        try model.add(BatchNormalization(momentum: 0.2, epsilon: 1e-4))
        try model.add(Dropout(0.25))
        try model.add(ActivationLayer(.leakyRelu(negativeSlope: 0.1)))
        try model.add(Dense(3, activation: .softmax, biasInitializer: .constant(0.05)))
        try model.compile(loss: Loss(.categoricalCrossentropy),
                          optimizer: .sgd(learningRate: 0.05, momentum: 0.9, nesterov: true),
                          metrics: [Metric(.accuracy), Metric(.topKAccuracy, parameter: 2)])
        try model.setLearningRateSchedule(.exponential(gamma: 0.9))
        return model
    }

    /// The configuration parsed by Foundation (not by libnn's own parser).
    func parsed(_ model: Sequential) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(model.configuration().utf8))
        return try XCTUnwrap(object as? [String: Any])
    }

    /// The JSON strings of a saved file's `__metadata__`, parsed.
    func metadata(_ bytes: [UInt8]) throws -> [String: Any] {
        let length = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: Any]
        let strings = try XCTUnwrap(header?["__metadata__"] as? [String: String])
        var out: [String: Any] = [:]
        for key in ["architecture", "compile"] {
            out[key] = try JSONSerialization.jsonObject(with: Data(try XCTUnwrap(strings[key]).utf8))
        }
        return out
    }

    func testConfigurationListsLayersCompileSettingsAndNames() throws {
        let model = try compiledModel()
        let config = try parsed(model)
        XCTAssertEqual(Set(config.keys), ["format", "architecture", "compile", "layer_names"])
        XCTAssertEqual(config["format"] as? Int, 1)
        XCTAssertEqual(config["layer_names"] as? [String],
                       ["dense", "batch_normalization", "dropout", "activation", "dense_1"])
        XCTAssertEqual(config["layer_names"] as? [String], model.layerNames)

        let architecture = try XCTUnwrap(config["architecture"] as? [String: Any])
        XCTAssertEqual(architecture["input_dim"] as? Int, 4)
        XCTAssertEqual(architecture["seed"] as? String, "11")
        let layers = try XCTUnwrap(architecture["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.map { $0["kind"] as? String },
                       ["Dense", "BatchNormalization", "Dropout", "Activation", "Dense"])
        XCTAssertEqual(layers[0]["units"] as? Int, 6)
        XCTAssertEqual((layers[0]["kernel_initializer"] as? [String: Any])?["name"] as? String, "he_normal")
        XCTAssertEqual((layers[0]["kernel_regularizer"] as? [String: Any])?["l2"] as? Double, 1e-3)
        XCTAssertEqual(layers[1]["momentum"] as? Double, 0.2)
        XCTAssertEqual(layers[2]["rate"] as? Double, 0.25)
        XCTAssertEqual((layers[3]["activation"] as? [String: Any])?["parameter"] as? Double, 0.1)
        XCTAssertEqual((layers[4]["bias_initializer"] as? [String: Any])?["value"] as? Double, 0.05)

        let compile = try XCTUnwrap(config["compile"] as? [String: Any])
        XCTAssertEqual((compile["loss"] as? [String: Any])?["kind"] as? String, "categorical_crossentropy")
        let optimizer = try XCTUnwrap(compile["optimizer"] as? [String: Any])
        XCTAssertEqual(optimizer["kind"] as? String, "sgd")
        XCTAssertEqual(optimizer["learning_rate"] as? Double, 0.05)
        XCTAssertEqual(optimizer["momentum"] as? Double, 0.9)
        XCTAssertEqual(optimizer["nesterov"] as? Bool, true)
        let metrics = try XCTUnwrap(compile["metrics"] as? [[String: Any]])
        XCTAssertEqual(metrics.map { $0["kind"] as? String }, ["accuracy", "top_k_accuracy"])
        XCTAssertEqual(metrics[1]["parameter"] as? Double, 2)
        XCTAssertEqual((compile["schedule"] as? [String: Any])?["kind"] as? String, "exponential")
    }

    /// The objects are those `serialized()` writes into the file's metadata,
    /// and a loaded model gives the same text.
    func testArchitectureAndCompileAreTheFileMetadata() throws {
        let model = try compiledModel()
        let bytes = try model.serialized()
        let config = try parsed(model), saved = try metadata(bytes)
        for key in ["architecture", "compile"] {
            let a = try XCTUnwrap(config[key] as? NSDictionary), b = try XCTUnwrap(saved[key] as? NSDictionary)
            XCTAssertEqual(a, b, key)
        }
        XCTAssertEqual(try Sequential.load(serialized: bytes).configuration(), model.configuration())
    }

    func testAnUncompiledModelWithoutLayers() throws {
        let model = try Sequential(inputDim: 3, seed: 7)
        XCTAssertEqual(model.configuration(),
                       #"{"architecture":{"input_dim":3,"layers":[],"seed":"7"},"#
                       + #""compile":{"loss":null,"metrics":[],"optimizer":null,"schedule":null},"#
                       + #""format":1,"layer_names":[]}"#)
    }
}

import Foundation
import XCTest
@testable import NNCore

/// The shared golden oracle, Tests/golden/*.txt (format in
/// Tests/golden/README.md), written by a float64 numpy reference: predict,
/// evaluate's loss, and the weights after one SGD epoch over all rows as a
/// single batch.
final class GoldenTests: XCTestCase {
    struct GoldenTensor {
        var rows: Int, cols: Int, values: [Float]
    }

    struct GoldenCase {
        var name: String
        var inputDim = 0
        var layers: [(units: Int, activation: Activation)] = []
        var loss: Loss.Kind?
        var learningRate: Double?
        var tensors: [String: GoldenTensor] = [:]
        var scalars: [String: Double] = [:]
    }

    enum ParseError: Error, CustomStringConvertible {
        case bad(String, Int, String)
        var description: String {
            switch self { case let .bad(file, line, why): return "\(file):\(line): \(why)" }
        }
    }

    static var goldenDirectory: URL {
        // Tests/NNCoreTests/GoldenTests.swift → repository root → Tests/golden
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("golden")
    }

    func parse(_ url: URL) throws -> GoldenCase {
        let name = url.lastPathComponent
        var result = GoldenCase(name: name)
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        var pending: (name: String, rows: Int, cols: Int, line: Int)?
        for (index, raw) in lines.enumerated() {
            let number = index + 1
            let line = raw.trimmingCharacters(in: .whitespaces)
            if let header = pending {
                let values = line.split(separator: " ").map { Float(String($0)) }
                guard values.count == header.rows * header.cols, values.allSatisfy({ $0 != nil }) else {
                    throw ParseError.bad(name, number, "tensor \(header.name) needs \(header.rows * header.cols) numbers")
                }
                result.tensors[header.name] = GoldenTensor(rows: header.rows, cols: header.cols, values: values.map { $0! })
                pending = nil
                continue
            }
            if line.isEmpty || line.hasPrefix("#") { continue }
            let f = line.split(separator: " ").map(String.init)
            switch f[0] {
            case "input_dim" where f.count == 2:
                result.inputDim = Int(f[1]) ?? 0
            case "layer" where f.count == 3:
                guard let units = Int(f[1]), let act = Activation(name: f[2]) else {
                    throw ParseError.bad(name, number, "bad layer line")
                }
                result.layers.append((units, act))
            case "loss" where f.count == 2:
                result.loss = Loss.Kind(rawValue: f[1])
            case "lr" where f.count == 2:
                result.learningRate = Double(f[1])
            case "tensor" where f.count == 4:
                guard let rows = Int(f[2]), let cols = Int(f[3]) else { throw ParseError.bad(name, number, "bad tensor header") }
                pending = (f[1], rows, cols, number)
            case "scalar" where f.count == 3:
                guard let v = Double(f[2]) else { throw ParseError.bad(name, number, "bad scalar") }
                result.scalars[f[1]] = v
            default:
                throw ParseError.bad(name, number, "unknown line \"\(line)\"")
            }
        }
        if let header = pending { throw ParseError.bad(name, header.line, "tensor \(header.name) has no values") }
        return result
    }

    func goldenFiles() throws -> [URL] {
        let dir = Self.goldenDirectory
        return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "txt" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    func tensor(_ c: GoldenCase, _ name: String) throws -> GoldenTensor {
        guard let t = c.tensors[name] else { throw ParseError.bad(c.name, 0, "no tensor \(name)") }
        return t
    }

    /// |a − b| ≤ tol · max(1, |b|): relative for large values, absolute for small ones.
    func assertClose(_ got: [Float], _ want: [Float], _ tol: Double, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, what, file: file, line: line)
        for (i, (g, w)) in zip(got, want).enumerated() where !(abs(Double(g) - Double(w)) <= tol * max(1, abs(Double(w)))) {
            XCTFail("\(what)[\(i)]: got \(g), expected \(w)", file: file, line: line)
            return
        }
    }

    func testGoldenFilesExist() throws {
        let files = try goldenFiles()
        XCTAssertGreaterThanOrEqual(files.count, 1, "no golden files in \(Self.goldenDirectory.path)")
    }

    func testGoldenCases() throws {
        let files = try goldenFiles()
        for url in files {
            let c = try parse(url)
            let label = c.name
            let loss = try XCTUnwrap(c.loss, "\(label): loss")
            let lr = try XCTUnwrap(c.learningRate, "\(label): lr")
            XCTAssertFalse(c.layers.isEmpty, label)

            let model = try Sequential(inputDim: c.inputDim, seed: 0)
            for (units, activation) in c.layers { try model.add(Dense(units, activation: activation)) }
            try model.compile(loss: Loss(loss), optimizer: .sgd(learningRate: lr))

            // Initial weights: kernel w<i> [inputs, units], bias b<i> [1, units].
            for i in c.layers.indices {
                let w = try tensor(c, "w\(i)"), b = try tensor(c, "b\(i)")
                XCTAssertEqual(model.weightShapes[2 * i], [w.rows, w.cols], "\(label): w\(i) shape")
                XCTAssertEqual(model.weightShapes[2 * i + 1], [b.rows * b.cols], "\(label): b\(i) shape")
                try model.setWeight(2 * i, w.values)
                try model.setWeight(2 * i + 1, b.values)
            }

            let x = try tensor(c, "x"), y = try tensor(c, "y"), out = try tensor(c, "out")
            let xt = try Tensor(shape: [x.rows, x.cols], scalars: x.values)
            let yt = try Tensor(shape: [y.rows, y.cols], scalars: y.values)

            let predicted = try model.predict(xt)
            XCTAssertEqual(predicted.shape, [out.rows, out.cols], "\(label): predict shape")
            assertClose(predicted.scalars, out.values, 1e-5, "\(label): predict")

            let expectedLoss = try XCTUnwrap(c.scalars["loss"], "\(label): scalar loss")
            let evaluated = try model.evaluate(x: xt, y: yt)[0]
            XCTAssertLessThanOrEqual(abs(evaluated - expectedLoss), 1e-5 * max(1, abs(expectedLoss)),
                                     "\(label): loss \(evaluated), expected \(expectedLoss)")

            let history = try model.fit(x: xt, y: yt, options: FitOptions(epochs: 1, batchSize: x.rows, shuffle: false))
            // The epoch's logged loss is the loss before its single update.
            XCTAssertEqual(history.values["loss"]?.first ?? .nan, expectedLoss, accuracy: 1e-5 * max(1, abs(expectedLoss)),
                           "\(label): fit's logged loss")
            for i in c.layers.indices {
                let w = try tensor(c, "w\(i)_step"), b = try tensor(c, "b\(i)_step")
                let w0 = try tensor(c, "w\(i)")
                let newW = try model.weight(2 * i)
                assertClose(newW, w.values, 1e-5, "\(label): w\(i)_step")
                assertClose(try model.weight(2 * i + 1), b.values, 1e-5, "\(label): b\(i)_step")
                // The step moved the weights (so the comparison is not trivially the initial values).
                XCTAssertNotEqual(newW, w0.values, "\(label): w\(i) did not move")
            }
        }
    }
}

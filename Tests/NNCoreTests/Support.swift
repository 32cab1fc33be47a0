import XCTest
@testable import NNCore

// Shared helpers of the NNCore tests: deterministic data, a hand-written
// forward pass, the loss/gradient driver that mirrors `Sequential.fit`, and
// central finite differences.

// MARK: Deterministic data

/// `count` values uniform in [low, high) from a generator seeded with `seed`.
func uniformValues(_ count: Int, _ low: Double, _ high: Double, seed: UInt64) -> [Double] {
    var rng = RandomGenerator(seed: seed)
    return (0..<count).map { _ in rng.uniform(low, high) }
}

/// Targets that suit `loss` for a model with `outputs` output columns.
/// - MSE: uniform in [-1, 1).
/// - binary cross-entropy: a mix of 0, 1 and soft targets in (0.05, 0.95).
/// - categorical cross-entropy: one-hot rows alternating with soft rows that sum to 1.
/// - sparse categorical cross-entropy: one class index per row, every class used.
func targetValues(for loss: Loss, rows: Int, outputs: Int, seed: UInt64) -> [Double] {
    var rng = RandomGenerator(seed: seed)
    switch loss.kind {
    case .meanSquaredError:
        return (0..<rows * outputs).map { _ in rng.uniform(-1, 1) }
    case .binaryCrossentropy:
        return (0..<rows * outputs).map { i in
            switch i % 3 {
            case 0: return 1
            case 1: return 0
            default: return rng.uniform(0.05, 0.95)
            }
        }
    case .categoricalCrossentropy:
        var y = [Double](repeating: 0, count: rows * outputs)
        for r in 0..<rows {
            if r % 2 == 0 {
                y[r * outputs + Int(rng.next() % UInt64(outputs))] = 1
            } else {
                let raw = (0..<outputs).map { _ in rng.uniform(0.1, 1) }
                let s = raw.reduce(0, +)
                for j in 0..<outputs { y[r * outputs + j] = raw[j] / s }
            }
        }
        return y
    case .sparseCategoricalCrossentropy:
        return (0..<rows).map { r in Double((r * 7 + 3) % outputs) }
    }
}

// MARK: Errors and comparisons

/// Relative error of two vectors as norm ratios:
///   l2   = ‖a − b‖₂ / max(‖a‖₂, ‖b‖₂, 1e-8)
///   linf = ‖a − b‖∞ / max(‖a‖∞, ‖b‖∞, 1e-8)
func relativeError(_ a: [Double], _ b: [Double]) -> (l2: Double, linf: Double) {
    precondition(a.count == b.count, "vectors of different lengths")
    var d2 = 0.0, a2 = 0.0, b2 = 0.0, dInf = 0.0, aInf = 0.0, bInf = 0.0
    for (x, y) in zip(a, b) {
        let d = x - y
        d2 += d * d; a2 += x * x; b2 += y * y
        dInf = max(dInf, abs(d)); aInf = max(aInf, abs(x)); bInf = max(bInf, abs(y))
    }
    if d2.isNaN || dInf.isNaN { return (.nan, .nan) }
    return (d2.squareRoot() / max(a2.squareRoot(), b2.squareRoot(), 1e-8),
            dInf / max(aInf, bInf, 1e-8))
}

/// |a − b| / max(|a|, |b|, floor)
func relativeDifference(_ a: Double, _ b: Double, floor: Double = 1e-300) -> Double {
    abs(a - b) / max(abs(a), abs(b), floor)
}

func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }

/// Asserts that `body` throws an `NNError` of the same case as `expected`
/// and, when `messageContains` is given, that its message contains that text.
func assertNNError<R>(_ expected: NNError, messageContains: String? = nil,
                      _ body: @autoclosure () throws -> R,
                      file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected \(expected) to be thrown, nothing was thrown", file: file, line: line)
    } catch let error as NNError {
        XCTAssertTrue(sameCase(error, expected), "expected a \(caseName(expected)) error, got \(caseName(error)): \(error)",
                      file: file, line: line)
        if let text = messageContains {
            XCTAssertTrue(error.message.contains(text), "message \"\(error.message)\" does not contain \"\(text)\"",
                          file: file, line: line)
        }
    } catch {
        XCTFail("expected an NNError, got \(error)", file: file, line: line)
    }
}

func caseName(_ e: NNError) -> String {
    switch e {
    case .invalidArgument: return "invalidArgument"
    case .shapeMismatch: return "shapeMismatch"
    case .invalidState: return "invalidState"
    case .nonFinite: return "nonFinite"
    case .outOfMemory: return "outOfMemory"
    }
}

func sameCase(_ a: NNError, _ b: NNError) -> Bool { caseName(a) == caseName(b) }

// MARK: Networks

/// A network of `layers` on `inputDim`-wide rows, initialized from `seed`.
func makeNetwork<T: NNFloat>(_ scalar: T.Type, inputDim: Int, layers: [Dense], seed: UInt64,
                             kernels: KernelTable<T>) throws -> Network<T> {
    let net = Network<T>(inputDim: inputDim, kernels: kernels)
    var rng = RandomGenerator(seed: seed)
    for layer in layers { try net.append(layer, rng: &rng) }
    return net
}

/// How a training step drives the network and the loss. `Sequential.fit`
/// defers the last activation when the loss fuses it, and tells the loss
/// that it sees logits when the activation is fused or the loss is
/// `fromLogits`.
struct LossMode: CustomStringConvertible {
    var deferLast: Bool
    var logits: Bool

    /// The mode `Sequential.fit` uses for `loss` after a last layer with `activation`.
    static func training(_ loss: Loss, last activation: Activation) -> LossMode {
        let fused = loss.fusesActivation(activation)
        return LossMode(deferLast: fused, logits: fused || loss.fromLogits)
    }

    /// The loss sees the last layer's activated outputs as probabilities.
    static let probabilities = LossMode(deferLast: false, logits: false)

    var description: String { "deferLast=\(deferLast) logits=\(logits)" }
}

/// Mean loss over the batch, computed the way `fit` computes a batch's loss.
func meanLoss<T: NNFloat>(_ net: Network<T>, _ loss: Loss, _ mode: LossMode,
                          x: [T], y: [T], rows: Int) -> Double {
    net.lastActivationDeferred = mode.deferLast
    return x.withUnsafeBufferPointer { xb in
        y.withUnsafeBufferPointer { yb in
            let out = net.forward(xb.baseAddress!, rows: rows)
            return loss.evaluate(predictions: out, targets: yb.baseAddress!, rows: rows, cols: net.outputDim,
                                 logits: mode.logits, grad: nil, divisor: T(rows)) / Double(rows)
        }
    }
}

/// One training step's forward and backward pass without the update: the
/// mean loss, ∂(mean loss)/∂parameters and the network's outputs (logits
/// when the last activation is deferred).
func lossAndGradients<T: NNFloat>(_ net: Network<T>, _ loss: Loss, _ mode: LossMode,
                                  x: [T], y: [T], rows: Int) -> (loss: Double, gradients: [T], outputs: [T]) {
    net.lastActivationDeferred = mode.deferLast
    return x.withUnsafeBufferPointer { xb in
        y.withUnsafeBufferPointer { yb in
            let out = net.forward(xb.baseAddress!, rows: rows)
            let outputs = Array(UnsafeBufferPointer(start: out, count: rows * net.outputDim))
            let grad = net.outputGradientBuffer(rows: rows)
            let total = loss.evaluate(predictions: out, targets: yb.baseAddress!, rows: rows, cols: net.outputDim,
                                      logits: mode.logits, grad: grad, divisor: T(rows))
            net.backward(xb.baseAddress!, rows: rows, outputGradient: grad)
            return (total / Double(rows), net.gradients.array, outputs)
        }
    }
}

/// Central finite differences (L(θ + h) − L(θ − h)) / 2h of the mean loss
/// for every parameter of `net`. Parameters are restored afterwards.
func numericGradients(_ net: Network<Double>, _ loss: Loss, _ mode: LossMode,
                      x: [Double], y: [Double], rows: Int, h: Double = 1e-6) -> [Double] {
    let p = net.parameters
    return (0..<p.count).map { i in
        let saved = p[i]
        p[i] = saved + h
        let plus = meanLoss(net, loss, mode, x: x, y: y, rows: rows)
        p[i] = saved - h
        let minus = meanLoss(net, loss, mode, x: x, y: y, rows: rows)
        p[i] = saved
        return (plus - minus) / (2 * h)
    }
}

// MARK: An independent forward pass

/// The activation written out here, independently of `Reference`.
func applyActivation(_ f: Activation, _ z: [Double], rows: Int, cols: Int) -> [Double] {
    switch f {
    case .linear: return z
    case .sigmoid: return z.map { 1 / (1 + Double.exp(-$0)) }
    case .tanh: return z.map { Double.tanh($0) }
    case .relu: return z.map { max($0, 0) }
    case .softmax:
        var out = z
        for r in 0..<rows {
            let row = z[r * cols ..< (r + 1) * cols]
            let m = row.max()!
            let e = row.map { Double.exp($0 - m) }
            let s = e.reduce(0, +)
            for j in 0..<cols { out[r * cols + j] = e[j] / s }
        }
        return out
    }
}

/// Pre-activations and activations of every layer of `net`, computed with
/// plain loops from the parameter block (kernel [in, units] then bias [units]
/// per layer).
func manualForward(_ net: Network<Double>, layers: [Dense], x: [Double], rows: Int)
    -> (pre: [[Double]], post: [[Double]]) {
    var input = x, width = net.inputDim
    var pre: [[Double]] = [], post: [[Double]] = []
    for (l, layer) in layers.enumerated() {
        let units = layer.units, base = net.parameterOffsets[l]
        var z = [Double](repeating: 0, count: rows * units)
        for r in 0..<rows {
            for j in 0..<units {
                var s = net.parameters[base + width * units + j]
                for i in 0..<width { s += input[r * width + i] * net.parameters[base + i * units + j] }
                z[r * units + j] = s
            }
        }
        let a = applyActivation(layer.activation, z, rows: rows, cols: units)
        pre.append(z); post.append(a)
        input = a; width = units
    }
    return (pre, post)
}

/// The smallest |z| over the pre-activations of the relu layers (infinity
/// if there are none), and whether every relu layer has both active and
/// inactive units on this data.
func reluMargin(_ net: Network<Double>, layers: [Dense], x: [Double], rows: Int) -> (margin: Double, mixed: Bool) {
    let (pre, _) = manualForward(net, layers: layers, x: x, rows: rows)
    var margin = Double.infinity, mixed = true
    for (l, layer) in layers.enumerated() where layer.activation == .relu {
        margin = min(margin, pre[l].map(abs).min()!)
        mixed = mixed && pre[l].contains { $0 > 0 } && pre[l].contains { $0 < 0 }
    }
    return (margin, mixed)
}

/// Keeps objects alive up to this call: a `Buffer` whose only use is taking
/// its `pointer` could otherwise be freed before the kernel reads it.
func keepAlive(_ objects: AnyObject...) { withExtendedLifetime(objects) {} }

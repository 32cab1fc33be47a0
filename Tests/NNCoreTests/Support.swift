import Foundation
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
/// - MSE, MAE, Huber: uniform in [-1, 1).
/// - binary cross-entropy: a mix of 0, 1 and soft targets in (0.05, 0.95).
/// - categorical cross-entropy: one-hot rows alternating with soft rows that sum to 1.
/// - sparse categorical cross-entropy: one class index per row, every class used.
func targetValues(for loss: Loss, rows: Int, outputs: Int, seed: UInt64) -> [Double] {
    var rng = RandomGenerator(seed: seed)
    switch loss.kind {
    case .meanSquaredError, .meanAbsoluteError, .huber:
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

/// The gradient-check measure: back-propagated against finite-difference
/// gradients, relative error as a norm ratio in the 2-norm and in the
/// ∞-norm (see `relativeError`), both below `tolerance`; and the numeric
/// gradient must not vanish (a check of a zero gradient proves nothing).
func assertGradientsAgree(_ analytic: [Double], _ numeric: [Double], _ label: String, tolerance: Double = 1e-6,
                          file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(analytic.count, numeric.count, "\(label): gradient lengths", file: file, line: line)
    guard analytic.count == numeric.count else { return }
    XCTAssertTrue(analytic.allSatisfy(\.isFinite), "\(label): analytic gradient \(analytic)", file: file, line: line)
    XCTAssertGreaterThan(norm(numeric), 1e-4, "\(label): gradient too small to check", file: file, line: line)
    let err = relativeError(analytic, numeric)
    XCTAssertLessThan(err.l2, tolerance, "\(label): 2-norm relative error \(err.l2)", file: file, line: line)
    XCTAssertLessThan(err.linf, tolerance, "\(label): ∞-norm relative error \(err.linf)", file: file, line: line)
}

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
    case .io: return "io"
    case .invalidFile: return "invalidFile"
    case .communication: return "communication"
    }
}

func sameCase(_ a: NNError, _ b: NNError) -> Bool { caseName(a) == caseName(b) }

// MARK: Networks

/// A network of `layers` on `inputDim`-wide rows, initialized from `seed`.
func makeNetwork<T: NNFloat>(_ scalar: T.Type, inputDim: Int, layers: [any Layer], seed: UInt64,
                             kernels: KernelTable<T>) throws -> Network<T> {
    let net = Network<T>(inputDim: inputDim, kernels: kernels)
    var rng = RandomGenerator(seed: seed)
    for layer in layers { try net.append(layer, rng: &rng) }
    return net
}

/// What a forward/backward pass of the test drivers does besides the data.
struct PassOptions {
    /// The forward pass's context; nil is inference mode. Every pass starts
    /// from a copy of it, so Dropout draws the same mask on every pass.
    var context: ForwardContext? = nil
    /// One weight per row for the loss (Keras's sample_weight), if any.
    var sampleWeights: [Double]? = nil
    /// Adds the layers' regularization penalty to the loss (and its gradient),
    /// as `fit` does.
    var regularize = false

    static var inference: PassOptions { PassOptions() }
    /// Training mode, masks drawn from a generator seeded with `seed`.
    static func training(seed: UInt64 = 0) -> PassOptions {
        PassOptions(context: ForwardContext(training: true, rng: RandomGenerator(seed: seed)))
    }
}

/// Runs the forward pass of `options` on x [rows, inputDim].
func runForward<T: NNFloat>(_ net: Network<T>, _ x: UnsafePointer<T>, rows: Int,
                            _ options: PassOptions) -> UnsafeMutablePointer<T> {
    guard var context = options.context else { return net.forward(x, rows: rows) }
    return net.forward(x, rows: rows, context: &context)
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

/// Mean loss over the batch, computed the way `fit` computes a batch's loss
/// (plus the regularization penalty when `options.regularize`).
func meanLoss<T: NNFloat>(_ net: Network<T>, _ loss: Loss, _ mode: LossMode,
                          x: [T], y: [T], rows: Int, options: PassOptions = .inference) -> Double {
    net.lastActivationDeferred = mode.deferLast
    let weights = options.sampleWeights.map { $0.map { T($0) } }
    return x.withUnsafeBufferPointer { xb in
        y.withUnsafeBufferPointer { yb in
            (weights ?? []).withUnsafeBufferPointer { wb in
                let out = runForward(net, xb.baseAddress!, rows: rows, options)
                let total = loss.evaluate(predictions: out, targets: yb.baseAddress!, rows: rows, cols: net.outputDim,
                                          logits: mode.logits, grad: nil, divisor: T(rows),
                                          weights: weights == nil ? nil : wb.baseAddress)
                let penalty = options.regularize ? net.regularization(addGradients: false) : 0
                return total / Double(rows) + penalty
            }
        }
    }
}

/// One training step's forward and backward pass without the update: the
/// mean loss, ∂(mean loss)/∂parameters and the network's outputs (logits
/// when the last activation is deferred).
func lossAndGradients<T: NNFloat>(_ net: Network<T>, _ loss: Loss, _ mode: LossMode,
                                  x: [T], y: [T], rows: Int,
                                  options: PassOptions = .inference) -> (loss: Double, gradients: [T], outputs: [T]) {
    net.lastActivationDeferred = mode.deferLast
    let weights = options.sampleWeights.map { $0.map { T($0) } }
    return x.withUnsafeBufferPointer { xb in
        y.withUnsafeBufferPointer { yb in
            (weights ?? []).withUnsafeBufferPointer { wb in
                let out = runForward(net, xb.baseAddress!, rows: rows, options)
                let outputs = Array(UnsafeBufferPointer(start: out, count: rows * net.outputDim))
                let grad = net.outputGradientBuffer(rows: rows)
                let total = loss.evaluate(predictions: out, targets: yb.baseAddress!, rows: rows, cols: net.outputDim,
                                          logits: mode.logits, grad: grad, divisor: T(rows),
                                          weights: weights == nil ? nil : wb.baseAddress)
                net.backward(xb.baseAddress!, rows: rows, outputGradient: grad)
                let penalty = options.regularize ? net.regularization(addGradients: true) : 0
                return (total / Double(rows) + penalty, net.gradientArray, outputs)
            }
        }
    }
}

/// Central finite differences (L(θ + h) − L(θ − h)) / 2h of the mean loss
/// for every parameter of `net`. Parameters are restored afterwards.
func numericGradients(_ net: Network<Double>, _ loss: Loss, _ mode: LossMode,
                      x: [Double], y: [Double], rows: Int, h: Double = 1e-6,
                      options: PassOptions = .inference) -> [Double] {
    let p = net.parameters
    return (0..<p.count).map { i in
        let saved = p[i]
        p[i] = saved + h
        let plus = meanLoss(net, loss, mode, x: x, y: y, rows: rows, options: options)
        p[i] = saved - h
        let minus = meanLoss(net, loss, mode, x: x, y: y, rows: rows, options: options)
        p[i] = saved
        return (plus - minus) / (2 * h)
    }
}

/// Central finite differences of the mean loss with respect to every input x.
func numericInputGradient(_ net: Network<Double>, _ loss: Loss, _ mode: LossMode,
                          x: [Double], y: [Double], rows: Int, h: Double = 1e-6,
                          options: PassOptions = .inference) -> [Double] {
    (0..<x.count).map { i in
        var xp = x, xm = x
        xp[i] += h
        xm[i] -= h
        return (meanLoss(net, loss, mode, x: xp, y: y, rows: rows, options: options)
                - meanLoss(net, loss, mode, x: xm, y: y, rows: rows, options: options)) / (2 * h)
    }
}

/// Runs the layer operations of `net` by hand, asking every layer (the
/// first one included) for dx; returns ∂(mean loss)/∂x and the parameter
/// gradients. The context (a copy of `options.context`) is threaded through
/// the layers in order, as `Network.forward` does.
func inputGradient(_ net: Network<Double>, _ loss: Loss, _ mode: LossMode,
                   x: [Double], y: [Double], rows: Int,
                   options: PassOptions = .inference) -> (dx: [Double], parameters: [Double]) {
    net.lastActivationDeferred = mode.deferLast
    let ops = net.operations
    var context = options.context ?? ForwardContext(training: false)
    var activations = [Buffer<Double>(x)]
    for (i, op) in ops.enumerated() {
        let out = Buffer<Double>(count: rows * op.outputDim)
        op.reserve(rows: rows)
        op.forward(x: activations[i].pointer, y: out.pointer, rows: rows,
                   params: net.parameters.pointer + net.parameterOffsets[i],
                   state: net.state.pointer + net.stateOffsets[i], context: &context, kernels: net.kernels)
        activations.append(out)
    }
    var dy = Buffer<Double>(count: rows * net.outputDim)
    let weights = options.sampleWeights.map { Buffer<Double>($0) }
    _ = loss.evaluate(predictions: activations[ops.count].pointer, targets: y, rows: rows, cols: net.outputDim,
                      logits: mode.logits, grad: dy.pointer, divisor: Double(rows), weights: weights?.pointer)
    let grads = Buffer<Double>(count: net.parameterCount)
    for i in stride(from: ops.count - 1, through: 0, by: -1) {
        let dx = Buffer<Double>(count: rows * ops[i].inputDim)
        ops[i].backward(x: activations[i].pointer, y: activations[i + 1].pointer, dy: dy.pointer, dx: dx.pointer,
                        rows: rows, params: net.parameters.pointer + net.parameterOffsets[i],
                        grads: grads.pointer + net.parameterOffsets[i], kernels: net.kernels)
        dy = dx
    }
    withExtendedLifetime((activations, weights)) {}
    return (dy.array, grads.array)
}

// MARK: An independent forward pass

/// The activation written out here, independently of `Reference`.
func applyActivation(_ f: Activation, _ z: [Double], rows: Int, cols: Int) -> [Double] {
    switch f {
    case .linear: return z
    case .sigmoid: return z.map { 1 / (1 + Double.exp(-$0)) }
    case .tanh: return z.map { Double.tanh($0) }
    case .relu: return z.map { max($0, 0) }
    case .leakyRelu(let slope): return z.map { $0 > 0 ? $0 : slope * $0 }
    case .elu(let alpha): return z.map { $0 > 0 ? $0 : alpha * (Double.exp($0) - 1) }
    // z Φ(z) with Φ(z) = erfc(−z/√2)/2, written with erfc rather than erf
    case .gelu: return z.map { $0 * Foundation.erfc(-$0 / 2.0.squareRoot()) / 2 }
    case .softplus: return z.map { Double.log(1 + Double.exp($0)) }
    case .step: return z.map { $0 > 0 ? 1 : 0 }
    case .mish: return z.map { $0 * Double.tanh(Double.log(1 + Double.exp($0))) }
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

extension Activation {
    /// Whether the function or its derivative jumps at z = 0 (finite
    /// differences must not straddle it).
    var hasKinkAtZero: Bool {
        switch self {
        case .relu, .leakyRelu, .elu, .step: return true
        default: return false
        }
    }

    /// A label for messages: the name with the parameter, if any.
    var label: String { parameter.map { "\(name)(\($0))" } ?? name }
}

/// The smallest |z| over the pre-activations of the layers whose activation
/// has a kink at 0 (relu, leaky_relu, elu; infinity if there are none), and
/// whether every such layer has pre-activations on both sides of 0 on this
/// data.
func reluMargin(_ net: Network<Double>, layers: [Dense], x: [Double], rows: Int) -> (margin: Double, mixed: Bool) {
    let (pre, _) = manualForward(net, layers: layers, x: x, rows: rows)
    var margin = Double.infinity, mixed = true
    for (l, layer) in layers.enumerated() where layer.activation.hasKinkAtZero {
        margin = min(margin, pre[l].map(abs).min()!)
        mixed = mixed && pre[l].contains { $0 > 0 } && pre[l].contains { $0 < 0 }
    }
    return (margin, mixed)
}

/// Keeps objects alive up to this call: a `Buffer` whose only use is taking
/// its `pointer` could otherwise be freed before the kernel reads it.
func keepAlive(_ objects: AnyObject...) { withExtendedLifetime(objects) {} }

// MARK: Networks of any layers

/// A network of any layers with data, for gradient checks.
struct LayerCase {
    var net: Network<Double>
    var x: [Double]
    var y: [Double]
    var rows: Int
}

/// A network of `layers` and data, from the first seed at or after `seed`
/// for which every input of an `ActivationLayer` whose function has a kink
/// at 0 stays at least `margin` away from 0 and lies on both sides of it
/// (in the forward pass of `options`). Dense layers must not use such
/// activations here (their pre-activations are not visible).
func makeLayerCase(inputDim: Int, layers: [any Layer], rows: Int, loss: Loss, seed: UInt64,
                   options: PassOptions = .inference, margin: Double = 1e-3,
                   file: StaticString = #filePath, line: UInt = #line) throws -> LayerCase {
    for layer in layers where layer is Dense {
        precondition(!layer.activation.hasKinkAtZero, "use makeCase for Dense layers with kinked activations")
    }
    for s in seed ..< seed + 500 {
        let net = try makeNetwork(Double.self, inputDim: inputDim, layers: layers, seed: s, kernels: .reference)
        let x = uniformValues(rows * inputDim, -1, 1, seed: s &+ 1000)
        let y = targetValues(for: loss, rows: rows, outputs: net.outputDim, seed: s &+ 2000)
        _ = x.withUnsafeBufferPointer { runForward(net, $0.baseAddress!, rows: rows, options) }
        var usable = true
        for (i, layer) in layers.enumerated() where layer is ActivationLayer && layer.activation.hasKinkAtZero {
            let width = net.operations[i].inputDim
            let input = i == 0 ? x : Array(UnsafeBufferPointer(start: net.layerOutput(i - 1), count: rows * width))
            usable = usable && input.allSatisfy { abs($0) >= margin }
                && input.contains { $0 > 0 } && input.contains { $0 < 0 }
        }
        if usable { return LayerCase(net: net, x: x, y: y, rows: rows) }
    }
    XCTFail("no seed gives activation inputs away from the kink", file: file, line: line)
    throw NNError.invalidState("no usable seed")
}

/// Checks the parameter gradients of a layer case against finite
/// differences, in the forward mode of `options`; returns the analytic ones.
@discardableResult
func checkLayerGradients(_ c: LayerCase, _ loss: Loss, _ mode: LossMode, _ label: String,
                         options: PassOptions = .inference,
                         file: StaticString = #filePath, line: UInt = #line) -> [Double] {
    let (value, analytic, _) = lossAndGradients(c.net, loss, mode, x: c.x, y: c.y, rows: c.rows, options: options)
    XCTAssertTrue(value.isFinite, "\(label): loss \(value)", file: file, line: line)
    let numeric = numericGradients(c.net, loss, mode, x: c.x, y: c.y, rows: c.rows, options: options)
    assertGradientsAgree(analytic, numeric, label, file: file, line: line)
    return analytic
}

/// Checks ∂(mean loss)/∂x of a layer case against finite differences, and
/// that the hand-run layer chain gives the network's parameter gradients.
func checkInputGradient(_ c: LayerCase, _ loss: Loss, _ mode: LossMode, _ label: String,
                        options: PassOptions = .inference,
                        file: StaticString = #filePath, line: UInt = #line) {
    let (dx, parameters) = inputGradient(c.net, loss, mode, x: c.x, y: c.y, rows: c.rows, options: options)
    let numeric = numericInputGradient(c.net, loss, mode, x: c.x, y: c.y, rows: c.rows, options: options)
    assertGradientsAgree(dx, numeric, "\(label): dx", file: file, line: line)
    let viaNetwork = lossAndGradients(c.net, loss, mode, x: c.x, y: c.y, rows: c.rows, options: options).gradients
    XCTAssertLessThan(relativeError(viaNetwork, parameters).linf, 1e-13, "\(label): parameter gradients",
                      file: file, line: line)
}

// libFuzzer target for libnn's model loader: `Sequential.load(serialized:)`
// on hostile bytes. Build and run it with scripts/fuzz.sh (`make fuzz`).
//
// The contract under test (include/nn.h, "Saving and loading"): whatever the
// bytes, loading either returns a usable model or throws an `NNError`; it
// never traps, reads out of bounds, leaks, hangs, or allocates more than
// the file's size justifies. libFuzzer reports a trap, an AddressSanitizer
// or LeakSanitizer error, an input slower than -timeout, and an RSS or
// single allocation above -rss_limit_mb/-malloc_limit_mb.
//
// When a file loads, the model is exercised a little: one prediction on a
// zero row, then serialize → load → serialize, whose two outputs must be
// equal byte for byte (what libnn writes, it reads back to the same model),
// with the same prediction. Any violation traps, so libFuzzer saves the
// input as a crash.
//
// The same bytes also go to `loadWeights(serialized:)` (nn_model_load_weights)
// of two fixed models whose tensor names match seed files of the corpus:
// it must throw an NNError and leave the weights untouched, or succeed.
import NNCore

/// Inputs wider than this are not predicted on: a file may legitimately
/// declare a huge input_dim with no weights (a lone Dropout), and a zero row
/// of that width is the caller's allocation, not the loader's.
let maxPredictWidth = 1 << 16

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size > 0 ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    fuzzLoadWeights(bytes)
    let model: Sequential
    do {
        model = try Sequential.load(serialized: bytes)
    } catch is NNError {
        return 0  // the expected outcome for almost every input
    } catch {
        fatalError("load threw a non-NNError: \(type(of: error)): \(error)")
    }
    exercise(model)
    return 0
}

/// Models for loadWeights: Dense-ReLU-Dense-sigmoid on 2 inputs (tensors
/// 0.weight, 0.bias, 2.weight, 2.bias, as the corpus's valid-dense-* files)
/// and Dense, BatchNormalization, Activation, Dropout, Dense-softmax on 3
/// (as valid-all-layers-*).
nonisolated(unsafe) let weightTargets: [Sequential] = {
    mustSucceed("building the loadWeights models") {
        let small = try Sequential(inputDim: 2, seed: 1)
        try small.add(Dense(3, activation: .relu))
        try small.add(Dense(1, activation: .sigmoid))
        let every = try Sequential(inputDim: 3, seed: 1)
        try every.add(Dense(4))
        try every.add(BatchNormalization())
        try every.add(ActivationLayer(.tanh))
        try every.add(Dropout(0.25))
        try every.add(Dense(2, activation: .softmax))
        return [small, every]
    }
}()

/// The weights of each of `weightTargets` as of its last successful
/// loadWeights, to check that a failed one changed nothing.
nonisolated(unsafe) var expectedWeights: [[[UInt32]]] = weightTargets.map(weightBits)

func weightBits(_ model: Sequential) -> [[UInt32]] {
    (0..<model.weightSpecs.count).map { i in mustSucceed("weight \(i)") { try model.weight(i) }.map(\.bitPattern) }
}

@inline(never)
func fuzzLoadWeights(_ bytes: [UInt8]) {
    for (index, model) in weightTargets.enumerated() {
        do {
            try model.loadWeights(serialized: bytes)
        } catch is NNError {
            precondition(weightBits(model) == expectedWeights[index], "a failed loadWeights changed the model's weights")
            continue
        } catch {
            fatalError("loadWeights threw a non-NNError: \(type(of: error)): \(error)")
        }
        expectedWeights[index] = weightBits(model)
        _ = predictZeroRow(model)
    }
}

/// Uses a model that loaded; every failure here is a bug (it traps).
func exercise(_ model: Sequential) {
    precondition(!model.layers.isEmpty, "a loaded model has no layers")
    let first = predictZeroRow(model)

    // The round trip: what libnn writes, it reads back, and writing that
    // gives the same bytes again.
    let written = mustSucceed("serialized(includeOptimizer: true)") { try model.serialized(includeOptimizer: true) }
    let reloaded = mustSucceed("load of serialized() output") { try Sequential.load(serialized: written) }
    let rewritten = mustSucceed("serialized() of the reloaded model") {
        try reloaded.serialized(includeOptimizer: true)
    }
    if written != rewritten {
        let at = zip(written, rewritten).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        fatalError("round trip changed the file: \(written.count) bytes, then \(rewritten.count) bytes; first "
                   + "difference at byte \(at ?? min(written.count, rewritten.count))")
    }
    precondition(reloaded.inputDim == model.inputDim && reloaded.outputDim == model.outputDim
                 && reloaded.layers.count == model.layers.count, "the reloaded model has another shape")
    let second = predictZeroRow(reloaded)
    if first?.map(\.bitPattern) != second?.map(\.bitPattern) {
        fatalError("the reloaded model predicts \(second ?? []) where the loaded one predicted \(first ?? [])")
    }

    // Without the optimizer's state the file must load as well.
    let light = mustSucceed("serialized(includeOptimizer: false)") { try model.serialized(includeOptimizer: false) }
    _ = mustSucceed("load of serialized(includeOptimizer: false) output") { try Sequential.load(serialized: light) }
}

/// The model's outputs for one row of zeros (nil when the row would be too wide).
func predictZeroRow(_ model: Sequential) -> [Float]? {
    guard model.inputDim <= maxPredictWidth else { return nil }
    let x = mustSucceed("Tensor of one zero row") {
        try Tensor(shape: [1, model.inputDim], scalars: [Float](repeating: 0, count: model.inputDim))
    }
    let y = mustSucceed("predict on one zero row") { try model.predict(x) }
    precondition(y.shape == [1, model.outputDim], "predict returned shape \(y.shape), expected [1, \(model.outputDim)]")
    return y.scalars
}

func mustSucceed<T>(_ what: String, _ body: () throws -> T) -> T {
    do { return try body() } catch { fatalError("\(what) failed: \(error)") }
}

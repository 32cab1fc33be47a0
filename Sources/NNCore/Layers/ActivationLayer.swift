/// An activation applied on its own, as Keras's `Activation` layer (for
/// example after a BatchNormalization that follows a linear Dense).
public struct ActivationLayer: Layer, Equatable {
    public var activation: Activation

    public init(_ activation: Activation) { self.activation = activation }

    public var kindName: String { Self.kindName }

    public func outputDim(inputDim: Int) throws -> Int {
        try activation.validate()
        return inputDim
    }

    public func makeOperation<T: NNFloat>(inputDim: Int, scalar: T.Type) -> any LayerOperation<T> {
        ActivationOperation<T>(activation, dim: inputDim)
    }

    public var summaryLabel: String { "\(kindName), \(activation.name)" }
    public func describe(name: String) -> String { "\(name), \(activation.name)" }
    public var hasPenalty: Bool { false }
}

extension ActivationLayer: RegisteredLayer {
    static let kindName = "Activation"
    static let code: UInt32 = 4
    var configuration: [String: JSONValue] { ["activation": activation.json] }
    init(configuration field: Field) throws { self.init(try Activation(json: field.member("activation"))) }
}

final class ActivationOperation<T: NNFloat>: LayerOperation {
    typealias Scalar = T
    let activation: Activation
    let inputDim: Int
    var outputDim: Int { inputDim }
    var deferActivation = false
    let weights: [WeightSpec] = []

    init(_ activation: Activation, dim: Int) {
        self.activation = activation
        self.inputDim = dim
    }

    func initialize(_ params: UnsafeMutablePointer<T>, _ state: UnsafeMutablePointer<T>, rng: inout RandomGenerator) {}

    func forward(x: UnsafePointer<T>, y: UnsafeMutablePointer<T>, rows: Int,
                 params: UnsafePointer<T>, state: UnsafeMutablePointer<T>,
                 context: inout ForwardContext, kernels: KernelTable<T>) {
        if deferActivation {
            y.update(from: x, count: rows * inputDim)
        } else {
            kernels.activationForward(activation, x, y, rows, inputDim)
        }
    }

    func backward(x: UnsafePointer<T>, y: UnsafePointer<T>,
                  dy: UnsafeMutablePointer<T>, dx: UnsafeMutablePointer<T>?,
                  rows: Int, params: UnsafePointer<T>, grads: UnsafeMutablePointer<T>,
                  kernels: KernelTable<T>) {
        guard let dx else { return }
        // x is this layer's pre-activation z.
        if !deferActivation { kernels.activationBackward(activation, x, y, dy, rows, inputDim) }
        dx.update(from: dy, count: rows * inputDim)
    }
}

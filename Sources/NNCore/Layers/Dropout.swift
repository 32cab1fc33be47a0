/// Dropout, as Keras's `Dropout` and PyTorch's `nn.Dropout`: in training,
/// each input is zeroed with probability `rate` and the survivors are scaled
/// by 1 / (1 − rate) ("inverted" dropout), so inference is the identity.
/// Masks are drawn from the model's seeded generator.
public struct Dropout: Layer, Equatable {
    public var rate: Double

    public init(_ rate: Double) { self.rate = rate }

    public var kindName: String { Self.kindName }
    public var activation: Activation { .linear }

    public func outputDim(inputDim: Int) throws -> Int {
        guard rate.isFinite, rate >= 0, rate < 1 else {
            throw NNError.invalidArgument("dropout rate must be in [0, 1), got \(rate)")
        }
        return inputDim
    }

    public func makeOperation<T: NNFloat>(inputDim: Int, scalar: T.Type) -> any LayerOperation<T> {
        DropoutOperation<T>(rate: rate, dim: inputDim)
    }

    public var summaryLabel: String { "\(kindName) \(rate)" }
    public var hasPenalty: Bool { false }
}

extension Dropout: RegisteredLayer {
    static let kindName = "Dropout"
    static let code: UInt32 = 2
    var configuration: [String: JSONValue] { ["rate": .number(rate)] }
    init(configuration field: Field) throws { self.init(try field.double("rate")) }
}

final class DropoutOperation<T: NNFloat>: LayerOperation {
    typealias Scalar = T
    let rate: Double
    let inputDim: Int
    var outputDim: Int { inputDim }
    let weights: [WeightSpec] = []
    /// The scale of each element in the last training pass: 0 or 1 / (1 − rate).
    private var mask = Buffer<T>(count: 0)
    /// Whether the last forward pass dropped (training) or was the identity.
    private var masked = false

    init(rate: Double, dim: Int) {
        self.rate = rate
        self.inputDim = dim
    }

    func initialize(_ params: UnsafeMutablePointer<T>, _ state: UnsafeMutablePointer<T>, rng: inout RandomGenerator) {}

    func reserve(rows: Int) {
        if mask.count < rows * inputDim { mask = Buffer(count: rows * inputDim) }
    }

    func forward(x: UnsafePointer<T>, y: UnsafeMutablePointer<T>, rows: Int,
                 params: UnsafePointer<T>, state: UnsafeMutablePointer<T>,
                 context: inout ForwardContext, kernels: KernelTable<T>) {
        let n = rows * inputDim
        masked = context.training && rate > 0
        guard masked else {
            y.update(from: x, count: n)
            return
        }
        reserve(rows: rows)
        let keep = T(1 / (1 - rate))
        let m = mask.pointer
        for i in 0..<n {
            m[i] = context.rng.nextUnit() < rate ? 0 : keep
            y[i] = x[i] * m[i]
        }
    }

    func backward(x: UnsafePointer<T>, y: UnsafePointer<T>,
                  dy: UnsafeMutablePointer<T>, dx: UnsafeMutablePointer<T>?,
                  rows: Int, params: UnsafePointer<T>, grads: UnsafeMutablePointer<T>,
                  kernels: KernelTable<T>) {
        guard let dx else { return }
        let n = rows * inputDim
        if masked {
            for i in 0..<n { dx[i] = dy[i] * mask.pointer[i] }
        } else {
            dx.update(from: dy, count: n)
        }
    }
}

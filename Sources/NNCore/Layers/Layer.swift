/// The description of a layer: what it is and how to initialize it, without
/// its numbers. A `Sequential` model is a list of these; each one makes the
/// `LayerOperation` that computes it, in Float for production or in Double
/// for reference checks.
public protocol Layer: Sendable {
    /// Kind name for summaries and files ("Dense", "Dropout", ...).
    var kindName: String { get }
    /// The activation applied to this layer's output (`.linear` if none).
    var activation: Activation { get }
    /// Throws if the configuration is invalid for this input width;
    /// returns the output width.
    func outputDim(inputDim: Int) throws -> Int
    /// The operation computing this layer on `inputDim`-wide rows.
    func makeOperation<T: NNFloat>(inputDim: Int, scalar: T.Type) -> any LayerOperation<T>
}

/// One weight array of a layer, in Keras's get_weights() order.
public struct WeightSpec: Equatable, Sendable {
    /// Keras's name of the array ("kernel", "bias", "gamma", "beta",
    /// "moving_mean", "moving_variance").
    public var name: String
    public var shape: [Int]
    /// Trainable arrays live in the model's parameter block (and have
    /// gradients); the others (running statistics) in its state block.
    public var trainable: Bool

    public init(_ name: String, _ shape: [Int], trainable: Bool = true) {
        self.name = name
        self.shape = shape
        self.trainable = trainable
    }

    public var count: Int { shape.reduce(1, *) }
}

/// What a forward pass needs besides the data.
public struct ForwardContext {
    /// Training mode: Dropout drops, BatchNorm uses and updates batch statistics.
    public var training: Bool
    /// Randomness of the pass (Dropout masks), drawn from the model's generator.
    public var rng: RandomGenerator

    public init(training: Bool, rng: RandomGenerator = RandomGenerator(seed: 0)) {
        self.training = training
        self.rng = rng
    }
}

/// The computation of one layer over raw row-major buffers.
///
/// A layer's trainable parameters are a slice of the model's parameter block
/// (and its gradients the same slice of the gradient block); its
/// non-trainable state (running statistics) is a slice of the state block.
/// The network passes pointers to the start of those slices.
public protocol LayerOperation<Scalar>: AnyObject {
    associatedtype Scalar: NNFloat
    var inputDim: Int { get }
    var outputDim: Int { get }
    /// Weight arrays in Keras's order; trainable ones are laid out in that
    /// order in the parameter slice, the others in the state slice.
    var weights: [WeightSpec] { get }
    /// The activation this layer applies last (`.linear` if none).
    var activation: Activation { get }
    /// When true, `forward` leaves the output activation out (the output is
    /// the pre-activation, "logits") and `backward` takes the gradient with
    /// respect to those logits. The network sets it on the last layer when
    /// the loss applies the activation itself, stably (softmax + cross-entropy).
    var deferActivation: Bool { get set }

    /// Writes initial values into the layer's parameter and state slices.
    func initialize(_ params: UnsafeMutablePointer<Scalar>, _ state: UnsafeMutablePointer<Scalar>,
                    rng: inout RandomGenerator)

    /// Makes the layer's own per-row caches hold at least `rows` rows.
    func reserve(rows: Int)

    /// y [rows, outputDim] = layer(x [rows, inputDim]). In training mode a
    /// layer may update its state (BatchNorm's running statistics).
    func forward(x: UnsafePointer<Scalar>, y: UnsafeMutablePointer<Scalar>, rows: Int,
                 params: UnsafePointer<Scalar>, state: UnsafeMutablePointer<Scalar>,
                 context: inout ForwardContext, kernels: KernelTable<Scalar>)

    /// Given the last forward pass's x and y and dy = ∂L/∂y [rows, outputDim]
    /// (which it may overwrite), writes ∂L/∂params into grads (overwriting)
    /// and, if dx is not nil, ∂L/∂x [rows, inputDim] into dx (overwriting).
    func backward(x: UnsafePointer<Scalar>, y: UnsafePointer<Scalar>,
                  dy: UnsafeMutablePointer<Scalar>, dx: UnsafeMutablePointer<Scalar>?,
                  rows: Int, params: UnsafePointer<Scalar>, grads: UnsafeMutablePointer<Scalar>,
                  kernels: KernelTable<Scalar>)

    /// The layer's regularization penalty on its parameters; when grads is
    /// not nil, adds the penalty's gradient to it.
    func regularize(_ params: UnsafePointer<Scalar>, _ grads: UnsafeMutablePointer<Scalar>?) -> Double
}

extension LayerOperation {
    /// Number of trainable scalars in this layer's parameter slice.
    public var parameterCount: Int { weights.filter(\.trainable).reduce(0) { $0 + $1.count } }
    /// Number of non-trainable scalars in this layer's state slice.
    public var stateCount: Int { weights.filter { !$0.trainable }.reduce(0) { $0 + $1.count } }
    /// Shapes of the trainable weight arrays.
    public var weightShapes: [[Int]] { weights.filter(\.trainable).map(\.shape) }
    public var activation: Activation { .linear }
    public var deferActivation: Bool {
        get { false }
        set { }
    }
    public func reserve(rows: Int) {}
    public func regularize(_ params: UnsafePointer<Scalar>, _ grads: UnsafeMutablePointer<Scalar>?) -> Double { 0 }
}

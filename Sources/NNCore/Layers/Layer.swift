/// The description of a layer: what it is and how to initialize it, without
/// its numbers. A `Sequential` model is a list of these; each one makes the
/// `LayerOperation` that computes it, in Float for production or in Double
/// for reference checks. A layer kind says everything about itself here and
/// in its operation (summary label, penalty, PyTorch names); the kinds that
/// model files and nn.h know are listed once, in `LayerRegistry`.
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

    /// Its type column in `summary()` ("Dense, relu", "Dropout 0.5").
    /// Default: `kindName`.
    var summaryLabel: String { get }
    /// How messages name it, given its layer name ("dense_2, relu").
    /// Default: the name.
    func describe(name: String) -> String
    /// Whether its operation may return a regularization penalty, so that
    /// training and the gradient check can skip the penalty pass otherwise.
    /// Default: true (asked every step); this library's layers say exactly.
    var hasPenalty: Bool { get }
    /// How many modules it becomes in the equivalent `torch.nn.Sequential`
    /// (a Dense with an activation is `Linear` then the activation: 2), which
    /// numbers the tensors of a model file ("0.weight", "2.bias").
    /// Default: 1.
    var torchModuleCount: Int { get }
    /// The names of the integer buffers PyTorch's module keeps in its
    /// state_dict beside the weights (BatchNorm1d's "num_batches_tracked").
    /// Default: none.
    var torchCounters: [String] { get }
}

extension Layer {
    public var summaryLabel: String { kindName }
    public func describe(name: String) -> String { name }
    public var hasPenalty: Bool { true }
    public var torchModuleCount: Int { 1 }
    public var torchCounters: [String] { [] }
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
    /// PyTorch's name of the array in its module's state_dict ("weight",
    /// "running_mean"), which names it in model files.
    public var torchName: String
    /// Whether PyTorch stores the array transposed (Linear's weight is Wᵀ,
    /// [units, inputs]); only for two-dimensional arrays.
    public var torchTransposed: Bool

    public init(_ name: String, _ shape: [Int], trainable: Bool = true, torchName: String? = nil,
                torchTransposed: Bool = false) {
        self.name = name
        self.shape = shape
        self.trainable = trainable
        self.torchName = torchName ?? name
        self.torchTransposed = torchTransposed && shape.count == 2
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

    /// The layer as one step of the network's small-network path, if it can
    /// be one (a Dense whose activation needs no stored pre-activation: see
    /// `DenseStep`); nil (the default) otherwise.
    var denseStep: DenseStep? { get }
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
    public var denseStep: DenseStep? { nil }
    public func regularize(_ params: UnsafePointer<Scalar>, _ grads: UnsafeMutablePointer<Scalar>?) -> Double { 0 }
}

/// The description of a layer: what it is and how to initialize it, without
/// its numbers. A `Sequential` model is a list of these; each one makes the
/// `LayerOperation` that computes it, in Float for production or in Double
/// for reference checks.
public protocol Layer: Sendable {
    /// Short kind name for summaries and files ("Dense").
    var kindName: String { get }
    /// The activation applied to this layer's output (`.linear` if none).
    var activation: Activation { get }
    /// Throws if the configuration is invalid for this input width;
    /// returns the output width.
    func outputDim(inputDim: Int) throws -> Int
    /// The operation computing this layer on `inputDim`-wide rows.
    func makeOperation<T: NNFloat>(inputDim: Int, scalar: T.Type) -> any LayerOperation<T>
}

/// The computation of one layer over raw row-major buffers.
///
/// A layer's parameters are a slice of the model's single parameter block
/// (and its gradients the same slice of the gradient block); the network
/// passes pointers to the start of that slice.
public protocol LayerOperation<Scalar>: AnyObject {
    associatedtype Scalar: NNFloat
    var inputDim: Int { get }
    var outputDim: Int { get }
    /// Number of trainable scalars in this layer's slice.
    var parameterCount: Int { get }
    /// Shapes of the weight arrays in the slice, in order (Keras's layout).
    var weightShapes: [[Int]] { get }
    /// When true, `forward` leaves the output activation out (the output is
    /// the pre-activation, "logits") and `backward` takes the gradient with
    /// respect to those logits. The network sets it on the last layer when
    /// the loss applies the activation itself, stably (softmax + cross-entropy).
    var deferActivation: Bool { get set }

    /// Writes initial values into params[0 ..< parameterCount].
    func initialize(_ params: UnsafeMutablePointer<Scalar>, rng: inout RandomGenerator)

    /// y [rows, outputDim] = layer(x [rows, inputDim]).
    func forward(x: UnsafePointer<Scalar>, y: UnsafeMutablePointer<Scalar>, rows: Int,
                 params: UnsafePointer<Scalar>, kernels: KernelTable<Scalar>)

    /// Given the forward pass's x and y and dy = ∂L/∂y [rows, outputDim]
    /// (which it may overwrite), writes ∂L/∂params into grads (overwriting)
    /// and, if dx is not nil, ∂L/∂x [rows, inputDim] into dx (overwriting).
    func backward(x: UnsafePointer<Scalar>, y: UnsafePointer<Scalar>,
                  dy: UnsafeMutablePointer<Scalar>, dx: UnsafeMutablePointer<Scalar>?,
                  rows: Int, params: UnsafePointer<Scalar>, grads: UnsafeMutablePointer<Scalar>,
                  kernels: KernelTable<Scalar>)
}

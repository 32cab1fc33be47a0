/// An L1/L2 penalty on a weight array, as Keras's `L1L2` regularizer:
/// penalty = l1 · Σ|w| + l2 · Σw², added to the loss; its gradient
/// l1 · sign(w) + 2 · l2 · w is added to the weights' gradient.
public struct Regularizer: Hashable, Sendable {
    public var l1: Double
    public var l2: Double

    public init(l1: Double = 0, l2: Double = 0) {
        self.l1 = l1
        self.l2 = l2
    }

    /// Keras's `L1(0.01)` and `L2(0.01)` defaults.
    public static func l1(_ value: Double = 0.01) -> Regularizer { Regularizer(l1: value) }
    public static func l2(_ value: Double = 0.01) -> Regularizer { Regularizer(l2: value) }

    public var isZero: Bool { l1 == 0 && l2 == 0 }

    public func validate() throws {
        guard l1.isFinite, l1 >= 0 else { throw NNError.invalidArgument("regularizer l1 must be a finite number >= 0, got \(l1)") }
        guard l2.isFinite, l2 >= 0 else { throw NNError.invalidArgument("regularizer l2 must be a finite number >= 0, got \(l2)") }
    }

    /// The penalty of w[0..<count]; adds its gradient to grads when given.
    public func apply<T: NNFloat>(_ w: UnsafePointer<T>, count: Int, grads: UnsafeMutablePointer<T>?) -> Double {
        guard !isZero else { return 0 }
        var penalty = 0.0
        let a = T(l1), b = T(2 * l2)
        for i in 0..<count {
            let v = w[i]
            penalty += l1 * Double(abs(v)) + l2 * Double(v * v)
            if let grads {
                let sign: T = v > 0 ? 1 : (v < 0 ? -1 : 0)
                grads[i] += a * sign + b * v
            }
        }
        return penalty
    }
}

/// Learning-rate schedules, applied between epochs with PyTorch's
/// `torch.optim.lr_scheduler` formulas (epoch e counts every epoch the model
/// has trained, from 0; lr₀ is the optimizer's learning rate):
/// - `step`:        lr₀ · γ^⌊e / stepSize⌋ (StepLR)
/// - `exponential`: lr₀ · γ^e (ExponentialLR)
/// - `cosine`:      η_min + (lr₀ − η_min)(1 + cos(π e / T_max)) / 2 (CosineAnnealingLR's closed form)
/// - `reduceOnPlateau`: multiply by `factor` when `monitor` has not improved
///   by more than `minDelta` for `patience` epochs, then wait `cooldown`
///   epochs, never below `minLR` (Keras's ReduceLROnPlateau).
public enum LearningRateSchedule: Equatable, Sendable {
    case step(stepSize: Int, gamma: Double)
    case exponential(gamma: Double)
    case cosine(tMax: Int, etaMin: Double)
    case reduceOnPlateau(ReduceOnPlateau)

    /// Whether this is `reduceOnPlateau` (which acts at the end of an epoch).
    var isPlateau: Bool {
        if case .reduceOnPlateau = self { return true }
        return false
    }

    public struct ReduceOnPlateau: Equatable, Sendable {
        public var monitor: String
        public var factor: Double
        public var patience: Int
        public var minDelta: Double
        public var cooldown: Int
        public var minLR: Double
        public var mode: MonitorMode

        public init(monitor: String = "val_loss", factor: Double = 0.1, patience: Int = 10, minDelta: Double = 1e-4,
                    cooldown: Int = 0, minLR: Double = 0, mode: MonitorMode = .auto) {
            self.monitor = monitor
            self.factor = factor
            self.patience = patience
            self.minDelta = minDelta
            self.cooldown = cooldown
            self.minLR = minLR
            self.mode = mode
        }
    }

    public func validate() throws {
        func bad(_ what: String, _ value: Any, _ rule: String) -> NNError {
            .invalidArgument("learning-rate schedule: \(what) must be \(rule), got \(value)")
        }
        switch self {
        case .step(let stepSize, let gamma):
            guard stepSize >= 1 else { throw bad("step_size", stepSize, ">= 1") }
            guard gamma.isFinite, gamma > 0 else { throw bad("gamma", gamma, "a finite number > 0") }
        case .exponential(let gamma):
            guard gamma.isFinite, gamma > 0 else { throw bad("gamma", gamma, "a finite number > 0") }
        case .cosine(let tMax, let etaMin):
            guard tMax >= 1 else { throw bad("t_max", tMax, ">= 1") }
            guard etaMin.isFinite, etaMin >= 0 else { throw bad("eta_min", etaMin, "a finite number >= 0") }
        case .reduceOnPlateau(let p):
            guard p.factor.isFinite, p.factor > 0, p.factor < 1 else { throw bad("factor", p.factor, "in (0, 1)") }
            guard p.patience >= 0 else { throw bad("patience", p.patience, ">= 0") }
            guard p.minDelta.isFinite, p.minDelta >= 0 else { throw bad("min_delta", p.minDelta, "a finite number >= 0") }
            guard p.cooldown >= 0 else { throw bad("cooldown", p.cooldown, ">= 0") }
            guard p.minLR.isFinite, p.minLR >= 0 else { throw bad("min_lr", p.minLR, "a finite number >= 0") }
        }
    }

    /// The learning rate of epoch `epoch` for the epoch-indexed schedules
    /// (nil for reduceOnPlateau, which reacts to the logs instead).
    public func learningRate(initial lr0: Double, epoch: Int) -> Double? {
        switch self {
        case .step(let stepSize, let gamma):
            return lr0 * integerPower(gamma, epoch / stepSize)
        case .exponential(let gamma):
            return lr0 * integerPower(gamma, epoch)
        case .cosine(let tMax, let etaMin):
            return etaMin + (lr0 - etaMin) * (1 + Double.cos(Double.pi * Double(epoch) / Double(tMax))) / 2
        case .reduceOnPlateau:
            return nil
        }
    }
}

/// x^n for n >= 0, by repeated squaring.
func integerPower(_ x: Double, _ n: Int) -> Double {
    var result = 1.0, base = x, e = n
    while e > 0 {
        if e & 1 == 1 { result *= base }
        base *= base
        e >>= 1
    }
    return result
}

/// The running state of a reduce-on-plateau schedule (Keras's algorithm:
/// a cooldown epoch resets the wait; otherwise a non-improving epoch counts,
/// and `patience` of them multiply the rate by `factor`).
struct PlateauState {
    private var best: Double
    private let mode: MonitorMode
    private var wait = 0
    private var cooldownLeft = 0

    init(_ p: LearningRateSchedule.ReduceOnPlateau) {
        mode = p.mode.resolved(for: p.monitor)
        best = mode == .min ? .infinity : -.infinity
    }

    /// The running state, for saving: the best value so far (infinite
    /// before the first epoch), the epochs waited, the cooldown left.
    var saved: (best: Double, wait: Int, cooldownLeft: Int) { (best, wait, cooldownLeft) }

    /// A state continuing from `saved` values.
    init(_ p: LearningRateSchedule.ReduceOnPlateau, best: Double, wait: Int, cooldownLeft: Int) {
        self.init(p)
        if !best.isNaN { self.best = best }
        self.wait = wait
        self.cooldownLeft = cooldownLeft
    }

    /// Records this epoch's monitored value; returns the learning rate to use next.
    mutating func step(_ p: LearningRateSchedule.ReduceOnPlateau, value: Double, learningRate: Double) -> Double {
        if cooldownLeft > 0 {
            cooldownLeft -= 1
            wait = 0
        }
        let improved = mode == .min ? value < best - p.minDelta : value > best + p.minDelta
        if improved {
            best = value
            wait = 0
        } else if cooldownLeft == 0 {
            wait += 1
            if wait >= p.patience, learningRate > p.minLR {
                cooldownLeft = p.cooldown
                wait = 0
                return max(learningRate * p.factor, p.minLR)
            }
        }
        return learningRate
    }
}

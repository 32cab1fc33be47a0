/// Whether a monitored quantity improves when it goes down or up.
public enum MonitorMode: String, Sendable {
    /// "min" for losses and errors, "max" for anything named like accuracy,
    /// precision, recall, F1 or AUC — Keras's rule.
    case auto
    case min
    case max

    /// The concrete direction for `monitor`.
    func resolved(for monitor: String) -> MonitorMode {
        guard self == .auto else { return self }
        let increasing = ["acc", "precision", "recall", "f1", "auc"]
        return increasing.contains(where: { monitor.contains($0) }) ? .max : .min
    }
}

/// Stops training when a monitored log stops improving, as Keras's
/// `EarlyStopping`: after each epoch, the monitored value improves if it
/// beats the best so far by more than `minDelta`; after `patience` epochs
/// without improvement training stops. With `restoreBestWeights`, the model
/// ends training (stopped or not) with the weights (and normalization
/// statistics) of its best epoch.
public struct EarlyStopping: Equatable, Sendable {
    public var monitor: String
    public var minDelta: Double
    public var patience: Int
    public var mode: MonitorMode
    public var restoreBestWeights: Bool

    public init(monitor: String = "val_loss", minDelta: Double = 0, patience: Int = 0,
                mode: MonitorMode = .auto, restoreBestWeights: Bool = false) {
        self.monitor = monitor
        self.minDelta = minDelta
        self.patience = patience
        self.mode = mode
        self.restoreBestWeights = restoreBestWeights
    }

    public func validate() throws {
        guard minDelta.isFinite, minDelta >= 0 else {
            throw NNError.invalidArgument("early stopping min_delta must be a finite number >= 0, got \(minDelta)")
        }
        guard patience >= 0 else { throw NNError.invalidArgument("early stopping patience must be >= 0, got \(patience)") }
    }
}

/// Tracks the best value of a monitored log (shared by EarlyStopping and
/// ReduceLROnPlateau).
struct ImprovementTracker {
    let mode: MonitorMode
    let minDelta: Double
    private(set) var best: Double
    /// Epochs since the last improvement.
    private(set) var wait = 0

    init(monitor: String, mode: MonitorMode, minDelta: Double) {
        self.mode = mode.resolved(for: monitor)
        self.minDelta = minDelta
        best = self.mode == .min ? .infinity : -.infinity
    }

    /// Records a value; returns whether it improved on the best.
    mutating func record(_ value: Double) -> Bool {
        let improved = mode == .min ? value < best - minDelta : value > best + minDelta
        if improved {
            best = value
            wait = 0
        } else {
            wait += 1
        }
        return improved
    }

    mutating func resetWait() { wait = 0 }
}

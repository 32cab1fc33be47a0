import Foundation
import XCTest
@testable import NNCore

/// Learning-rate schedules against PyTorch's `torch.optim.lr_scheduler`
/// formulas and Keras's ReduceLROnPlateau, directly and through `fit`.
final class ScheduleTests: XCTestCase {

    // MARK: Epoch-indexed schedules

    func testStepDecayIsStepLR() {
        // StepLR: lr₀ · γ^⌊e / step_size⌋.
        let schedule = LearningRateSchedule.step(stepSize: 3, gamma: 0.5)
        let expected = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125]
        for (e, lr) in expected.enumerated() {
            XCTAssertEqual(schedule.learningRate(initial: 0.1, epoch: e)!, lr, accuracy: 1e-17, "epoch \(e)")
        }
        let other = LearningRateSchedule.step(stepSize: 4, gamma: 0.3)
        for e in 0..<40 {
            let torch = 0.02 * Foundation.pow(0.3, Double(e / 4))
            XCTAssertEqual(other.learningRate(initial: 0.02, epoch: e)!, torch, accuracy: 1e-14 * torch)
        }
    }

    func testExponentialDecayIsExponentialLR() {
        // ExponentialLR: lr₀ · γ^e.
        let schedule = LearningRateSchedule.exponential(gamma: 0.9)
        XCTAssertEqual(schedule.learningRate(initial: 0.05, epoch: 0), 0.05)
        XCTAssertEqual(schedule.learningRate(initial: 0.05, epoch: 2)!, 0.0405, accuracy: 1e-17)
        for e in 0..<100 {
            let torch = 0.05 * Foundation.pow(0.9, Double(e))
            XCTAssertEqual(schedule.learningRate(initial: 0.05, epoch: e)!, torch, accuracy: 1e-13 * torch)
        }
    }

    func testCosineDecayIsCosineAnnealingLR() {
        // CosineAnnealingLR's closed form: η_min + (lr₀ − η_min)(1 + cos(π e / T_max)) / 2.
        let lr0 = 0.1, etaMin = 0.001, tMax = 10
        let schedule = LearningRateSchedule.cosine(tMax: tMax, etaMin: etaMin)
        XCTAssertEqual(schedule.learningRate(initial: lr0, epoch: 0), lr0)
        XCTAssertEqual(schedule.learningRate(initial: lr0, epoch: tMax), etaMin)
        XCTAssertEqual(schedule.learningRate(initial: lr0, epoch: 5)!, (lr0 + etaMin) / 2, accuracy: 1e-15)
        for e in 0...30 {
            let closed = etaMin + (lr0 - etaMin) * (1 + Foundation.cos(Double.pi * Double(e) / Double(tMax))) / 2
            XCTAssertEqual(schedule.learningRate(initial: lr0, epoch: e)!, closed, accuracy: 1e-15, "epoch \(e)")
        }
        // Past T_max the closed form rises again (a period of 2·T_max).
        XCTAssertEqual(schedule.learningRate(initial: lr0, epoch: 2 * tMax)!, lr0, accuracy: 1e-15)
        XCTAssertEqual(schedule.learningRate(initial: lr0, epoch: 15)!, (lr0 + etaMin) / 2, accuracy: 1e-15)

        // PyTorch's step() applies the recursive form
        //   η_{t+1} = η_min + (η_t − η_min)(1 + cos(π(t+1)/T))/(1 + cos(π t/T)),
        // which equals the closed form for t < T_max.
        var eta = lr0
        for t in 0..<(tMax - 1) {
            let a = Foundation.cos(Double.pi * Double(t + 1) / Double(tMax))
            let b = Foundation.cos(Double.pi * Double(t) / Double(tMax))
            eta = etaMin + (eta - etaMin) * (1 + a) / (1 + b)
            XCTAssertEqual(schedule.learningRate(initial: lr0, epoch: t + 1)!, eta, accuracy: 1e-15, "epoch \(t + 1)")
        }
    }

    func testPlateauHasNoEpochFormula() {
        XCTAssertNil(LearningRateSchedule.reduceOnPlateau(.init()).learningRate(initial: 0.1, epoch: 3))
    }

    func testScheduleValidation() {
        let bad: [(LearningRateSchedule, String)] = [
            (.step(stepSize: 0, gamma: 0.5), "step_size"),
            (.step(stepSize: 2, gamma: 0), "gamma"),
            (.exponential(gamma: -0.5), "gamma"),
            (.exponential(gamma: .infinity), "gamma"),
            (.cosine(tMax: 0, etaMin: 0), "t_max"),
            (.cosine(tMax: 5, etaMin: -1), "eta_min"),
            (.reduceOnPlateau(.init(factor: 1)), "factor"),
            (.reduceOnPlateau(.init(factor: 0)), "factor"),
            (.reduceOnPlateau(.init(patience: -1)), "patience"),
            (.reduceOnPlateau(.init(minDelta: -1)), "min_delta"),
            (.reduceOnPlateau(.init(cooldown: -2)), "cooldown"),
            (.reduceOnPlateau(.init(minLR: -0.1)), "min_lr"),
        ]
        for (schedule, name) in bad {
            assertNNError(.invalidArgument(""), messageContains: name, try schedule.validate())
            assertNNError(.invalidArgument(""), messageContains: name,
                          try Sequential(inputDim: 1).setLearningRateSchedule(schedule))
        }
        XCTAssertNoThrow(try LearningRateSchedule.cosine(tMax: 1, etaMin: 0).validate())
    }

    // MARK: Through fit

    /// 1 → Dense 1 with kernel 1 and bias 0, trained by SGD on y = 0 at x = 1:
    /// the output s = w + b follows s ← s (1 − 4·lr), and the loss logged for
    /// an epoch is s² before its update.
    func lineModel(learningRate: Double) throws -> Sequential {
        let model = try Sequential(inputDim: 1)
        try model.add(Dense(1, kernelInitializer: .ones))
        try model.compile(loss: .meanSquaredError, optimizer: .sgd(learningRate: learningRate))
        return model
    }

    func lineData() throws -> (Tensor, Tensor) { (try Tensor([[1]]), try Tensor([[0]])) }

    func testFitLogsAndUsesTheScheduledRate() throws {
        let (x, y) = try lineData()
        let model = try lineModel(learningRate: 0.1)
        try model.setLearningRateSchedule(.step(stepSize: 2, gamma: 0.5))
        let h = try model.fit(x: x, y: y, options: FitOptions(epochs: 5, batchSize: 1))
        let rates = try XCTUnwrap(h.values["learning_rate"])
        XCTAssertEqual(rates, [0.1, 0.1, 0.05, 0.05, 0.025])
        // The optimizer used those rates: s_{e+1} = s_e (1 − 4 lr_e), loss_e = s_e².
        var s = 1.0
        for (e, loss) in try XCTUnwrap(h.values["loss"]).enumerated() {
            XCTAssertEqual(loss, s * s, accuracy: 1e-6 * s * s, "epoch \(e)")
            s *= 1 - 4 * rates[e]
        }
        XCTAssertEqual(model.learningRate, 0.025)
        // A second fit continues the epoch count: epochs 5 and 6.
        let more = try model.fit(x: x, y: y, options: FitOptions(epochs: 2, batchSize: 1))
        XCTAssertEqual(more.values["learning_rate"], [0.025, 0.0125])
        XCTAssertEqual(model.history.values["learning_rate"]?.count, 7)
    }

    func testFitLogsExponentialAndCosineRates() throws {
        let (x, y) = try lineData()
        for schedule in [LearningRateSchedule.exponential(gamma: 0.8), .cosine(tMax: 4, etaMin: 0.01)] {
            let model = try lineModel(learningRate: 0.05)
            try model.setLearningRateSchedule(schedule)
            let h = try model.fit(x: x, y: y, options: FitOptions(epochs: 6, batchSize: 1))
            let expected = (0..<6).map { schedule.learningRate(initial: 0.05, epoch: $0)! }
            XCTAssertEqual(h.values["learning_rate"], expected, "\(schedule)")
        }
    }

    func testNoScheduleNoRateLogAndRemovingKeepsTheRate() throws {
        let (x, y) = try lineData()
        let model = try lineModel(learningRate: 0.1)
        let plain = try model.fit(x: x, y: y, options: FitOptions(epochs: 1, batchSize: 1))
        XCTAssertNil(plain.values["learning_rate"])
        try model.setLearningRateSchedule(.exponential(gamma: 0.5))
        try model.fit(x: x, y: y, options: FitOptions(epochs: 3, batchSize: 1))
        XCTAssertEqual(model.learningRate!, 0.1 * 0.125, accuracy: 1e-17)
        try model.setLearningRateSchedule(nil)
        XCTAssertEqual(model.learningRate!, 0.1 * 0.125, accuracy: 1e-17,
                       "removing the schedule keeps the current rate (as dropping a PyTorch scheduler)")
        let after = try model.fit(x: x, y: y, options: FitOptions(epochs: 1, batchSize: 1))
        XCTAssertNil(after.values["learning_rate"])
    }

    // MARK: Reduce on plateau

    /// Keras's ReduceLROnPlateau.on_epoch_end, transcribed:
    ///
    ///     if in_cooldown: cooldown_counter −= 1; wait = 0
    ///     if monitor_op(current, best): best = current; wait = 0
    ///     elif not in_cooldown:
    ///         wait += 1
    ///         if wait >= patience and lr > min_lr:
    ///             lr = max(lr · factor, min_lr); cooldown_counter = cooldown; wait = 0
    ///
    /// with monitor_op(a, b) = a < b − min_delta ("min") or a > b + min_delta ("max").
    struct KerasPlateau {
        let factor: Double, patience: Int, minDelta: Double, cooldown: Int, minLR: Double, maximize: Bool
        var best: Double
        var wait = 0, cooldownCounter = 0

        init(_ p: LearningRateSchedule.ReduceOnPlateau, maximize: Bool) {
            factor = p.factor; patience = p.patience; minDelta = p.minDelta
            cooldown = p.cooldown; minLR = p.minLR
            self.maximize = maximize
            best = maximize ? -.infinity : .infinity
        }

        mutating func epochEnd(_ current: Double, lr: Double) -> Double {
            if cooldownCounter > 0 {
                cooldownCounter -= 1
                wait = 0
            }
            let better = maximize ? current > best + minDelta : current < best - minDelta
            if better {
                best = current
                wait = 0
            } else if cooldownCounter == 0 {
                wait += 1
                if wait >= patience && lr > minLR {
                    cooldownCounter = cooldown
                    wait = 0
                    return max(lr * factor, minLR)
                }
            }
            return lr
        }
    }

    func testPlateauReducesAfterPatienceWithCooldownAndFloor() throws {
        // The training loss falls every epoch, so monitored in mode "max" no
        // epoch after the first improves. patience 1, cooldown 2, factor 0.5,
        // min_lr 0.015, by hand:
        //   epoch 0: improves                      lr 0.1
        //   epoch 1: wait 1 → 0.05, cooldown 2     lr 0.1 (the log is the rate the epoch used)
        //   epoch 2: cooldown 2 → 1                lr 0.05
        //   epoch 3: cooldown 1 → 0, wait 1 → 0.025 lr 0.05
        //   epoch 4: cooldown                      lr 0.025
        //   epoch 5: wait 1 → max(0.0125, 0.015)   lr 0.025
        //   epoch 6, 7, ...: at min_lr, no change  lr 0.015
        let (x, y) = try lineData()
        let model = try lineModel(learningRate: 0.1)
        let p = LearningRateSchedule.ReduceOnPlateau(monitor: "loss", factor: 0.5, patience: 1, minDelta: 0,
                                                     cooldown: 2, minLR: 0.015, mode: .max)
        try model.setLearningRateSchedule(.reduceOnPlateau(p))
        let h = try model.fit(x: x, y: y, options: FitOptions(epochs: 10, batchSize: 1))
        let losses = try XCTUnwrap(h.values["loss"])
        XCTAssertTrue(zip(losses, losses.dropFirst()).allSatisfy { $0 > $1 }, "the premise: a falling loss")
        let rates = try XCTUnwrap(h.values["learning_rate"])
        let expected = [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.015, 0.015, 0.015, 0.015]
        for (r, e) in zip(rates, expected) { XCTAssertEqual(r, e, accuracy: 1e-15) }
        XCTAssertEqual(rates.count, 10)
        XCTAssertEqual(model.learningRate!, 0.015, accuracy: 1e-15)
        // The same through the transcription of Keras.
        var keras = KerasPlateau(p, maximize: true)
        var lr = 0.1
        for (e, loss) in losses.enumerated() {
            XCTAssertEqual(rates[e], lr, accuracy: 1e-15, "epoch \(e)")
            lr = keras.epochEnd(loss, lr: lr)
        }
    }

    func testPlateauDoesNotReduceWhileImproving() throws {
        let (x, y) = try lineData()
        let model = try lineModel(learningRate: 0.1)
        try model.setLearningRateSchedule(.reduceOnPlateau(.init(monitor: "loss", patience: 0, minDelta: 0)))
        let h = try model.fit(x: x, y: y, options: FitOptions(epochs: 6, batchSize: 1))
        XCTAssertEqual(h.values["learning_rate"], [Double](repeating: 0.1, count: 6))
        // A min_delta larger than any improvement: with patience 0 (Keras:
        // wait 1 ≥ 0) every epoch after the first reduces the rate of the next.
        let strict = try lineModel(learningRate: 0.1)
        try strict.setLearningRateSchedule(.reduceOnPlateau(.init(monitor: "loss", factor: 0.5, patience: 0, minDelta: 10)))
        let s = try strict.fit(x: x, y: y, options: FitOptions(epochs: 4, batchSize: 1))
        XCTAssertEqual(s.values["learning_rate"], [0.1, 0.1, 0.05, 0.025])
    }

    func testPlateauStateMatchesKerasOnCraftedSequences() {
        // Monitored values with improvements, near-improvements inside
        // min_delta, plateaus and a late improvement.
        let values: [Double] = [1.0, 0.9, 0.95, 0.92, 0.9, 0.8999, 0.89995, 0.7, 0.71, 0.72, 0.73, 0.74, 0.6, 0.65,
                                0.66, 0.67, 0.68, 0.69, 0.7, 0.71]
        for patience in [0, 1, 2, 3] {
            for cooldown in [0, 1, 2] {
                for minDelta in [0.0, 1e-3] {
                    for maximize in [false, true] {
                        let p = LearningRateSchedule.ReduceOnPlateau(
                            monitor: maximize ? "val_accuracy" : "val_loss", factor: 0.5, patience: patience,
                            minDelta: minDelta, cooldown: cooldown, minLR: 0.01, mode: .auto)
                        var ours = PlateauState(p), keras = KerasPlateau(p, maximize: maximize)
                        var a = 0.1, b = 0.1, reductions = 0
                        for v in values {
                            let next = ours.step(p, value: v, learningRate: a)
                            if next != a { reductions += 1 }
                            a = next
                            b = keras.epochEnd(v, lr: b)
                            XCTAssertEqual(a, b, "patience \(patience), cooldown \(cooldown), min_delta \(minDelta), max \(maximize)")
                        }
                        XCTAssertGreaterThan(reductions, 0)
                        XCTAssertGreaterThanOrEqual(a, 0.01)
                    }
                }
            }
        }
    }

    func testPlateauMonitorMustBeLogged() throws {
        let (x, y) = try lineData()
        let model = try lineModel(learningRate: 0.1)
        try model.setLearningRateSchedule(.reduceOnPlateau(.init()))
        assertNNError(.invalidArgument(""), messageContains: "'val_loss'", try model.fit(x: x, y: y))
        try model.setLearningRateSchedule(.reduceOnPlateau(.init(monitor: "val_loss")))
        XCTAssertNoThrow(try model.fit(x: x, y: y, options: FitOptions(epochs: 2, validation: (x, y))))
    }
}

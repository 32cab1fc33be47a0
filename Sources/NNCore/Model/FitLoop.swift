// The training loop of `Sequential.fit`, in phases:
//
//   fit                  prepare, then epochs until done or stopped, then restore the best weights
//   prepareFit           check the arguments (in a fixed order: the first failing check names the error)
//   checkFitOptions      the compiled model and the scalar options
//   fitData              validation_split and the per-row weights
//   fitLogNames          this fit's log names, and the monitors that must be among them
//   FitPlan              everything fixed for the whole call (buffers, flags, data)
//   trainEpoch           learning-rate schedule, shuffle, then one step per batch
//   gatherBatch          a batch's rows (copied in shuffled order, or pointed at in place)
//   trainBatch           one gradient step: forward, loss, backward, penalty, clip, update
//   endEpoch             logs, history, statistics, callback, plateau, early stopping
//
// The batch step is the hot path (the 2-8-1 XOR network trained one sample
// per step does millions of steps per second): `gatherBatch` and `trainBatch`
// are inlined into `trainEpoch`'s loop, take the plan as a borrowed value and
// allocate nothing.

/// Everything a `fit` call fixes before its first epoch: the checked data,
/// the batch buffers, and the switches of the optional stages.
struct FitPlan {
    let loss: Loss
    let optimizer: Optimizer<Float>
    let options: FitOptions
    /// Training rows, and held-out rows (validation data or split) with their weights.
    let train: (x: MatrixView<Float>, y: MatrixView<Float>)
    let held: (MatrixView<Float>, MatrixView<Float>)?
    let heldWeights: UnsafePointer<Float>?
    /// Per-row weights of the training rows (sample weight × class weight), or nil.
    let weights: Buffer<Float>?
    /// Training rows, rows per batch, and output columns.
    let n: Int, batch: Int, outputs: Int
    /// The loss fuses the last activation; the loss sees logits.
    let fused: Bool, logits: Bool
    /// A shuffled batch's inputs, targets and weights.
    let bx: Buffer<Float>, by: Buffer<Float>, bw: Buffer<Float>
    /// "loss" and each metric's name, and the metrics, as they were when the
    /// fit began: metrics set from an epoch callback apply from the next fit
    /// (as a loss, optimizer or schedule does), so every epoch logs the same.
    let epochNames: [String]
    let metrics: [Metric]
    /// The learning-rate schedule of this call, fixed when it begins (one
    /// set from an epoch callback applies from the next fit on, as a new
    /// loss, optimizer or metric does), so every epoch logs the same names.
    let schedule: LearningRateSchedule?
    /// schedule != nil (tested without copying the schedule).
    let scheduled: Bool
    let trainable: [(offset: Int, spec: WeightSpec)]
    let regularized: Bool, clipping: Bool
    /// Debugging aids: anomaly detection, and statistics every this many batches (0: off).
    let anomaly: Bool, watch: AnomalyWatch
    let statisticsEvery: Int
    /// Whether the end of an epoch has more to do than log: a callback,
    /// reduce-on-plateau or early stopping (a tiny network's epoch is a few
    /// steps, so the common case tests one flag).
    let epochHooks: Bool
    /// Data-parallel training's buffers and generator (nil: one process).
    let parallel: DataParallelRun?
    /// Whether an epoch's end only logs its loss: no metric, validation,
    /// schedule, layer statistics, epoch hook or other process. Nothing can
    /// read the history while fit runs (it holds the model), so such
    /// epochs' losses are kept in `FitState.quietLosses` and written to the
    /// history in one pass (`flushQuietLosses`): an online epoch of a tiny
    /// network is a few steps, and two history appends per epoch were a
    /// tenth of its time.
    var quiet: Bool {
        metrics.isEmpty && held == nil && !scheduled && statisticsEvery == 0 && !epochHooks && parallel == nil
    }
}

/// What changes from epoch to epoch of a `fit` call.
struct FitState {
    /// This call's own shuffling generator (nil: the model's), and the row order.
    var shuffler: RandomGenerator?
    var order: [Int]
    /// One array reused for every epoch's training values, "loss" then each
    /// metric (no allocation per epoch).
    var epochValues: [Double] = []
    var stopper: ImprovementTracker?
    var best: (parameters: [Float], state: [Float])?
    var collector: LayerStatisticsCollector?
    /// The losses of the epochs not yet in the history (`FitPlan.quiet`),
    /// the first of them numbered `quietStart`.
    var quietLosses: [Double] = []
    var quietStart = 0
}

extension Sequential {
    /// Mini-batch training. See `fit(x:y:options:)`; `sampleWeights`, if not
    /// nil, holds one weight per row of x (options.sampleWeight is ignored).
    package func fit(x: MatrixView<Float>, y: MatrixView<Float>, sampleWeights: UnsafePointer<Float>?,
                     validation: (MatrixView<Float>, MatrixView<Float>)?,
                     options: FitOptions) throws -> History {
        try training("fit") {
            try ThreadPool.shared.asCaller { try fitCounted(x: x, y: y, sampleWeights: sampleWeights, validation: validation,
                                                            options: options) }
        }
    }

    /// Throws if a training call is running (see `training`): for callers
    /// that must check before they touch the model (nn_model_fit's logs).
    package func refuseNestedTraining(_ what: String) throws {
        if let running = trainingCall {
            throw NNError.invalidState("\(what) cannot start while \(running) is running on this model "
                                       + "(from one of its callbacks)")
        }
    }

    /// Runs `body`, a training call (`what`), refusing it inside another
    /// one: a fit's callbacks may read the model and set its weights, but a
    /// fit or a train_on_batch started from one would change the state the
    /// running fit is in the middle of (its buffers, its step).
    private func training<R>(_ what: String, _ body: () throws -> R) throws -> R {
        try refuseNestedTraining(what)
        trainingCall = what
        defer { trainingCall = nil }
        return try body()
    }

    /// `fit`, counted as a call that may run parallel regions (ThreadPool.asCaller).
    private func fitCounted(x: MatrixView<Float>, y: MatrixView<Float>, sampleWeights: UnsafePointer<Float>?,
                            validation: (MatrixView<Float>, MatrixView<Float>)?,
                            options: FitOptions) throws -> History {
        lastFit = History()
        defer {
            network.backwardObserver = nil
            network.lastActivationDeferred = false
        }
        let prepared = try prepareFit(x: x, y: y, sampleWeights: sampleWeights, validation: validation,
                                      options: options, collective: true)
        let plan = prepared.plan
        var state = prepared.state
        var cancelled = false
        let quiet = plan.quiet
        if quiet { state.quietLosses.reserveCapacity(min(options.epochs, 1 << 20)) }
        // (also when an epoch throws: the history keeps the epochs run)
        defer { if quiet { flushQuietLosses(plan, &state) } }
        for epoch in 0..<options.epochs {
            let epochNumber = history.epochCount + state.quietLosses.count
            if quiet, state.quietLosses.count == 1 << 20 { flushQuietLosses(plan, &state) }
            let run = try trainEpoch(plan, &state, epoch: epoch, number: epochNumber)
            if run.cancelled {
                cancelled = true
                break
            }
            if try endEpoch(plan, &state, epoch: epoch, number: epochNumber, lossSum: run.lossSum, rows: run.rows,
                            accumulators: run.accumulators, learningRate: run.learningRate) == .stop || run.stopped {
                break
            }
        }
        // (a cancelled fit keeps the weights of its last batch, as shouldStop says)
        if let best = state.best, !cancelled { restore(best) }
        if quiet { flushQuietLosses(plan, &state) }   // (before lastFit is read: the defer runs after)
        return lastFit
    }

    /// One gradient step on one batch, as Keras's `train_on_batch`: the step
    /// `fit` takes for a batch (training mode, the optimizer and its state,
    /// class-free sample weights, regularization, gradient clipping,
    /// BatchNorm's statistics, anomaly detection, the step counter), with no
    /// epoch around it: the rows in their order, no learning-rate schedule
    /// step, no history entry, no layer statistics, no callback. Returns the
    /// batch's loss (with the regularization penalty, as fit's logs) and the
    /// metrics of the outputs the step computed (before the update, as
    /// Keras), in `metricNames` order.
    package func trainOnBatch(x: MatrixView<Float>, y: MatrixView<Float>,
                              sampleWeights: UnsafePointer<Float>?) throws -> [Double] {
        try training("train_on_batch") { try ThreadPool.shared.asCaller {
            if let parallel = dataParallel, parallel.size > 1 {
                throw NNError.invalidState("train_on_batch is not data-parallel (this model is rank \(parallel.rank) "
                                           + "of \(parallel.size)): use fit, or set the model back to one process")
            }
            let options = FitOptions(epochs: 1, batchSize: max(x.rows, 1), shuffle: false)
            let (plan, state) = try prepareFit(x: x, y: y, sampleWeights: sampleWeights, validation: nil, options: options)
            defer {
                network.backwardObserver = nil
                network.lastActivationDeferred = false
            }
            var accumulators: [any MetricAccumulator] = plan.metrics.map {
                $0.makeAccumulator(loss: plan.loss, outputs: plan.outputs, outputsAreLogits: plan.logits)
            }
            var collector: LayerStatisticsCollector? = nil
            network.lastActivationDeferred = plan.fused
            let total = try trainBatch(plan, start: 0, rows: plan.n, order: state.order, epoch: 0, batchIndex: 0,
                                       accumulators: &accumulators, collector: &collector)
            trainingSteps &+= 1
            return [total / Double(plan.n)] + accumulators.map(\.result)
        } }
    }

    /// Loss and metrics of one batch in inference mode, as Keras's
    /// `test_on_batch`: `evaluate` on it, the loss weighted by
    /// `sampleWeights` if given (as fit's val_loss; the metrics unweighted,
    /// as fit's).
    package func testOnBatch(x: MatrixView<Float>, y: MatrixView<Float>,
                             sampleWeights: UnsafePointer<Float>?) throws -> [Double] {
        try requireLayers()
        guard let loss else { throw NNError.invalidState("no loss is set; set a loss (compile) before test_on_batch") }
        try checkData(x: x, y: y, loss: loss, what: "evaluation")
        try checkMetrics(loss)
        if let sampleWeights {
            for r in 0..<x.rows where !(sampleWeights[r].isFinite && sampleWeights[r] >= 0) {
                throw NNError.invalidArgument("sample_weight \(r) is \(sampleWeights[r]); weights must be finite and >= 0")
            }
        }
        return try withInferenceNetwork { try evaluateChecked(x: x, y: y, loss: loss, weights: sampleWeights, on: $0) }
    }

    /// Checks the arguments, in a fixed order (the first failure names the
    /// error), then sets up the buffers and the optional stages. Nothing is
    /// changed on the model unless every check passes.
    ///
    /// collective (fit): for a data-parallel model, the checks end with the
    /// replicas' all-reduce (`checkReplicas`), also when this process's own
    /// checks refused the fit (the other processes would wait for it), and
    /// before anything changes.
    private func prepareFit(x: MatrixView<Float>, y: MatrixView<Float>, sampleWeights: UnsafePointer<Float>?,
                            validation: (MatrixView<Float>, MatrixView<Float>)?,
                            options: FitOptions, collective: Bool = false) throws -> (plan: FitPlan, state: FitState) {
        let parallel = collective ? dataParallel.flatMap { $0.size > 1 ? $0 : nil } : nil
        let checked: (loss: Loss, optimizer: Optimizer<Float>, train: (x: MatrixView<Float>, y: MatrixView<Float>),
                      held: (MatrixView<Float>, MatrixView<Float>)?, heldWeights: UnsafePointer<Float>?,
                      weights: Buffer<Float>?, epochNames: [String])
        do {
            let (loss, optimizer) = try checkFitOptions(options, hasValidation: validation != nil)
            try checkData(x: x, y: y, loss: loss, what: "training")
            try checkMetrics(loss)
            try options.earlyStopping?.validate()
            let (train, held, heldWeights, weights) = try fitData(x: x, y: y, sampleWeights: sampleWeights,
                                                                  validation: validation, options: options, loss: loss)
            let epochNames = try fitLogNames(options: options, validating: held != nil)
            let batch = min(options.batchSize, train.x.rows)
            try checkWorkspace(rows: batch, what: "batch_size \(batch)")
            checked = (loss, optimizer, train, held, heldWeights, weights, epochNames)
        } catch {
            if let parallel { try checkReplicas(parallel, items: nil, failure: error) }
            throw error
        }
        if let parallel {
            try checkReplicas(parallel, items: replicaItems(options: options, x: x, y: y, sampleWeights: sampleWeights,
                                                            validation: validation),
                              failure: nil)
        }
        let (loss, optimizer, train, held, heldWeights, weights, epochNames) = checked
        let n = train.x.rows, batch = min(options.batchSize, n)
        let fused = loss.fusesActivation(layers.last!.activation)
        var state = FitState(shuffler: options.seed.map { RandomGenerator(seed: $0) }, order: Array(0..<n))
        state.epochValues = Array(repeating: 0, count: epochNames.count)
        network.reserve(rows: batch)
        let plan = FitPlan(
            loss: loss, optimizer: optimizer, options: options, train: train, held: held, heldWeights: heldWeights,
            weights: weights, n: n, batch: batch, outputs: outputDim, fused: fused, logits: fused || loss.fromLogits,
            bx: Buffer<Float>(count: batch * x.cols), by: Buffer<Float>(count: batch * y.cols),
            bw: Buffer<Float>(count: weights == nil ? 0 : batch), epochNames: epochNames, metrics: metrics,
            schedule: learningRateSchedule, scheduled: learningRateSchedule != nil,
            trainable: network.weightArrays.filter(\.spec.trainable), regularized: mayRegularize,
            clipping: optimizer.options.clipValue != nil || optimizer.options.clipNorm != nil
                || optimizer.options.globalClipNorm != nil,
            anomaly: anomalyDetection, watch: AnomalyWatch(), statisticsEvery: layerStatisticsEvery,
            epochHooks: options.onEpochEnd != nil || options.earlyStopping != nil || learningRateSchedule?.isPlateau == true,
            parallel: parallel.map { DataParallelRun($0) })
        if options.epochs > 0 { markTrained() }
        state.stopper = options.earlyStopping.map {
            ImprovementTracker(monitor: $0.monitor, mode: $0.mode, minDelta: $0.minDelta)
        }
        if case .reduceOnPlateau(let p) = learningRateSchedule, plateau == nil { plateau = PlateauState(p) }
        // Debugging aids, each off unless asked for (then one test per stage).
        if plan.anomaly { network.backwardObserver = backwardWatcher(plan.watch) }
        state.collector = plan.statisticsEvery > 0 ? LayerStatisticsCollector(model: self) : nil
        return (plan, state)
    }

    /// The compiled model's loss and optimizer, after checking, in this
    /// order, that it is compiled, then epochs, batch size and validation split.
    private func checkFitOptions(_ options: FitOptions, hasValidation: Bool) throws -> (Loss, Optimizer<Float>) {
        let (loss, optimizer) = try requireCompiled()
        guard options.epochs >= 0 else { throw NNError.invalidArgument("epochs must be >= 0, got \(options.epochs)") }
        guard options.batchSize > 0 else { throw NNError.invalidArgument("batch_size must be > 0, got \(options.batchSize)") }
        let split = options.validationSplit
        guard split.isFinite, split >= 0, split < 1 else {
            throw NNError.invalidArgument("validation_split must be in [0, 1), got \(split)")
        }
        if split > 0 && hasValidation {
            throw NNError.invalidArgument("give either validation data or validation_split, not both")
        }
        return (loss, optimizer)
    }

    /// Whether a step may have a regularization penalty, so the penalty pass
    /// can be skipped otherwise (each layer says: `Layer.hasPenalty`).
    private var mayRegularize: Bool { layers.contains(where: \.hasPenalty) }

    /// The training and held-out rows with their weights. validation_split:
    /// the last rows, before shuffling, as Keras; their sample weights (not
    /// class weights, which are for training) weigh the validation loss.
    private func fitData(x: MatrixView<Float>, y: MatrixView<Float>, sampleWeights: UnsafePointer<Float>?,
                         validation: (MatrixView<Float>, MatrixView<Float>)?, options: FitOptions, loss: Loss) throws
        -> (train: (x: MatrixView<Float>, y: MatrixView<Float>), held: (MatrixView<Float>, MatrixView<Float>)?,
            heldWeights: UnsafePointer<Float>?, weights: Buffer<Float>?) {
        let split = options.validationSplit
        var train = (x: x, y: y), held = validation
        var heldWeights: UnsafePointer<Float>? = nil
        if split > 0 {
            let at = Int(Double(x.rows) * (1 - split))
            guard at > 0, at < x.rows else {
                throw NNError.invalidArgument(
                    "validation_split \(split) of \(x.rows) rows leaves \(at) training and \(x.rows - at) validation rows; both must be > 0")
            }
            train = (MatrixView(x.base, rows: at, cols: x.cols), MatrixView(y.base, rows: at, cols: y.cols))
            held = (MatrixView(x.row(at), rows: x.rows - at, cols: x.cols),
                    MatrixView(y.row(at), rows: y.rows - at, cols: y.cols))
            heldWeights = sampleWeights.map { $0 + at }
        }
        // Per-row weights of the training rows: sample weight × class weight.
        let weights = try rowWeights(y: train.y, loss: loss, sampleWeights: sampleWeights, classWeight: options.classWeight)
        if let heldWeights, let (vx, _) = held {
            for r in 0..<vx.rows where !(heldWeights[r].isFinite && heldWeights[r] >= 0) {
                throw NNError.invalidArgument("sample_weight \(train.x.rows + r) is \(heldWeights[r]); weights must be finite and >= 0")
            }
        }
        if let (vx, vy) = held { try checkData(x: vx, y: vy, loss: loss, what: "validation") }
        return (train, held, heldWeights, weights)
    }

    /// "loss" and each metric's name (the per-epoch training logs); checks
    /// that early stopping's and reduce-on-plateau's monitors are among all
    /// the logs of this fit (with "val_" ones and "learning_rate").
    private func fitLogNames(options: FitOptions, validating: Bool) throws -> [String] {
        let epochNames = metricNames
        var logNames = epochNames
        if validating { logNames += epochNames.map { "val_" + $0 } }
        if learningRateSchedule != nil { logNames.append("learning_rate") }
        func checkMonitor(_ monitor: String, _ who: String) throws {
            guard logNames.contains(monitor) else {
                throw NNError.invalidArgument(
                    "\(who) monitors '\(monitor)', but this fit logs \(logNames.joined(separator: ", "))"
                    + (monitor.hasPrefix("val_") && !validating ? " (give validation data or a validation_split)" : ""))
            }
        }
        if let stopping = options.earlyStopping { try checkMonitor(stopping.monitor, "early stopping") }
        if case .reduceOnPlateau(let p) = learningRateSchedule { try checkMonitor(p.monitor, "reduce-on-plateau") }
        return epochNames
    }

    /// One pass over the training rows: the epoch's scheduled learning rate,
    /// a fresh shuffle, then one step per batch (the batch hooks, when set,
    /// around each). Returns the summed loss and the rows it covers, the
    /// metrics' accumulators, the learning rate the epoch trained with, and
    /// whether a batch callback stopped it or `shouldStop` cancelled it.
    private func trainEpoch(_ plan: FitPlan, _ state: inout FitState, epoch: Int, number: Int) throws
        -> (lossSum: Double, rows: Int, accumulators: [any MetricAccumulator], learningRate: Double,
            stopped: Bool, cancelled: Bool) {
        if plan.scheduled, let schedule = plan.schedule,
           let lr = schedule.learningRate(initial: plan.optimizer.options.learningRate, epoch: number) {
            plan.optimizer.learningRate = lr
        }
        let epochLearningRate = plan.optimizer.learningRate
        // Data-parallel: this epoch's Dropout stream on this process, from
        // the shared generator's state (not drawn from it: a data-parallel
        // fit uses that generator as one process does, so a fit resumed
        // from a checkpoint saved between epochs continues exactly).
        plan.parallel?.startEpoch(shared: state.shuffler ?? rng, number: number)
        if plan.options.shuffle {
            // A fresh permutation of the rows every epoch (as PyTorch's
            // DataLoader), so an epoch's order depends only on the
            // generator's state: training resumes exactly after a save.
            for i in 0..<plan.n { state.order[i] = i }
            if state.shuffler != nil { state.shuffler!.shuffle(&state.order) } else { rng.shuffle(&state.order) }
        }
        var accumulators: [any MetricAccumulator] = plan.metrics.isEmpty ? [] : plan.metrics.map {
            $0.makeAccumulator(loss: plan.loss, outputs: plan.outputs, outputsAreLogits: plan.logits)
        }
        var lossSum = 0.0
        var start = 0, batchIndex = 0, localRows = 0
        var stopped = false, cancelled = false
        let batches = (plan.n + plan.batch - 1) / plan.batch
        // The hooks once, out of the loop: reading them from the options in
        // the loop retained and released each closure every batch (17 ns of
        // a 210 ns step of the 2-8-1 network).
        let shouldStop = plan.options.shouldStop, onBatchEnd = plan.options.onBatchEnd
        network.lastActivationDeferred = plan.fused
        defer { network.lastActivationDeferred = false }
        // Data-parallel: a process's stop or cancel goes to the others with the
        // next step's all-reduce, and all of them end after that same step.
        let parallel = plan.parallel
        while start < plan.n {
            if let shouldStop, shouldStop() {
                guard let parallel else {
                    cancelled = true
                    break
                }
                parallel.requested = .cancel
            }
            let rows = min(plan.batch, plan.n - start)
            lossSum += try trainBatch(plan, start: start, rows: rows, order: state.order, epoch: epoch,
                                      batchIndex: batchIndex, accumulators: &accumulators, collector: &state.collector)
            localRows += parallel?.setting.share(of: rows).count ?? rows
            start += rows
            batchIndex += 1
            trainingSteps &+= 1
            if let agreed = parallel?.agreed {
                if agreed == .cancel {
                    cancelled = true
                    try syncState(parallel!)       // (the epoch's end, which does it, is skipped)
                } else {
                    stopped = true
                }
                break
            }
            if let onBatchEnd {
                // (data-parallel: this process's share of the epoch so far)
                let logs = EpochLogs(names: plan.epochNames,
                                     values: [lossSum / Double(max(localRows, 1))] + accumulators.map(\.result))
                network.lastActivationDeferred = false
                let control = onBatchEnd(epoch, batchIndex - 1, batches, logs)
                network.lastActivationDeferred = plan.fused
                if control == .stop {
                    // (a callback that failed sets the stop flag too: then
                    // the epoch ends unlogged, as on Ctrl-C)
                    let cancel = shouldStop?() ?? false
                    if let parallel {
                        parallel.requested = cancel ? .cancel : .stop   // at the next all-reduce
                        continue
                    }
                    if cancel { cancelled = true } else { stopped = true }
                    break
                }
            }
        }
        return (lossSum, localRows, accumulators, epochLearningRate, stopped, cancelled)
    }

    /// The inputs, targets and weights of rows [start, start + rows) of the
    /// epoch: gathered into the batch buffers in shuffled order, or pointers
    /// into the caller's arrays when in order.
    @inline(__always)
    private func gatherBatch(_ plan: FitPlan, start: Int, rows: Int, order: [Int])
        -> (x: UnsafePointer<Float>, y: UnsafePointer<Float>, weights: UnsafePointer<Float>?) {
        let train = plan.train
        guard plan.options.shuffle else {
            return (train.x.row(start), train.y.row(start), plan.weights.map { UnsafePointer($0.pointer + start) })
        }
        let xCols = train.x.cols, yCols = train.y.cols
        for r in 0..<rows {
            let source = order[start + r]
            (plan.bx.pointer + r * xCols).update(from: train.x.row(source), count: xCols)
            (plan.by.pointer + r * yCols).update(from: train.y.row(source), count: yCols)
            if let weights = plan.weights { plan.bw.pointer[r] = weights[source] }
        }
        return (UnsafePointer(plan.bx.pointer), UnsafePointer(plan.by.pointer),
                plan.weights != nil ? UnsafePointer(plan.bw.pointer) : nil)
    }

    /// One gradient step on a batch: forward, loss and metrics, backward,
    /// regularization penalty, clipping, optimizer update, with the optional
    /// anomaly checks (naming epoch and batch, from 1) and statistics
    /// sampling between the stages. Returns the batch's summed loss.
    @inline(__always)
    private func trainBatch(_ plan: FitPlan, start: Int, rows: Int, order: [Int], epoch: Int, batchIndex: Int,
                            accumulators: inout [any MetricAccumulator],
                            collector: inout LayerStatisticsCollector?) throws -> Double {
        // Data-parallel: this process's share of the global batch, the loss
        // gradient divided by the global batch's rows, the penalty on rank 0
        // only, then the all-reduce (DataParallel.swift).
        let parallel = plan.parallel
        var first = start, count = rows
        if let parallel { (first, count) = parallel.setting.share(of: rows); first += start }
        var total = 0.0
        var sampled = false
        do {
            if count > 0 {
                let (xb, yb, wb) = gatherBatch(plan, start: first, rows: count, order: order)
                var context = ForwardContext(training: true, rng: parallel?.dropout ?? rng)
                let out = network.forward(xb, rows: count, context: &context)
                if let parallel { parallel.dropout = context.rng } else { rng = context.rng }
                if plan.anomaly {
                    plan.watch.epoch = epoch + 1
                    plan.watch.batch = batchIndex + 1
                    if let a = forwardAnomaly(rows: count, epoch: epoch + 1, batch: batchIndex + 1) {
                        throw NNError.nonFinite(a.message)
                    }
                }
                sampled = plan.statisticsEvery > 0 && batchIndex % plan.statisticsEvery == 0
                if sampled { collector!.recordForward(self, rows: count) }
                let grad = network.outputGradientBuffer(rows: count)
                let batchLoss = plan.loss.evaluate(predictions: out, targets: yb, rows: count, cols: plan.outputs,
                                                   logits: plan.logits, grad: grad, divisor: Float(rows), weights: wb)
                for i in accumulators.indices { accumulators[i].add(out, yb, rows: count, cols: plan.outputs) }
                network.backward(xb, rows: count, outputGradient: grad)
                if plan.anomaly, let a = plan.watch.found { throw NNError.nonFinite(a.message) }
                total = batchLoss
            } else {
                network.gradients.pointer.update(repeating: 0, count: network.parameterCount)
            }
            if plan.regularized && (parallel == nil || parallel!.setting.rank == 0) {
                total += network.regularization(addGradients: true) * Double(rows)
            }
            if !total.isFinite {
                throw NNError.nonFinite(
                    "the loss became \(total / Double(rows)) at epoch \(epoch + 1), batch \(batchIndex + 1) "
                    + "(counting from 1); try a lower learning rate, gradient clipping or scaled inputs")
            }
        } catch {
            guard let parallel else { throw error }
            try reduceGradients(parallel, failure: error, epoch: epoch, batch: batchIndex)
        }
        if let parallel { try reduceGradients(parallel, failure: nil, epoch: epoch, batch: batchIndex) }
        if plan.clipping { clipGradients(plan.optimizer.options, plan.trainable) }
        if sampled { collector!.recordGradients(self) }
        plan.optimizer.update(network.parameters.pointer, network.gradients.pointer, count: network.parameterCount)
        if plan.anomaly { try checkUpdatedParameters(epoch: epoch, batchIndex: batchIndex) }
        if sampled { collector!.recordUpdate(self) }
        return total
    }

    /// Anomaly detection after an optimizer update: throws for the first
    /// layer whose parameters are no longer finite.
    private func checkUpdatedParameters(epoch: Int, batchIndex: Int) throws {
        for i in layers.indices {
            if let a = parameterAnomaly(layer: i, gradients: false, stage: .update, epoch: epoch + 1,
                                        batch: batchIndex + 1) {
                throw NNError.nonFinite(a.message)
            }
        }
    }

    /// End-of-epoch bookkeeping, in this order: the logs (with validation and
    /// learning rate), history, layer statistics, the epoch callback, the
    /// reduce-on-plateau schedule, early stopping. Returns whether to stop.
    private func endEpoch(_ plan: FitPlan, _ state: inout FitState, epoch: Int, number epochNumber: Int,
                          lossSum: Double, rows: Int, accumulators: [any MetricAccumulator],
                          learningRate: Double) throws -> TrainingControl {
        var lossSum = lossSum, rows = rows, accumulators = accumulators
        var processStopped = false
        if let parallel = plan.parallel {
            (lossSum, rows, processStopped) = try reduceEpoch(parallel, lossSum: lossSum, rows: rows,
                                                              accumulators: &accumulators, epoch: epoch)
        }
        if plan.quiet {
            if state.quietLosses.isEmpty { state.quietStart = epochNumber }
            state.quietLosses.append(lossSum / Double(max(rows, 1)))
            return .continue
        }
        state.epochValues[0] = lossSum / Double(max(rows, 1))
        for (i, accumulator) in accumulators.enumerated() { state.epochValues[i + 1] = accumulator.result }
        var logs = EpochLogs(names: plan.epochNames, values: state.epochValues)
        if let (vx, vy) = plan.held {
            logs.names += plan.epochNames.map { "val_" + $0 }
            logs.values += try evaluateChecked(x: vx, y: vy, loss: plan.loss, weights: plan.heldWeights,
                                               metrics: plan.metrics, on: network)
        }
        if plan.scheduled {
            logs.names.append("learning_rate")
            logs.values.append(learningRate)
        }
        history.append(epoch: epochNumber, logs)
        lastFit.append(epoch: epochNumber, logs)
        if plan.statisticsEvery > 0 {
            let statistics = EpochLayerStatistics(epoch: epochNumber, layers: state.collector!.finish(self))
            history.append(statistics)
            lastFit.append(statistics)
            state.collector!.reset(self)
        }
        // (data-parallel: a process that asked to stop at the epoch's last
        // step stops every process after this epoch, as a batch callback's
        // stop does in one process)
        guard plan.epochHooks else { return processStopped ? .stop : .continue }
        var stop = processStopped
        if let callback = plan.options.onEpochEnd, callback(epoch, logs) == .stop { stop = true }
        if case .reduceOnPlateau(let p) = plan.schedule, let value = logs[p.monitor] {
            // (a schedule set from the callback above dropped the plateau's
            // state: start it again rather than trap)
            if plateau == nil { plateau = PlateauState(p) }
            plan.optimizer.learningRate = plateau!.step(p, value: value, learningRate: plan.optimizer.learningRate)
        }
        if let stopping = plan.options.earlyStopping, let value = logs[stopping.monitor] {
            if state.stopper!.record(value) {
                if stopping.restoreBestWeights { state.best = snapshot() }
            } else if state.stopper!.wait >= stopping.patience && epoch > 0 {
                stop = true
            }
        }
        return stop ? .stop : .continue
    }

    /// Writes the losses of the quiet epochs run so far into the history and
    /// this call's logs (see `FitPlan.quiet`).
    private func flushQuietLosses(_ plan: FitPlan, _ state: inout FitState) {
        history.append(firstEpoch: state.quietStart, name: plan.epochNames[0], values: state.quietLosses)
        lastFit.append(firstEpoch: state.quietStart, name: plan.epochNames[0], values: state.quietLosses)
        state.quietLosses.removeAll(keepingCapacity: true)
    }

    /// The combined per-row weights (sample weight × class weight), or nil
    /// if neither is given.
    private func rowWeights(y: MatrixView<Float>, loss: Loss, sampleWeights: UnsafePointer<Float>?,
                            classWeight: [Double]?) throws -> Buffer<Float>? {
        guard sampleWeights != nil || classWeight != nil else { return nil }
        let weights = Buffer<Float>(count: y.rows)
        for r in 0..<y.rows {
            var w: Float = 1
            if let sampleWeights {
                w = sampleWeights[r]
                guard w.isFinite, w >= 0 else {
                    throw NNError.invalidArgument("sample_weight \(r) is \(w); weights must be finite and >= 0")
                }
            }
            if let classWeight {
                let c = try classIndex(y: y, row: r, loss: loss)
                guard c < classWeight.count else {
                    throw NNError.invalidArgument(
                        "class_weight gives \(classWeight.count) weights but row \(r) is of class \(c)")
                }
                let cw = classWeight[c]
                guard cw.isFinite, cw >= 0 else {
                    throw NNError.invalidArgument("class_weight of class \(c) is \(cw); weights must be finite and >= 0")
                }
                w *= Float(cw)
            }
            weights[r] = w
        }
        return weights
    }

    /// The class of a training row, for class_weight.
    private func classIndex(y: MatrixView<Float>, row r: Int, loss: Loss) throws -> Int {
        let t = y.row(r)
        if loss.kind == .sparseCategoricalCrossentropy { return Int(t[0]) }
        if y.cols == 1 {
            guard t[0] == 0 || t[0] == 1 else {
                throw NNError.invalidArgument("class_weight needs class targets; row \(r) has target \(t[0])")
            }
            return Int(t[0])
        }
        var best = 0
        for j in 1..<y.cols where t[j] > t[best] { best = j }
        return best
    }

    /// Keras's gradient clipping: per weight array by norm, then by the
    /// global norm, then element-wise by value.
    private func clipGradients(_ o: OptimizerOptions, _ trainable: [(offset: Int, spec: WeightSpec)]) {
        let g = network.gradients.pointer
        func norm(_ p: UnsafeMutablePointer<Float>, _ count: Int) -> Double {
            var s = 0.0
            for i in 0..<count { s += Double(p[i]) * Double(p[i]) }
            return s.squareRoot()
        }
        func scale(_ p: UnsafeMutablePointer<Float>, _ count: Int, _ f: Float) {
            for i in 0..<count { p[i] *= f }
        }
        if let c = o.clipNorm {
            for (offset, spec) in trainable {
                let nrm = norm(g + offset, spec.count)
                if nrm > c { scale(g + offset, spec.count, Float(c / nrm)) }
            }
        }
        if let c = o.globalClipNorm {
            let nrm = norm(g, network.parameterCount)
            if nrm > c { scale(g, network.parameterCount, Float(c / nrm)) }
        }
        if let c = o.clipValue {
            let v = Float(c)
            for i in 0..<network.parameterCount { g[i] = min(max(g[i], -v), v) }
        }
    }
}

// Data-parallel training across processes (issue 14): every process holds a
// replica of the model and trains on its share of each global batch; the
// gradients are summed across the processes by a callback the user supplies
// (MPI_Allreduce, typically) before one identical optimizer step everywhere.
// libnn links no communication library: the callback is the seam.
//
// What a data-parallel fit does differently (FitLoop.swift calls these):
//   - before the first epoch, `checkReplicas`: one all-reduce of the
//     fingerprints of what must be the same everywhere (layers, weights,
//     loss, optimizer, the fit's data and options, the process count),
//     refused on every process with the names of what differs;
//   - the epoch's shuffle is the same permutation everywhere (the shared
//     generator or the fit's seed, as in one process); a global batch of
//     `batch_size` rows is cut into `size` contiguous shares (`share`), the
//     process of rank r taking share r;
//   - each process's loss gradient is divided by the global batch's rows,
//     the regularization penalty is added on rank 0 only, and one all-reduce
//     per step sums the gradients (`reduceGradients`): the sum is the
//     gradient of the global batch's mean loss, as in one process;
//   - Dropout draws from a generator of the process's own, seeded at each
//     epoch from the shared generator's state and the rank: masks differ
//     between processes but are repeatable, and a fit resumed from a
//     checkpoint saved between epochs continues exactly;
//   - BatchNormalization normalizes with each process's own batch
//     statistics (as PyTorch's DistributedDataParallel without
//     SyncBatchNorm); at the end of each epoch every process takes rank 0's
//     running statistics (as DDP's broadcast_buffers);
//   - the epoch's loss and metrics are reduced (`reduceEpoch`): every
//     process logs the same values; validation data is evaluated whole on
//     every process (the weights are the same, so are the results).
// A process that fails before the step's all-reduce (a non-finite loss)
// still takes part in it with a poisoned buffer, so that every process
// stops with an error instead of waiting for it.

/// How this process takes part in data-parallel training.
public struct DataParallel {
    /// This process's index, in 0..<size.
    public let rank: Int
    /// The number of processes.
    public let size: Int
    /// Sums `count` floats element-wise across the processes, in place, the
    /// same result on every process (MPI_Allreduce with MPI_IN_PLACE,
    /// MPI_FLOAT, MPI_SUM). Returns 0 on success; any other value is a
    /// failure, reported with it.
    public let allReduce: (UnsafeMutablePointer<Float>, Int) -> Int

    public init(rank: Int, size: Int, allReduce: @escaping (UnsafeMutablePointer<Float>, Int) -> Int) throws {
        guard size >= 1, rank >= 0, rank < size else {
            throw NNError.invalidArgument("data-parallel rank \(rank) of size \(size): the size must be >= 1 "
                                          + "and the rank in [0, size)")
        }
        self.rank = rank
        self.size = size
        self.allReduce = allReduce
    }

    /// Rows [offset, offset + count) of a global batch of `rows` rows that
    /// are this process's: `size` contiguous shares, the first rows % size
    /// of them one row longer.
    func share(of rows: Int) -> (offset: Int, count: Int) {
        let base = rows / size, extra = rows % size
        return (rank * base + min(rank, extra), base + (rank < extra ? 1 : 0))
    }

    /// Runs the callback; throws NNError.communication for a failure.
    func reduce(_ values: UnsafeMutablePointer<Float>, _ count: Int, _ what: @autoclosure () -> String) throws {
        let status = allReduce(values, count)
        if status != 0 {
            throw NNError.communication("the data-parallel all-reduce callback failed (returned \(status)) "
                                        + "\(what()) on rank \(rank) of \(size)")
        }
    }
}

/// The per-fit buffers and generator of a data-parallel fit.
final class DataParallelRun {
    /// Why the processes end a fit early: a stop (the epoch is logged, as a
    /// callback's stop) or a cancel (the stop flag: the epoch is not).
    enum Stop { case stop, cancel }

    let setting: DataParallel
    /// Dropout's generator on this process: its own stream each epoch
    /// (`startEpoch`).
    var dropout = RandomGenerator(seed: 0)
    /// What this process asks for at the next all-reduce, and what the
    /// processes agreed on at the last one (any process's request).
    var requested: Stop?
    var agreed: Stop?

    init(_ setting: DataParallel) {
        self.setting = setting
    }

    /// Seeds this epoch's Dropout stream from the shared generator's state,
    /// the epoch's number and the rank: different on every process,
    /// repeatable, different every epoch (with or without shuffling), and
    /// the same after a fit resumes from a file saved between epochs (which
    /// holds the generator and the epoch count).
    func startEpoch(shared: RandomGenerator, number: Int) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for word in shared.state + [UInt64(number), UInt64(setting.rank)] {
            h = (h ^ word) &* 0x0000_0100_0000_01b3
            h ^= h >> 29
        }
        dropout = RandomGenerator(seed: h)
    }
}

/// A 64-bit hash of bytes, eight at a time (a multiply-xorshift mix; not
/// cryptographic: it tells processes' data apart, it does not defend it).
private func fingerprint(_ p: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ seed ^ UInt64(p.count)
    var i = 0
    while i + 8 <= p.count {
        h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 31
        i += 8
    }
    while i < p.count {
        h = (h ^ UInt64(p[i])) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 29
        i += 1
    }
    return h
}

private func fingerprint(_ text: String) -> UInt64 {
    var bytes = Array(text.utf8)
    return bytes.withUnsafeMutableBytes { fingerprint(UnsafeRawBufferPointer($0)) }
}

private func fingerprint(_ p: UnsafePointer<Float>?, count: Int, seed: UInt64 = 0) -> UInt64 {
    guard let p else { return fingerprint("none") ^ seed }
    return fingerprint(UnsafeRawBufferPointer(start: p, count: count * MemoryLayout<Float>.size), seed: seed)
}

private func fingerprint(_ m: MatrixView<Float>) -> UInt64 {
    fingerprint(m.base, count: m.rows * m.cols, seed: UInt64(m.rows) &* 31 &+ UInt64(m.cols))
}

/// What `checkReplicas` compares, in this order (every process sends the
/// same number of them, also one that refused the fit).
private let replicaItemNames = ["layers", "weights", "optimizer", "loss", "metrics", "random generator",
                                "training data", "validation data", "fit options"]

extension Sequential {
    /// Checks, with one all-reduce, that every process trains the same model
    /// the same way: each item's 64-bit fingerprint is sent as 16 nibbles n
    /// with their squares; the sums equal size·n and size·n² on every
    /// process exactly when every process has the same nibbles (the sum of
    /// the squared differences is 0). Nibbles keep the sums exact in a
    /// Float up to 74,000 processes; the ranks' squares are checked up to
    /// 256 processes.
    ///
    /// `items` nil, with `failure`: this process's own checks refused the
    /// fit; it still takes part (so that the others do not wait for it) and
    /// then throws its error; the others throw one saying that another
    /// process refused.
    func checkReplicas(_ setting: DataParallel, items: [UInt64]?, failure: Error?) throws {
        let nibbles = 16, head = 4
        var values = [Float](repeating: 0, count: head + replicaItemNames.count * nibbles * 2)
        values[0] = 1
        values[1] = Float(setting.rank)
        values[2] = Float(setting.rank * setting.rank)
        values[3] = failure == nil ? 0 : 1
        for (i, item) in (items ?? []).enumerated() {
            for b in 0..<nibbles {
                let nibble = Float((item >> (4 * UInt64(b))) & 0xf)
                values[head + i * nibbles * 2 + b] = nibble
                values[head + i * nibbles * 2 + nibbles + b] = nibble * nibble
            }
        }
        let local = values
        try values.withUnsafeMutableBufferPointer {
            try setting.reduce($0.baseAddress!, $0.count, "while checking the processes' models")
        }
        if let failure { throw failure }
        if values[3] != 0 {
            throw NNError.invalidState("another data-parallel process refused the fit (its own error says why); "
                                       + "rank \(setting.rank) of \(setting.size) does not start it either")
        }
        let size = setting.size, n = Float(size)
        if values[0] != n {
            throw NNError.invalidState("data-parallel size is \(size) on rank \(setting.rank), but \(Int(values[0])) "
                                       + "processes took part in the all-reduce")
        }
        let s = Double(size)
        if Double(values[1]) != s * (s - 1) / 2 || (size <= 256 && Double(values[2]) != (s - 1) * s * (2 * s - 1) / 6) {
            throw NNError.invalidState("data-parallel ranks are not 0..<\(size), each once (rank \(setting.rank))")
        }
        var differ: [String] = []
        for (i, name) in replicaItemNames.enumerated() {
            let at = head + i * nibbles * 2
            for b in 0..<nibbles where values[at + b] != n * local[at + b]
                || values[at + nibbles + b] != n * local[at + nibbles + b] {
                differ.append(name)
                break
            }
        }
        if !differ.isEmpty {
            throw NNError.invalidState("data-parallel processes differ in: \(differ.joined(separator: ", ")) "
                                       + "(seen on rank \(setting.rank) of \(size)); every process must build the "
                                       + "same model with the same seed and fit it on the same data with the same options")
        }
    }

    /// For a caller whose own argument checks refused a fit before it
    /// reached `fit` (nn_model_fit's): takes part in the replicas' check
    /// with the failure, so that the other processes return an error
    /// instead of waiting; then throws `error`. Nothing for a model that is
    /// not data-parallel.
    package func refuseDataParallelFit(_ error: Error) throws -> Never {
        if let parallel = dataParallel, parallel.size > 1, trainingCall == nil {
            try checkReplicas(parallel, items: nil, failure: error)
        }
        throw error
    }

    /// The fingerprints `checkReplicas` compares for a fit, in
    /// `replicaItemNames` order: the whole data is hashed, once per fit.
    func replicaItems(options: FitOptions, x: MatrixView<Float>, y: MatrixView<Float>,
                      sampleWeights: UnsafePointer<Float>?,
                      validation: (MatrixView<Float>, MatrixView<Float>)?) -> [UInt64] {
        let architecture = layers.map { "\($0)" }.joined(separator: "|") + " in \(inputDim)"
        let weights = fingerprint(network.parameters.pointer, count: network.parameterCount)
            ^ (fingerprint(network.state.pointer, count: network.stateCount) &* 31)
        var optimizerPrint = fingerprint(optimizerOptions.map { "\($0)" } ?? "none")
        if let optimizer {
            optimizerPrint ^= fingerprint("\(optimizer.step) \(optimizer.learningRate)") &* 7
            for (name, buffer) in optimizer.stateBuffers {
                optimizerPrint ^= fingerprint(buffer.pointer, count: buffer.count, seed: fingerprint(name))
            }
        }
        let training = fingerprint(x) ^ (fingerprint(y) &* 3)
            ^ (fingerprint(sampleWeights, count: x.rows) &* 5)
        let held = validation.map { fingerprint($0.0) ^ (fingerprint($0.1) &* 3) } ?? fingerprint("none")
        let settings = "\(options.epochs) \(options.batchSize) \(options.shuffle) "
            + "\(options.seed.map { "\($0)" } ?? "-") \(options.validationSplit) \(options.classWeight ?? []) "
            + "\(options.earlyStopping.map { "\($0)" } ?? "-") \(learningRateSchedule.map { "\($0)" } ?? "-") "
            + "anomaly \(anomalyDetection) statistics \(layerStatisticsEvery) steps \(trainingSteps) "
            + "epochs \(history.epochCount)"
        return [
            fingerprint(architecture),
            weights,
            optimizerPrint,
            fingerprint(loss.map { "\($0)" } ?? "none"),
            fingerprint(metrics.map { "\($0)" }.joined(separator: ",")),
            fingerprint("\(rng.state)"),
            training,
            held,
            fingerprint(settings),
        ]
    }

    /// The step's all-reduce, in place on the gradient block: the gradients
    /// and the three slots after them (Network.reductionSlots: failed, asks
    /// to cancel, asks to stop) summed across the processes; records what
    /// the processes asked for (`run.agreed`). Throws `failure` (this
    /// process's own error) or an error naming the step when another
    /// process failed.
    func reduceGradients(_ run: DataParallelRun, failure: Error?, epoch: Int, batch: Int) throws {
        let count = network.parameterCount
        let buffer = network.gradients.pointer
        buffer[count] = failure == nil ? 0 : 1
        buffer[count + 1] = run.requested == .cancel ? 1 : 0
        buffer[count + 2] = run.requested == .stop ? 1 : 0
        run.requested = nil
        try run.setting.reduce(buffer, count + Network<Float>.reductionSlots, "at epoch \(epoch + 1), batch \(batch + 1)")
        if let failure { throw failure }
        if buffer[count] != 0 {
            throw NNError.communication("another data-parallel process failed at epoch \(epoch + 1), "
                                        + "batch \(batch + 1) (its own error says why); rank \(run.setting.rank) "
                                        + "stops too")
        }
        run.agreed = buffer[count + 1] != 0 ? .cancel : buffer[count + 2] != 0 ? .stop : nil
    }

    /// Every process takes rank 0's non-trainable state (BatchNorm's running
    /// statistics): the epoch's end does it with `reduceEpoch`; a cancelled
    /// epoch (which every process cancels at the same step) with this.
    func syncState(_ run: DataParallelRun) throws {
        let count = network.stateCount
        guard count > 0 else { return }
        var values = [Float](repeating: 0, count: count)
        if run.setting.rank == 0 {
            for i in 0..<count { values[i] = network.state.pointer[i] }
        }
        try values.withUnsafeMutableBufferPointer {
            try run.setting.reduce($0.baseAddress!, $0.count, "when the fit was cancelled")
        }
        for i in 0..<count { network.state.pointer[i] = values[i] }
    }

    /// The end of an epoch: every process takes rank 0's non-trainable state
    /// and the sums of the epoch's loss, rows and metric tallies, and learns
    /// whether any process asked to stop; returns the global loss sum and
    /// rows, and that. Each number goes as q·4096 + r in two Floats (q and
    /// r summed separately), so whole counts stay exact up to 2^36 / size.
    func reduceEpoch(_ run: DataParallelRun, lossSum: Double, rows: Int,
                     accumulators: inout [any MetricAccumulator], epoch: Int)
        throws -> (lossSum: Double, rows: Int, stop: Bool) {
        let stateCount = network.stateCount
        let tallies = accumulators.map(\.tally)
        let numbers = [lossSum, Double(rows)] + tallies.flatMap { $0 }
        var values = [Float](repeating: 0, count: stateCount + 1 + 2 * numbers.count)
        if run.setting.rank == 0 {
            for i in 0..<stateCount { values[i] = network.state.pointer[i] }
        }
        values[stateCount] = run.requested == nil ? 0 : 1
        run.requested = nil
        for (i, v) in numbers.enumerated() {
            let q = (v / 4096).rounded(.down)
            values[stateCount + 1 + 2 * i] = Float(q)
            values[stateCount + 2 + 2 * i] = Float(v - q * 4096)
        }
        try values.withUnsafeMutableBufferPointer {
            try run.setting.reduce($0.baseAddress!, $0.count, "at the end of epoch \(epoch + 1)")
        }
        for i in 0..<stateCount { network.state.pointer[i] = values[i] }
        let sums = numbers.indices.map {
            Double(values[stateCount + 1 + 2 * $0]) * 4096 + Double(values[stateCount + 2 + 2 * $0])
        }
        var at = 2
        for i in accumulators.indices {
            let n = tallies[i].count
            accumulators[i].tally = Array(sums[at..<(at + n)])
            at += n
        }
        return (sums[0], Int(sums[1]), values[stateCount] != 0)
    }
}

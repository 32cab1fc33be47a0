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
    let setting: DataParallel
    /// The step's all-reduce buffer: the gradients, then one slot that a
    /// process sets to 1 when its part of the step failed.
    let stepBuffer: Buffer<Float>
    /// Dropout's generator on this process: its own stream each epoch, a
    /// function of the shared generator's state and the rank (`startEpoch`).
    var dropout = RandomGenerator(seed: 0)

    func startEpoch(shared: RandomGenerator) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for word in shared.state + [UInt64(setting.rank)] {
            h = (h ^ word) &* 0x0000_0100_0000_01b3
            h ^= h >> 29
        }
        dropout = RandomGenerator(seed: h)
    }

    init(_ setting: DataParallel, parameters: Int) {
        self.setting = setting
        stepBuffer = Buffer(count: parameters + 1)
    }
}

/// FNV-1a over a string's UTF-8 bytes.
private func fingerprint(_ text: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        h ^= UInt64(byte)
        h = h &* 0x0000_0100_0000_01b3
    }
    return h
}

/// FNV-1a over raw bytes.
private func fingerprint(_ p: UnsafeRawBufferPointer) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in p {
        h ^= UInt64(byte)
        h = h &* 0x0000_0100_0000_01b3
    }
    return h
}

extension Sequential {
    /// Checks, with one all-reduce, that every process trains the same model
    /// the same way: for each item, its fingerprint's three low bytes b and
    /// their squares are summed; the sums equal size·b and size·b² on every
    /// process exactly when every process has the same b (the sum of the
    /// squared differences is 0). Values up to 255 keep every sum exact in
    /// a Float for up to 258 processes.
    ///
    /// `failure`: this process's own checks refused the fit; it still takes
    /// part (so that the others do not wait for it) and then throws it; the
    /// others throw an error saying that another process refused.
    func checkReplicas(_ setting: DataParallel, items: [(name: String, value: UInt64)], failure: Error?) throws {
        let bytesPerItem = 3, head = 4
        // [count slot, rank, rank², failures, then per item: 3 bytes, 3 squares]
        var values = [Float](repeating: 0, count: head + items.count * bytesPerItem * 2)
        values[0] = 1
        values[1] = Float(setting.rank)
        values[2] = Float(setting.rank * setting.rank)
        values[3] = failure == nil ? 0 : 1
        for (i, item) in items.enumerated() {
            for b in 0..<bytesPerItem {
                let byte = Float((item.value >> (8 * UInt64(b))) & 0xff)
                values[head + i * bytesPerItem * 2 + b] = byte
                values[head + i * bytesPerItem * 2 + bytesPerItem + b] = byte * byte
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
        if Double(values[1]) != s * (s - 1) / 2 || Double(values[2]) != (s - 1) * s * (2 * s - 1) / 6 {
            throw NNError.invalidState("data-parallel ranks are not 0..<\(size), each once (rank \(setting.rank))")
        }
        var differ: [String] = []
        for (i, item) in items.enumerated() {
            let at = head + i * bytesPerItem * 2
            for b in 0..<bytesPerItem where values[at + b] != n * local[at + b]
                || values[at + bytesPerItem + b] != n * local[at + bytesPerItem + b] {
                differ.append(item.name)
                break
            }
        }
        if !differ.isEmpty {
            throw NNError.invalidState("data-parallel processes differ in: \(differ.joined(separator: ", ")) "
                                       + "(seen on rank \(setting.rank) of \(size)); every process must build the "
                                       + "same model with the same seed and fit it on the same data with the same options")
        }
    }

    /// The items `checkReplicas` compares for a fit.
    func replicaItems(options: FitOptions, rows: Int, xCols: Int, yCols: Int) -> [(name: String, value: UInt64)] {
        let architecture = layers.map { "\($0)" }.joined(separator: "|") + " in \(inputDim)"
        let weights = fingerprint(UnsafeRawBufferPointer(start: network.parameters.pointer,
                                                         count: network.parameterCount * MemoryLayout<Float>.size))
        let state = fingerprint(UnsafeRawBufferPointer(start: network.state.pointer,
                                                       count: network.stateCount * MemoryLayout<Float>.size))
        return [
            ("layers", fingerprint(architecture)),
            ("weights", weights ^ (state &* 31)),
            ("loss", fingerprint(loss.map { "\($0)" } ?? "none")),
            ("optimizer", fingerprint(optimizerOptions.map { "\($0)" } ?? "none")),
            ("metrics", fingerprint(metrics.map { "\($0)" }.joined(separator: ","))),
            ("random generator", fingerprint("\(rng.state)")),
            ("data shape", fingerprint("\(rows)x\(xCols)->\(yCols)")),
            ("fit options", fingerprint("\(options.epochs) \(options.batchSize) \(options.shuffle) "
                                        + "\(options.seed.map { "\($0)" } ?? "-") \(options.validationSplit)")),
        ]
    }

    /// The step's all-reduce: copies the gradients and the failure slot in,
    /// sums them across the processes, copies the sum back. Throws `failure`
    /// (this process's own error) or an error naming the step when another
    /// process failed.
    func reduceGradients(_ run: DataParallelRun, failure: Error?, epoch: Int, batch: Int) throws {
        let count = network.parameterCount
        let buffer = run.stepBuffer.pointer
        buffer.update(from: network.gradients.pointer, count: count)
        buffer[count] = failure == nil ? 0 : 1
        try run.setting.reduce(buffer, count + 1, "at epoch \(epoch + 1), batch \(batch + 1)")
        if let failure { throw failure }
        if buffer[count] != 0 {
            throw NNError.communication("another data-parallel process failed at epoch \(epoch + 1), "
                                        + "batch \(batch + 1) (its own error says why); rank \(run.setting.rank) "
                                        + "stops too")
        }
        network.gradients.pointer.update(from: buffer, count: count)
    }

    /// The end of an epoch: every process takes rank 0's non-trainable state
    /// (BatchNormalization's running statistics) and the sums of the epoch's
    /// loss, rows and metric tallies; returns the global loss sum and rows.
    func reduceEpoch(_ run: DataParallelRun, lossSum: Double, rows: Int,
                     accumulators: inout [any MetricAccumulator], epoch: Int) throws -> (lossSum: Double, rows: Int) {
        let stateCount = network.stateCount
        let tallies = accumulators.map(\.tally)
        var values = [Float](repeating: 0, count: stateCount + 2 + tallies.reduce(0) { $0 + $1.count })
        if run.setting.rank == 0 {
            for i in 0..<stateCount { values[i] = network.state.pointer[i] }
        }
        values[stateCount] = Float(lossSum)
        values[stateCount + 1] = Float(rows)
        var at = stateCount + 2
        for tally in tallies {
            for v in tally { values[at] = Float(v); at += 1 }
        }
        try values.withUnsafeMutableBufferPointer {
            try run.setting.reduce($0.baseAddress!, $0.count, "at the end of epoch \(epoch + 1)")
        }
        for i in 0..<stateCount { network.state.pointer[i] = values[i] }
        at = stateCount + 2
        for i in accumulators.indices {
            let n = tallies[i].count
            accumulators[i].tally = values[at..<(at + n)].map(Double.init)
            at += n
        }
        return (Double(values[stateCount]), Int(values[stateCount + 1]))
    }
}

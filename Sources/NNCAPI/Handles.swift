import CNN
import NNCore
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What an `nn_model *` points to: the model plus the C strings handed out
/// for it (metric names), which live as long as the model.
final class ModelHandle: @unchecked Sendable {  // one thread at a time, as nn.h states
    let model: Sequential
    private var cNames: [String: UnsafeMutablePointer<CChar>] = [:]

    /// The last nn_model_diagnose's result, and the C strings of its
    /// findings (valid until the next diagnosis or the handle's end).
    private(set) var diagnosis: Diagnosis?
    private var diagnosisStrings: [String: UnsafeMutablePointer<CChar>] = [:]

    /// Where the model's history stood when the most recent nn_model_fit
    /// began; nn_model_fit_logs reads that fit's logs from the history
    /// (nothing is recorded per epoch for it).
    var fitStart: FitLogs.Start? {
        didSet { fitLogsCache = nil }
    }
    private var fitLogsCache: FitLogs?

    /// The logs of the most recent nn_model_fit (computed once per fit).
    var fitLogs: FitLogs {
        if let cached = fitLogsCache { return cached }
        let logs = fitStart.map { FitLogs(since: $0, in: model.history) } ?? FitLogs()
        fitLogsCache = logs
        return logs
    }

    init(_ model: Sequential) { self.model = model }

    deinit {
        cNames.values.forEach { free($0) }
        diagnosisStrings.values.forEach { free($0) }
    }

    func setDiagnosis(_ diagnosis: Diagnosis) {
        diagnosisStrings.values.forEach { free($0) }
        diagnosisStrings = [:]
        for f in diagnosis.findings {
            for text in [f.message, f.suggestion] where diagnosisStrings[text] == nil {
                diagnosisStrings[text] = strdup(text)!
            }
        }
        self.diagnosis = diagnosis
    }

    /// The C string of a string of the current diagnosis.
    func diagnosisString(_ text: String) -> UnsafePointer<CChar> {
        UnsafePointer(diagnosisStrings[text]!)
    }

    /// A C string for `name` that stays valid as long as this handle.
    func cString(_ name: String) -> UnsafePointer<CChar> {
        if let p = cNames[name] { return UnsafePointer(p) }
        let p = strdup(name)!
        cNames[name] = p
        return UnsafePointer(p)
    }
}

/// The per-epoch logs of one fit, one column per log name, every column as
/// long as the number of epochs (NaN before an epoch that first logged a
/// name), so that a caller without a per-epoch callback reads each log in
/// one call. Taken from the model's history: the epochs and the values each
/// log gained since the fit began.
struct FitLogs {
    /// The history's size when a fit began.
    struct Start {
        let epochs: Int
        let counts: [String: Int]

        init(_ history: History) {
            epochs = history.epochs.count
            var counts: [String: Int] = [:]
            for name in history.logNames { counts[name] = history[name]?.count ?? 0 }
            self.counts = counts
        }
    }

    private(set) var epochs = 0
    private(set) var names: [String] = []
    private(set) var columns: [[Double]] = []

    init() {}

    init(since start: Start, in history: History) {
        epochs = max(0, history.epochs.count - start.epochs)
        guard epochs > 0 else { return }
        for name in history.logNames {
            let column = history[name] ?? []
            let added = min(epochs, column.count - start.counts[name, default: 0])
            guard added > 0 else { continue }
            names.append(name)
            columns.append([Double](repeating: .nan, count: epochs - added) + column.suffix(added))
        }
    }
}

/// The set of live handles. Every entry point checks its handle here, so a
/// stale, foreign or wrong-kind pointer is an error rather than a crash.
///
/// An `nn_model *` is a token, not the address of the Swift object: tokens
/// count up and are never handed out twice, so a freed handle stays invalid
/// even when the allocator reuses its memory for a new model (an address
/// would then name the new model). Nothing ever dereferences a token.
enum Handles {
    private static let live = Mutex<(next: UInt, handles: [UInt: ModelHandle])>((next: 0x10_0000, handles: [:]))

    static func register(_ handle: ModelHandle) -> OpaquePointer {
        let token = live.withLock { state -> UInt in
            let token = state.next
            state.next += 16  // aligned like a heap pointer, for tools that print or check them
            state.handles[token] = handle
            return token
        }
        return OpaquePointer(bitPattern: token)!
    }

    /// Removes and releases a handle; false if it was not live.
    static func release(_ pointer: OpaquePointer) -> Bool {
        let handle = live.withLock { $0.handles.removeValue(forKey: UInt(bitPattern: UnsafeRawPointer(pointer))) }
        return handle != nil
    }

    /// The live model handle at `pointer`, or an error.
    static func model(_ pointer: OpaquePointer?) throws -> ModelHandle {
        guard let pointer else { throw APIError.null("model") }
        let handle = live.withLock { $0.handles[UInt(bitPattern: UnsafeRawPointer(pointer))] }
        guard let handle else {
            throw APIError(status: NN_ERROR_INVALID_HANDLE,
                           message: "model is not a live nn_model handle (never created, or already freed)")
        }
        return handle
    }
}

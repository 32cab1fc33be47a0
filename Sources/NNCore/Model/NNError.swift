/// Every error the core throws. Each case carries a message for people that
/// names the problem and the values involved; the C ABI maps the case to an
/// `nn_status` and the message to `nn_last_error()`.
public enum NNError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A value is out of range or a name/enum value is unknown.
    case invalidArgument(String)
    /// A size is zero, does not match the model, or overflows.
    case shapeMismatch(String)
    /// The call is not allowed in the model's current state.
    case invalidState(String)
    /// NaN or infinity where finite values are required.
    case nonFinite(String)
    /// An allocation would be unreasonably large.
    case outOfMemory(String)
    /// A file could not be opened, read, written or renamed (the message
    /// names the path and the system's reason).
    case io(String)
    /// Bytes that are not a valid model file: truncated, corrupted, not
    /// safetensors, an unknown layer kind or format version, a missing or
    /// misshapen tensor (the message says which).
    case invalidFile(String)
    /// Data-parallel training: the all-reduce callback reported a failure,
    /// or another process failed during the step.
    case communication(String)

    public var message: String {
        switch self {
        case .invalidArgument(let m), .shapeMismatch(let m), .invalidState(let m),
             .nonFinite(let m), .outOfMemory(let m), .io(let m), .invalidFile(let m), .communication(let m):
            return m
        }
    }

    public var description: String { message }
}

/// rows × cols, or a shapeMismatch error if the product overflows `Int`.
func checkedElementCount(_ rows: Int, _ cols: Int, _ what: @autoclosure () -> String) throws -> Int {
    let (n, overflow) = rows.multipliedReportingOverflow(by: cols)
    if overflow || rows < 0 || cols < 0 {
        throw NNError.shapeMismatch("\(what()): \(rows) × \(cols) elements overflow the address space")
    }
    return n
}

/// A strict, bounded JSON (RFC 8259) parser and a deterministic writer, for
/// the headers of the files libnn reads and writes (safetensors headers and
/// the model description inside them).
///
/// The parser treats its input as hostile: every byte is checked against the
/// grammar of RFC 8259, and every failure is an `NNError.invalidFile` whose
/// message reads "JSON: <what is wrong> at byte <offset>". It never traps,
/// never recurses (nesting is kept on an explicit stack whose height is
/// bounded by `JSONLimits.maxDepth`, itself at most 512), and allocates at most a small multiple
/// of the input size (each value takes at least one input byte, and the
/// number of values is bounded by `JSONLimits.maxElements`).

/// One JSON value.
///
/// Numbers keep the distinction the text makes: a literal without a fraction
/// or an exponent that fits `Int` is `.integer` (so `-0` is `.integer(0)`);
/// every other number literal is `.number`, the nearest `Double` (always
/// finite: literals that overflow are rejected; those that underflow become
/// 0 or a subnormal, which RFC 8259 allows).
///
/// Object keys are Swift `String`s, so two keys that are canonically
/// equivalent Unicode (for example "é" written precomposed and decomposed)
/// are the same key, and the parser reports them as duplicates.
enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// An integer literal (no fraction, no exponent) that fits `Int`.
    case integer(Int)
    /// Any other number literal (finite).
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The member named `key` when this is an object that has it; nil otherwise.
    subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The element at `index` when this is an array that long; nil otherwise.
    subscript(index: Int) -> JSONValue? {
        if case .array(let items) = self, index >= 0, index < items.count { return items[index] }
        return nil
    }

    /// True for `.null`.
    var isNull: Bool { self == .null }

    /// The Boolean of `.bool`; nil for every other case.
    var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The string of `.string`; nil for every other case.
    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer of `.integer`; nil for every other case (a `.number` is
    /// never converted, even when it holds an integral value).
    var intValue: Int? {
        if case .integer(let i) = self { return i }
        return nil
    }

    /// The value of `.number`, or of `.integer` converted to the nearest
    /// `Double`; nil for every other case.
    var doubleValue: Double? {
        switch self {
        case .number(let d): return d
        case .integer(let i): return Double(i)
        default: return nil
        }
    }

    /// The elements of `.array`; nil for every other case.
    var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// The members of `.object`; nil for every other case.
    var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// "null", "a boolean", "an integer", "a number", "a string", "an
    /// array" or "an object": for messages that say what was found.
    var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer: return "an integer"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// The bounds a parse must stay within.
struct JSONLimits: Sendable {
    /// The most arrays and objects that may be open at once: `[]` has depth 1,
    /// `[[]]` depth 2; a scalar document has depth 0. Values above
    /// `JSONLimits.depthCeiling` act as the ceiling.
    var maxDepth = 32
    /// The most values in the whole document, counting every scalar, array
    /// and object (object keys are not values).
    var maxElements = 1_000_000

    /// The deepest nesting any parse accepts, whatever `maxDepth` says. The
    /// parser itself keeps its own stack, but releasing a `JSONValue` (and
    /// serializing one) recurses through its nesting, several stack frames
    /// per level; 512 levels stay far within the smallest thread stacks.
    static let depthCeiling = 512

    /// The limit actually applied: `maxDepth` within 0...depthCeiling.
    var effectiveMaxDepth: Int { min(max(maxDepth, 0), Self.depthCeiling) }

    init(maxDepth: Int = 32, maxElements: Int = 1_000_000) {
        self.maxDepth = maxDepth
        self.maxElements = maxElements
    }
}

/// The entry points: `parse` (strict RFC 8259) and `serialize` (compact and
/// deterministic).
enum JSON {
    /// Parses one JSON document that fills `bytes` (UTF-8, no byte order
    /// mark; whitespace may surround the value).
    ///
    /// - Throws: `NNError.invalidFile("JSON: <what> at byte <offset>")` for
    ///   empty input, anything after the value but whitespace, nesting
    ///   deeper than `limits.maxDepth`, more than `limits.maxElements`
    ///   values, invalid UTF-8, control characters not escaped in a string,
    ///   invalid escapes, unpaired UTF-16 surrogates in `\u` escapes,
    ///   numbers with leading zeros or an incomplete fraction or exponent,
    ///   `NaN` and `Infinity`, numbers that overflow `Double`, integer
    ///   literals outside the range of `Int` ("too large"), and a key that
    ///   appears twice in one object.
    static func parse(_ bytes: UnsafeRawBufferPointer, limits: JSONLimits = JSONLimits()) throws -> JSONValue {
        var parser = JSONParser(bytes: bytes, limits: limits)
        return try parser.parseDocument()
    }

    /// Parses the UTF-8 of `text` as one JSON document (see the byte version).
    static func parse(_ text: String, limits: JSONLimits = JSONLimits()) throws -> JSONValue {
        var text = text
        return try text.withUTF8 { try parse(UnsafeRawBufferPointer($0), limits: limits) }
    }

    /// Parses `bytes` as one JSON document (see the pointer version).
    static func parse(_ bytes: [UInt8], limits: JSONLimits = JSONLimits()) throws -> JSONValue {
        try bytes.withUnsafeBytes { try parse($0, limits: limits) }
    }

    /// The compact text of `value`: no whitespace, object members sorted by
    /// the UTF-8 bytes of their keys, so equal values always give the same
    /// text.
    ///
    /// - Strings: `"` and `\` are escaped, as are the control characters
    ///   U+0000...U+001F (`\b \t \n \f \r`, the others as `\u00xx`);
    ///   everything else, non-ASCII included, is written as its UTF-8.
    /// - `.integer` is written exactly (`String(Int)`).
    /// - `.number` is written as Swift's shortest round-trip `description`
    ///   of the `Double` (`0.1`, `1e-300`, `-0.0`, `1e+16`), which parses
    ///   back to the same bits. A non-finite `Double` has no JSON form: it is
    ///   written as `null` (the serializer never traps and never writes
    ///   `nan` or `inf`); callers that must keep such values check for them
    ///   before writing.
    ///
    /// Recursion follows the nesting of `value`, which the program built
    /// itself (parsed values are at most `JSONLimits.maxDepth` deep).
    static func serialize(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        write(value, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the compact text of `value` to `out` (see `serialize`).
    static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null:
            out.append(contentsOf: "null".utf8)
        case .bool(let b):
            out.append(contentsOf: (b ? "true" : "false").utf8)
        case .integer(let i):
            out.append(contentsOf: String(i).utf8)
        case .number(let d):
            if d.isFinite {
                out.append(contentsOf: d.description.utf8)
            } else {
                out.append(contentsOf: "null".utf8)
            }
        case .string(let s):
            writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, key) in sortedKeys(members).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                if let member = members[key] { write(member, into: &out) }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Appends `s` as a JSON string literal (quotes included) to `out`.
    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x00..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hexDigit(b >> 4))
                out.append(hexDigit(b & 0xF))
            default:
                out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The keys of `members` in the order of their UTF-8 bytes.
    static func sortedKeys<V>(_ members: [String: V]) -> [String] {
        members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The lowercase hexadecimal digit of `nibble` (0...15).
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + (nibble - 10)
    }
}

/// The state of one parse: the input, the read position, the count of
/// values so far, and a scratch buffer for the bytes of the string being
/// decoded. Every read of `bytes` is guarded by a comparison with
/// `bytes.count` (unsafe buffer indexing is unchecked in release builds).
private struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    let limits: JSONLimits
    var pos = 0
    var elements = 0
    var scratch: [UInt8] = []

    init(bytes: UnsafeRawBufferPointer, limits: JSONLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// An array or object being filled: its elements (arrays) or its members
    /// and the key of the member whose value is being parsed (objects).
    struct Frame {
        var isObject: Bool
        var items: [JSONValue] = []
        var members: [String: JSONValue] = [:]
        var key = ""
    }

    // MARK: Errors

    func failure(_ what: String, at offset: Int) -> NNError {
        NNError.invalidFile("JSON: \(what) at byte \(offset)")
    }

    /// The byte at `offset` for a message: `'x'` when printable ASCII,
    /// otherwise its hexadecimal value; "the end of the input" past the end.
    func describe(_ offset: Int) -> String {
        guard offset >= 0, offset < bytes.count else { return "the end of the input" }
        let b = bytes[offset]
        if b >= 0x20 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        let digits = Array("0123456789ABCDEF".utf8)
        return "byte 0x" + String(decoding: [digits[Int(b >> 4)], digits[Int(b & 0xF)]], as: UTF8.self)
    }

    /// The byte at `offset`, or nil past the end.
    @inline(__always) func peek(_ offset: Int) -> UInt8? {
        offset >= 0 && offset < bytes.count ? bytes[offset] : nil
    }

    /// True when the bytes at `offset` spell `word` (ASCII).
    func matches(_ word: StaticString, at offset: Int) -> Bool {
        let n = word.utf8CodeUnitCount
        guard offset >= 0, n <= bytes.count - offset else { return false }
        return word.withUTF8Buffer { w in
            for i in 0..<n where bytes[offset + i] != w[i] { return false }
            return true
        }
    }

    // MARK: Structure

    mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    mutating func parseDocument() throws -> JSONValue {
        skipWhitespace()
        guard pos < bytes.count else { throw failure("empty input (no value)", at: pos) }
        let value = try parseValue()
        skipWhitespace()
        if pos < bytes.count {
            throw failure("unexpected trailing \(describe(pos)) after the value", at: pos)
        }
        return value
    }

    /// Parses the value at `pos` with everything nested in it, keeping the
    /// open arrays and objects on an explicit stack (no recursion).
    mutating func parseValue() throws -> JSONValue {
        var stack: [Frame] = []
        while true {
            // A value starts here (after optional whitespace).
            skipWhitespace()
            let start = pos
            guard let first = peek(pos) else {
                throw failure("unexpected end of input where a value was expected", at: pos)
            }
            elements += 1
            if elements > limits.maxElements {
                throw failure("too many values (more than \(limits.maxElements))", at: start)
            }
            var value: JSONValue
            switch first {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = first == UInt8(ascii: "{")
                if stack.count >= limits.effectiveMaxDepth {
                    throw failure("nesting too deep (more than \(limits.effectiveMaxDepth) levels)", at: start)
                }
                pos += 1
                skipWhitespace()
                if peek(pos) == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    pos += 1
                    value = isObject ? .object([:]) : .array([])
                } else {
                    var frame = Frame(isObject: isObject)
                    if isObject { frame.key = try parseKey().key }
                    stack.append(frame)
                    continue
                }
            case UInt8(ascii: "\""):
                value = .string(try parseString())
            case UInt8(ascii: "t"):
                guard matches("true", at: pos) else { throw failure("invalid literal (expected true)", at: start) }
                pos += 4
                value = .bool(true)
            case UInt8(ascii: "f"):
                guard matches("false", at: pos) else { throw failure("invalid literal (expected false)", at: start) }
                pos += 5
                value = .bool(false)
            case UInt8(ascii: "n"):
                guard matches("null", at: pos) else { throw failure("invalid literal (expected null)", at: start) }
                pos += 4
                value = .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = try parseNumber()
            default:
                if matches("NaN", at: pos) { throw failure("NaN is not a JSON number", at: start) }
                if matches("Infinity", at: pos) { throw failure("Infinity is not a JSON number", at: start) }
                throw failure("unexpected \(describe(pos)) where a value was expected", at: start)
            }

            // Store the value in the innermost open container; close the
            // containers that end here, until one expects another value.
            storing: while true {
                guard !stack.isEmpty else { return value }
                let top = stack.count - 1
                skipWhitespace()
                let next = peek(pos)
                if stack[top].isObject {
                    let key = stack[top].key
                    stack[top].members[key] = value
                    if next == UInt8(ascii: ",") {
                        pos += 1
                        skipWhitespace()
                        let (key, keyOffset) = try parseKey()
                        if stack[top].members[key] != nil {
                            throw failure("duplicate key \(JSON.serialize(.string(String(key.prefix(80))))) in an object",
                                          at: keyOffset)
                        }
                        stack[top].key = key
                        break storing
                    }
                    guard next == UInt8(ascii: "}") else {
                        throw failure("expected ',' or '}' after an object member but found \(describe(pos))", at: pos)
                    }
                    pos += 1
                    value = .object(stack.removeLast().members)
                } else {
                    stack[top].items.append(value)
                    if next == UInt8(ascii: ",") {
                        pos += 1
                        break storing
                    }
                    guard next == UInt8(ascii: "]") else {
                        throw failure("expected ',' or ']' after an array element but found \(describe(pos))", at: pos)
                    }
                    pos += 1
                    value = .array(stack.removeLast().items)
                }
            }
        }
    }

    /// Parses `"key" :` at `pos`; returns the key and the offset of its quote.
    mutating func parseKey() throws -> (key: String, offset: Int) {
        let offset = pos
        guard peek(pos) == UInt8(ascii: "\"") else {
            throw failure("expected a string key but found \(describe(pos))", at: pos)
        }
        let key = try parseString()
        skipWhitespace()
        guard peek(pos) == UInt8(ascii: ":") else {
            throw failure("expected ':' after an object key but found \(describe(pos))", at: pos)
        }
        pos += 1
        return (key, offset)
    }

    // MARK: Strings

    /// Parses the string literal whose opening quote is at `pos`.
    mutating func parseString() throws -> String {
        let start = pos
        pos += 1
        scratch.removeAll(keepingCapacity: true)
        while true {
            guard let b = peek(pos) else { throw failure("unterminated string", at: start) }
            switch b {
            case UInt8(ascii: "\""):
                pos += 1
                return String(decoding: scratch, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape()
            case 0x00..<0x20:
                throw failure("unescaped control character \(describe(pos)) in a string", at: pos)
            case 0x20..<0x80:
                scratch.append(b)
                pos += 1
            default:
                let n = utf8SequenceLength(at: pos)
                guard n > 0 else { throw failure("invalid UTF-8 \(describe(pos)) in a string", at: pos) }
                for i in 0..<n { scratch.append(bytes[pos + i]) }
                pos += n
            }
        }
    }

    /// The length (2...4) of the well-formed UTF-8 sequence starting with a
    /// non-ASCII byte at `offset`, or 0 when it is ill-formed (RFC 3629:
    /// no overlong forms, no surrogates, nothing above U+10FFFF).
    func utf8SequenceLength(at offset: Int) -> Int {
        guard let b0 = peek(offset) else { return 0 }
        func continuation(_ i: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            guard let b = peek(offset + i) else { return false }
            return range.contains(b)
        }
        switch b0 {
        case 0xC2...0xDF:
            return continuation(1) ? 2 : 0
        case 0xE0:
            return continuation(1, 0xA0...0xBF) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF:
            return continuation(1) && continuation(2) ? 3 : 0
        case 0xED:
            return continuation(1, 0x80...0x9F) && continuation(2) ? 3 : 0
        case 0xF0:
            return continuation(1, 0x90...0xBF) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3:
            return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4:
            return continuation(1, 0x80...0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default:
            return 0
        }
    }

    /// The value of the four hexadecimal digits at `offset`, or nil.
    func hex4(at offset: Int) -> UInt32? {
        var v: UInt32 = 0
        for i in 0..<4 {
            guard let c = peek(offset + i) else { return nil }
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A")) + 10
            default: return nil
            }
            v = v << 4 | d
        }
        return v
    }

    /// Decodes the escape whose backslash is at `pos` into `scratch`.
    mutating func parseEscape() throws {
        let start = pos
        guard let c = peek(pos + 1) else { throw failure("unterminated escape in a string", at: start) }
        let simple: UInt8?
        switch c {
        case UInt8(ascii: "\""): simple = 0x22
        case UInt8(ascii: "\\"): simple = 0x5C
        case UInt8(ascii: "/"): simple = 0x2F
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"): simple = nil
        default: throw failure("invalid escape '\\' followed by \(describe(pos + 1)) in a string", at: start)
        }
        if let simple {
            scratch.append(simple)
            pos += 2
            return
        }
        guard let unit = hex4(at: pos + 2) else {
            throw failure("invalid \\u escape (four hexadecimal digits must follow)", at: start)
        }
        var scalar = unit
        var length = 6
        switch unit {
        case 0xD800...0xDBFF:
            // A high surrogate must be followed at once by an escaped low one.
            guard peek(pos + 6) == UInt8(ascii: "\\"), peek(pos + 7) == UInt8(ascii: "u"),
                  let low = hex4(at: pos + 8), (0xDC00...0xDFFF).contains(low) else {
                throw failure("unpaired high surrogate \\u\(String(unit, radix: 16, uppercase: true)) "
                              + "(not followed by a \\u escape of a low surrogate)", at: start)
            }
            scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            length = 12
        case 0xDC00...0xDFFF:
            throw failure("unpaired low surrogate \\u\(String(unit, radix: 16, uppercase: true)) "
                          + "(not preceded by a high surrogate)", at: start)
        default:
            break
        }
        appendUTF8(scalar)
        pos += length
    }

    /// Appends the UTF-8 encoding of the scalar value `v` (not a surrogate,
    /// at most U+10FFFF) to `scratch`.
    mutating func appendUTF8(_ v: UInt32) {
        switch v {
        case 0..<0x80:
            scratch.append(UInt8(v))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | v >> 6))
            scratch.append(UInt8(0x80 | v & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | v >> 12))
            scratch.append(UInt8(0x80 | v >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | v & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | v >> 18 & 0x07))
            scratch.append(UInt8(0x80 | v >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | v >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | v & 0x3F))
        }
    }

    // MARK: Numbers

    func isDigit(_ offset: Int) -> Bool {
        guard let b = peek(offset) else { return false }
        return b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")
    }

    /// Parses the number at `pos`: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    mutating func parseNumber() throws -> JSONValue {
        let start = pos
        let negative = peek(pos) == UInt8(ascii: "-")
        if negative {
            pos += 1
            if matches("Infinity", at: pos) { throw failure("-Infinity is not a JSON number", at: start) }
            guard isDigit(pos) else { throw failure("expected a digit after '-' but found \(describe(pos))", at: pos) }
        }
        if peek(pos) == UInt8(ascii: "0") {
            pos += 1
            if isDigit(pos) { throw failure("number with a leading zero", at: start) }
        } else {
            while isDigit(pos) { pos += 1 }
        }
        let integerEnd = pos
        var isInteger = true
        if peek(pos) == UInt8(ascii: ".") {
            isInteger = false
            pos += 1
            guard isDigit(pos) else {
                throw failure("expected a digit after the decimal point but found \(describe(pos))", at: pos)
            }
            while isDigit(pos) { pos += 1 }
        }
        if peek(pos) == UInt8(ascii: "e") || peek(pos) == UInt8(ascii: "E") {
            isInteger = false
            pos += 1
            if peek(pos) == UInt8(ascii: "+") || peek(pos) == UInt8(ascii: "-") { pos += 1 }
            guard isDigit(pos) else {
                throw failure("expected a digit in the exponent but found \(describe(pos))", at: pos)
            }
            while isDigit(pos) { pos += 1 }
        }

        if isInteger {
            // Accumulate towards the sign so that Int.min fits.
            var v = 0
            for i in (negative ? start + 1 : start)..<integerEnd {
                let digit = Int(bytes[i] - UInt8(ascii: "0"))
                let (scaled, o1) = v.multipliedReportingOverflow(by: 10)
                let (next, o2) = negative ? scaled.subtractingReportingOverflow(digit)
                                          : scaled.addingReportingOverflow(digit)
                if o1 || o2 {
                    throw failure("integer too large (outside \(Int.min)...\(Int.max))", at: start)
                }
                v = next
            }
            return .integer(v)
        }
        // The literal matches the JSON grammar, which the standard library's
        // correctly rounded parser accepts; it gives ±infinity (or nil) on
        // overflow.
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
        guard let d = Double(text), d.isFinite else {
            throw failure("number too large (overflows a Double)", at: start)
        }
        return .number(d)
    }
}

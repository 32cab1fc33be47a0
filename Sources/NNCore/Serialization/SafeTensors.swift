/// The safetensors container (https://github.com/huggingface/safetensors):
///
///     8 bytes   N, the header length, an unsigned 64-bit little-endian integer
///     N bytes   the header: a UTF-8 JSON object that starts with '{' and may
///               be padded at the end with spaces
///     the rest  the data buffer, every byte of which belongs to exactly one
///               tensor
///
/// The header maps each tensor name to
/// `{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}`, the
/// offsets counting from the start of the data buffer; the optional key
/// `"__metadata__"` maps to an object of string → string.
///
/// `SafeTensorsFile` reads such a file and validates all of it before it
/// hands anything out; `SafeTensorsWriter` writes one.

/// The element types of safetensors, named as in the header.
enum SafeTensorsDType: String, CaseIterable, Sendable {
    case bool = "BOOL"
    case u8 = "U8"
    case i8 = "I8"
    case f8e4m3 = "F8_E4M3"
    case f8e5m2 = "F8_E5M2"
    case i16 = "I16"
    case u16 = "U16"
    case f16 = "F16"
    case bf16 = "BF16"
    case i32 = "I32"
    case u32 = "U32"
    case f32 = "F32"
    case f64 = "F64"
    case i64 = "I64"
    case u64 = "U64"

    /// The bytes of one element.
    var byteSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8e4m3, .f8e5m2: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .f64, .i64, .u64: return 8
        }
    }
}

/// One tensor of a safetensors file, as its header describes it (validated).
struct SafeTensorsEntry: Equatable, Sendable {
    /// The tensor's name (a key of the header; never empty).
    var name: String
    var dtype: SafeTensorsDType
    /// The dimensions, outermost first; `[]` is a scalar (one element).
    var shape: [Int]
    /// Where the tensor's bytes lie, relative to the start of the data buffer.
    var byteRange: Range<Int>
    /// The product of `shape` (1 for a scalar, 0 when a dimension is 0).
    var elementCount: Int
}

/// A safetensors file held in memory, validated in full by `init(bytes:)`.
///
/// Every failure is an `NNError.invalidFile` whose message says what is
/// wrong and names the tensor concerned. The reader never traps, whatever
/// the bytes: lengths and offsets are compared without overflow, shapes are
/// multiplied with overflow checks, and nothing is read before its range has
/// been checked. Its allocations are proportional to the size of the input.
struct SafeTensorsFile: Sendable {
    /// The `__metadata__` of the header (empty when there is none).
    let metadata: [String: String]
    /// The tensors by name.
    let entries: [String: SafeTensorsEntry]
    /// The names ordered by byte offset (ties, which only zero-size tensors
    /// can make, by name), which is the order the tensors are stored in.
    let orderedNames: [String]
    /// The largest header accepted: 16 MiB, room for some 100 000 tensor
    /// entries (the reference implementation allows 100 MiB; parsed JSON
    /// takes up to about 25 times its text, so libnn keeps the bound lower).
    static let maxHeaderBytes = 16 * 1024 * 1024

    /// The whole file.
    private let bytes: [UInt8]
    /// Where the data buffer starts in `bytes`: 8 plus the header length.
    let dataStart: Int

    /// The size of the data buffer.
    var dataByteCount: Int { bytes.count - dataStart }

    /// Reads and validates the file in `bytes`, and keeps a reference to it
    /// (the tensors are decoded on request).
    ///
    /// Checks, in order: the file has its 8-byte length; the header fits in
    /// the file and within `maxHeaderBytes`; the header starts with '{', is
    /// valid JSON (RFC 8259: duplicate keys are rejected) and an object;
    /// `__metadata__`, when present, is an object of strings; every other
    /// key is a non-empty name whose value is an object with exactly the
    /// fields `dtype` (a known name), `shape` (non-negative integers whose
    /// product fits `Int`) and `data_offsets` (two non-negative integers,
    /// begin ≤ end, end within the data buffer, spanning exactly the bytes
    /// the dtype and shape need); and the ranges, sorted, tile the data
    /// buffer from its first byte to its last with no overlap and no hole.
    ///
    /// - Throws: `NNError.invalidFile` naming the first problem found.
    init(bytes: [UInt8]) throws {
        guard bytes.count >= 8 else {
            throw NNError.invalidFile(
                "safetensors file is \(bytes.count) bytes long, too short for its 8-byte header length")
        }
        var declared: UInt64 = 0
        for i in 0..<8 { declared |= UInt64(bytes[i]) << UInt64(8 * i) }
        let available = bytes.count - 8
        guard declared <= UInt64(available) else {
            throw NNError.invalidFile("safetensors header claims \(declared) bytes but the file has "
                                      + "\(available) bytes after its 8-byte length")
        }
        guard declared <= UInt64(Self.maxHeaderBytes) else {
            throw NNError.invalidFile("safetensors header is \(declared) bytes, more than the "
                                      + "\(Self.maxHeaderBytes) bytes allowed")
        }
        let headerLength = Int(declared)   // ≤ available, so it fits
        let dataStart = 8 + headerLength
        let dataLength = bytes.count - dataStart

        // The header: a JSON object, starting with '{' as the format requires.
        guard headerLength > 0 else {
            throw NNError.invalidFile("safetensors header is empty; it must be a JSON object")
        }
        guard bytes[8] == UInt8(ascii: "{") else {
            let b = bytes[8]
            let found = b >= 0x20 && b < 0x7F
                ? "'\(Character(Unicode.Scalar(b)))'"
                : "byte 0x" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true)
            throw NNError.invalidFile("safetensors header must be a JSON object starting with '{' "
                                      + "but starts with \(found)")
        }
        let header: JSONValue
        do {
            // Each value takes at least one byte, so the header length bounds
            // their number; the format nests 3 deep, a little more gives
            // precise messages about misshapen fields.
            let limits = JSONLimits(maxDepth: 8, maxElements: headerLength)
            header = try bytes.withUnsafeBytes {
                try JSON.parse(UnsafeRawBufferPointer(rebasing: $0[8..<dataStart]), limits: limits)
            }
        } catch let error as NNError {
            throw NNError.invalidFile("safetensors header is not valid JSON: \(error.message) "
                                      + "(counting from the start of the header)")
        }
        guard case .object(let top) = header else {
            throw NNError.invalidFile("safetensors header is \(header.kindDescription), not a JSON object")
        }

        // __metadata__: string → string.
        var metadata: [String: String] = [:]
        if let value = top["__metadata__"] {
            guard case .object(let fields) = value else {
                throw NNError.invalidFile("safetensors __metadata__ must be an object of strings, "
                                          + "not \(value.kindDescription)")
            }
            for key in JSON.sortedKeys(fields) {
                guard case .string(let s)? = fields[key] else {
                    throw NNError.invalidFile("safetensors __metadata__ value of \(Self.quoted(key)) must be "
                                              + "a string, not \(fields[key]?.kindDescription ?? "missing")")
                }
                metadata[key] = s
            }
        }

        // The tensors, checked one by one in a fixed order (the byte order of
        // their names), so a file with several faults always gets the same
        // message.
        var entries: [String: SafeTensorsEntry] = [:]
        entries.reserveCapacity(top.count)
        for name in JSON.sortedKeys(top) where name != "__metadata__" {
            guard let value = top[name] else { continue }
            let entry = try Self.entry(name, value, dataLength: dataLength)
            entries[name] = entry
        }

        // The ranges must tile the data buffer: sorted by where they begin,
        // each starts where the previous one ended, and the last ends at the
        // end of the buffer.
        let ordered = entries.values.sorted { a, b in
            if a.byteRange.lowerBound != b.byteRange.lowerBound {
                return a.byteRange.lowerBound < b.byteRange.lowerBound
            }
            if a.byteRange.upperBound != b.byteRange.upperBound {
                return a.byteRange.upperBound < b.byteRange.upperBound
            }
            return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
        var cursor = 0
        var previous: SafeTensorsEntry? = nil
        for entry in ordered {
            let range = entry.byteRange
            if range.lowerBound > cursor {
                throw NNError.invalidFile("safetensors bytes \(cursor)..<\(range.lowerBound) of the data are not "
                                          + "part of any tensor (the data must be fully indexed, without holes)")
            }
            if range.lowerBound < cursor, let previous {
                throw NNError.invalidFile("safetensors tensor \(Self.quoted(entry.name)) (bytes \(range.lowerBound)"
                                          + "..<\(range.upperBound) of the data) overlaps tensor "
                                          + "\(Self.quoted(previous.name)) (bytes \(previous.byteRange.lowerBound)"
                                          + "..<\(previous.byteRange.upperBound))")
            }
            cursor = range.upperBound
            previous = entry
        }
        if cursor != dataLength {
            throw NNError.invalidFile("safetensors bytes \(cursor)..<\(dataLength) of the data are not part of "
                                      + "any tensor (the data must be fully indexed, without holes)")
        }

        self.metadata = metadata
        self.entries = entries
        self.orderedNames = ordered.map(\.name)
        self.bytes = bytes
        self.dataStart = dataStart
    }

    /// Validates the header entry of tensor `name` (everything but its
    /// relation to the other tensors).
    private static func entry(_ name: String, _ value: JSONValue, dataLength: Int) throws -> SafeTensorsEntry {
        func invalid(_ what: String) -> NNError {
            NNError.invalidFile("safetensors tensor \(quoted(name)) \(what)")
        }
        guard !name.isEmpty else {
            throw NNError.invalidFile("safetensors header has a tensor with an empty name")
        }
        guard case .object(let fields) = value else {
            throw invalid("must be an object with dtype, shape and data_offsets, not \(value.kindDescription)")
        }
        for key in JSON.sortedKeys(fields) where key != "dtype" && key != "shape" && key != "data_offsets" {
            throw invalid("has an unexpected field \(quoted(key)) (only dtype, shape and data_offsets are allowed)")
        }

        guard let dtypeValue = fields["dtype"] else { throw invalid("has no dtype") }
        guard case .string(let dtypeName) = dtypeValue else {
            throw invalid("has a dtype that is \(dtypeValue.kindDescription), not a string")
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw invalid("has an unknown dtype \(quoted(dtypeName)) (known: "
                          + SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }

        guard let shapeValue = fields["shape"] else { throw invalid("has no shape") }
        guard case .array(let dims) = shapeValue else {
            throw invalid("has a shape that is \(shapeValue.kindDescription), not an array of integers")
        }
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        for dim in dims {
            guard case .integer(let d) = dim else {
                throw invalid("has a shape with \(dim.kindDescription) in it; dimensions must be integers")
            }
            shape.append(d)
        }
        if let negative = shape.first(where: { $0 < 0 }) {
            throw invalid("has a negative dimension \(negative) in its shape \(describe(shape))")
        }
        var elementCount = 1
        if !shape.contains(0) {
            for d in shape {
                let (product, overflow) = elementCount.multipliedReportingOverflow(by: d)
                if overflow {
                    throw invalid("has a shape \(describe(shape)) whose element count overflows a 64-bit integer")
                }
                elementCount = product
            }
        } else {
            elementCount = 0
        }
        let (byteCount, byteOverflow) = elementCount.multipliedReportingOverflow(by: dtype.byteSize)
        if byteOverflow {
            throw invalid("has a shape \(describe(shape)) whose size in bytes overflows a 64-bit integer")
        }

        guard let offsetsValue = fields["data_offsets"] else { throw invalid("has no data_offsets") }
        guard case .array(let offsets) = offsetsValue, offsets.count == 2,
              case .integer(let begin) = offsets[0], case .integer(let end) = offsets[1] else {
            throw invalid("has data_offsets that are not two integers [begin, end]")
        }
        guard begin >= 0, end >= 0 else {
            throw invalid("has negative data_offsets [\(begin), \(end)]")
        }
        guard begin <= end else {
            throw invalid("has data_offsets [\(begin), \(end)] that end before they begin")
        }
        guard end - begin == byteCount else {
            throw invalid("has dtype \(dtype.rawValue) and shape \(describe(shape)), which take \(byteCount) bytes, "
                          + "but its data_offsets [\(begin), \(end)] span \(end - begin) bytes")
        }
        guard end <= dataLength else {
            throw invalid("has data_offsets [\(begin), \(end)] that go past the end of the data, "
                          + "which has \(dataLength) bytes")
        }
        return SafeTensorsEntry(name: name, dtype: dtype, shape: shape, byteRange: begin..<end,
                                elementCount: elementCount)
    }

    /// `s` as a JSON string literal for messages, cut to 100 characters.
    static func quoted(_ s: String) -> String {
        let cut = s.count > 100 ? String(s.prefix(100)) + "…" : s
        return JSON.serialize(.string(cut))
    }

    /// `shape` for messages, e.g. "[2, 3]"; long shapes are cut.
    static func describe(_ shape: [Int]) -> String {
        let shown = shape.prefix(16).map(String.init).joined(separator: ", ")
        return "[" + shown + (shape.count > 16 ? ", … (\(shape.count) dimensions)]" : "]")
    }

    // MARK: Reading tensors

    /// The entry of `name`, checked to have `dtype`.
    private func entry(_ name: String, dtype: SafeTensorsDType) throws -> SafeTensorsEntry {
        guard let entry = entries[name] else {
            throw NNError.invalidFile("safetensors file has no tensor named \(Self.quoted(name))")
        }
        guard entry.dtype == dtype else {
            throw NNError.invalidFile("safetensors tensor \(Self.quoted(name)) has dtype \(entry.dtype.rawValue), "
                                      + "expected \(dtype.rawValue)")
        }
        return entry
    }

    /// The elements of the F32 tensor `name`, decoded from little-endian.
    /// - Throws: `NNError.invalidFile` when there is no such tensor or its
    ///   dtype is not F32.
    func floats(_ name: String) throws -> [Float] {
        let entry = try entry(name, dtype: .f32)
        return try withRawBytes(name) { raw in
            [Float](unsafeUninitializedCapacity: entry.elementCount) { out, initialized in
                for i in 0..<entry.elementCount {
                    let bits = raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
                    out[i] = Float(bitPattern: UInt32(littleEndian: bits))
                }
                initialized = entry.elementCount
            }
        }
    }

    /// The elements of the I64 tensor `name`, decoded from little-endian.
    /// - Throws: `NNError.invalidFile` when there is no such tensor or its
    ///   dtype is not I64.
    func int64s(_ name: String) throws -> [Int64] {
        let entry = try entry(name, dtype: .i64)
        return try withRawBytes(name) { raw in
            [Int64](unsafeUninitializedCapacity: entry.elementCount) { out, initialized in
                for i in 0..<entry.elementCount {
                    out[i] = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                }
                initialized = entry.elementCount
            }
        }
    }

    /// Calls `body` with the bytes of tensor `name` (any dtype), as stored:
    /// little-endian and not necessarily aligned. The pointer is valid only
    /// during the call.
    /// - Throws: `NNError.invalidFile` when there is no such tensor, or what
    ///   `body` throws.
    func withRawBytes<R>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let entry = entries[name] else {
            throw NNError.invalidFile("safetensors file has no tensor named \(Self.quoted(name))")
        }
        let range = (dataStart + entry.byteRange.lowerBound)..<(dataStart + entry.byteRange.upperBound)
        return try bytes.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[range]))
        }
    }
}

/// Builds a safetensors file: tensors are stored in the order they are
/// added, each right after the previous one, and `serialized(metadata:)`
/// gives the whole file.
///
/// The header lists `__metadata__` first (when there is any metadata, its
/// keys in byte order), then the tensors in the order added, each as
/// `{"dtype":…,"shape":[…],"data_offsets":[begin,end]}` (the field order of
/// the reference implementation), compact, then spaces up to a multiple of
/// 8 bytes so that the data starts 8-byte aligned.
struct SafeTensorsWriter {
    /// The tensors added so far, in order.
    private(set) var entries: [SafeTensorsEntry] = []
    private var names: Set<String> = []
    /// The data buffer so far.
    private var data: [UInt8] = []

    init() {}

    /// Checks a new tensor and returns its entry (placed after the data so far).
    private func newEntry(_ name: String, dtype: SafeTensorsDType, shape: [Int], count: Int) throws -> SafeTensorsEntry {
        let quoted = SafeTensorsFile.quoted(name)
        guard !name.isEmpty else { throw NNError.invalidArgument("a safetensors tensor name must not be empty") }
        guard name != "__metadata__" else {
            throw NNError.invalidArgument("\"__metadata__\" is reserved and cannot name a safetensors tensor")
        }
        guard !names.contains(name) else {
            throw NNError.invalidArgument("safetensors tensor \(quoted) was already added")
        }
        if shape.contains(where: { $0 < 0 }) {
            throw NNError.shapeMismatch("safetensors tensor \(quoted) has a negative dimension in its shape "
                                        + SafeTensorsFile.describe(shape))
        }
        // With a zero dimension the product is 0 whatever the others are.
        var elements = shape.contains(0) ? 0 : 1
        if elements != 0 {
            for d in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                if overflow {
                    throw NNError.shapeMismatch("safetensors tensor \(quoted) has a shape "
                                                + "\(SafeTensorsFile.describe(shape)) whose element count overflows")
                }
                elements = product
            }
        }
        guard elements == count else {
            throw NNError.shapeMismatch("safetensors tensor \(quoted) has shape \(SafeTensorsFile.describe(shape)) "
                                        + "(\(elements) elements) but \(count) values were given")
        }
        let (byteCount, o1) = count.multipliedReportingOverflow(by: dtype.byteSize)
        let (end, o2) = data.count.addingReportingOverflow(byteCount)
        guard !o1, !o2 else {
            throw NNError.outOfMemory("safetensors tensor \(quoted) makes the data larger than memory can hold")
        }
        return SafeTensorsEntry(name: name, dtype: dtype, shape: shape, byteRange: data.count..<end,
                                elementCount: count)
    }

    /// Adds an F32 tensor: `floats` (row-major, `shape`'s product of them),
    /// stored little-endian.
    /// - Throws: `NNError.invalidArgument` for an empty, reserved or repeated
    ///   name; `NNError.shapeMismatch` for a negative dimension or a count
    ///   that does not match `shape`.
    mutating func add(_ name: String, floats: UnsafeBufferPointer<Float>, shape: [Int]) throws {
        let entry = try newEntry(name, dtype: .f32, shape: shape, count: floats.count)
        let start = entry.byteRange.lowerBound
        data.append(contentsOf: repeatElement(0, count: entry.byteRange.count))
        data.withUnsafeMutableBytes { raw in
            for i in 0..<floats.count {
                raw.storeBytes(of: floats[i].bitPattern.littleEndian, toByteOffset: start + 4 * i, as: UInt32.self)
            }
        }
        entries.append(entry)
        names.insert(name)
    }

    /// Adds an I64 tensor: `int64s` (row-major), stored little-endian.
    /// - Throws: as `add(_:floats:shape:)`.
    mutating func add(_ name: String, int64s: [Int64], shape: [Int]) throws {
        let entry = try newEntry(name, dtype: .i64, shape: shape, count: int64s.count)
        let start = entry.byteRange.lowerBound
        data.append(contentsOf: repeatElement(0, count: entry.byteRange.count))
        data.withUnsafeMutableBytes { raw in
            for i in 0..<int64s.count {
                raw.storeBytes(of: int64s[i].littleEndian, toByteOffset: start + 8 * i, as: Int64.self)
            }
        }
        entries.append(entry)
        names.insert(name)
    }

    /// The whole file: the 8-byte header length, the header padded with
    /// spaces so that the data starts at a multiple of 8, then the tensors in
    /// the order they were added. `__metadata__` is written only when
    /// `metadata` is not empty.
    func serialized(metadata: [String: String]) -> [UInt8] {
        var header: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        if !metadata.isEmpty {
            header.append(contentsOf: "\"__metadata__\":{".utf8)
            for (i, key) in JSON.sortedKeys(metadata).enumerated() {
                if i > 0 { header.append(UInt8(ascii: ",")) }
                JSON.writeString(key, into: &header)
                header.append(UInt8(ascii: ":"))
                JSON.writeString(metadata[key] ?? "", into: &header)
            }
            header.append(UInt8(ascii: "}"))
            first = false
        }
        for entry in entries {
            if !first { header.append(UInt8(ascii: ",")) }
            first = false
            JSON.writeString(entry.name, into: &header)
            header.append(contentsOf: ":{\"dtype\":".utf8)
            JSON.writeString(entry.dtype.rawValue, into: &header)
            header.append(contentsOf: ",\"shape\":[".utf8)
            header.append(contentsOf: entry.shape.map(String.init).joined(separator: ",").utf8)
            header.append(contentsOf: "],\"data_offsets\":[".utf8)
            header.append(contentsOf: "\(entry.byteRange.lowerBound),\(entry.byteRange.upperBound)]}".utf8)
        }
        header.append(UInt8(ascii: "}"))
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }

        var file: [UInt8] = []
        file.reserveCapacity(8 + header.count + data.count)
        let length = UInt64(header.count)
        for i in 0..<8 { file.append(UInt8(truncatingIfNeeded: length >> UInt64(8 * i))) }
        file.append(contentsOf: header)
        file.append(contentsOf: data)
        return file
    }
}

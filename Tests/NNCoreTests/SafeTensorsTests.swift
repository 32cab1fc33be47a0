import XCTest
@testable import NNCore

/// The safetensors container of Serialization/SafeTensors.swift: the writer
/// against a file made by hand from the format's description, writer →
/// reader round trips, every validation rule of the reader with a hostile
/// file built by hand (each checked for `.invalidFile` and its message), and
/// a seeded mutation loop that the reader must survive.
final class SafeTensorsTests: XCTestCase {
    // MARK: Helpers

    /// A file made by hand: the 8-byte little-endian header length
    /// (`claimedLength`, or the header's real length), the header's UTF-8,
    /// then `data`.
    private func handMade(_ header: String, data: [UInt8] = [], claimedLength: UInt64? = nil) -> [UInt8] {
        let headerBytes = Array(header.utf8)
        let n = claimedLength ?? UInt64(headerBytes.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: n >> UInt64(8 * $0)) } + headerBytes + data
    }

    /// `values` as little-endian F32 bytes.
    private func le(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> UInt32(8 * $0)) } }
    }

    /// The header entry of one tensor.
    private func entry(_ dtype: String = "F32", _ shape: String, _ begin: Int, _ end: Int) -> String {
        #"{"dtype":"\#(dtype)","shape":\#(shape),"data_offsets":[\#(begin),\#(end)]}"#
    }

    /// Asserts that reading `bytes` throws `.invalidFile` whose message
    /// contains every fragment.
    private func assertInvalid(_ bytes: [UInt8], _ fragments: String...,
                               file: StaticString = #filePath, line: UInt = #line) {
        do {
            let read = try SafeTensorsFile(bytes: bytes)
            XCTFail("accepted a hostile file with tensors \(read.orderedNames)", file: file, line: line)
        } catch NNError.invalidFile(let message) {
            for fragment in fragments {
                XCTAssertTrue(message.contains(fragment), "\"\(message)\" lacks \"\(fragment)\"", file: file, line: line)
            }
        } catch {
            XCTFail("threw \(error), not .invalidFile", file: file, line: line)
        }
    }

    /// Asserts that `body` throws `.invalidFile` containing `fragment`.
    private func assertInvalidFile<R>(_ fragment: String, file: StaticString = #filePath, line: UInt = #line,
                                      _ body: () throws -> R) {
        do {
            _ = try body()
            XCTFail("did not throw", file: file, line: line)
        } catch NNError.invalidFile(let message) {
            XCTAssertTrue(message.contains(fragment), "\"\(message)\" lacks \"\(fragment)\"", file: file, line: line)
        } catch {
            XCTFail("threw \(error), not .invalidFile", file: file, line: line)
        }
    }

    /// A valid file with two F32 tensors, an I64 tensor and metadata.
    private func sampleFile() throws -> [UInt8] {
        var writer = SafeTensorsWriter()
        let w: [Float] = [1, -2, 3.5, 0.25, -0.0, 1e-30]
        try w.withUnsafeBufferPointer { try writer.add("dense.weight", floats: $0, shape: [2, 3]) }
        try [Float](repeating: 0.5, count: 3).withUnsafeBufferPointer {
            try writer.add("dense.bias", floats: $0, shape: [3])
        }
        try writer.add("step", int64s: [7], shape: [])
        return writer.serialized(metadata: ["format": "libnn", "version": "1"])
    }

    // MARK: Writer

    /// The writer's bytes for one F32 tensor [1, 2] are exactly the file the
    /// format describes: the length 56 (little-endian), the header
    /// `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}` (54 bytes)
    /// padded with two spaces to a multiple of 8, then the 8 data bytes.
    func testWriterMatchesAFileMadeByHand() throws {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"# + "  "
        XCTAssertEqual(header.utf8.count, 56)
        let expected: [UInt8] = [56, 0, 0, 0, 0, 0, 0, 0] + Array(header.utf8)
            + [0x00, 0x00, 0x80, 0x3F,   // 1.0f
               0x00, 0x00, 0x00, 0x40]   // 2.0f
        var writer = SafeTensorsWriter()
        try [Float(1), 2].withUnsafeBufferPointer { try writer.add("a", floats: $0, shape: [2]) }
        XCTAssertEqual(writer.serialized(metadata: [:]), expected)

        // With metadata (first, keys sorted) and an I64 tensor after it.
        try writer.add("b", int64s: [-2], shape: [1])
        let header2 = #"{"__metadata__":{"k":"v","z":"\n"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
            + #""b":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}}"#
        let padded2 = header2 + String(repeating: " ", count: (8 - header2.utf8.count % 8) % 8)
        let expected2 = handMade(padded2, data: [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40,
                                                 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(writer.serialized(metadata: ["z": "\n", "k": "v"]), expected2)
    }

    /// Writer → reader keeps names, order, shapes, dtypes, every bit of the
    /// values (NaN payloads, -0, subnormals), scalars ([] holds one value),
    /// zero-size tensors and metadata; the data starts 8-byte aligned.
    func testWriterReaderRoundTrip() throws {
        let weights: [Float] = [1, -2, .pi, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
                                .infinity, Float(bitPattern: 0x7FC0_1234), -.nan, 0, 1e-3, -7]
        let counts: [Int64] = [.min, -1, 0, 1, .max]
        let metadata = ["format": "pt", "quote\"d": "line\nbreak\ttab", "unicode": "é😀", "": ""]
        var writer = SafeTensorsWriter()
        try weights.withUnsafeBufferPointer { try writer.add("w", floats: $0, shape: [3, 4]) }
        try writer.add("counts", int64s: counts, shape: [5])
        try [Float(42)].withUnsafeBufferPointer { try writer.add("scalar", floats: $0, shape: []) }
        try [Float]().withUnsafeBufferPointer { try writer.add("empty", floats: $0, shape: [0, 3]) }
        try writer.add("empty64", int64s: [], shape: [2, 0])
        try [Float(5)].withUnsafeBufferPointer { try writer.add("名前 😀", floats: $0, shape: [1, 1, 1]) }
        let bytes = writer.serialized(metadata: metadata)

        let file = try SafeTensorsFile(bytes: bytes)
        XCTAssertEqual(file.dataStart % 8, 0)
        XCTAssertEqual(file.metadata, metadata)
        XCTAssertEqual(file.orderedNames, ["w", "counts", "scalar", "empty", "empty64", "名前 😀"])
        XCTAssertEqual(file.entries.count, 6)
        XCTAssertEqual(file.dataByteCount, 4 * 12 + 8 * 5 + 4 + 4)
        XCTAssertEqual(try file.floats("w").map(\.bitPattern), weights.map(\.bitPattern))
        XCTAssertEqual(try file.int64s("counts"), counts)
        XCTAssertEqual(try file.floats("scalar"), [42])
        XCTAssertEqual(try file.floats("empty"), [])
        XCTAssertEqual(try file.int64s("empty64"), [])
        XCTAssertEqual(try file.floats("名前 😀"), [5])
        XCTAssertEqual(file.entries["w"], SafeTensorsEntry(name: "w", dtype: .f32, shape: [3, 4], byteRange: 0..<48,
                                                           elementCount: 12))
        XCTAssertEqual(file.entries["counts"]?.byteRange, 48..<88)
        XCTAssertEqual(file.entries["scalar"]?.shape, [])
        XCTAssertEqual(file.entries["scalar"]?.elementCount, 1)
        XCTAssertEqual(file.entries["empty"]?.shape, [0, 3])
        XCTAssertEqual(file.entries["empty"]?.elementCount, 0)
        XCTAssertEqual(file.entries["empty"]?.byteRange, 92..<92)
        XCTAssertEqual(file.entries["empty64"]?.dtype, .i64)
        XCTAssertEqual(try file.withRawBytes("counts") { Array($0) },
                       counts.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v >> Int64(8 * $0)) } })
        XCTAssertEqual(try file.withRawBytes("empty") { $0.count }, 0)

        // Writing what was read gives the same bytes.
        var again = SafeTensorsWriter()
        for name in file.orderedNames {
            let e = try XCTUnwrap(file.entries[name])
            if e.dtype == .f32 {
                try file.floats(name).withUnsafeBufferPointer { try again.add(name, floats: $0, shape: e.shape) }
            } else {
                try again.add(name, int64s: file.int64s(name), shape: e.shape)
            }
        }
        XCTAssertEqual(again.serialized(metadata: file.metadata), bytes)
    }

    /// No tensors and no metadata: `{}` padded to 8 bytes, read back empty.
    func testEmptyFile() throws {
        let bytes = SafeTensorsWriter().serialized(metadata: [:])
        XCTAssertEqual(bytes, handMade("{}      "))
        let file = try SafeTensorsFile(bytes: bytes)
        XCTAssertTrue(file.entries.isEmpty)
        XCTAssertTrue(file.metadata.isEmpty)
        XCTAssertEqual(file.orderedNames, [])
        let onlyMetadata = try SafeTensorsFile(bytes: SafeTensorsWriter().serialized(metadata: ["a": "b"]))
        XCTAssertEqual(onlyMetadata.metadata, ["a": "b"])
    }

    /// The writer refuses empty, reserved and repeated names, negative
    /// dimensions, overflowing shapes and counts that do not match the shape.
    func testWriterRejectsBadTensors() throws {
        var writer = SafeTensorsWriter()
        try writer.add("a", int64s: [1], shape: [1])
        func check(_ expected: (String) -> NNError, _ fragment: String, _ body: () throws -> Void,
                   line: UInt = #line) {
            do {
                try body()
                XCTFail("accepted", line: line)
            } catch let error as NNError {
                XCTAssertEqual(error, expected(error.message), line: line)
                XCTAssertTrue(error.message.contains(fragment), error.message, line: line)
            } catch {
                XCTFail("\(error)", line: line)
            }
        }
        check(NNError.invalidArgument, "empty") { try writer.add("", int64s: [1], shape: [1]) }
        check(NNError.invalidArgument, "reserved") { try writer.add("__metadata__", int64s: [1], shape: [1]) }
        check(NNError.invalidArgument, "already added") { try writer.add("a", int64s: [1], shape: [1]) }
        check(NNError.shapeMismatch, "negative") { try writer.add("b", int64s: [], shape: [-1, 0]) }
        check(NNError.shapeMismatch, "overflows") { try writer.add("b", int64s: [1], shape: [1 << 32, 1 << 32]) }
        check(NNError.shapeMismatch, "6 elements") { try writer.add("b", int64s: [1, 2], shape: [2, 3]) }
        check(NNError.shapeMismatch, "1 values") {
            try [Float(1)].withUnsafeBufferPointer { try writer.add("b", floats: $0, shape: [0]) }
        }
        // A zero dimension makes the product 0 whatever the others are.
        try writer.add("z", int64s: [], shape: [1 << 40, 1 << 40, 0])
        let file = try SafeTensorsFile(bytes: writer.serialized(metadata: [:]))
        XCTAssertEqual(file.orderedNames, ["a", "z"])
        XCTAssertEqual(file.entries["z"]?.elementCount, 0)
    }

    // MARK: Reader, valid files made by hand

    /// Tensors are read through unaligned loads (the header here is 54
    /// bytes, so the data starts at byte 62), and a header may end in
    /// padding spaces; orderedNames follows the offsets, not the names.
    func testReadsUnalignedDataAndPaddedHeaders() throws {
        let header = #"{"b":\#(entry("F32", "[1]", 0, 4)),"a":\#(entry("F32", "[2]", 4, 12))}"#
        let data = le([9, 1, 2])
        for padding in ["", " ", "       ", "   \t\n "] {
            let file = try SafeTensorsFile(bytes: handMade(header + padding, data: data))
            XCTAssertEqual(file.orderedNames, ["b", "a"])
            XCTAssertEqual(try file.floats("a"), [1, 2])
            XCTAssertEqual(try file.floats("b"), [9])
            XCTAssertEqual(file.dataStart, 8 + header.utf8.count + padding.utf8.count)
        }
        // Every dtype is known with its size; a zero-size tensor may sit at
        // the end or between two others.
        var parts: [String] = []
        var offset = 0
        for dtype in SafeTensorsDType.allCases {
            parts.append(#""\#(dtype.rawValue)":\#(entry(dtype.rawValue, "[3]", offset, offset + 3 * dtype.byteSize))"#)
            offset += 3 * dtype.byteSize
        }
        parts.append(#""zero":\#(entry("F64", "[0, 5]", offset, offset))"#)
        parts.append(#""mid":\#(entry("U8", "[0]", 3, 3))"#)
        let file = try SafeTensorsFile(bytes: handMade("{" + parts.joined(separator: ",") + "}",
                                                       data: [UInt8](repeating: 1, count: offset)))
        XCTAssertEqual(file.entries.count, SafeTensorsDType.allCases.count + 2)
        XCTAssertEqual(file.orderedNames.first, "BOOL")
        XCTAssertEqual(file.orderedNames.last, "zero")
        XCTAssertEqual(file.orderedNames[1], "mid")   // 3..<3 sorts before 3..<6
        XCTAssertEqual(file.entries["BF16"]?.dtype.byteSize, 2)
        XCTAssertEqual(try file.withRawBytes("U8") { Array($0) }, [1, 1, 1])
    }

    /// floats() and int64s() check the dtype; unknown names are an error.
    func testTypedReadsCheckTheDType() throws {
        let file = try SafeTensorsFile(bytes: sampleFile())
        assertInvalidFile("has dtype I64, expected F32") { try file.floats("step") }
        assertInvalidFile("has dtype F32, expected I64") { try file.int64s("dense.bias") }
        assertInvalidFile("no tensor named \"nope\"") { try file.floats("nope") }
        assertInvalidFile("no tensor named") { try file.withRawBytes("nope") { $0.count } }
        XCTAssertEqual(try file.int64s("step"), [7])
        XCTAssertEqual(try file.floats("dense.weight").map(\.bitPattern),
                       [Float(1), -2, 3.5, 0.25, -0.0, 1e-30].map(\.bitPattern))
    }

    // MARK: Reader, hostile files

    func testRejectsTruncatedFiles() throws {
        assertInvalid([], "0 bytes long", "8-byte header length")
        assertInvalid([8, 0, 0, 0, 0, 0, 0], "7 bytes long")
        let good = try sampleFile()
        // Cut inside the header: the length claims more than is left.
        assertInvalid(Array(good.prefix(40)), "header claims", "but the file has 32 bytes after its 8-byte length")
        // Cut inside the data: the last tensor's end is past the end.
        assertInvalid(Array(good.dropLast()), "tensor \"step\"", "go past the end of the data")
        // One byte too many: a hole at the end.
        assertInvalid(good + [0], "of the data are not part of any tensor")
    }

    func testRejectsHeaderLengthsBeyondTheFile() {
        assertInvalid(handMade("{}", claimedLength: 1 << 60),
                      "safetensors header claims 1152921504606846976 bytes but the file has 2 bytes after its 8-byte length")
        assertInvalid(handMade("{}", claimedLength: .max), "claims 18446744073709551615 bytes", "2 bytes after")
        assertInvalid(handMade("{}", claimedLength: 1 << 63), "claims 9223372036854775808 bytes")
        assertInvalid(handMade("{}", claimedLength: 3), "claims 3 bytes but the file has 2 bytes")
    }

    /// A header longer than maxHeaderBytes (16 MiB) is refused before it is parsed.
    func testRejectsHeadersAboveTheLimit() {
        let n = SafeTensorsFile.maxHeaderBytes + 1
        var bytes = [UInt8](repeating: UInt8(ascii: " "), count: 8 + n)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: UInt64(n) >> UInt64(8 * i)) }
        bytes[8] = UInt8(ascii: "{")
        assertInvalid(bytes, "header is 16777217 bytes, more than the 16777216 bytes allowed")
    }

    func testRejectsHeadersThatAreNotAJSONObject() {
        assertInvalid(handMade(""), "header is empty")
        assertInvalid(handMade("[1,2]"), "must be a JSON object starting with '{' but starts with '['")
        assertInvalid(handMade(" {}"), "starting with '{' but starts with ' '")
        assertInvalid(handMade("\u{1}{}"), "starts with byte 0x01")
        assertInvalid(handMade("{not json}"), "not valid JSON", "expected a string key", "at byte 1")
        assertInvalid(handMade(#"{"a":1"#), "not valid JSON")
        assertInvalid(handMade("{} x"), "not valid JSON", "trailing")
        assertInvalid(handMade("{}\0\0"), "not valid JSON", "trailing")
        assertInvalid(handMade(#"{"a":NaN}"#), "not valid JSON", "NaN")
        var badUTF8 = handMade(#"{"ab":1}"#)
        badUTF8[10] = 0xFF
        assertInvalid(badUTF8, "not valid JSON", "invalid UTF-8")
        // Deeper nesting than the format has is refused by the JSON limits.
        assertInvalid(handMade(#"{"__metadata__":{"a":[[[[[[[[[]]]]]]]]]}}"#), "not valid JSON", "too deep")
    }

    func testRejectsBadMetadata() {
        assertInvalid(handMade(#"{"__metadata__":{"a":"x","n":1}}"#),
                      "__metadata__ value of \"n\" must be a string, not an integer")
        assertInvalid(handMade(#"{"__metadata__":{"a":null}}"#), "must be a string, not null")
        assertInvalid(handMade(#"{"__metadata__":{"a":{"b":"c"}}}"#), "must be a string, not an object")
        assertInvalid(handMade(#"{"__metadata__":["a"]}"#), "__metadata__ must be an object of strings, not an array")
        assertInvalid(handMade(#"{"__metadata__":"a"}"#), "not a string")
        assertInvalid(handMade(#"{"__metadata__":{},"__metadata__":{}}"#), "duplicate key \"__metadata__\"")
    }

    func testRejectsMisshapenEntries() {
        let data = le([1, 2])
        func file(_ body: String) -> [UInt8] { handMade("{\"t\":" + body + "}", data: data) }
        assertInvalid(file("5"), "tensor \"t\" must be an object with dtype, shape and data_offsets, not an integer")
        assertInvalid(file("[]"), "tensor \"t\" must be an object", "not an array")
        assertInvalid(file(#"{"dtype":"F32","shape":[2]}"#), "tensor \"t\" has no data_offsets")
        assertInvalid(file(#"{"shape":[2],"data_offsets":[0,8]}"#), "tensor \"t\" has no dtype")
        assertInvalid(file(#"{"dtype":"F32","data_offsets":[0,8]}"#), "tensor \"t\" has no shape")
        assertInvalid(file(#"{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}"#),
                      "tensor \"t\" has an unexpected field \"extra\"")
        assertInvalid(file(#"{"dtype":"F32","shape":[2],"data_offsets":[0,8],"dtype":"F32"}"#),
                      "duplicate key \"dtype\"")
        assertInvalid(file(#"{"dtype":5,"shape":[2],"data_offsets":[0,8]}"#), "dtype that is an integer, not a string")
        assertInvalid(file(entry("F33", "[2]", 0, 8)), "tensor \"t\" has an unknown dtype \"F33\"")
        assertInvalid(file(entry("f32", "[2]", 0, 8)), "unknown dtype \"f32\"")
        assertInvalid(file(entry("F32", "2", 0, 8)), "shape that is an integer, not an array of integers")
        assertInvalid(file(entry("F32", "[2.0]", 0, 8)), "shape with a number in it")
        assertInvalid(file(entry("F32", #"["2"]"#, 0, 8)), "shape with a string in it")
        assertInvalid(file(entry("F32", "[1e400]", 0, 8)), "not valid JSON", "too large")
        assertInvalid(file(entry("F32", "[99999999999999999999]", 0, 8)), "not valid JSON", "integer too large")
        assertInvalid(file(#"{"dtype":"F32","shape":[2],"data_offsets":[0]}"#), "data_offsets that are not two integers")
        assertInvalid(file(#"{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}"#), "not two integers")
        assertInvalid(file(#"{"dtype":"F32","shape":[2],"data_offsets":[0.0,8]}"#), "not two integers")
        assertInvalid(file(#"{"dtype":"F32","shape":[2],"data_offsets":"0,8"}"#), "not two integers")
        assertInvalid(file(#"{"dtype":"F32","shape":[2],"data_offsets":{"begin":0}}"#), "not two integers")
        assertInvalid(handMade(#"{"":\#(entry("F32", "[2]", 0, 8))}"#, data: data), "tensor with an empty name")
        assertInvalid(handMade(#"{"a":\#(entry("F32", "[2]", 0, 8)),"a":\#(entry("F32", "[2]", 0, 8))}"#, data: data),
                      "not valid JSON", "duplicate key \"a\"")
    }

    func testRejectsBadShapes() {
        let data = le([1, 2])
        func file(_ shape: String, _ begin: Int = 0, _ end: Int = 8, dtype: String = "F32") -> [UInt8] {
            handMade(#"{"t":\#(entry(dtype, shape, begin, end))}"#, data: data)
        }
        assertInvalid(file("[2, -1]"), "tensor \"t\" has a negative dimension -1 in its shape [2, -1]")
        assertInvalid(file("[-2, -1]"), "negative dimension -2")
        assertInvalid(file("[4294967296, 4294967296]"),
                      "tensor \"t\" has a shape [4294967296, 4294967296] whose element count overflows")
        assertInvalid(file("[9223372036854775807, 2]"), "element count overflows")
        // 2^61 F32 elements count fine but take 2^63 bytes.
        assertInvalid(file("[2305843009213693952]"), "whose size in bytes overflows")
        // With a zero dimension the count is 0 whatever the others are.
        XCTAssertNoThrow(try SafeTensorsFile(bytes: handMade(
            #"{"z":\#(entry("F32", "[4294967296, 4294967296, 0]", 8, 8)),"t":\#(entry("F32", "[2]", 0, 8))}"#,
            data: data)))
        // Long shapes are cut in messages.
        assertInvalid(file("[" + Array(repeating: "1", count: 40).joined(separator: ",") + "]"),
                      "shape [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, … (40 dimensions)], which take 4 bytes")
    }

    func testRejectsOffsetsThatDoNotMatchTheShape() {
        let data = le([1, 2, 3])
        assertInvalid(handMade(#"{"t":\#(entry("F32", "[3]", 0, 8)),"u":\#(entry("F32", "[1]", 8, 12))}"#, data: data),
                      "tensor \"t\" has dtype F32 and shape [3], which take 12 bytes, but its data_offsets [0, 8] span 8 bytes")
        assertInvalid(handMade(#"{"t":\#(entry("I64", "[1]", 0, 12))}"#, data: data), "which take 8 bytes", "span 12")
        assertInvalid(handMade(#"{"t":\#(entry("F32", "[]", 0, 0))}"#, data: []), "which take 4 bytes", "span 0")
        assertInvalid(handMade(#"{"t":\#(entry("F32", "[3]", -4, 8))}"#, data: data),
                      "tensor \"t\" has negative data_offsets [-4, 8]")
        assertInvalid(handMade(#"{"t":\#(entry("F32", "[0]", 8, 0))}"#, data: data),
                      "data_offsets [8, 0] that end before they begin")
    }

    func testRejectsOffsetsOutsideTheData() {
        assertInvalid(handMade(#"{"t":\#(entry("F32", "[2]", 0, 8))}"#, data: [1, 2, 3, 4]),
                      "tensor \"t\" has data_offsets [0, 8] that go past the end of the data, which has 4 bytes")
        assertInvalid(handMade(#"{"t":\#(entry("F32", "[2]", 9223372036854775800, 9223372036854775807))}"#, data: []),
                      "span 7 bytes")
        assertInvalid(handMade(#"{"t":\#(entry("U8", "[7]", 9223372036854775800, 9223372036854775807))}"#, data: []),
                      "go past the end of the data, which has 0 bytes")
        assertInvalid(handMade(#"{"t":\#(entry("U8", "[0]", 5, 5))}"#, data: []), "go past the end")
    }

    func testRejectsOverlappingTensors() {
        let data = le([1, 2, 3])
        assertInvalid(handMade(#"{"a":\#(entry("F32", "[2]", 0, 8)),"b":\#(entry("F32", "[2]", 4, 12))}"#, data: data),
                      "tensor \"b\" (bytes 4..<12 of the data) overlaps tensor \"a\" (bytes 0..<8)")
        // Two names for the same bytes.
        assertInvalid(handMade(#"{"a":\#(entry("F32", "[3]", 0, 12)),"b":\#(entry("F32", "[3]", 0, 12))}"#, data: data),
                      "tensor \"b\" (bytes 0..<12 of the data) overlaps tensor \"a\"")
        // A zero-size tensor inside another one.
        assertInvalid(handMade(#"{"a":\#(entry("F32", "[3]", 0, 12)),"z":\#(entry("F32", "[0]", 4, 4))}"#, data: data),
                      "tensor \"z\" (bytes 4..<4 of the data) overlaps tensor \"a\" (bytes 0..<12)")
    }

    func testRejectsHoles() {
        let data = le([1, 2, 3, 4, 5, 6])
        assertInvalid(handMade(#"{"a":\#(entry("F32", "[2]", 0, 8)),"b":\#(entry("F32", "[3]", 12, 24))}"#, data: data),
                      "safetensors bytes 8..<12 of the data are not part of any tensor")
        assertInvalid(handMade(#"{"a":\#(entry("F32", "[4]", 8, 24))}"#, data: data),
                      "bytes 0..<8 of the data are not part of any tensor")
        assertInvalid(handMade(#"{"a":\#(entry("F32", "[4]", 0, 16))}"#, data: data),
                      "bytes 16..<24 of the data are not part of any tensor")
        assertInvalid(handMade("{}", data: [0]), "bytes 0..<1 of the data are not part of any tensor")
        assertInvalid(handMade(#"{"__metadata__":{}}"#, data: data), "bytes 0..<24 of the data")
    }

    /// Messages stay short whatever the names: long names are cut, and
    /// control characters are escaped.
    func testMessagesQuoteNamesSafely() {
        let long = String(repeating: "n", count: 10_000)
        do {
            _ = try SafeTensorsFile(bytes: handMade(#"{"\#(long)":5,"x\n":5}"#))
            XCTFail("accepted")
        } catch NNError.invalidFile(let message) {
            XCTAssertLessThan(message.count, 300, message)
            XCTAssertTrue(message.contains("nnnn…\""), message)
        } catch {
            XCTFail("\(error)")
        }
        assertInvalid(handMade(#"{"x\n":5}"#), #"tensor "x\n" must be an object"#)
    }

    // MARK: Mutations

    /// 20 000 seeded mutations of a valid file (bytes replaced or flipped,
    /// the file cut, bytes inserted or removed, digits and the length field
    /// changed): the reader either accepts the file, and then every tensor
    /// lies within the data and reads without trapping, or throws
    /// `.invalidFile`, never anything else.
    func testMutatedFilesNeverTrap() throws {
        let good = try sampleFile()
        let headerLength = Int(good[0]) | Int(good[1]) << 8
        var rng = RandomGenerator(seed: 2024)
        func random(_ n: Int) -> Int { Int(rng.next() % UInt64(max(n, 1))) }
        let digits = Array("0123456789-".utf8)
        var accepted = 0, rejected = 0
        for _ in 0..<20_000 {
            var bytes = good
            for _ in 0..<(1 + random(3)) {
                switch random(8) {
                case 0:   // a random byte anywhere
                    if !bytes.isEmpty { bytes[random(bytes.count)] = UInt8(truncatingIfNeeded: rng.next()) }
                case 1:   // one bit flipped
                    if !bytes.isEmpty { bytes[random(bytes.count)] ^= UInt8(1) << UInt8(random(8)) }
                case 2:   // the file cut
                    bytes.removeLast(random(bytes.count + 1))
                case 3:   // bytes inserted
                    let at = random(bytes.count + 1)
                    bytes.insert(contentsOf: (0..<(1 + random(4))).map { _ in UInt8(truncatingIfNeeded: rng.next()) },
                                 at: at)
                case 4:   // a byte removed
                    if !bytes.isEmpty { bytes.remove(at: random(bytes.count)) }
                case 5:   // a digit of the header changed (shapes and offsets)
                    let at = 8 + random(headerLength)
                    if at < bytes.count, digits.contains(bytes[at]) { bytes[at] = digits[random(digits.count)] }
                case 6:   // the length field set to a nearby or extreme value
                    let values: [UInt64] = [0, 1, UInt64(headerLength) &- 1, UInt64(headerLength) + 8, 1 << 60, .max,
                                            UInt64(bytes.count), UInt64(random(1 << 16))]
                    let v = values[random(values.count)]
                    if bytes.count >= 8 { for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: v >> UInt64(8 * i)) } }
                default:  // a byte of the header replaced by a JSON-significant one
                    let at = 8 + random(headerLength)
                    let significant = Array("{}[]\",:\\ 0e.-u".utf8)
                    if at < bytes.count { bytes[at] = significant[random(significant.count)] }
                }
            }
            do {
                let file = try SafeTensorsFile(bytes: bytes)
                accepted += 1
                var covered = 0
                for name in file.orderedNames {
                    let e = try XCTUnwrap(file.entries[name])
                    XCTAssertLessThanOrEqual(e.byteRange.upperBound, file.dataByteCount)
                    XCTAssertEqual(e.byteRange.count, e.elementCount * e.dtype.byteSize)
                    covered += e.byteRange.count
                    XCTAssertEqual(try file.withRawBytes(name) { $0.count }, e.byteRange.count)
                    if e.dtype == .f32 { XCTAssertEqual(try file.floats(name).count, e.elementCount) }
                    if e.dtype == .i64 { XCTAssertEqual(try file.int64s(name).count, e.elementCount) }
                }
                XCTAssertEqual(covered, file.dataByteCount)
            } catch NNError.invalidFile {
                rejected += 1
            } catch {
                XCTFail("threw \(error), not .invalidFile")
            }
        }
        XCTAssertGreaterThan(accepted, 100)
        XCTAssertGreaterThan(rejected, 10_000)
    }
}

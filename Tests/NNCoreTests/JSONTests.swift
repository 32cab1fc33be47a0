import XCTest
@testable import NNCore

/// The strict JSON parser and the deterministic writer of
/// Serialization/JSON.swift: round trips that keep every bit, every rule of
/// RFC 8259 the parser enforces (each with its message), the depth and
/// count limits, and the writer's sorted, compact output.
final class JSONTests: XCTestCase {
    // MARK: Helpers

    /// Asserts that parsing `text` throws `.invalidFile` whose message starts
    /// with "JSON: " and contains every fragment of `fragments`.
    private func assertRejects(_ text: String, _ fragments: String..., limits: JSONLimits = JSONLimits(),
                               file: StaticString = #filePath, line: UInt = #line) {
        assertRejects(bytes: Array(text.utf8), fragments, limits: limits, file: file, line: line)
    }

    private func assertRejects(bytes: [UInt8], _ fragments: [String], limits: JSONLimits = JSONLimits(),
                               file: StaticString = #filePath, line: UInt = #line) {
        do {
            let value = try JSON.parse(bytes, limits: limits)
            XCTFail("accepted \(String(decoding: bytes.prefix(80), as: UTF8.self)) as \(value)", file: file, line: line)
        } catch NNError.invalidFile(let message) {
            XCTAssertTrue(message.hasPrefix("JSON: "), message, file: file, line: line)
            XCTAssertTrue(message.contains(" at byte "), message, file: file, line: line)
            for fragment in fragments {
                XCTAssertTrue(message.contains(fragment), "\"\(message)\" lacks \"\(fragment)\"", file: file, line: line)
            }
        } catch {
            XCTFail("threw \(error), not .invalidFile", file: file, line: line)
        }
    }

    private func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSONValue? {
        do { return try JSON.parse(text) } catch {
            XCTFail("rejected \(text): \(error)", file: file, line: line)
            return nil
        }
    }

    // MARK: Round trips

    /// A nested document parses to the expected value, serializes compactly
    /// with sorted keys, and that text parses back to the same value.
    func testNestedDocumentRoundTrips() throws {
        let text = """
         { "b" : [1, -2, 3.5, true, false, null, "x", [], {}],
           "a" : {"z": {"deep": [[[0]]]}, "y": ""} }\t\r\n
        """
        let value = try JSON.parse(text)
        let expected: JSONValue = .object([
            "a": .object(["z": .object(["deep": .array([.array([.array([.integer(0)])])])]), "y": .string("")]),
            "b": .array([.integer(1), .integer(-2), .number(3.5), .bool(true), .bool(false), .null,
                         .string("x"), .array([]), .object([:])]),
        ])
        XCTAssertEqual(value, expected)
        let compact = JSON.serialize(value)
        XCTAssertEqual(compact, #"{"a":{"y":"","z":{"deep":[[[0]]]}},"b":[1,-2,3.5,true,false,null,"x",[],{}]}"#)
        XCTAssertEqual(try JSON.parse(compact), value)
        XCTAssertEqual(JSON.serialize(try JSON.parse(compact)), compact)
        // Scalars are documents too.
        XCTAssertEqual(try JSON.parse(" 7 "), .integer(7))
        XCTAssertEqual(try JSON.parse("\"s\""), .string("s"))
        XCTAssertEqual(try JSON.parse("null"), .null)
    }

    /// Non-ASCII text, raw and as \u escapes (surrogate pairs included),
    /// decodes to the same characters and round-trips as raw UTF-8.
    func testUnicodeAndSurrogatePairs() throws {
        XCTAssertEqual(try JSON.parse(#""\ud83d\ude00""#), .string("😀"))
        XCTAssertEqual(try JSON.parse(#""\uD834\uDD1E""#), .string("𝄞"))
        XCTAssertEqual(try JSON.parse(#""\u00e9\u6F22\u0041""#), .string("é漢A"))
        XCTAssertEqual(try JSON.parse(#""\uffff""#), .string("\u{FFFF}"))
        XCTAssertEqual(try JSON.parse(#""\udbff\udfff""#), .string("\u{10FFFF}"))
        let raw = "é漢😀\u{10FFFF}ü"
        XCTAssertEqual(try JSON.parse("\"\(raw)\""), .string(raw))
        let value: JSONValue = .object([raw: .array([.string(raw), .string("a😀b")])])
        let text = JSON.serialize(value)
        XCTAssertEqual(text, "{\"\(raw)\":[\"\(raw)\",\"a😀b\"]}")
        XCTAssertEqual(try JSON.parse(text), value)
    }

    /// Every escape decodes; the writer escapes quote, backslash and every
    /// control character, and its output decodes to the original.
    func testEscapes() throws {
        XCTAssertEqual(try JSON.parse(#""\"\\\/\b\f\n\r\t\u0000\u001F\u007f""#),
                       .string("\"\\/\u{8}\u{C}\n\r\t\u{0}\u{1F}\u{7F}"))
        XCTAssertEqual(JSON.serialize(.string("a\"b\\c/d\n\t\r\u{8}\u{C}\u{0}\u{1}\u{1F}\u{7F}")),
                       #""a\"b\\c/d\n\t\r\b\f\u0000\u0001\u001f\#u{7F}""#)
        let all = String(decoding: (0..<128).map { UInt8($0) }, as: UTF8.self)
        let written = JSON.serialize(.string(all))
        XCTAssertFalse(written.utf8.dropFirst().dropLast().contains { $0 < 0x20 }, "raw control character written")
        XCTAssertEqual(try JSON.parse(written), .string(all))
    }

    /// Integers are exact over the whole range of Int; -0 is the integer 0;
    /// literals with a fraction or an exponent are numbers.
    func testIntegersAndNumbers() throws {
        XCTAssertEqual(try JSON.parse("9223372036854775807"), .integer(Int.max))
        XCTAssertEqual(try JSON.parse("-9223372036854775808"), .integer(Int.min))
        XCTAssertEqual(try JSON.parse("-0"), .integer(0))
        XCTAssertEqual(try JSON.parse("0"), .integer(0))
        XCTAssertEqual(try JSON.parse("1.0"), .number(1.0))
        XCTAssertEqual(try JSON.parse("1E+2"), .number(100))
        XCTAssertEqual(try JSON.parse("1e-2"), .number(0.01))
        XCTAssertEqual(try JSON.parse("0e0"), .number(0))
        XCTAssertEqual(try JSON.parse("-0.5E-1"), .number(-0.05))
        // Underflow is allowed (to zero or a subnormal), not an error.
        XCTAssertEqual(try JSON.parse("1e-400"), .number(0))
        for i in [Int.max, Int.min, 0, -1, 1 << 53 + 1, -(1 << 62) - 7] {
            let text = JSON.serialize(.integer(i))
            XCTAssertEqual(text, String(i))
            XCTAssertEqual(try JSON.parse(text), .integer(i))
        }
    }

    /// Doubles are written so that they parse back to the same bits.
    func testDoublesKeepTheirBits() throws {
        let values: [Double] = [0.1, 1e-300, -0.0, 0.0, 2.2250738585072014e-308, .greatestFiniteMagnitude,
                                -.greatestFiniteMagnitude, 1.0 / 3.0, 1e16, 123.456, -2.5e-8, 1, 0.30000000000000004,
                                Double(Float(0.1)), 9007199254740991, .leastNonzeroMagnitude]
        for v in values {
            let text = JSON.serialize(.number(v))
            guard case .number(let back) = try JSON.parse(text) else {
                XCTFail("\(text) did not parse as a number")
                continue
            }
            XCTAssertEqual(back.bitPattern, v.bitPattern, "\(v) written as \(text)")
        }
        var rng = RandomGenerator(seed: 7)
        for _ in 0..<2000 {
            let v = Double(bitPattern: rng.next())
            guard v.isFinite else { continue }
            let back = try JSON.parse(JSON.serialize(.array([.number(v)])))
            XCTAssertEqual(back[0]?.doubleValue?.bitPattern, v.bitPattern, "\(v)")
        }
        XCTAssertEqual(JSON.serialize(.number(-0.0)), "-0.0")
    }

    /// Non-finite doubles have no JSON form: the writer writes null.
    func testNonFiniteDoublesAreWrittenAsNull() {
        XCTAssertEqual(JSON.serialize(.array([.number(.nan), .number(.infinity), .number(-.infinity)])),
                       "[null,null,null]")
    }

    /// The same members in any insertion order give the same text, keys
    /// sorted by their UTF-8 bytes (uppercase before '_' before lowercase
    /// before non-ASCII).
    func testSerializerIsDeterministicWithSortedKeys() throws {
        let keys = ["b", "a", "B", "é", "_", "aa", "", "a b", "😀", "Z"]
        var first: String?
        var rng = RandomGenerator(seed: 3)
        for _ in 0..<20 {
            var order = Array(keys.indices)
            rng.shuffle(&order)
            var members: [String: JSONValue] = [:]
            for i in order { members[keys[i]] = .integer(i) }
            let text = JSON.serialize(.object(members))
            if let first { XCTAssertEqual(text, first) } else { first = text }
        }
        XCTAssertEqual(first, #"{"":6,"B":2,"Z":9,"_":4,"a":1,"a b":7,"aa":5,"b":0,"é":3,"😀":8}"#)
    }

    /// The conveniences give the payload of their case and nil otherwise.
    func testConveniences() throws {
        let v = try JSON.parse(#"{"s":"x","i":3,"d":2.5,"b":true,"a":[1],"o":{},"n":null}"#)
        XCTAssertEqual(v["s"]?.stringValue, "x")
        XCTAssertEqual(v["i"]?.intValue, 3)
        XCTAssertEqual(v["i"]?.doubleValue, 3)
        XCTAssertEqual(v["d"]?.doubleValue, 2.5)
        XCTAssertNil(v["d"]?.intValue)
        XCTAssertEqual(v["b"]?.boolValue, true)
        XCTAssertEqual(v["a"]?.arrayValue, [.integer(1)])
        XCTAssertEqual(v["a"]?[0], .integer(1))
        XCTAssertNil(v["a"]?[1])
        XCTAssertNil(v["a"]?[-1])
        XCTAssertEqual(v["o"]?.objectValue, [:])
        XCTAssertEqual(v["n"]?.isNull, true)
        XCTAssertNil(v["missing"])
        XCTAssertNil(v["s"]?["x"])
        XCTAssertNil(v["s"]?.intValue)
        XCTAssertEqual(v["a"]?.kindDescription, "an array")
    }

    /// The whitespace of RFC 8259 (space, tab, LF, CR) is allowed around
    /// every token; other white space is not.
    func testWhitespace() throws {
        XCTAssertEqual(try JSON.parse(" \t\n\r[ 1 , { \"a\" : 2 } ] \r\n\t "),
                       .array([.integer(1), .object(["a": .integer(2)])]))
        assertRejects("[1,\u{0B}2]", "unexpected")
        assertRejects("\u{0C}1", "unexpected")
        assertRejects("\u{A0}1", "unexpected")
        assertRejects(bytes: [0xEF, 0xBB, 0xBF, 0x31], ["unexpected", "at byte 0"])   // byte order mark
    }

    // MARK: Rejections

    func testRejectsEmptyInput() {
        assertRejects("", "empty", "at byte 0")
        assertRejects("  \n\t ", "empty", "at byte 5")
    }

    func testRejectsTrailingContent() {
        assertRejects("[1] x", "trailing", "'x'", "at byte 4")
        assertRejects("1 2", "trailing", "at byte 2")
        assertRejects("{}}", "trailing")
        assertRejects("null\0", "trailing", "0x00")
    }

    func testRejectsMalformedStructure() {
        assertRejects("[1,]", "where a value was expected", "']'", "at byte 3")
        assertRejects("[1 2]", "expected ',' or ']'", "at byte 3")
        assertRejects(#"{"a":1,}"#, "expected a string key", "at byte 7")
        assertRejects(#"{"a" 1}"#, "expected ':'")
        assertRejects(#"{"a":1 "b":2}"#, "expected ',' or '}'")
        assertRejects("{a:1}", "expected a string key")
        assertRejects("{'a':1}", "expected a string key")
        assertRejects("[", "end of input")
        assertRejects("[1", "expected ',' or ']'", "the end of the input")
        assertRejects(#"{"a":"#, "end of input")
        assertRejects("]", "unexpected ']'")
        assertRejects("tru", "invalid literal")
        assertRejects("True", "unexpected 'T'")
        assertRejects("nul", "invalid literal")
        assertRejects("falsey", "trailing")
        assertRejects("'a'", "unexpected")
    }

    func testRejectsNumbersOutsideTheGrammar() {
        assertRejects("01", "leading zero", "at byte 0")
        assertRejects("-01", "leading zero")
        assertRejects("00.5", "leading zero")
        assertRejects("[0123]", "leading zero", "at byte 1")
        assertRejects("-", "digit after '-'")
        assertRejects("- 1", "digit after '-'")
        assertRejects("1.", "decimal point")
        assertRejects("1.e5", "decimal point")
        assertRejects(".5", "unexpected '.'")
        assertRejects("+1", "unexpected '+'")
        assertRejects("1e", "exponent")
        assertRejects("1e+", "exponent")
        assertRejects("0x10", "trailing")
        assertRejects("1_000", "trailing")
    }

    func testRejectsNaNAndInfinity() {
        assertRejects("NaN", "NaN")
        assertRejects("[Infinity]", "Infinity", "at byte 1")
        assertRejects("-Infinity", "-Infinity")
        assertRejects("nan", "invalid literal")
        assertRejects("inf", "unexpected 'i'")
    }

    func testRejectsNumbersThatOverflow() {
        assertRejects("1e400", "too large")
        assertRejects("-1e400", "too large")
        assertRejects("[1.8e308]", "too large", "at byte 1")
        assertRejects(String(repeating: "9", count: 400) + ".0", "too large")
        assertRejects("9223372036854775808", "integer too large")
        assertRejects("-9223372036854775809", "integer too large")
        assertRejects("[1, 123456789012345678901234567890]", "integer too large", "at byte 4")
        // Within range as a number literal: fine.
        XCTAssertEqual(try JSON.parse("9223372036854775808.0"), .number(9223372036854775808.0))
    }

    func testRejectsBadStrings() {
        assertRejects("\"abc", "unterminated string", "at byte 0")
        assertRejects("\"a\nb\"", "unescaped control character", "0x0A", "at byte 2")
        assertRejects("\"a\tb\"", "unescaped control character")
        assertRejects("\"\u{0}\"", "unescaped control character", "0x00")
        assertRejects("\"\u{1F}\"", "unescaped control character")
        assertRejects(#""\x""#, "invalid escape", "'x'", "at byte 1")
        assertRejects(#""\a""#, "invalid escape")
        assertRejects(#""\'""#, "invalid escape")
        assertRejects(#""\u12G4""#, "invalid \\u escape")
        assertRejects(#""\u12""#, "invalid \\u escape")
        assertRejects(#""\U0041""#, "invalid escape")
        assertRejects("\"\\", "unterminated escape")
    }

    func testRejectsUnpairedSurrogates() {
        assertRejects(#""\ud800""#, "unpaired high surrogate", "D800", "at byte 1")
        assertRejects(#""\uDBFFx""#, "unpaired high surrogate")
        assertRejects(#""\ud800\u0041""#, "unpaired high surrogate")
        assertRejects(#""\ud800\ud800""#, "unpaired high surrogate")
        assertRejects(#""\ud800\n""#, "unpaired high surrogate")
        assertRejects(#""\udc00""#, "unpaired low surrogate", "DC00")
        assertRejects(#""a\uDFFF\ud800""#, "unpaired low surrogate", "at byte 2")
        assertRejects(#""\ude00\ud83d""#, "unpaired low surrogate")
    }

    func testRejectsInvalidUTF8() {
        let cases: [[UInt8]] = [
            [0xC3, 0x28],               // lead byte without continuation
            [0x80],                     // lone continuation byte
            [0xC0, 0x80],               // overlong NUL
            [0xC1, 0xBF],               // overlong
            [0xE0, 0x80, 0xAF],         // overlong 3-byte
            [0xED, 0xA0, 0x80],         // UTF-16 surrogate D800 encoded
            [0xF0, 0x8F, 0xBF, 0xBF],   // overlong 4-byte
            [0xF4, 0x90, 0x80, 0x80],   // above U+10FFFF
            [0xF5, 0x80, 0x80, 0x80],   // invalid lead
            [0xFF],
            [0xE6, 0xBC],               // truncated at the end of the string
            [0xF0, 0x9F, 0x98],
        ]
        for bad in cases {
            assertRejects(bytes: [0x22, 0x61] + bad + [0x22], ["invalid UTF-8", "at byte 2"])
        }
        // Outside strings only ASCII may appear.
        assertRejects(bytes: [0x5B, 0xC3, 0xA9, 0x5D], ["unexpected", "0xC3"])
        // Valid multi-byte sequences at the edges of each range are accepted.
        let good: [[UInt8]] = [[0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF],
                               [0xEE, 0x80, 0x80], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF]]
        for ok in good {
            XCTAssertEqual(try JSON.parse([0x22] + ok + [0x22]), .string(String(decoding: ok, as: UTF8.self)))
        }
    }

    func testRejectsDuplicateKeys() {
        assertRejects(#"{"a":1,"a":2}"#, "duplicate key", "\"a\"", "at byte 7")
        assertRejects(#"{"a":1,"b":{"c":1,"c":1}}"#, "duplicate key", "\"c\"")
        assertRejects(#"{"x":1,"\u0078":2}"#, "duplicate key")
        // The same key in different objects is fine.
        XCTAssertNotNil(parse(#"[{"a":1},{"a":2}]"#))
        XCTAssertNotNil(parse(#"{"a":{"a":{"a":1}}}"#))
    }

    // MARK: Limits

    /// 10 000 unclosed (or closed) brackets throw at the depth limit instead
    /// of overflowing the stack; exactly maxDepth levels are accepted.
    func testDepthLimit() throws {
        assertRejects(String(repeating: "[", count: 10_000), "too deep", "32", "at byte 32")
        assertRejects(String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000), "too deep")
        assertRejects(String(repeating: #"{"a":"#, count: 10_000), "too deep")
        let deepest = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        XCTAssertNotNil(parse(deepest))
        assertRejects("[" + deepest + "]", "too deep")
        XCTAssertEqual(JSON.serialize(try JSON.parse(deepest)), deepest)
        let limits = JSONLimits(maxDepth: 2, maxElements: 100)
        XCTAssertEqual(try JSON.parse(#"{"a":[1]}"#, limits: limits), .object(["a": .array([.integer(1)])]))
        assertRejects(#"{"a":[[]]}"#, "too deep", "at byte 6", limits: limits)
        XCTAssertEqual(try JSON.parse("5", limits: JSONLimits(maxDepth: 0)), .integer(5))
        assertRejects("[]", "too deep", limits: JSONLimits(maxDepth: 0))
        // A huge depth limit acts as the ceiling (512): values that deep
        // are still released and serialized safely.
        let veryDeep = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        assertRejects(veryDeep, "too deep (more than 512 levels)", "at byte 512", limits: JSONLimits(maxDepth: 1_000_000))
        let ceiling = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        XCTAssertEqual(JSON.serialize(try JSON.parse(ceiling, limits: JSONLimits(maxDepth: .max))), ceiling)
        assertRejects("[]", "too deep", limits: JSONLimits(maxDepth: -5))
    }

    /// Every value counts (scalars, arrays, objects); keys do not.
    func testElementLimit() throws {
        let limits = JSONLimits(maxDepth: 32, maxElements: 3)
        XCTAssertNotNil(try JSON.parse("[1,2]", limits: limits))
        XCTAssertNotNil(try JSON.parse(#"{"a":1,"b":2}"#, limits: limits))
        assertRejects("[1,2,3]", "too many values", "3", "at byte 5", limits: limits)
        XCTAssertNotNil(try JSON.parse(#"{"a":{"b":{}}}"#, limits: limits))
        assertRejects("[[],[],[]]", "too many values", limits: limits)
        assertRejects(#"{"a":{"b":[1]}}"#, "too many values", "at byte 11", limits: limits)
        assertRejects("1", "too many values", limits: JSONLimits(maxDepth: 32, maxElements: 0))
        let many = "[" + Array(repeating: "0", count: 100_000).joined(separator: ",") + "]"
        XCTAssertEqual(try JSON.parse(many).arrayValue?.count, 100_000)
        assertRejects(many, "too many values", limits: JSONLimits(maxDepth: 32, maxElements: 50_000))
    }

    /// Mutated documents (bytes flipped, removed, inserted) either parse or
    /// throw `.invalidFile`, and what parses serializes to text that parses
    /// back to the same value.
    func testMutatedDocumentsNeverTrap() throws {
        let seed = Array(#"{"a":[1,-2.5e3,true,null,"\u00e9\ud83d\ude00 x"],"b":{"c":[[],{}],"d":"\n"},"e":0}"#.utf8)
        let alphabet = Array("{}[]\",:\\0-e.u \u{7F}".utf8)
        var rng = RandomGenerator(seed: 11)
        var parsed = 0
        for _ in 0..<5000 {
            var bytes = seed
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let at = Int(rng.next() % UInt64(bytes.count + 1))
                switch rng.next() % 3 {
                case 0 where at < bytes.count: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1 where at < bytes.count: bytes.remove(at: at)
                default: bytes.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
                }
            }
            do {
                let value = try JSON.parse(bytes, limits: JSONLimits(maxDepth: 4, maxElements: 40))
                parsed += 1
                XCTAssertEqual(try JSON.parse(JSON.serialize(value)), value)
            } catch NNError.invalidFile {
            } catch {
                XCTFail("threw \(error)")
            }
        }
        XCTAssertGreaterThan(parsed, 0)
    }
}

import Foundation
import Testing

@testable import HookSpec

/// The strict reader: what it refuses, where it says the problem is, and what it reads back.
@Suite struct JSONReaderTests {
    struct ErrorCase: CustomTestStringConvertible, Sendable {
        var id: String
        var input: String
        var code: String
        var line: Int
        var column: Int
        var testDescription: String { id }
    }

    static let errorCases: [ErrorCase] = [
        ErrorCase(id: "empty input", input: "", code: "empty-input", line: 1, column: 1),
        ErrorCase(id: "whitespace only", input: "  \n\t ", code: "empty-input", line: 2, column: 3),
        ErrorCase(id: "trailing comma in object", input: "{\n  \"a\": 1,\n}", code: "trailing-comma", line: 3, column: 1),
        ErrorCase(id: "trailing comma in array", input: "[1, 2,\n ]", code: "trailing-comma", line: 2, column: 2),
        ErrorCase(id: "line comment", input: "{\n  // hi\n  \"a\": 1\n}", code: "comment", line: 2, column: 3),
        ErrorCase(id: "block comment as value", input: "{\"a\": /* x */ 1}", code: "comment", line: 1, column: 7),
        ErrorCase(id: "duplicate key", input: "{\n  \"a\": 1,\n  \"a\": 2\n}", code: "duplicate-key", line: 3, column: 3),
        ErrorCase(id: "leading zero", input: "[01]", code: "leading-zero", line: 1, column: 2),
        ErrorCase(id: "negative leading zero", input: "[-007]", code: "leading-zero", line: 1, column: 2),
        ErrorCase(id: "trailing content", input: "{}\n{}", code: "trailing-content", line: 2, column: 1),
        ErrorCase(id: "trailing garbage after number", input: "1 x", code: "trailing-content", line: 1, column: 3),
        ErrorCase(id: "lone high surrogate", input: #"["\uD800x"]"#, code: "lone-surrogate", line: 1, column: 3),
        ErrorCase(id: "lone low surrogate", input: #"["ab\uDC00"]"#, code: "lone-surrogate", line: 1, column: 5),
        ErrorCase(id: "high surrogate then non-surrogate", input: #"["\uD800\u0041"]"#, code: "lone-surrogate", line: 1, column: 3),
        ErrorCase(id: "bad escape", input: #"["\q"]"#, code: "invalid-escape", line: 1, column: 3),
        ErrorCase(id: "short unicode escape", input: #"["\u12"]"#, code: "invalid-escape", line: 1, column: 3),
        ErrorCase(id: "raw newline in string", input: "[\"a\nb\"]", code: "control-character", line: 1, column: 4),
        ErrorCase(id: "raw tab in string", input: "[\"a\tb\"]", code: "control-character", line: 1, column: 4),
        ErrorCase(id: "unterminated string", input: "{\"a\": \"abc", code: "unterminated-string", line: 1, column: 7),
        ErrorCase(id: "unterminated object", input: "{\"a\": 1", code: "unexpected-end", line: 1, column: 8),
        ErrorCase(id: "unterminated array", input: "[1, 2", code: "unexpected-end", line: 1, column: 6),
        ErrorCase(id: "missing colon", input: "{\"a\" 1}", code: "expected-colon", line: 1, column: 6),
        ErrorCase(id: "missing comma", input: "{\"a\": 1 \"b\": 2}", code: "expected-comma", line: 1, column: 9),
        ErrorCase(id: "missing comma in array", input: "[1 2]", code: "expected-comma", line: 1, column: 4),
        ErrorCase(id: "unquoted key", input: "{a: 1}", code: "expected-key", line: 1, column: 2),
        ErrorCase(id: "single quotes", input: "['a']", code: "single-quoted-string", line: 1, column: 2),
        ErrorCase(id: "capitalised literal", input: "[True]", code: "unexpected-character", line: 1, column: 2),
        ErrorCase(id: "truncated literal", input: "[nul]", code: "unexpected-character", line: 1, column: 2),
        ErrorCase(id: "bare minus", input: "[-]", code: "invalid-number", line: 1, column: 2),
        ErrorCase(id: "dot without digits", input: "[1.]", code: "invalid-number", line: 1, column: 4),
        ErrorCase(id: "exponent without digits", input: "[1e+]", code: "invalid-number", line: 1, column: 5),
        ErrorCase(id: "leading dot", input: "[.5]", code: "unexpected-character", line: 1, column: 2),
        ErrorCase(id: "plus sign", input: "[+1]", code: "unexpected-character", line: 1, column: 2),
        ErrorCase(id: "NaN", input: "[NaN]", code: "unexpected-character", line: 1, column: 2),
        ErrorCase(id: "column counts scalars not bytes", input: "{\"é€\": 1,}", code: "trailing-comma", line: 1, column: 10),
        ErrorCase(id: "position after a BOM", input: "\u{FEFF}{,}", code: "expected-key", line: 1, column: 2),
    ]

    @Test("syntax errors carry a code and the line and column of the problem", arguments: errorCases)
    func syntaxError(_ testCase: ErrorCase) throws {
        let bytes = Array(testCase.input.utf8)
        let error = try #require(throws: JSONSyntaxError.self) { try JSONReader.read(bytes) }
        #expect(error.code == testCase.code, "\(error)")
        let position = SourceLocator(bytes).position(of: error.offset)
        #expect(position == SourcePosition(line: testCase.line, column: testCase.column), "\(error.message)")
    }

    @Test("a duplicate key error names the first place too")
    func duplicateNamesBothPlaces() throws {
        let bytes = Array("{\n  \"name\": 1,\n  \"x\": 0,\n  \"name\": 2\n}".utf8)
        let error = try #require(throws: JSONSyntaxError.self) { try JSONReader.read(bytes) }
        #expect(error.code == "duplicate-key")
        #expect(error.message.contains("'name'"))
        #expect(error.message.contains("first defined at 2:3"))
        #expect(SourceLocator(bytes).position(of: error.offset) == SourcePosition(line: 4, column: 3))
    }

    @Test("duplicates are found in large objects, past the linear-scan threshold")
    func duplicateInLargeObject() throws {
        let members = (0..<40).map { "\"k\($0)\": \($0)" } + ["\"k7\": 0"]
        let bytes = Array(("{" + members.joined(separator: ",") + "}").utf8)
        let error = try #require(throws: JSONSyntaxError.self) { try JSONReader.read(bytes) }
        #expect(error.code == "duplicate-key")
        #expect(error.message.contains("'k7'"))
    }

    @Test("invalid UTF-8 is refused and located at the bad byte", arguments: [
        [0xC3] as [UInt8],  // truncated two-byte sequence
        [0xE2, 0x82],  // truncated three-byte sequence
        [0xC0, 0xAF],  // overlong encoding of '/'
        [0xED, 0xA0, 0x80],  // an encoded surrogate
        [0xF5, 0x80, 0x80, 0x80],  // beyond U+10FFFF
        [0xFF],
    ])
    func invalidUTF8(_ bad: [UInt8]) throws {
        let bytes = Array("[\"ok ".utf8) + bad + Array(" tail\"]".utf8)
        let error = try #require(throws: JSONSyntaxError.self) { try JSONReader.read(bytes) }
        #expect(error.code == "invalid-utf8")
        #expect(error.offset == 5)
    }

    @Test("invalid UTF-8 inside an escaped string is refused too")
    func invalidUTF8AfterEscape() throws {
        let bytes = Array("[\"a\\n".utf8) + [0xC3, 0x28] + Array("\"]".utf8)
        let error = try #require(throws: JSONSyntaxError.self) { try JSONReader.read(bytes) }
        #expect(error.code == "invalid-utf8")
    }

    @Test("a UTF-16 file gets a message that says so")
    func utf16() throws {
        let error = try #require(throws: JSONSyntaxError.self) { try JSONReader.read([0xFF, 0xFE, 0x7B, 0x00]) }
        #expect(error.code == "invalid-encoding")
    }

    @Test("nesting deeper than the limit is refused; up to the limit is read")
    func nesting() throws {
        let limits = JSONReader.Limits(maxDepth: 10)
        let ok = String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
        _ = try JSONReader.read(Array(ok.utf8), limits: limits)
        let deep = String(repeating: "[", count: 11) + String(repeating: "]", count: 11)
        let error = try #require(throws: JSONSyntaxError.self) { try JSONReader.read(Array(deep.utf8), limits: limits) }
        #expect(error.code == "nesting-too-deep")
        // The default limit protects the stack from a hostile input.
        let hostile = String(repeating: "[", count: 100_000)
        let hostileError = try #require(throws: JSONSyntaxError.self) { try JSONReader.read(Array(hostile.utf8)) }
        #expect(hostileError.code == "nesting-too-deep")
    }

    @Test("input over the size limit is refused before reading")
    func sizeLimit() throws {
        let error = try #require(throws: JSONSyntaxError.self) {
            try JSONReader.read(Array("[1, 2, 3]".utf8), limits: JSONReader.Limits(maxBytes: 4))
        }
        #expect(error.code == "input-too-large")
    }

    @Test("escapes decode to the right scalars, including surrogate pairs")
    func escapes() throws {
        let input = #"["\"\\\/\b\f\n\r\t", "\u0041\u00e9\u20AC", "\uD83D\uDE00", "plain é€😀"]"#
        let node = try JSONReader.read(Array(input.utf8))
        guard case .array(let elements) = node.value else {
            Issue.record("expected an array")
            return
        }
        let strings = elements.compactMap { element -> String? in
            if case .string(let value) = element.value { return value }
            return nil
        }
        #expect(strings == ["\"\\/\u{8}\u{C}\n\r\t", "Aé€", "😀", "plain é€😀"])
    }

    @Test("a byte-order mark is skipped")
    func byteOrderMark() throws {
        let node = try JSONReader.read([0xEF, 0xBB, 0xBF] + Array("{\"a\": true}".utf8))
        #expect(node.value == .object([JSONMember(key: "a", keyOffset: 4, value: JSONNode(.bool(true), offset: 9))]))
    }

    @Test("offsets of keys and values are kept, and pointers find them")
    func offsetsAndPointers() throws {
        let text = "{\n  \"registries\": [\n    {\"name\": \"dev\", \"a/b\": 1}\n  ]\n}"
        let bytes = Array(text.utf8)
        let root = try JSONReader.read(bytes)
        let locator = SourceLocator(bytes)
        let name = try #require(root.node(at: "/registries/0/name"))
        #expect(name.value == .string("dev"))
        #expect(locator.position(of: name.offset) == SourcePosition(line: 3, column: 14))
        let slashKey = try #require(root.node(at: JSONPointer("/registries/0/a~1b")))
        #expect(slashKey.value == .number("1"))
        #expect(locator.position(of: try #require(root.keyOffset(at: "/registries/0/name"))) == SourcePosition(line: 3, column: 6))
        #expect(root.node(at: "/registries/1") == nil)
        #expect(root.node(at: "/nothing") == nil)
    }

    @Test("reads the same values as JSONSerialization for valid documents")
    func agreesWithFoundation() throws {
        let text = #"{"a": [1, -2.5e3, 0, true, false, null, "x\u00e9"], "b": {"c": {}}, "d": [], "e": 1E-2}"#
        let ours = try JSONReader.read(Array(text.utf8))
        let theirs = try JSONSerialization.jsonObject(with: Data(text.utf8))
        #expect(normalise(ours) == normaliseFoundation(theirs))
    }

    private func normalise(_ node: JSONNode) -> String {
        switch node.value {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .number(let text): "\(Double(text) ?? .nan)"
        case .string(let value): "s:\(value)"
        case .array(let elements): "[" + elements.map(normalise).joined(separator: ",") + "]"
        case .object(let members):
            "{" + members.sorted { $0.key < $1.key }.map { "\($0.key)=\(normalise($0.value))" }.joined(separator: ",") + "}"
        }
    }

    private func normaliseFoundation(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case let string as String: return "s:\(string)"
        case let array as [Any]: return "[" + array.map(normaliseFoundation).joined(separator: ",") + "]"
        case let dictionary as [String: Any]:
            return "{" + dictionary.keys.sorted().map { "\($0)=\(normaliseFoundation(dictionary[$0] as Any))" }.joined(separator: ",") + "}"
        case let number as NSNumber:
            // NSNumber conflates booleans and numbers; tell them apart by their Objective-C type.
            let type = String(cString: number.objCType)
            if type == "c" || type == "B" { return "\(number.boolValue)" }
            return "\(number.doubleValue)"
        default: return "?"
        }
    }
}

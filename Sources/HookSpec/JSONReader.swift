/// A strict RFC 8259 JSON reader that remembers where every key and value starts.
///
/// Foundation's readers report no position for syntax errors, accept trailing commas and silently keep
/// the last of two duplicate keys, which would let a typo in a committed spec drop a webhook unnoticed.
/// This reader refuses all of that: trailing commas, comments, duplicate keys (naming both places),
/// invalid UTF-8, lone surrogates, leading zeros and content after the top-level value; it caps
/// nesting depth and input size. A UTF-8 byte-order mark is skipped (RFC 8259 §8.1 allows it).
public enum JSONReader {
    /// Bounds that keep a hostile or mistaken input from exhausting the stack or memory.
    public struct Limits: Sendable, Hashable {
        public var maxDepth: Int
        public var maxBytes: Int

        public init(maxDepth: Int = 256, maxBytes: Int = 64 * 1024 * 1024) {
            self.maxDepth = maxDepth
            self.maxBytes = maxBytes
        }
    }

    /// Reads one JSON document.
    /// - Throws: ``JSONSyntaxError`` for the first syntax problem, located by byte offset.
    public static func read(_ bytes: [UInt8], limits: Limits = Limits()) throws -> JSONNode {
        if bytes.count > limits.maxBytes {
            throw JSONSyntaxError(
                code: "input-too-large",
                message: "input is \(bytes.count) bytes; the limit is \(limits.maxBytes) bytes",
                offset: 0)
        }
        return try bytes.withUnsafeBufferPointer { buffer in
            var parser = Parser(bytes: buffer, maxDepth: limits.maxDepth)
            do {
                return try parser.parseDocument()
            } catch let error as JSONSyntaxError {
                throw parser.finish(error, source: bytes)
            }
        }
    }
}

/// A JSON syntax error: a stable code, a message and the byte offset it points at.
public struct JSONSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var offset: Int
    /// Another place the error refers to (the first of two duplicate keys).
    public var relatedOffset: Int?

    public init(code: String, message: String, offset: Int, relatedOffset: Int? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
        self.relatedOffset = relatedOffset
    }

    public var description: String { "\(code) at byte \(offset): \(message)" }
}

private let quote = UInt8(ascii: "\"")
private let backslash = UInt8(ascii: "\\")
private let comma = UInt8(ascii: ",")
private let colon = UInt8(ascii: ":")

private struct Parser {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var index = 0
    var depth = 0

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// Adds what needs the whole source (positions of related places) to an error.
    func finish(_ error: JSONSyntaxError, source: [UInt8]) -> JSONSyntaxError {
        guard let related = error.relatedOffset else { return error }
        var error = error
        error.message += " (first defined at \(SourceLocator(source).position(of: related)))"
        return error
    }

    mutating func parseDocument() throws -> JSONNode {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            index = 3
        } else if bytes.count >= 2, (bytes[0] == 0xFE && bytes[1] == 0xFF) || (bytes[0] == 0xFF && bytes[1] == 0xFE) {
            throw JSONSyntaxError(
                code: "invalid-encoding", message: "the file is UTF-16 encoded; save it as UTF-8", offset: 0)
        }
        skipWhitespace()
        if index == bytes.count {
            throw JSONSyntaxError(code: "empty-input", message: "the input is empty; expected a JSON object", offset: index)
        }
        let value = try parseValue()
        skipWhitespace()
        if index < bytes.count {
            throw JSONSyntaxError(
                code: "trailing-content",
                message: "unexpected \(describe(index)) after the end of the JSON value; a file holds exactly one value",
                offset: index)
        }
        return value
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    func describe(_ at: Int) -> String {
        guard at < bytes.count else { return "end of input" }
        let byte = bytes[at]
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        if byte == 0x20 { return "space" }
        return "byte 0x" + String(byte, radix: 16, uppercase: true)
    }

    mutating func parseValue() throws -> JSONNode {
        guard index < bytes.count else {
            throw JSONSyntaxError(code: "unexpected-end", message: "unexpected end of input; expected a value", offset: index)
        }
        let start = index
        switch bytes[index] {
        case UInt8(ascii: "{"): return JSONNode(try parseObject(), offset: start)
        case UInt8(ascii: "["): return JSONNode(try parseArray(), offset: start)
        case quote: return JSONNode(.string(try parseString()), offset: start)
        case UInt8(ascii: "t"): try expectLiteral("true"); return JSONNode(.bool(true), offset: start)
        case UInt8(ascii: "f"): try expectLiteral("false"); return JSONNode(.bool(false), offset: start)
        case UInt8(ascii: "n"): try expectLiteral("null"); return JSONNode(.null, offset: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return JSONNode(.number(try parseNumber()), offset: start)
        case UInt8(ascii: "/"):
            throw JSONSyntaxError(code: "comment", message: "comments are not allowed in JSON", offset: index)
        case UInt8(ascii: "'"):
            throw JSONSyntaxError(
                code: "single-quoted-string", message: "strings must use double quotes, not single quotes", offset: index)
        default:
            throw JSONSyntaxError(
                code: "unexpected-character", message: "unexpected \(describe(index)); expected a value", offset: index)
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        let matches = literal.withUTF8Buffer { expected -> Bool in
            guard index + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[index + offset] != expected[offset] { return false }
            return true
        }
        guard matches else {
            throw JSONSyntaxError(
                code: "unexpected-character",
                message: "invalid literal; expected '\(literal)' (JSON literals are lowercase: true, false, null)",
                offset: index)
        }
        index += count
    }

    mutating func enter() throws {
        depth += 1
        if depth > maxDepth {
            throw JSONSyntaxError(
                code: "nesting-too-deep", message: "values are nested more than \(maxDepth) levels deep", offset: index)
        }
    }

    mutating func parseObject() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1  // {
        var members: [JSONMember] = []
        // Small objects (nearly all of a spec) check duplicates by a linear scan; large ones by a table.
        var seen: [String: Int]? = nil
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count else {
                throw JSONSyntaxError(code: "unexpected-end", message: "unexpected end of input inside an object; expected '}'", offset: index)
            }
            guard bytes[index] == quote else {
                if bytes[index] == UInt8(ascii: "}") && !members.isEmpty {
                    throw JSONSyntaxError(code: "trailing-comma", message: "trailing comma before '}'; remove the last ','", offset: index)
                }
                if bytes[index] == UInt8(ascii: "/") {
                    throw JSONSyntaxError(code: "comment", message: "comments are not allowed in JSON", offset: index)
                }
                throw JSONSyntaxError(
                    code: "expected-key",
                    message: "unexpected \(describe(index)); expected a member name in double quotes", offset: index)
            }
            let keyOffset = index
            let key = try parseString()
            if members.count < 16 {
                if let first = members.first(where: { $0.key == key }) {
                    throw duplicate(key, at: keyOffset, first: first.keyOffset)
                }
            } else {
                if seen == nil {
                    var table: [String: Int] = [:]
                    table.reserveCapacity(members.count * 2)
                    for member in members { table[member.key] = member.keyOffset }
                    seen = table
                }
                if let first = seen?[key] { throw duplicate(key, at: keyOffset, first: first) }
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == colon else {
                throw JSONSyntaxError(
                    code: "expected-colon", message: "unexpected \(describe(index)); expected ':' after the member name", offset: index)
            }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            members.append(JSONMember(key: key, keyOffset: keyOffset, value: value))
            seen?[key] = keyOffset
            skipWhitespace()
            guard index < bytes.count else {
                throw JSONSyntaxError(code: "unexpected-end", message: "unexpected end of input inside an object; expected '}'", offset: index)
            }
            switch bytes[index] {
            case comma: index += 1
            case UInt8(ascii: "}"):
                index += 1
                return .object(members)
            default:
                throw JSONSyntaxError(
                    code: "expected-comma",
                    message: "unexpected \(describe(index)); expected ',' or '}' after an object member", offset: index)
            }
        }
    }

    func duplicate(_ key: String, at offset: Int, first: Int) -> JSONSyntaxError {
        JSONSyntaxError(
            code: "duplicate-key", message: "duplicate key '\(key)'; each key may appear once in an object",
            offset: offset, relatedOffset: first)
    }

    mutating func parseArray() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1  // [
        var elements: [JSONNode] = []
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "]") && !elements.isEmpty {
                throw JSONSyntaxError(code: "trailing-comma", message: "trailing comma before ']'; remove the last ','", offset: index)
            }
            elements.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else {
                throw JSONSyntaxError(code: "unexpected-end", message: "unexpected end of input inside an array; expected ']'", offset: index)
            }
            switch bytes[index] {
            case comma: index += 1
            case UInt8(ascii: "]"):
                index += 1
                return .array(elements)
            default:
                throw JSONSyntaxError(
                    code: "expected-comma",
                    message: "unexpected \(describe(index)); expected ',' or ']' after an array element", offset: index)
            }
        }
    }

    mutating func parseNumber() throws -> String {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else {
            throw JSONSyntaxError(code: "invalid-number", message: "a '-' must be followed by a digit", offset: start)
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) {
                throw JSONSyntaxError(
                    code: "leading-zero", message: "numbers must not have leading zeros; write '\(leadingZeroFix(start))'",
                    offset: start)
            }
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw JSONSyntaxError(code: "invalid-number", message: "a '.' in a number must be followed by a digit", offset: index)
            }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw JSONSyntaxError(code: "invalid-number", message: "an exponent must have digits", offset: index)
            }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    func leadingZeroFix(_ start: Int) -> String {
        var end = start
        while end < bytes.count, isDigit(bytes[end]) || bytes[end] == UInt8(ascii: "-") { end += 1 }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        let negative = text.hasPrefix("-")
        let digits = text.drop(while: { $0 == "-" || $0 == "0" })
        return (negative ? "-" : "") + (digits.isEmpty ? "0" : String(digits))
    }

    @inline(__always)
    func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    mutating func parseString() throws -> String {
        let open = index
        index += 1
        let start = index
        var isASCII = true
        // Fast path: no escapes. Most keys and values in a spec are plain ASCII.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == quote {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                if isASCII { return String(decoding: slice, as: UTF8.self) }
                if let string = String(validating: slice, as: UTF8.self) { return string }
                throw invalidUTF8(in: start..<(index - 1))
            }
            if byte == backslash { return try parseEscapedString(open: open, start: start) }
            if byte < 0x20 { throw controlCharacter(at: index) }
            if byte >= 0x80 { isASCII = false }
            index += 1
        }
        throw JSONSyntaxError(code: "unterminated-string", message: "string is not terminated; add the closing '\"'", offset: open)
    }

    func controlCharacter(at offset: Int) -> JSONSyntaxError {
        let byte = bytes[offset]
        let name = byte == 0x0A ? "a line break" : byte == 0x09 ? "a tab" : "control character 0x\(String(byte, radix: 16, uppercase: true))"
        return JSONSyntaxError(
            code: "control-character",
            message: "\(name) is not allowed inside a string; escape it (\\n, \\t, \\u00XX) or close the string", offset: offset)
    }

    func invalidUTF8(in range: Range<Int>) -> JSONSyntaxError {
        let bad = UTF8Check.firstInvalidByte(UnsafeBufferPointer(rebasing: bytes[range])).map { range.lowerBound + $0 } ?? range.lowerBound
        return JSONSyntaxError(code: "invalid-utf8", message: "invalid UTF-8 byte sequence; save the file as UTF-8", offset: bad)
    }

    mutating func parseEscapedString(open: Int, start: Int) throws -> String {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(index - start + 16)
        buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            if byte == quote {
                index += 1
                if let string = String(validating: buffer, as: UTF8.self) { return string }
                throw invalidUTF8(in: start..<(index - 1))
            }
            if byte < 0x20 { throw controlCharacter(at: index) }
            if byte != backslash {
                buffer.append(byte)
                index += 1
                continue
            }
            let escapeStart = index
            index += 1
            guard index < bytes.count else { break }
            switch bytes[index] {
            case quote: buffer.append(quote)
            case backslash: buffer.append(backslash)
            case UInt8(ascii: "/"): buffer.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): buffer.append(0x08)
            case UInt8(ascii: "f"): buffer.append(0x0C)
            case UInt8(ascii: "n"): buffer.append(0x0A)
            case UInt8(ascii: "r"): buffer.append(0x0D)
            case UInt8(ascii: "t"): buffer.append(0x09)
            case UInt8(ascii: "u"):
                let unit = try hex4(at: index + 1, escapeStart: escapeStart)
                index += 4
                var scalarValue = UInt32(unit)
                if (0xD800...0xDBFF).contains(unit) {
                    // A high surrogate must be followed by an escaped low surrogate (RFC 8259 §7).
                    guard index + 2 < bytes.count, bytes[index + 1] == backslash, bytes[index + 2] == UInt8(ascii: "u"),
                        case let low = try hex4(at: index + 3, escapeStart: index + 1), (0xDC00...0xDFFF).contains(low)
                    else {
                        throw JSONSyntaxError(
                            code: "lone-surrogate",
                            message: "\\u\(hex(unit)) is a high surrogate without a following low surrogate", offset: escapeStart)
                    }
                    scalarValue = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                    index += 6
                } else if (0xDC00...0xDFFF).contains(unit) {
                    throw JSONSyntaxError(
                        code: "lone-surrogate", message: "\\u\(hex(unit)) is a low surrogate without a preceding high surrogate",
                        offset: escapeStart)
                }
                guard let scalar = Unicode.Scalar(scalarValue) else {
                    throw JSONSyntaxError(code: "invalid-escape", message: "invalid \\u escape", offset: escapeStart)
                }
                buffer.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw JSONSyntaxError(
                    code: "invalid-escape",
                    message: "invalid escape '\\\(describe(index).trimmingQuotes)'; valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX",
                    offset: escapeStart)
            }
            index += 1
        }
        throw JSONSyntaxError(code: "unterminated-string", message: "string is not terminated; add the closing '\"'", offset: open)
    }

    func hex(_ unit: UInt16) -> String {
        let digits = String(unit, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }

    func hex4(at offset: Int, escapeStart: Int) throws -> UInt16 {
        guard offset + 4 <= bytes.count else {
            throw JSONSyntaxError(code: "invalid-escape", message: "\\u must be followed by four hex digits", offset: escapeStart)
        }
        var value: UInt16 = 0
        for position in offset..<(offset + 4) {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default:
                throw JSONSyntaxError(code: "invalid-escape", message: "\\u must be followed by four hex digits", offset: escapeStart)
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }
}

extension String {
    fileprivate var trimmingQuotes: String {
        hasPrefix("'") && hasSuffix("'") && count >= 2 ? String(dropFirst().dropLast()) : self
    }
}

/// Locates the first byte of an invalid UTF-8 sequence (only used to point an error at the right byte).
enum UTF8Check {
    static func firstInvalidByte(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            let length: Int
            var minimum: UInt32
            var scalar: UInt32
            switch lead {
            case 0x00...0x7F: index += 1; continue
            case 0xC2...0xDF: length = 2; scalar = UInt32(lead & 0x1F); minimum = 0x80
            case 0xE0...0xEF: length = 3; scalar = UInt32(lead & 0x0F); minimum = 0x800
            case 0xF0...0xF4: length = 4; scalar = UInt32(lead & 0x07); minimum = 0x10000
            default: return index
            }
            guard index + length <= bytes.count else { return index }
            for offset in 1..<length {
                let byte = bytes[index + offset]
                guard byte & 0xC0 == 0x80 else { return index }
                scalar = scalar << 6 | UInt32(byte & 0x3F)
            }
            if scalar < minimum || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) { return index }
            minimum = 0
            index += length
        }
        return nil
    }
}

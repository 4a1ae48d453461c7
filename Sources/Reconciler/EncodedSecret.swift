/// A secret as the characters it is made of, each with every spelling a receiver's stack may have given
/// it, and a matcher that finds the secret in text written with any mix of those spellings.
///
/// Spellings come in two layers, as text is re-encoded in practice: a character is written literally or
/// JSON-escaped (`\"`, `\\`, `\/`, `\n`…, or `\uXXXX` in either hex case, a surrogate pair beyond the
/// BMP); then each byte of that is written literally, percent-encoded (`%2b` or `%2B`), or, for a
/// space, as `+` (form encoding). So `a+b` is found as `a+b`, `a\u002Bb`, `a%2bb`, `a%5Cu002Bb`.
///
/// Matching runs the layers as a small automaton over the set of text positions each character can end
/// at, so a hostile text cannot make it branch exponentially: each step costs at most the number of
/// distinct positions reached, which stays small.
struct EncodedSecret: Sendable {
    /// One way to write a character: these bytes, each of which may in turn be percent-encoded.
    struct Spelling: Sendable {
        var bytes: [UInt8]
        /// Hex letters in `bytes` match either case (the digits of a `\uXXXX` escape).
        var hexCaseless: Bool
    }

    /// The spellings of one character; the first is the literal UTF-8.
    var units: [[Spelling]]
    /// The secret's own UTF-8.
    var literal: [UInt8]
    /// Whether the literal holds a byte that begins an escape: then the literal fast path cannot rule
    /// out an encoded match, and the automaton runs.
    private var literalHasEscapeStart: Bool

    /// Bytes that begin an encoded spelling: any secret may begin with one of them.
    static let escapeStarts: [UInt8] = [UInt8(ascii: "%"), UInt8(ascii: "\\"), UInt8(ascii: "+")]

    init(_ secret: String) {
        literal = Array(secret.utf8)
        literalHasEscapeStart = literal.contains { Self.escapeStarts.contains($0) }
        units = secret.unicodeScalars.map { scalar in
            var spellings = [Spelling(bytes: Array(String(scalar).utf8), hexCaseless: false)]
            var unicodeEscape: [UInt8] = []
            for unit in String(scalar).utf16 { unicodeEscape += Array("\\u".utf8) + Self.hex4(unit) }
            spellings.append(Spelling(bytes: unicodeEscape, hexCaseless: true))
            if let short = Self.shortEscape(scalar) { spellings.append(Spelling(bytes: [UInt8(ascii: "\\"), short], hexCaseless: false)) }
            return spellings
        }
    }

    /// The end of this secret in `bytes` when it begins at `start`, written in any mix of spellings.
    func match(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        // Fast path: the literal. Every encoded spelling begins, in the text, with one of the escape-start
        // bytes; so when the literal breaks off at a byte that is none of them, and none came before it,
        // no spelling can match.
        var offset = 0
        while offset < literal.count, start + offset < bytes.count, bytes[start + offset] == literal[offset] { offset += 1 }
        if offset == literal.count { return start + offset }
        if !literalHasEscapeStart {
            guard start + offset < bytes.count, Self.escapeStarts.contains(bytes[start + offset]) else { return nil }
        }
        var positions = [start]
        var next: [Int] = []
        for spellings in units {
            next.removeAll(keepingCapacity: true)
            for spelling in spellings {
                for position in positions { Self.advance(spelling, from: position, in: bytes, into: &next) }
            }
            if next.isEmpty { return nil }
            next.sort()
            positions.removeAll(keepingCapacity: true)
            for position in next where positions.last != position { positions.append(position) }
        }
        return positions.last
    }

    /// Adds to `ends` every position where `spelling`, begun at `start`, can end.
    private static func advance(_ spelling: Spelling, from start: Int, in bytes: UnsafeBufferPointer<UInt8>, into ends: inout [Int]) {
        // Almost always one position: a byte is read one way, except a `%` that is also a literal `%`.
        var positions = [start]
        var next: [Int] = []
        for expected in spelling.bytes {
            next.removeAll(keepingCapacity: true)
            for position in positions where position < bytes.count {
                let byte = bytes[position]
                if same(byte, expected, spelling.hexCaseless) || (byte == UInt8(ascii: "+") && expected == UInt8(ascii: " ")) {
                    next.append(position + 1)
                }
                if byte == UInt8(ascii: "%"), position + 2 < bytes.count, let high = hexValue(bytes[position + 1]), let low = hexValue(bytes[position + 2]),
                    same(high << 4 | low, expected, spelling.hexCaseless)
                {
                    next.append(position + 3)
                }
            }
            if next.isEmpty { return }
            swap(&positions, &next)
        }
        ends.append(contentsOf: positions)
    }

    private static func same(_ byte: UInt8, _ expected: UInt8, _ hexCaseless: Bool) -> Bool {
        if byte == expected { return true }
        // Only hex letters fold: `\u00e9` and `\u00E9` are one character, `\U00e9` is not an escape.
        guard hexCaseless, expected >= UInt8(ascii: "a"), expected <= UInt8(ascii: "f") else { return false }
        return byte == expected - 0x20
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Four lowercase hex digits.
    private static func hex4(_ value: UInt16) -> [UInt8] {
        let digits = Array("0123456789abcdef".utf8)
        return [digits[Int(value >> 12)], digits[Int(value >> 8 & 0xF)], digits[Int(value >> 4 & 0xF)], digits[Int(value & 0xF)]]
    }

    /// JSON's two-character escape for a character, where it has one (RFC 8259 §7).
    private static func shortEscape(_ scalar: Unicode.Scalar) -> UInt8? {
        switch scalar {
        case "\"": UInt8(ascii: "\"")
        case "\\": UInt8(ascii: "\\")
        case "/": UInt8(ascii: "/")
        case "\u{08}": UInt8(ascii: "b")
        case "\u{0C}": UInt8(ascii: "f")
        case "\n": UInt8(ascii: "n")
        case "\r": UInt8(ascii: "r")
        case "\t": UInt8(ascii: "t")
        default: nil
        }
    }
}

import Testing
import TestSupport

@testable import HookSpec

/// Positions are computed in time independent of line length; they must be the ones a plain scan gives.
@Suite struct SourceLocatorTests {
    /// The obvious, slow answer: scan from the start.
    static func naive(_ bytes: [UInt8], _ offset: Int) -> SourcePosition {
        var line = 1
        var lineStart = 0
        for index in 0..<offset where bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        if line == 1, bytes.starts(with: [0xEF, 0xBB, 0xBF]), offset >= 3 { lineStart = 3 }
        let column = bytes[lineStart..<offset].filter { $0 & 0xC0 != 0x80 }.count + 1
        return SourcePosition(line: line, column: column)
    }

    @Test("property: every offset of random text, long lines and multi-byte characters included, is placed as a scan places it")
    func matchesScan() {
        var random = SeededRandom(state: 0x10CA_7E)
        let pieces = ["a", "{", "\n", "é", "€", "𝄞", " ", "\"", "x"]
        for round in 0..<60 {
            var text = round % 5 == 0 ? "\u{FEFF}" : ""
            let length = random.pick([0, 1, 255, 256, 257, 600, 3_000])
            for _ in 0..<length { text += random.below(40) == 0 ? "\n" : random.pick(pieces) }
            let bytes = Array(text.utf8)
            let locator = SourceLocator(bytes)
            for offset in 0...bytes.count where bytes.count < 700 || random.below(10) == 0 {
                // Offsets inside a character are never asked for; positions of character starts are.
                if offset < bytes.count && bytes[offset] & 0xC0 == 0x80 { continue }
                #expect(locator.position(of: offset) == Self.naive(bytes, offset), "offset \(offset) of \(bytes.count)")
            }
        }
    }
}

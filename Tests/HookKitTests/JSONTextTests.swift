import Foundation
import Testing

@testable import HookKit

/// JSON string quoting: the fast path (nothing to escape, copied whole) and the escaping path must give
/// what a JSON parser reads back as the same string.
@Suite struct JSONTextTests {
    @Test("quoted strings read back as themselves", arguments: [
        "", "plain", "aGVsbG8gd29ybGQ=", "quote \" inside", "back\\slash", "line\nbreak\r\ttab", "\u{01}\u{1F}", "ünïcødé ✓", "\u{7F}",
        String(repeating: "x", count: 5000), String(repeating: "x", count: 5000) + "\"",
    ])
    func roundTrip(_ text: String) throws {
        var output: [UInt8] = []
        JSONText.appendQuoted(text, to: &output)
        let parsed = try JSONSerialization.jsonObject(with: Data(output), options: [.fragmentsAllowed]) as? String
        #expect(parsed == text)
    }

    @Test("escapes are the short ones where JSON has them, \\u00XX for other controls")
    func escapes() {
        var output: [UInt8] = []
        JSONText.appendQuoted("a\"b\\c\n\u{08}\u{0C}\u{01}", to: &output)
        #expect(String(decoding: output, as: UTF8.self) == #""a\"b\\c\n\b\f\u0001""#)
    }

    @Test("a string that is not contiguous UTF-8 (bridged) is quoted too")
    func bridged() {
        let bridged = NSString(string: "bridged \"value\"") as String
        var output: [UInt8] = []
        JSONText.appendQuoted(bridged, to: &output)
        #expect(String(decoding: output, as: UTF8.self) == #""bridged \"value\"""#)
    }
}

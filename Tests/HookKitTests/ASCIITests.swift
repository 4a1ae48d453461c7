import Testing

@testable import HookKit

/// Case-insensitive comparison of protocol text: letters only, byte by byte.
@Suite struct ASCIITests {
    @Test("letters compare without case; everything else exactly", arguments: [
        ("Content-Type", "content-type", true), ("BEARER", "bearer", true), ("bearer", "bearers", false), ("", "", true),
        ("@", "`", false), ("[", "{", false), ("É", "é", false), ("x-token", "x_token", false),
    ])
    func equalIgnoringCase(_ left: String, _ right: String, _ equal: Bool) {
        #expect(ASCII.equalIgnoringCase(left.utf8, right.utf8) == equal)
    }

    @Test("lowercasing touches A to Z only")
    func lowercased() {
        let upper = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for value in 0...255 {
            let byte = UInt8(value)
            let expected = upper.contains(byte) ? byte + 32 : byte
            #expect(ASCII.lowercased(byte) == expected, "byte \(value)")
        }
    }
}

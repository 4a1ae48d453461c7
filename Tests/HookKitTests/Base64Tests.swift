import Foundation
import Testing

@testable import HookKit

/// The strict base64 that signing keys are read with, against RFC 4648's vectors and Foundation's codec.
@Suite struct Base64Tests {
    @Test("RFC 4648 §10 vectors, both ways", arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ])
    func vectors(_ plain: String, _ encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test("refused: not canonical, other alphabets, whitespace, bad padding", arguments: [
        "Zg", "Zg=", "Zh==", "Zm9=", "Zm8", "Z===", "====", "Zm9v\n", " Zm9v", "Zm9v YmFy", "Zm-v", "Zm_v", "Zg==Zg==", "Zm=v", "Zg\u{0}=",
    ])
    func refused(_ text: String) {
        #expect(Base64.decode(text) == nil)
    }

    /// A deterministic generator, so a failure is reproducible.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
    }

    @Test("property: agrees with Foundation on random bytes, and on random text it accepts (seeded)")
    func agreesWithFoundation() {
        var random = Generator(state: 42)
        for _ in 0..<2000 {
            let bytes = (0..<Int(random.next() % 80)).map { _ in UInt8(random.next() & 0xFF) }
            let encoded = Base64.encode(bytes)
            #expect(encoded == Data(bytes).base64EncodedString())
            #expect(Base64.decode(encoded) == bytes)
        }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ ".utf8)
        var accepted = 0
        for _ in 0..<20_000 {
            let text = String(decoding: (0..<Int(random.next() % 12)).map { _ in alphabet[Int(random.next()) % alphabet.count] }, as: UTF8.self)
            guard let ours = Base64.decode(text) else { continue }
            accepted += 1
            // What we accept, Foundation reads as the same bytes, and it is the one canonical spelling.
            #expect(Data(base64Encoded: text).map(Array.init) == ours, "\(text)")
            #expect(Base64.encode(ours) == text)
        }
        #expect(accepted > 100)
    }
}

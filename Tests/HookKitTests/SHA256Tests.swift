import Testing

@testable import HookKit

/// SHA-256 against the NIST FIPS 180-4 example vectors (and the long-message vector).
@Suite struct SHA256Tests {
    @Test("NIST vectors", arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func vectors(_ input: String, _ expected: String) {
        #expect(SHA256.hexDigest(input) == expected)
    }

    @Test("one million 'a' (NIST long message)")
    func millionA() {
        #expect(SHA256.hexDigest([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("streaming in uneven chunks equals hashing at once, across block boundaries")
    func streaming() {
        for length in [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 1000] {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            var hasher = SHA256()
            var index = 0
            var step = 1
            while index < bytes.count {
                let end = min(bytes.count, index + step)
                hasher.update(bytes[index..<end])
                index = end
                step = step * 2 + 1
            }
            #expect(hasher.finalize() == SHA256.hash(bytes), "length \(length)")
        }
    }
}

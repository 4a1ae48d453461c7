/// HMAC-SHA256 (RFC 2104, FIPS 198-1): a keyed digest. What hookapply keeps about a secret on disk (the
/// observation cache) is sealed with a key that never sits beside it, so that someone holding the file
/// can neither test guesses of a weak secret offline nor forge an entry.
public struct HMAC: Sendable, Hashable {
    private let innerKey: [UInt8]
    private let outerKey: [UInt8]

    /// - Parameter key: any length; a key longer than the block is hashed first, as the standard says.
    public init(key: [UInt8]) {
        var block = key.count > 64 ? SHA256.hash(key) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        innerKey = block.map { $0 ^ 0x36 }
        outerKey = block.map { $0 ^ 0x5C }
    }

    /// The 32-byte code of `message`.
    public func code<Bytes: Sequence>(_ message: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var inner = SHA256()
        inner.update(innerKey)
        inner.update(message)
        var outer = SHA256()
        outer.update(outerKey)
        outer.update(inner.finalize())
        return outer.finalize()
    }

    /// The code as 64 lowercase hex digits.
    public func hexCode(_ text: String) -> String { SHA256.hex(code(Array(text.utf8))) }

    /// Compares two codes in time that does not depend on where they differ.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// ``constantTimeEqual(_:_:)`` for hex or any text.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        constantTimeEqual(Array(a.utf8), Array(b.utf8))
    }
}

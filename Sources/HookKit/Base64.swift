/// Standard base64 (RFC 4648 §4), strict: HookSpec checks signing secrets without Foundation, and a
/// secret that decodes leniently in one place and strictly in another would sign with one key and be
/// verified with another.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = Int8(index) }
        return table
    }()

    /// The bytes of `text`, or nil when it is not canonical base64: only the standard alphabet, padded
    /// to a multiple of four with at most two `=`, and no stray bits in the last character (so each
    /// byte string has exactly one spelling).
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard bytes.count % 4 == 0 else { return nil }
        var padding = 0
        if bytes.last == 0x3D { padding += 1 }
        if bytes.count >= 2 && bytes[bytes.count - 2] == 0x3D { padding += 1 }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count / 4 * 3)
        var index = 0
        while index < bytes.count {
            var quad: [Int] = []
            for offset in 0..<4 {
                let byte = bytes[index + offset]
                let isPadding = byte == 0x3D && index + 4 == bytes.count && offset >= 4 - padding
                if isPadding { continue }
                let value = values[Int(byte)]
                guard value >= 0 else { return nil }
                quad.append(Int(value))
            }
            switch quad.count {
            case 4:
                result.append(UInt8(quad[0] << 2 | quad[1] >> 4))
                result.append(UInt8((quad[1] & 0xF) << 4 | quad[2] >> 2))
                result.append(UInt8((quad[2] & 0x3) << 6 | quad[3]))
            case 3:
                guard quad[2] & 0x3 == 0 else { return nil }
                result.append(UInt8(quad[0] << 2 | quad[1] >> 4))
                result.append(UInt8((quad[1] & 0xF) << 4 | quad[2] >> 2))
            case 2:
                guard quad[1] & 0xF == 0 else { return nil }
                result.append(UInt8(quad[0] << 2 | quad[1] >> 4))
            default:
                return nil
            }
            index += 4
        }
        return result
    }

    /// `bytes` as padded standard base64.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var index = 0
        while index < input.count {
            let count = min(3, input.count - index)
            let b0 = Int(input[index])
            let b1 = count > 1 ? Int(input[index + 1]) : 0
            let b2 = count > 2 ? Int(input[index + 2]) : 0
            out.append(alphabet[b0 >> 2])
            out.append(alphabet[(b0 & 0x3) << 4 | b1 >> 4])
            out.append(count > 1 ? alphabet[(b1 & 0xF) << 2 | b2 >> 6] : 0x3D)
            out.append(count > 2 ? alphabet[b2 & 0x3F] : 0x3D)
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Writing JSON text by hand, for outputs whose key order matters to people (exported specs, state files).
public enum JSONText {
    /// `text` as a JSON string literal (RFC 8259 §7): quotes, backslashes and control characters escaped.
    public static func quote(_ text: String) -> String {
        var bytes: [UInt8] = []
        appendQuoted(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `text` as a JSON string literal, the way JSONEncoder writes it (short escapes where JSON
    /// has them, `\u00XX` for other control characters, slashes and non-ASCII as they are). Works on
    /// UTF-8 bytes: every byte that needs escaping is ASCII, so multi-byte characters are copied whole.
    public static func appendQuoted(_ text: String, to output: inout [UInt8]) {
        output.append(0x22)
        // Most values need no escape at all (serve's queue writes each event body as base64): copied whole.
        let copied = text.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard bytes.allSatisfy({ $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C }) else { return false }
            output.append(contentsOf: bytes)
            return true
        }
        if copied == true {
            output.append(0x22)
            return
        }
        for byte in text.utf8 {
            switch byte {
            case 0x22: output += [0x5C, 0x22]
            case 0x5C: output += [0x5C, 0x5C]
            case 0x0A: output += [0x5C, 0x6E]
            case 0x0D: output += [0x5C, 0x72]
            case 0x09: output += [0x5C, 0x74]
            case 0x08: output += [0x5C, 0x62]
            case 0x0C: output += [0x5C, 0x66]
            case ..<0x20: output += [0x5C, 0x75, 0x30, 0x30, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
            default: output.append(byte)
            }
        }
        output.append(0x22)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}

/// Neutralises text from outside (a registry, a receiver, a state file) before it reaches a terminal,
/// a log line or a markdown comment.
///
/// A value with a line break can forge lines of output ("No changes."), an ANSI or OSC escape sequence
/// can recolour, retitle or rewrite a terminal, and a bidirectional override can make text read in an
/// order other than its bytes. Each such character is written as a visible escape instead (`\n`,
/// `\u{1B}`), so what is shown is exactly what was received, and harmless.
public enum TerminalText {
    /// One line: every control character escaped, line breaks included.
    public static func line(_ text: String) -> String {
        escape(text, keepingLineBreaks: false)
    }

    /// A block (a response body): line breaks and tabs kept, every other control character escaped.
    public static func block(_ text: String) -> String {
        escape(text, keepingLineBreaks: true)
    }

    /// Whether `scalar` is shown escaped: C0 and C1 controls, DEL, and the bidirectional controls.
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return value < 0x20 || (0x7F...0x9F).contains(value) || (0x202A...0x202E).contains(value)
            || (0x2066...0x2069).contains(value) || value == 0x200E || value == 0x200F || value == 0x061C
    }

    private static func escape(_ text: String, keepingLineBreaks: Bool) -> String {
        // The common case, plain printable text, is returned as it is without building a copy.
        guard text.unicodeScalars.contains(where: { isUnsafe($0) && !(keepingLineBreaks && ($0 == "\n" || $0 == "\t")) }) else {
            return text
        }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if !isUnsafe(scalar) || (keepingLineBreaks && (scalar == "\n" || scalar == "\t")) {
                result.append(scalar)
                continue
            }
            let escaped: String
            switch scalar {
            case "\n": escaped = "\\n"
            case "\r": escaped = "\\r"
            case "\t": escaped = "\\t"
            default:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                escaped = "\\u{" + (hex.count < 2 ? "0" + hex : hex) + "}"
            }
            result.append(contentsOf: escaped.unicodeScalars)
        }
        return String(result)
    }
}

import Foundation

/// The ways common receiver stacks re-encode text they echo back, for tests that plant secrets and check
/// that no re-encoded echo gets past the scrubber.
public enum EchoEncoding: String, CaseIterable, Sendable {
    /// As sent.
    case raw
    /// .NET's System.Text.Json default encoder: `" \` as short escapes, `+ & ' < >` and non-ASCII as
    /// upper-case `\uXXXX`, mixed with literal characters.
    case dotNetJSON
    /// The same with lower-case hex digits.
    case dotNetJSONLowerHex
    /// Percent-encoding of every byte but the unreserved ones, lower-case hex.
    case percentLowerHex
    /// `application/x-www-form-urlencoded`: space as `+`, the rest percent-encoded.
    case form
    /// The JSON-escaped text, then percent-encoded (a secret holding `"` or `\`).
    case percentOfJSON

    public func encode(_ text: String) -> String {
        switch self {
        case .raw: return text
        case .dotNetJSON: return Self.dotNet(text, upper: true)
        case .dotNetJSONLowerHex: return Self.dotNet(text, upper: false)
        case .percentLowerHex: return Self.percent(text, upper: false, spaceAsPlus: false)
        case .form: return Self.percent(text, upper: true, spaceAsPlus: true)
        case .percentOfJSON:
            let json = String(decoding: (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data(), as: UTF8.self)
            return Self.percent(String(json.dropFirst(2).dropLast(2)), upper: true, spaceAsPlus: false)
        }
    }

    private static func dotNet(_ text: String, upper: Bool) -> String {
        var result = ""
        func escape(_ value: UInt32) { result += String(format: upper ? "\\u%04X" : "\\u%04x", value) }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "+", "&", "'", "<", ">": escape(scalar.value)
            default:
                if scalar.isASCII && scalar.value >= 0x20 {
                    result.unicodeScalars.append(scalar)
                } else {
                    for unit in String(scalar).utf16 { escape(UInt32(unit)) }
                }
            }
        }
        return result
    }

    private static func percent(_ text: String, upper: Bool, spaceAsPlus: Bool) -> String {
        var result = ""
        for byte in text.utf8 {
            let unreserved = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
            if unreserved {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else if byte == 0x20 && spaceAsPlus {
                result += "+"
            } else {
                result += String(format: upper ? "%%%02X" : "%%%02x", byte)
            }
        }
        return result
    }
}

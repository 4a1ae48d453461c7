import HookKit

/// A Standard Webhooks signing secret: `whsec_` and the base64 of a 24 to 64 byte key (the standard's
/// range). The key, not the text, is what HMAC-SHA256 signs with.
public enum SigningSecret {
    public static let prefix = "whsec_"
    public static let keyLengths = 24...64
    /// More would only slow every delivery: a rotation needs two, the old key and the new.
    public static let maximumCount = 5

    /// The key of a well-formed secret, or nil.
    public static func key(_ text: String) -> [UInt8]? {
        guard text.hasPrefix(prefix), let key = Base64.decode(text.dropFirst(prefix.count)), keyLengths.contains(key.count) else { return nil }
        return key
    }

    /// Why `text` is no signing secret, as the end of a sentence that never quotes it; nil when it is one.
    public static func problem(_ text: String) -> String? {
        guard text.hasPrefix(prefix) else {
            return "must start with '\(prefix)' followed by the base64 of a 24 to 64 byte key (generate one with: echo \(prefix)$(head -c 32 /dev/urandom | base64))"
        }
        guard let key = Base64.decode(text.dropFirst(prefix.count)) else {
            return "is not '\(prefix)' followed by standard, padded base64 (letters, digits, '+' and '/', '=' padding)"
        }
        guard keyLengths.contains(key.count) else {
            return "holds a key of \(key.count) bytes; Standard Webhooks keys are 24 to 64 bytes (generate one with: echo \(prefix)$(head -c 32 /dev/urandom | base64))"
        }
        return nil
    }

    /// The parts of a secret worth hiding in output: the whole text and the base64 key on its own.
    public static func hiddenForms(_ text: String) -> [String] {
        text.hasPrefix(prefix) ? [text, String(text.dropFirst(prefix.count))] : [text]
    }
}

/// What a webhook's deliveries look like on the wire.
public enum PayloadFormat: String, Hashable, Sendable, Codable, CaseIterable {
    /// ACR's own JSON (`Content-Type: application/json`): what every ACR receiver reads.
    case acr
    /// A CloudEvents 1.0 event in structured JSON mode, with Event Grid's ACR event types.
    case cloudevents
}

import HookKit
import HookSpec

/// Signs a delivery as Standard Webhooks 1.0 says: HMAC-SHA256 over `id.timestamp.body` with each
/// secret's key, every signature as `v1,<base64>`, space-separated (several during a rotation, so a
/// receiver holding either secret verifies).
public struct WebhookSigner: Sendable {
    private let keys: [HMAC]

    /// Nil when no secret is given; secrets that are not well formed are skipped (validation refused
    /// them long before a delivery, so none reaches here from a spec).
    public init?(secrets: [String]) {
        let keys = secrets.compactMap(SigningSecret.key).map { HMAC(key: $0) }
        guard !keys.isEmpty else { return nil }
        self.keys = keys
    }

    /// The `webhook-signature` value.
    public func signature(id: String, timestamp: String, body: [UInt8]) -> String {
        var message = Array(id.utf8)
        message.append(0x2E)
        message += Array(timestamp.utf8)
        message.append(0x2E)
        message += body
        return keys.map { "v1," + Base64.encode($0.code(message)) }.joined(separator: " ")
    }

    /// The three headers of one attempt; `timestamp` is new on every attempt (Unix seconds), so retries
    /// and replays stay inside a verifier's tolerance (five minutes in the reference libraries).
    public func headers(id: String, timestamp: Int, body: [UInt8]) -> [(name: String, value: String)] {
        let stamp = String(timestamp)
        return [("webhook-id", id), ("webhook-timestamp", stamp), ("webhook-signature", signature(id: id, timestamp: stamp, body: body))]
    }
}

import HookKit
import HookSpec

/// Replaces known secret values wherever they appear in text bound for output or logs.
///
/// Masking fields is not enough on its own: a transport error can quote the URL, and a receiver can echo
/// a header back in its response body. Everything a delivery records passes through here first.
public struct SecretScrubber: Sendable {
    private var secrets: [String]

    public init(secrets: [String]) {
        // Longest first, so a secret containing another is replaced whole; very short values would
        // mangle ordinary text and are not worth hiding by substring.
        self.secrets = Array(Set(secrets.filter { $0.count >= 4 })).sorted { $0.count > $1.count }
    }

    /// The secrets of a webhook: header values, and the service URI with its query and userinfo.
    public init(webhook: WebhookState) {
        // Content-Type is a custom header too, but its value is never a secret, and scrubbing
        // "application/json" out of every logged response would only hide useful text.
        var values = webhook.customHeaders.filter { $0.name.lowercased() != "content-type" }.map(\.value)
        values.append(webhook.serviceUri)
        if let uri = try? ServiceURI(parsing: webhook.serviceUri) {
            if let query = uri.query { values.append(query) }
            if let userinfo = uri.userinfo { values.append(userinfo) }
        }
        self.init(secrets: values)
    }

    /// Replaces every occurrence, matching UTF-8 bytes: a character-level match can miss a secret that
    /// ends where a combining mark begins, and the bytes would then go out unmasked. Replacing a whole
    /// valid UTF-8 sequence inside valid UTF-8 always leaves valid UTF-8.
    public func scrub(_ text: String) -> String {
        guard !secrets.isEmpty else { return text }
        var bytes = Array(text.utf8)
        var changed = false
        for secret in secrets {
            let needle = Array(secret.utf8)
            guard let first = bytes.firstIndex(of: needle, from: 0) else { continue }
            var output: [UInt8] = []
            output.reserveCapacity(bytes.count)
            var start = 0
            var match: Int? = first
            while let index = match {
                output.append(contentsOf: bytes[start..<index])
                output.append(contentsOf: Self.replacement)
                start = index + needle.count
                match = bytes.firstIndex(of: needle, from: start)
            }
            output.append(contentsOf: bytes[start...])
            bytes = output
            changed = true
        }
        return changed ? String(decoding: bytes, as: UTF8.self) : text
    }

    private static let replacement = Array(Redaction.sensitiveValue.utf8)
}

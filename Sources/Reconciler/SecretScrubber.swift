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

    public func scrub(_ text: String) -> String {
        guard !secrets.isEmpty else { return text }
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacing(secret, with: Redaction.sensitiveValue)
        }
        return result
    }
}

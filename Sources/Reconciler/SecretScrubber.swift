import Foundation
import HookKit
import HookSpec

/// Replaces known secret values wherever they appear in text bound for output or logs.
///
/// Masking fields is not enough on its own: a transport error can quote the URL, a receiver can echo a
/// request back in its response, and an ARM error can repeat the request body. So every secret is known
/// in its parts and in the forms it travels in:
/// - a header value whole, and the credential after an auth scheme (`Bearer X` → `X`);
/// - a service URI whole, its query, each query parameter's value, its userinfo and password, and the
///   `Authorization: Basic …` value hookapply builds from the userinfo;
/// - any other value given (the raw `${env:…}` values of the spec, an ARM access token);
/// and each of those as written, percent-decoded, percent-encoded and JSON-escaped.
///
/// Values shorter than ``minimumLength`` are not searched for: hiding every "ab" in a response would
/// mangle it, and would tell a reader the secret anyway. `validate` warns about such values.
public struct SecretScrubber: Sendable {
    public static let minimumLength = Redaction.minimumScrubbableLength

    /// Every form of every secret, longest first, so a secret containing another is replaced whole.
    private var needles: [[UInt8]]
    /// Needles by their first two bytes (indices into ``needles``, longest first): the scan looks at a
    /// position only when its two bytes begin some needle, so text without secrets costs one pass.
    private var byPrefix: [UInt16: [Int]]
    /// One bit per two-byte prefix that begins a needle: the scan's filter, 8 KiB, no hashing per byte.
    private var prefixBits: [UInt64]

    public init(secrets: [String]) {
        var forms: Set<String> = []
        for secret in secrets where secret.count >= Self.minimumLength {
            for form in Self.forms(of: secret) where form.count >= Self.minimumLength { forms.insert(form) }
        }
        needles = forms.map { Array($0.utf8) }.filter { $0.count >= 2 }.sorted { $0.count > $1.count }
        byPrefix = [:]
        prefixBits = needles.isEmpty ? [] : Array(repeating: 0, count: 1024)
        for (index, needle) in needles.enumerated() {
            let prefix = UInt16(needle[0]) << 8 | UInt16(needle[1])
            byPrefix[prefix, default: []].append(index)
            prefixBits[Int(prefix >> 6)] |= 1 << UInt64(prefix & 63)
        }
    }

    /// The secrets of a webhook: header values, and the service URI with its parts.
    public init(webhook: WebhookState, also extra: [String] = []) {
        self.init(webhooks: [webhook], also: extra)
    }

    /// The secrets of several webhooks (a replacement's old and new), plus any other values.
    public init(webhooks: [WebhookState], also extra: [String] = []) {
        var values = extra
        for webhook in webhooks { values += Self.secrets(of: webhook) }
        self.init(secrets: values)
    }

    /// Whether there is nothing to hide.
    public var isEmpty: Bool { needles.isEmpty }

    /// The parts of a webhook that are secret, before their forms are added.
    public static func secrets(of webhook: WebhookState) -> [String] {
        var values: [String] = []
        for header in webhook.customHeaders {
            // Content-Type is a custom header too, but its value is never a secret, and scrubbing
            // "application/json" out of every logged response would only hide useful text.
            if !Redaction.isSecretHeader(header.name) { continue }
            values.append(header.value)
            // "Bearer X", "Basic X", "SharedAccessSignature X": the credential on its own, as a receiver may echo it.
            if let space = header.value.firstIndex(of: " ") {
                let credential = header.value[header.value.index(after: space)...].trimmingCharacters(in: .whitespaces)
                if !credential.isEmpty { values.append(credential) }
            }
        }
        values.append(webhook.serviceUri)
        if let uri = try? ServiceURI(parsing: webhook.serviceUri) {
            if let query = uri.query {
                values.append(query)
                for pair in query.split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    if parts.count == 2 { values.append(String(parts[1])) }
                }
            }
            if let userinfo = uri.userinfo {
                values.append(userinfo)
                if let colon = userinfo.firstIndex(of: ":") { values.append(String(userinfo[userinfo.index(after: colon)...])) }
                // What the HTTP client sends for it (see PlainHTTPClient): Basic, over the decoded userinfo.
                let decoded = userinfo.removingPercentEncoding ?? userinfo
                values.append(Data(decoded.utf8).base64EncodedString())
            }
        }
        return values
    }

    /// The forms a value is found in: as written, percent-decoded, percent-encoded, and JSON-escaped
    /// (with and without escaped slashes, as JSON encoders differ).
    static func forms(of secret: String) -> Set<String> {
        var forms: Set<String> = [secret]
        if let decoded = secret.removingPercentEncoding { forms.insert(decoded) }
        for form in Array(forms) {
            forms.insert(percentEncoded(form))
            let escaped = String(JSONText.quote(form).dropFirst().dropLast())
            forms.insert(escaped)
            forms.insert(escaped.replacingOccurrences(of: "/", with: "\\/"))
        }
        return forms
    }

    /// Every byte but the unreserved ones (RFC 3986 §2.3) as %XX, upper case.
    static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            let isUnreserved = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
            if isUnreserved {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                result += "%" + (hex.count < 2 ? "0" + hex : hex)
            }
        }
        return result
    }

    /// Replaces every occurrence, matching UTF-8 bytes: a character-level match can miss a secret that
    /// ends where a combining mark begins, and the bytes would then go out unmasked. Replacing a whole
    /// valid UTF-8 sequence inside valid UTF-8 always leaves valid UTF-8.
    ///
    /// One pass: at each position whose first two bytes begin some secret, the longest secret found there
    /// is replaced and the scan continues after it.
    public func scrub(_ text: String) -> String {
        guard !needles.isEmpty else { return text }
        var text = text
        let scrubbed = text.withUTF8 { bytes -> String? in
            guard bytes.count >= 2 else { return nil }
            var output: [UInt8] = []
            var copied = 0  // bytes[..<copied] are in output (once there is a match)
            var index = 0
            let last = bytes.count - 1
            while index < last {
                let prefix = UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])
                guard prefixBits[Int(prefix >> 6)] & (1 << UInt64(prefix & 63)) != 0, let candidates = byPrefix[prefix],
                    let found = candidates.first(where: { matches(needles[$0], bytes, at: index) })
                else {
                    index += 1
                    continue
                }
                if output.isEmpty { output.reserveCapacity(bytes.count) }
                output.append(contentsOf: bytes[copied..<index])
                output.append(contentsOf: Self.replacement)
                index += needles[found].count
                copied = index
            }
            if copied == 0 && output.isEmpty { return nil }  // nothing found: the text as it is, no copy
            output.append(contentsOf: bytes[copied...])
            return String(decoding: output, as: UTF8.self)
        }
        return scrubbed ?? text
    }

    private func matches(_ needle: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        guard index + needle.count <= bytes.count else { return false }
        for offset in 2..<needle.count where bytes[index + offset] != needle[offset] { return false }
        return true
    }

    /// Scrubs `text` whole, then keeps at most `limit` UTF-8 bytes of it (never cutting a character).
    /// In this order, so that a secret crossing the limit is replaced before the cut, not half shown.
    public func scrub(_ text: String, keepingBytes limit: Int) -> (text: String, truncated: Bool) {
        let scrubbed = scrub(text)
        guard scrubbed.utf8.count > limit else { return (scrubbed, false) }
        let bytes = Array(scrubbed.utf8)
        var cut = max(0, limit)
        while cut > 0 && (bytes[cut] & 0xC0) == 0x80 { cut -= 1 }  // back to the start of a character
        return (String(decoding: bytes[..<cut], as: UTF8.self), true)
    }

    private static let replacement = Array(Redaction.sensitiveValue.utf8)
}

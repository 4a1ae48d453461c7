import Foundation
import HookKit
import HookSpec

/// Replaces known secret values wherever they appear in text bound for output or logs.
///
/// Masking fields is not enough on its own: a transport error can quote the URL, a receiver can echo a
/// request back in its response, and an ARM error can repeat the request body. So every secret is known
/// in its parts:
/// - a header value whole, and the credential after an auth scheme (`Bearer X` → `X`);
/// - a service URI whole, its query, each query parameter's value, its userinfo and password, and the
///   `Authorization: Basic …` value hookapply builds from the userinfo;
/// - any other value given (the raw `${env:…}` values of the spec, an ARM access token);
///
/// and each is found however a receiver's stack re-encoded it, character by character, in any mix (see
/// ``EncodedSecret``): literally; as a JSON escape (`\"`, `\/`, `\u002B` in either hex case, as .NET's
/// System.Text.Json writes `+ & ' < >` and non-ASCII); percent-encoded in either hex case; form-encoded
/// (space as `+`); and percent-encoded after JSON escaping. A secret written percent-encoded (a URI's
/// query) is also found as the text it decodes to.
///
/// Values shorter than ``minimumLength`` are not searched for: hiding every "ab" in a response would
/// mangle it, and would tell a reader the secret anyway. `validate` warns about such values.
public struct SecretScrubber: Sendable {
    public static let minimumLength = Redaction.minimumScrubbableLength

    /// Every secret with the spellings of its characters, longest first.
    private var secrets: [EncodedSecret]
    /// Secrets by the first byte of their literal spelling (indices into ``secrets``).
    private var byFirstByte: [[Int]]
    /// Whether a match may begin at a byte: some secret's literal first byte, or an escape's first byte
    /// (`%`, `\`, `+`), with which any secret may begin.
    private var mayBegin: [Bool]
    /// One bit per pair of bytes that begins some secret's literal spelling: at a literal first byte, a
    /// second byte that begins no secret and starts no escape rules the position out at once (the scan's
    /// common case, as cheap as the exact search it replaced).
    private var literalPairs: [UInt64]

    public init(secrets values: [String]) {
        var bases: Set<String> = []
        for secret in values where secret.count >= Self.minimumLength {
            bases.insert(secret)
            if let decoded = secret.removingPercentEncoding, decoded.count >= Self.minimumLength { bases.insert(decoded) }
        }
        secrets = bases.sorted().map(EncodedSecret.init).filter { !$0.units.isEmpty }.sorted { $0.literal.count > $1.literal.count }
        byFirstByte = Array(repeating: [], count: 256)
        mayBegin = Array(repeating: false, count: 256)
        literalPairs = Array(repeating: 0, count: 1024)
        for (index, secret) in secrets.enumerated() {
            byFirstByte[Int(secret.literal[0])].append(index)
            mayBegin[Int(secret.literal[0])] = true
            let pair = Int(secret.literal[0]) << 8 | Int(secret.literal.count > 1 ? secret.literal[1] : 0)
            literalPairs[pair >> 6] |= 1 << UInt64(pair & 63)
        }
        if !secrets.isEmpty {
            for byte in EncodedSecret.escapeStarts { mayBegin[Int(byte)] = true }
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
    public var isEmpty: Bool { secrets.isEmpty }

    /// `text` with `secrets` hidden, for values used once (a delivery attempt's signature). Building a
    /// scrubber costs tens of microseconds, as much as a delivery on loopback, so it is built only when
    /// the text could hold one: a literal occurrence, or a byte that every re-encoded spelling begins
    /// with (`%`, `\`, `+`). Otherwise no spelling of any of them can be in it.
    public static func scrubbing(_ text: String, once secrets: [String]) -> String {
        let bytes = Array(text.utf8)
        let mayBeEncoded = bytes.contains { EncodedSecret.escapeStarts.contains($0) }
        if !mayBeEncoded && !secrets.contains(where: { $0.count >= minimumLength && bytes.firstIndex(of: Array($0.utf8), from: 0) != nil }) {
            return text
        }
        return SecretScrubber(secrets: secrets).scrub(text)
    }

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
        for secret in webhook.signingSecrets { values += SigningSecret.hiddenForms(secret) }
        // The whole URI only when masking changes it (userinfo, a query, or no parse): a URI that holds no
        // secret is shown as it is, in text and JSON alike, as plans and `list` show it.
        if Redaction.maskURI(webhook.serviceUri) != webhook.serviceUri { values.append(webhook.serviceUri) }
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
    /// ends where a combining mark begins, and the bytes would then go out unmasked. A match begins at an
    /// ASCII byte or a character's first byte and ends after a whole character, so replacing it inside
    /// valid UTF-8 always leaves valid UTF-8.
    ///
    /// One pass: at each position that may begin a secret, the longest secret found there is replaced
    /// and the scan continues after it.
    public func scrub(_ text: String) -> String {
        guard !secrets.isEmpty else { return text }
        var text = text
        let scrubbed = text.withUTF8 { bytes -> String? in
            var output: [UInt8] = []
            var copied = 0  // bytes[..<copied] are in output (once there is a match)
            var found = false
            var index = 0
            while index < bytes.count {
                guard mayBegin[Int(bytes[index])], let end = longestMatch(bytes, at: index) else {
                    index += 1
                    continue
                }
                if !found {
                    output.reserveCapacity(bytes.count)
                    found = true
                }
                output.append(contentsOf: bytes[copied..<index])
                output.append(contentsOf: Self.replacement)
                index = end
                copied = end
            }
            guard found else { return nil }  // nothing found: the text as it is, no copy
            output.append(contentsOf: bytes[copied...])
            return String(decoding: output, as: UTF8.self)
        }
        return scrubbed ?? text
    }

    /// The end of the longest secret that begins at `index`, if any does.
    private func longestMatch(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Int? {
        let byte = bytes[index]
        if !EncodedSecret.escapeStarts.contains(byte) {
            // Every secret is at least two bytes long: the next byte is its second literal byte or begins an escape.
            guard index + 1 < bytes.count else { return nil }
            let next = bytes[index + 1]
            let pair = Int(byte) << 8 | Int(next)
            if literalPairs[pair >> 6] & (1 << UInt64(pair & 63)) == 0 && !EncodedSecret.escapeStarts.contains(next) { return nil }
        }
        var best: Int?
        if EncodedSecret.escapeStarts.contains(byte) {
            for secret in secrets {
                if let end = secret.match(bytes, from: index), end > (best ?? index) { best = end }
            }
        } else {
            for candidate in byFirstByte[Int(byte)] {
                if let end = secrets[candidate].match(bytes, from: index), end > (best ?? index) { best = end }
            }
        }
        return best
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

/// A small, strict parser for the absolute `http`/`https` URLs webhooks are delivered to.
///
/// Written here rather than taken from Foundation's `URL` because the rules must be the same on every
/// platform, and because masking a secret-bearing URI must work even for text `URL` refuses.
public struct ServiceURI: Hashable, Sendable {
    public var scheme: String
    public var userinfo: String?
    public var host: String
    public var port: Int?
    public var path: String
    public var query: String?
    public var fragment: String?

    /// The most characters a service URI may have.
    public static let maxLength = 2048

    /// Why a string is not a usable service URI. Messages never contain the URI itself.
    public enum Problem: Error, Hashable, Sendable {
        case whitespace
        case notAbsolute
        case unsupportedScheme(String)
        case missingHost
        case invalidHost
        case invalidPort
        case fragment
        case tooLong(Int)

        public var message: String {
            switch self {
            case .whitespace: "contains whitespace or a control character; percent-encode it (%20)"
            case .notAbsolute: "is not an absolute URL; write it as https://host/path"
            case .unsupportedScheme(let scheme): "uses the scheme '\(scheme)'; only https (or http) is supported"
            case .missingHost: "has no host; write it as https://host/path"
            case .invalidHost: "has an invalid host"
            case .invalidPort: "has an invalid port; use a number from 1 to 65535"
            case .fragment: "has a fragment ('#...'), which is never sent to the server; remove it"
            case .tooLong(let count): "is \(count) characters long; the limit is \(ServiceURI.maxLength)"
            }
        }
    }

    /// Parses `text`, or throws the first rule it breaks.
    public init(parsing text: String) throws(Problem) {
        let count = text.count
        if count > ServiceURI.maxLength { throw .tooLong(count) }
        if text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
            throw .whitespace
        }
        guard let colon = text.firstIndex(of: ":") else { throw .notAbsolute }
        let scheme = text[..<colon]
        guard let first = scheme.unicodeScalars.first, first.isASCIILetter,
            scheme.unicodeScalars.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || "+-.".unicodeScalars.contains($0) })
        else { throw .notAbsolute }
        let lowered = scheme.lowercased()
        guard lowered == "http" || lowered == "https" else { throw .unsupportedScheme(lowered) }
        var rest = text[text.index(after: colon)...]
        guard rest.hasPrefix("//") else { throw .missingHost }
        rest = rest.dropFirst(2)
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        rest = rest[authorityEnd...]
        var userinfo: String? = nil
        if let at = authority.lastIndex(of: "@") {
            userinfo = String(authority[..<at])
            authority = authority[authority.index(after: at)...]
        }
        var host = Substring(authority)
        var port: Int? = nil
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidHost }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidHost }
                port = try ServiceURI.port(after.dropFirst())
            }
        } else if let portColon = authority.lastIndex(of: ":") {
            host = authority[..<portColon]
            port = try ServiceURI.port(authority[authority.index(after: portColon)...])
        }
        if host.isEmpty { throw .missingHost }
        if !ServiceURI.isValidHost(host) { throw .invalidHost }
        var fragment: String? = nil
        if let hash = rest.firstIndex(of: "#") {
            fragment = String(rest[rest.index(after: hash)...])
            rest = rest[..<hash]
        }
        var query: String? = nil
        if let question = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: question)...])
            rest = rest[..<question]
        }
        if fragment != nil { throw .fragment }
        self.scheme = lowered
        self.userinfo = userinfo
        self.host = String(host)
        self.port = port
        self.path = String(rest)
        self.query = query
        self.fragment = fragment
    }

    private static func port(_ text: Substring) throws(Problem) -> Int? {
        if text.isEmpty { return nil }  // "host:" is allowed by RFC 3986 and means the default port
        guard text.count <= 5, text.unicodeScalars.allSatisfy(\.isASCIIDigit), let value = Int(text), (1...65535).contains(value)
        else { throw .invalidPort }
        return value
    }

    private static func isValidHost(_ host: Substring) -> Bool {
        if host.hasPrefix("[") {
            return host.hasSuffix("]") && host.count > 2
                && host.dropFirst().dropLast().unicodeScalars.allSatisfy { $0.isASCIIDigit || "abcdefABCDEF:.".unicodeScalars.contains($0) }
        }
        // Registered names and IPv4: unreserved and sub-delims and percent-encoding (RFC 3986 §3.2.2);
        // non-ASCII (IDN) is left to the resolver.
        return host.unicodeScalars.allSatisfy { scalar in
            scalar.value >= 0x80 || scalar.isASCIILetter || scalar.isASCIIDigit || "-._~%!$&'()*+,;=".unicodeScalars.contains(scalar)
        }
    }

    /// True for hosts that only this machine can reach (for allowing plain http to local test servers).
    public var isLoopback: Bool {
        let host = host.lowercased()
        return host == "localhost" || host.hasPrefix("127.") || host == "[::1]"
    }

    /// The URI with userinfo and query hidden, as every output shows it: `https://hooks.example.com/acr?…`.
    public var masked: String {
        var text = "\(scheme)://\(host)"
        if let port { text += ":\(port)" }
        text += path
        if query != nil { text += "?…" }
        return text
    }
}

/// Masking of secret values for every output: plans, logs, errors.
public enum Redaction {
    /// What a custom header value is shown as.
    public static let sensitiveValue = "(sensitive value)"

    /// A service URI without userinfo and query; text that does not parse is hidden whole,
    /// because an unparseable URI may still carry a key.
    public static func maskURI(_ text: String) -> String {
        if let uri = try? ServiceURI(parsing: text) { return uri.masked }
        // A fragment is refused by the parser but harmless to show without it.
        if let hashless = text.split(separator: "#", maxSplits: 1).first.map(String.init),
            hashless != text, let uri = try? ServiceURI(parsing: hashless)
        {
            return uri.masked
        }
        return "(unparseable URI hidden)"
    }
}

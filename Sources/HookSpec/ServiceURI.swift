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
        // Characters are counted only when the byte count could exceed the limit (a character is at least one byte).
        if text.utf8.count > ServiceURI.maxLength {
            let count = text.count
            if count > ServiceURI.maxLength { throw .tooLong(count) }
        }
        var isASCII = true
        for byte in text.utf8 {
            if byte <= 0x20 || byte == 0x7F { throw .whitespace }
            if byte >= 0x80 { isASCII = false }
        }
        if !isASCII, text.unicodeScalars.contains(where: { $0.properties.isWhitespace }) {
            throw .whitespace
        }
        // Every delimiter is ASCII, so the UTF-8 bytes can be split without ever cutting a character.
        let bytes = Array(text.utf8)
        func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        func isASCIILetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") }
        func isASCIIDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > 0, isASCIILetter(bytes[0]),
            bytes[..<colon].allSatisfy({ isASCIILetter($0) || isASCIIDigit($0) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") })
        else { throw .notAbsolute }
        let lowered = string(0..<colon).lowercased()
        guard lowered == "http" || lowered == "https" else { throw .unsupportedScheme(lowered) }
        guard bytes.count >= colon + 3, bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/")
        else { throw .missingHost }
        let authorityStart = colon + 3
        let authorityEnd = bytes[authorityStart...].firstIndex {
            $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#")
        } ?? bytes.count
        var hostStart = authorityStart
        var userinfo: String? = nil
        if let at = bytes[authorityStart..<authorityEnd].lastIndex(of: UInt8(ascii: "@")) {
            userinfo = string(authorityStart..<at)
            hostStart = at + 1
        }
        var hostEnd = authorityEnd
        var port: Int? = nil
        if hostStart < authorityEnd, bytes[hostStart] == UInt8(ascii: "[") {
            guard let close = bytes[hostStart..<authorityEnd].firstIndex(of: UInt8(ascii: "]")) else { throw .invalidHost }
            hostEnd = close + 1
            if hostEnd < authorityEnd {
                guard bytes[hostEnd] == UInt8(ascii: ":") else { throw .invalidHost }
                port = try ServiceURI.port(Substring(string((hostEnd + 1)..<authorityEnd)))
            }
        } else if let portColon = bytes[hostStart..<authorityEnd].lastIndex(of: UInt8(ascii: ":")) {
            hostEnd = portColon
            port = try ServiceURI.port(Substring(string((portColon + 1)..<authorityEnd)))
        }
        let host = Substring(string(hostStart..<hostEnd))
        if host.isEmpty { throw .missingHost }
        if !ServiceURI.isValidHost(host) { throw .invalidHost }
        var pathEnd = bytes.count
        var fragment: String? = nil
        if let hash = bytes[authorityEnd...].firstIndex(of: UInt8(ascii: "#")) {
            fragment = string((hash + 1)..<bytes.count)
            pathEnd = hash
        }
        var query: String? = nil
        if let question = bytes[authorityEnd..<pathEnd].firstIndex(of: UInt8(ascii: "?")) {
            query = string((question + 1)..<pathEnd)
            pathEnd = question
        }
        if fragment != nil { throw .fragment }
        self.scheme = lowered
        self.userinfo = userinfo
        self.host = String(host)
        self.port = port
        self.path = string(authorityEnd..<pathEnd)
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

    /// True for hosts that only this machine can reach (for allowing plain http to local test servers):
    /// `localhost`, `[::1]`, and 127.0.0.0/8 written as four decimal octets. A name that merely starts
    /// with "127." (`127.0.0.1.nip.io`, `127.evil.com`) resolves wherever its owner likes, so it is not.
    public var isLoopback: Bool {
        let host = host.lowercased()
        if host == "localhost" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets[0] == "127" else { return false }
        return octets.allSatisfy { octet in
            (1...3).contains(octet.utf8.count) && octet.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && (Int(octet) ?? 256) <= 255
        }
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

    /// Whether a custom header's value is a secret. Every one is but `Content-Type`, which only says how
    /// the body is encoded: plans, exports and logs all show it, and the scrubber does not hunt for it.
    public static func isSecretHeader(_ name: String) -> Bool { name.lowercased() != "content-type" }

    /// Secrets shorter than this cannot be hidden by searching for them in free text (a receiver's
    /// echo, an error message): `validate` warns about them.
    public static let minimumScrubbableLength = 4

    /// The common case without parsing (a saved plan masks every observed webhook's URI, 50,000 of them
    /// at scale): lowercase `http(s)://`, a host of letters, digits, `.`, `-`, `_` or `~` with no port or
    /// userinfo, and printable ASCII after it without a fragment. Then the masked form is the text up to
    /// the query, exactly what parsing gives; anything else returns nil and is parsed.
    static func maskedSimply(_ text: String) -> String? {
        let result = text.utf8.withContiguousStorageIfAvailable { bytes -> (Int?, Bool)? in
            guard bytes.count <= ServiceURI.maxLength else { return nil }
            let start: Int
            if bytes.starts(with: "https://".utf8) { start = 8 } else if bytes.starts(with: "http://".utf8) { start = 7 } else { return nil }
            var index = start
            while index < bytes.count, bytes[index] != UInt8(ascii: "/"), bytes[index] != UInt8(ascii: "?") {
                let byte = bytes[index]
                let isHostByte = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
                guard isHostByte else { return nil }
                index += 1
            }
            guard index > start else { return nil }
            var query: Int? = nil
            while index < bytes.count {
                let byte = bytes[index]
                guard byte > 0x20, byte < 0x7F, byte != UInt8(ascii: "#") else { return nil }
                if byte == UInt8(ascii: "?"), query == nil { query = index }
                index += 1
            }
            return (query, true)
        }
        guard let found = result ?? nil else { return nil }
        guard let query = found.0 else { return text }
        return String(decoding: text.utf8.prefix(query), as: UTF8.self) + "?…"
    }

    /// A service URI without userinfo and query; text that does not parse is hidden whole,
    /// because an unparseable URI may still carry a key.
    public static func maskURI(_ text: String) -> String {
        maskedSimply(text) ?? maskedByParsing(text)
    }

    static func maskedByParsing(_ text: String) -> String {
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

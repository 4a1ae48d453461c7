/// Where a request goes: host, port and request target, plus the userinfo a URI may carry for Basic
/// authentication. Built by callers from their own URI type; this layer parses no URIs.
public struct HTTPEndpoint: Hashable, Sendable {
    /// A DNS name, an IPv4 literal or a bracketed IPv6 literal, as written in the URI.
    public var host: String
    /// nil: 80.
    public var port: Int?
    /// The path and query (`/hooks?code=…`); empty means `/`.
    public var target: String
    /// `user:password`, percent-encoded as in the URI; sent as Basic authentication unless the caller
    /// sets an Authorization header of its own.
    public var userinfo: String?

    public init(host: String, port: Int? = nil, target: String = "/", userinfo: String? = nil) {
        self.host = host
        self.port = port
        self.target = target
        self.userinfo = userinfo
    }

    /// The `Host` header's value.
    var hostHeader: String { host + (port.map { ":\($0)" } ?? "") }
}

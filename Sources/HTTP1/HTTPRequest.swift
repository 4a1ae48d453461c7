import HookKit

/// One HTTP/1.1 request as received.
public struct HTTPRequest: Hashable, Sendable {
    public var method: HTTPMethod
    public var target: String
    public var version: String
    /// In order; names as sent (compare case-insensitively with ``header(_:)``).
    public var headers: [ResolvedHeaderLine]
    public var body: [UInt8]

    public init(method: HTTPMethod, target: String, version: String = "HTTP/1.1", headers: [ResolvedHeaderLine], body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// The first field named `name`, compared case-insensitively (field names are ASCII tokens, so
    /// byte by byte, without lowercased copies: serve looks up several fields per request).
    public func header(_ name: String) -> String? {
        headers.first { ASCII.equalIgnoringCase($0.name.utf8, name.utf8) }?.value
    }

    /// HTTP/1.1 keeps the connection unless the client says close; HTTP/1.0 closes unless it says keep-alive.
    public var keepsAlive: Bool {
        let connection = header("Connection")?.lowercased() ?? ""
        return version == "HTTP/1.1" ? !connection.contains("close") : connection.contains("keep-alive")
    }
}

/// One header field as it came: the name as sent, the value without surrounding whitespace.
public struct ResolvedHeaderLine: Hashable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

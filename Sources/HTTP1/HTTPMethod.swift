/// A request method. The ones this project routes on are cases; any other token a client sends is
/// kept in ``other(_:)`` so the server can answer 405 naming what it allows.
public enum HTTPMethod: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    case get
    case head
    case post
    case put
    case patch
    case delete
    case options
    case other(String)

    /// Methods are case-sensitive tokens (RFC 9110 §9.1): `get` is not `GET`.
    public init(_ token: String) {
        switch token {
        case "GET": self = .get
        case "HEAD": self = .head
        case "POST": self = .post
        case "PUT": self = .put
        case "PATCH": self = .patch
        case "DELETE": self = .delete
        case "OPTIONS": self = .options
        default: self = .other(token)
        }
    }

    public init(stringLiteral token: String) { self.init(token) }

    public var rawValue: String {
        switch self {
        case .get: "GET"
        case .head: "HEAD"
        case .post: "POST"
        case .put: "PUT"
        case .patch: "PATCH"
        case .delete: "DELETE"
        case .options: "OPTIONS"
        case .other(let token): token
        }
    }

    public var description: String { rawValue }
}

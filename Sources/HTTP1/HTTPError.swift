/// A failure of the HTTP layer itself (not a status a peer answered): the listener could not be set up.
public struct HTTPError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        /// No socket could be created.
        case socket
        /// The listen address is not one this server can bind (not an IPv4 literal).
        case address
        /// bind or listen failed (the port is taken, no permission).
        case listen
    }

    public var code: Code
    public var message: String

    public static func socket(_ reason: String) -> HTTPError { HTTPError(code: .socket, message: "cannot create a socket: \(reason)") }
    public static func address(_ host: String) -> HTTPError {
        HTTPError(code: .address, message: "'\(host)' is not an IPv4 address; use for example 127.0.0.1")
    }
    public static func listen(_ host: String, _ port: UInt16, _ reason: String) -> HTTPError {
        HTTPError(code: .listen, message: "cannot listen on \(host):\(port): \(reason)")
    }

    public var description: String { message }
}

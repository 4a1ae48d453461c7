import HTTP1
import HookSpec

/// How a delivery's bytes reach a receiver. ``WebhookDelivery`` picks the first transport of its list
/// that can send to a webhook: the socket client for `http://`, URLSession for everything else (TLS
/// needs a library this project does not take). A new transport (HTTP/2, a TLS client) goes here.
///
/// `send` blocks its thread until the answer or the deadline; callers run it on a thread of their own
/// (serve's delivery lanes, or ``BlockingBridge``), never on Swift's cooperative pool.
public protocol DeliveryTransport: Sendable {
    func canSend(to uri: ServiceURI) -> Bool
    func send(_ request: OutgoingDelivery, timeout: Double, keptBody: Int) -> TransportOutcome
}

/// One POST as a transport sends it: secrets in clear, so it never leaves the delivery layer.
public struct OutgoingDelivery: Sendable {
    /// The service URI as written in the spec.
    public var uri: String
    /// Parsed, when it parses.
    public var parsed: ServiceURI?
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(uri: String, parsed: ServiceURI?, headers: [(name: String, value: String)], body: [UInt8]) {
        self.uri = uri
        self.parsed = parsed
        self.headers = headers
        self.body = body
    }
}

/// What a transport got back: a response (body cut to what the log keeps), or why there is none.
public enum TransportOutcome: Sendable {
    case response(status: Int, headers: [(String, String)], body: [UInt8], truncated: Bool)
    /// A short reason that never quotes the URI.
    case failure(String)
}

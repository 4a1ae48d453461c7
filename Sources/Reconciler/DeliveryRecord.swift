/// One delivery attempt as logged: the request and the response or transport error. Secrets masked.
public struct DeliveryRecord: Hashable, Sendable, Codable {
    public struct Request: Hashable, Sendable, Codable {
        public var method: String
        /// Masked: no userinfo, no query.
        public var uri: String
        /// Custom header values masked.
        public var headers: [String: String]
        public var body: String

        public init(method: String, uri: String, headers: [String: String], body: String) {
            self.method = method
            self.uri = uri
            self.headers = headers
            self.body = body
        }
    }

    public struct Response: Hashable, Sendable, Codable {
        public var status: Int
        public var headers: [String: String]
        /// At most 4 KiB; `bodyTruncated` says when more was cut.
        public var body: String
        public var bodyTruncated: Bool

        public init(status: Int, headers: [String: String], body: String, bodyTruncated: Bool) {
            self.status = status
            self.headers = headers
            self.body = body
            self.bodyTruncated = bodyTruncated
        }
    }

    /// The event id (the ping's `id`).
    public var id: String
    public var webhook: String
    public var action: String
    /// RFC 3339.
    public var timestamp: String
    public var request: Request
    public var response: Response?
    /// The transport error when there is no response (refused, timed out, …).
    public var error: String?
    public var durationMilliseconds: Int
    /// Which attempt this was, for deliveries that are retried (1 for a ping).
    public var attempt: Int
    /// True on the last attempt of a delivery that failed: nothing more will be tried.
    public var gaveUp: Bool?
    /// What the event is about: `repository:tag`, or `repository@digest` for a delete (serve's deliveries).
    public var subject: String?

    public init(
        id: String, webhook: String, action: String, timestamp: String, request: Request, response: Response?,
        error: String?, durationMilliseconds: Int, attempt: Int = 1
    ) {
        self.id = id
        self.webhook = webhook
        self.action = action
        self.timestamp = timestamp
        self.request = request
        self.response = response
        self.error = error
        self.durationMilliseconds = durationMilliseconds
        self.attempt = attempt
    }

    /// The most response body a record keeps, whichever provider made it.
    public static let maxResponseBody = 4096
    /// How much more than ``maxResponseBody`` a transport keeps, so that a secret that starts before the
    /// limit is still whole when the body is scrubbed (then cut): the longest form of a secret (a 2,048
    /// character service URI, percent-encoded or JSON-escaped) fits in it.
    public static let scrubMargin = 64 * 1024

    /// True when the endpoint answered 2xx.
    public var isSuccess: Bool { response.map { (200..<300).contains($0.status) } ?? false }
}

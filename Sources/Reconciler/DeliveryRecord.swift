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

        // JSON keys are snake_case, as in every output; logs written before read back too.
        enum CodingKeys: String, CodingKey {
            case status, headers, body
            case bodyTruncated = "body_truncated"
            case legacyBodyTruncated = "bodyTruncated"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            status = try container.decode(Int.self, forKey: .status)
            headers = try container.decode([String: String].self, forKey: .headers)
            body = try container.decode(String.self, forKey: .body)
            bodyTruncated = try container.decodeIfPresent(Bool.self, forKey: .bodyTruncated)
                ?? container.decode(Bool.self, forKey: .legacyBodyTruncated)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(status, forKey: .status)
            try container.encode(headers, forKey: .headers)
            try container.encode(body, forKey: .body)
            try container.encode(bodyTruncated, forKey: .bodyTruncated)
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

    enum CodingKeys: String, CodingKey {
        case id, webhook, action, timestamp, request, response, error, attempt, subject
        case durationMilliseconds = "duration_ms"
        case gaveUp = "gave_up"
        case legacyDurationMilliseconds = "durationMilliseconds"
        case legacyGaveUp = "gaveUp"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        webhook = try container.decode(String.self, forKey: .webhook)
        action = try container.decode(String.self, forKey: .action)
        timestamp = try container.decode(String.self, forKey: .timestamp)
        request = try container.decode(Request.self, forKey: .request)
        response = try container.decodeIfPresent(Response.self, forKey: .response)
        error = try container.decodeIfPresent(String.self, forKey: .error)
        // Event logs written before the keys were snake_case still read.
        durationMilliseconds = try container.decodeIfPresent(Int.self, forKey: .durationMilliseconds)
            ?? container.decode(Int.self, forKey: .legacyDurationMilliseconds)
        attempt = try container.decode(Int.self, forKey: .attempt)
        gaveUp = try container.decodeIfPresent(Bool.self, forKey: .gaveUp) ?? container.decodeIfPresent(Bool.self, forKey: .legacyGaveUp)
        subject = try container.decodeIfPresent(String.self, forKey: .subject)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(webhook, forKey: .webhook)
        try container.encode(action, forKey: .action)
        try container.encode(timestamp, forKey: .timestamp)
        try container.encode(request, forKey: .request)
        try container.encodeIfPresent(response, forKey: .response)
        try container.encodeIfPresent(error, forKey: .error)
        try container.encode(durationMilliseconds, forKey: .durationMilliseconds)
        try container.encode(attempt, forKey: .attempt)
        try container.encodeIfPresent(gaveUp, forKey: .gaveUp)
        try container.encodeIfPresent(subject, forKey: .subject)
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

extension DeliveryRecord {
    /// The record with only what delivery health reads: id, attempt, time and status (or that it failed).
    public var outcomeOnly: DeliveryRecord {
        DeliveryRecord(id: id, webhook: webhook, action: action, timestamp: timestamp,
                       request: Request(method: request.method, uri: "", headers: [:], body: ""),
                       response: response.map { Response(status: $0.status, headers: [:], body: "", bodyTruncated: false) },
                       error: error == nil ? nil : "failed", durationMilliseconds: durationMilliseconds, attempt: attempt)
    }
}

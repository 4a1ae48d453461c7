/// A response as ``PlainHTTPClient`` returns it: the status, the headers, and the start of the body
/// (a delivery log keeps only a few KiB of what a receiver answers).
public struct HTTPClientResponse: Hashable, Sendable {
    public var status: HTTPStatus
    public var version: String
    /// In order, names as sent.
    public var headers: [ResolvedHeaderLine]
    /// The first ``HTTPResponseParser/keptBody`` bytes of the body.
    public var body: [UInt8]
    /// The body was longer than what was kept.
    public var bodyTruncated: Bool
    /// The connection can carry another request: the server keeps it alive and the body was framed
    /// (by Content-Length or chunked) and read to its end.
    public var reusable: Bool
}

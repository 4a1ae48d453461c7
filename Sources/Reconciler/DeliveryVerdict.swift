/// What a test delivery (`hookapply verify`) says about a webhook's receiver, as a closed set a script
/// and an alert can key on.
public enum DeliveryVerdict: String, Hashable, Sendable, CaseIterable, Codable {
    /// 2xx.
    case ok
    /// Another 4xx (or a 3xx, which registries do not follow): some receivers refuse pings by design
    /// (Keel answers 400 to an event without a tag). A failure only with `--strict`.
    case refused
    /// 401 or 403: the receiver wants credentials the webhook does not send.
    case unauthorized
    /// 404: the URI's path names nothing on the receiver.
    case notFound = "not-found"
    /// 5xx.
    case serverError = "server-error"
    /// No answer within the time allowed, or the registry logged no delivery in time.
    case timeout
    /// Refused connection, unknown host, TLS failure, an answer that is not HTTP.
    case transportError = "transport-error"
    /// The registry holds no such webhook: apply the spec first.
    case missing
    /// Disabled in the spec: not pinged.
    case skipped

    /// The verdict of one logged delivery.
    public init(_ record: DeliveryRecord) {
        guard let response = record.response else {
            self = (record.error ?? "").contains("timed out") ? .timeout : .transportError
            return
        }
        switch response.status {
        case 200..<300: self = .ok
        case 401, 403: self = .unauthorized
        case 404: self = .notFound
        case 500..<600: self = .serverError
        default: self = .refused
        }
    }

    /// Whether it fails `verify` (exit 1); `refused` does only with `--strict`.
    public func fails(strict: Bool) -> Bool {
        switch self {
        case .ok, .skipped: false
        case .refused: strict
        case .unauthorized, .notFound, .serverError, .timeout, .transportError, .missing: true
        }
    }
}

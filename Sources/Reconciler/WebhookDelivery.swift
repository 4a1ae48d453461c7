import Foundation

#if canImport(Glibc)
import Glibc
#endif
import HookSpec

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// POSTs an event to a webhook the way ACR does: the custom headers, `Content-Type: application/json`
/// unless a custom one is set, a 5-second timeout; and records the attempt with secrets masked.
public struct WebhookDelivery: Sendable {
    /// ACR gives a receiver 5 seconds.
    public var timeout: Double
    /// The most response body kept in the log.
    public static let maxLoggedBody = 4096
    /// One session for every `https://` delivery, so connections to a receiver are reused.
    private let session: URLSession
    /// Every `http://` delivery: kept-alive connections, about a tenth of URLSession's CPU per request.
    private let plain: PlainHTTPClient
    public init(timeout: Double = 5) {
        self.timeout = timeout
        self.session = WebhookDelivery.sharedSession(timeout: timeout)
        self.plain = PlainHTTPClient()
    }

    /// Sends `body` (an event's JSON) and returns the logged record; never throws: a transport failure is recorded.
    public func send(_ body: [UInt8], to webhook: WebhookState, eventID: String, action: String, attempt: Int = 1) async -> DeliveryRecord {
        let prepared = Attempt(body: body, target: Target(webhook), eventID: eventID, action: action, attempt: attempt)
        if let uri = prepared.plainURI {
            // The socket client blocks: off the cooperative pool.
            let box = RecordBox()
            let delivery = self
            await BlockingBridge.onOwnThread { box.record = delivery.sendPlain(prepared, to: uri) }
            return box.record ?? prepared.failure("no answer was recorded")
        }
        return await sendThroughURLSession(prepared)
    }

    /// ``send(_:to:eventID:action:attempt:)`` for a caller on its own thread (serve's delivery lanes),
    /// without a hop per delivery. Never call it from Swift's cooperative pool: it blocks.
    public func sendBlocking(_ body: [UInt8], to target: Target, eventID: String, action: String, attempt: Int = 1) -> DeliveryRecord {
        let prepared = Attempt(body: body, target: target, eventID: eventID, action: action, attempt: attempt)
        if let uri = prepared.plainURI { return sendPlain(prepared, to: uri) }
        let box = RecordBox()
        let delivery = self
        BlockingBridge.wait { box.record = await delivery.sendThroughURLSession(prepared) }
        return box.record ?? prepared.failure("no answer was recorded")
    }

    /// What every delivery to one webhook shares, worked out once: the secrets to scrub, the headers to
    /// send and to log, the masked URI, and whether the socket client can send it. A lane of `serve`
    /// builds it once per drain rather than once per event.
    public struct Target: Sendable {
        public var webhook: WebhookState
        var scrubber: SecretScrubber
        var sentHeaders: [(name: String, value: String)] = []
        var loggedHeaders: [String: String] = [:]
        var maskedURI: String
        /// Set when the plain socket client can send it.
        var plainURI: ServiceURI?

        public init(_ webhook: WebhookState) {
            self.webhook = webhook
            scrubber = SecretScrubber(webhook: webhook)
            var hasContentType = false
            for header in webhook.customHeaders {
                if header.name.lowercased() == "content-type" { hasContentType = true }
                loggedHeaders[header.name] = Redaction.sensitiveValue
                sentHeaders.append((header.name, header.value))
            }
            if !hasContentType {
                loggedHeaders["Content-Type"] = "application/json"
                sentHeaders.insert(("Content-Type", "application/json"), at: 0)
            }
            maskedURI = Redaction.maskURI(webhook.serviceUri)
            if let uri = try? ServiceURI(parsing: webhook.serviceUri), PlainHTTPClient.canSend(to: uri) { plainURI = uri }
        }
    }

    /// One attempt's request as logged (masked), and how its outcome becomes a record.
    struct Attempt: Sendable {
        var body: [UInt8]
        var target: Target
        var eventID: String
        var action: String
        var attempt: Int
        var request: DeliveryRecord.Request
        var timestamp: String
        var start: UInt64
        var webhook: WebhookState { target.webhook }
        var scrubber: SecretScrubber { target.scrubber }
        var sentHeaders: [(name: String, value: String)] { target.sentHeaders }
        var plainURI: ServiceURI? { target.plainURI }

        init(body: [UInt8], target: Target, eventID: String, action: String, attempt: Int) {
            self.body = body
            self.target = target
            self.eventID = eventID
            self.action = action
            self.attempt = attempt
            var loggedHeaders = target.loggedHeaders
            loggedHeaders["Content-Length"] = String(body.count)
            request = DeliveryRecord.Request(method: "POST", uri: target.maskedURI, headers: loggedHeaders,
                                             body: target.scrubber.scrub(String(decoding: body, as: UTF8.self)))
            timestamp = Timestamp.now()
            start = DispatchTime.now().uptimeNanoseconds
        }

        func elapsed() -> Int { Int((DispatchTime.now().uptimeNanoseconds - start) / 1_000_000) }

        func failure(_ message: String) -> DeliveryRecord {
            DeliveryRecord(id: eventID, webhook: webhook.name, action: action, timestamp: timestamp, request: request,
                           response: nil, error: scrubber.scrub(message), durationMilliseconds: elapsed(), attempt: attempt)
        }

        func success(status: Int, headers: [(String, String)], body: some Collection<UInt8>, truncated: Bool) -> DeliveryRecord {
            var logged: [String: String] = [:]
            for (name, value) in headers {
                let scrubbed = scrubber.scrub(value)
                logged[name] = logged[name].map { $0 + ", " + scrubbed } ?? scrubbed
            }
            let kept = String(decoding: body.prefix(WebhookDelivery.maxLoggedBody), as: UTF8.self)
            return DeliveryRecord(
                id: eventID, webhook: webhook.name, action: action, timestamp: timestamp, request: request,
                response: .init(status: status, headers: logged, body: scrubber.scrub(kept),
                                bodyTruncated: truncated || body.count > WebhookDelivery.maxLoggedBody),
                error: nil, durationMilliseconds: elapsed(), attempt: attempt)
        }
    }

    private func sendPlain(_ prepared: Attempt, to uri: ServiceURI) -> DeliveryRecord {
        switch plain.post(uri, headers: prepared.sentHeaders, body: prepared.body, timeout: timeout, keptBody: WebhookDelivery.maxLoggedBody) {
        case .success(let response):
            return prepared.success(status: response.status, headers: response.headers.map { ($0.name, $0.value) }, body: response.body,
                                    truncated: response.bodyTruncated)
        case .failure(let problem):
            return prepared.failure(problem.message(timeout: timeout))
        }
    }

    private func sendThroughURLSession(_ prepared: Attempt) async -> DeliveryRecord {
        guard let url = URL(string: prepared.webhook.serviceUri) else {
            return prepared.failure("the service URI is not a URL this platform can send to")
        }
        var urlRequest = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        urlRequest.httpMethod = "POST"
        for header in prepared.sentHeaders { urlRequest.setValue(header.value, forHTTPHeaderField: header.name) }
        urlRequest.httpBody = Data(prepared.body)
        do {
            let (data, response) = try await session.data(for: urlRequest)
            guard let http = response as? HTTPURLResponse else { return prepared.failure("the response was not HTTP") }
            let headers = http.allHeaderFields.map { (String(describing: $0.key), String(describing: $0.value)) }
            return prepared.success(status: http.statusCode, headers: headers, body: data, truncated: false)
        } catch let error as URLError {
            return prepared.failure(WebhookDelivery.describe(error, timeout: timeout))
        } catch {
            return prepared.failure("the request failed: \(error.localizedDescription)")
        }
    }

    /// Written once before the waiter resumes, read after.
    private final class RecordBox: @unchecked Sendable {
        var record: DeliveryRecord?
    }

    /// A short reason without the URL (URLError's description quotes it, query and all).
    static func describe(_ error: URLError, timeout: Double) -> String {
        switch error.code {
        case .timedOut: "no answer within \(Int(timeout)) seconds (timed out)"
        case .cannotConnectToHost: "connection refused"
        case .cannotFindHost, .dnsLookupFailed: "the host name did not resolve"
        case .networkConnectionLost: "the connection was closed before a response arrived"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateNotYetValid,
            .serverCertificateHasUnknownRoot:
            "the TLS connection failed (certificate or handshake)"
        case .notConnectedToInternet: "no network"
        default: "the request failed (URLError \(error.code.rawValue))"
        }
    }

    private static func sharedSession(timeout: Double) -> URLSession {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        return URLSession(configuration: configuration)
    }
}

/// RFC 3339 timestamps in UTC with fractional seconds, as ACR writes them.
public enum Timestamp {
    public static func now() -> String { format(Date()) }

    /// Formatted by hand: an ISO8601DateFormatter costs tens of microseconds to create, and `serve`
    /// stamps every delivery attempt.
    public static func format(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = time_t(interval.rounded(.down))
        let milliseconds = min(999, Int(((interval - Double(seconds)) * 1000).rounded(.down)))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(milliseconds), 3))Z"
    }
}

/// The events a registry POSTs, in ACR's shape.
public enum RegistryEvent {
    /// ACR's ping body: `{"id", "timestamp", "action": "ping"}`.
    public static func ping(id: String = UUID().uuidString.lowercased(), timestamp: String = Timestamp.now()) -> [UInt8] {
        let object: [String: String] = ["id": id, "timestamp": timestamp, "action": "ping"]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(object)) ?? Data())
    }
}

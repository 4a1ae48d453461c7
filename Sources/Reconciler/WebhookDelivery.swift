import Foundation
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
    /// One session for every delivery, so connections to a receiver are reused.
    private let session: URLSession

    public init(timeout: Double = 5) {
        self.timeout = timeout
        self.session = WebhookDelivery.sharedSession(timeout: timeout)
    }

    /// Sends `body` (an event's JSON) and returns the logged record; never throws: a transport failure is recorded.
    public func send(
        _ body: [UInt8], to webhook: WebhookState, eventID: String, action: String, attempt: Int = 1,
        session: URLSession? = nil
    ) async -> DeliveryRecord {
        let scrubber = SecretScrubber(webhook: webhook)
        let bodyText = String(decoding: body, as: UTF8.self)
        var loggedHeaders: [String: String] = [:]
        var hasContentType = false
        for header in webhook.customHeaders {
            if header.name.lowercased() == "content-type" { hasContentType = true }
            loggedHeaders[header.name] = Redaction.sensitiveValue
        }
        if !hasContentType { loggedHeaders["Content-Type"] = "application/json" }
        loggedHeaders["Content-Length"] = String(body.count)
        let request = DeliveryRecord.Request(method: "POST", uri: Redaction.maskURI(webhook.serviceUri), headers: loggedHeaders,
                                             body: scrubber.scrub(bodyText))
        let timestamp = Timestamp.now()
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Int { Int((DispatchTime.now().uptimeNanoseconds - start) / 1_000_000) }
        func failure(_ message: String) -> DeliveryRecord {
            DeliveryRecord(id: eventID, webhook: webhook.name, action: action, timestamp: timestamp, request: request,
                           response: nil, error: scrubber.scrub(message), durationMilliseconds: elapsed(), attempt: attempt)
        }
        guard let url = URL(string: webhook.serviceUri) else {
            return failure("the service URI is not a URL this platform can send to")
        }
        var urlRequest = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        urlRequest.httpMethod = "POST"
        if !hasContentType { urlRequest.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        for header in webhook.customHeaders { urlRequest.setValue(header.value, forHTTPHeaderField: header.name) }
        urlRequest.httpBody = Data(body)
        let session = session ?? self.session
        do {
            let (data, response) = try await session.data(for: urlRequest)
            guard let http = response as? HTTPURLResponse else { return failure("the response was not HTTP") }
            var headers: [String: String] = [:]
            for (key, value) in http.allHeaderFields {
                headers[String(describing: key)] = scrubber.scrub(String(describing: value))
            }
            let truncated = data.count > WebhookDelivery.maxLoggedBody
            let kept = String(decoding: data.prefix(WebhookDelivery.maxLoggedBody), as: UTF8.self)
            return DeliveryRecord(
                id: eventID, webhook: webhook.name, action: action, timestamp: timestamp, request: request,
                response: .init(status: http.statusCode, headers: headers, body: scrubber.scrub(kept), bodyTruncated: truncated),
                error: nil, durationMilliseconds: elapsed(), attempt: attempt)
        } catch let error as URLError {
            return failure(WebhookDelivery.describe(error, timeout: timeout))
        } catch {
            return failure("the request failed: \(error.localizedDescription)")
        }
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

    public static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
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

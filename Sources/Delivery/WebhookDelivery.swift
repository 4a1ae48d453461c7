import Dispatch
import HookKit
import HookSpec
import Reconciler

/// POSTs an event to a webhook the way ACR does: the custom headers, `Content-Type: application/json`
/// unless a custom one is set, a 5-second timeout; and records the attempt with secrets masked.
///
/// The bytes go through the first of ``transports`` that can send to the webhook's URI.
public struct WebhookDelivery: Sendable {
    /// ACR gives a receiver 5 seconds.
    public var timeout: Double
    /// Tried in order; the last should take any URI.
    public var transports: [any DeliveryTransport]
    /// Values hidden from every record besides the webhook's own secrets: the spec's raw `${env:…}`
    /// values, which may sit where nothing else is secret (a path segment).
    public var hiddenValues: [String]
    /// Targets already worked out, by webhook: a target's scrubber knows every form of every secret, which
    /// costs more to build than a delivery on loopback takes, and serve drains the same webhooks over and over.
    private let cache = TargetCache()

    final class TargetCache: Sendable {
        private let targets = Locked<[WebhookState: Target]>([:])
        /// Enough for every webhook of the largest registry; past it, the cache starts over.
        static let capacity = 1024

        func target(_ webhook: WebhookState, make: () -> Target) -> Target {
            if let found = targets.withLock({ $0[webhook] }) { return found }
            let made = make()
            targets.withLock { targets in
                if targets.count >= Self.capacity { targets.removeAll(keepingCapacity: true) }
                targets[webhook] = made
            }
            return made
        }
    }

    public init(timeout: Double = 5, transports: [any DeliveryTransport]? = nil, hiddenValues: [String] = []) {
        self.timeout = timeout
        self.transports = transports ?? [SocketTransport(), URLSessionTransport(timeout: timeout)]
        self.hiddenValues = hiddenValues
    }

    /// Sends `body` (an event's JSON) and returns the logged record; never throws: a transport failure is recorded.
    public func send(_ body: [UInt8], to webhook: WebhookState, eventID: String, action: String, attempt: Int = 1) async -> DeliveryRecord {
        let target = self.target(webhook)
        let record = Locked<DeliveryRecord?>(nil)
        let delivery = self
        // Transports block: off the cooperative pool.
        await BlockingBridge.onOwnThread {
            record.set(delivery.sendBlocking(body, to: target, eventID: eventID, action: action, attempt: attempt))
        }
        return record.value ?? Attempt(body: body, target: target, eventID: eventID, action: action, attempt: attempt)
            .failure("no answer was recorded")
    }

    /// ``send(_:to:eventID:action:attempt:)`` for a caller on its own thread (serve's delivery lanes),
    /// without a hop per delivery. Never call it from Swift's cooperative pool: it blocks.
    public func sendBlocking(_ body: [UInt8], to target: Target, eventID: String, action: String, attempt: Int = 1) -> DeliveryRecord {
        let prepared = Attempt(body: body, target: target, eventID: eventID, action: action, attempt: attempt)
        let request = OutgoingDelivery(uri: target.webhook.serviceUri, parsed: target.uri, headers: target.sentHeaders, body: body)
        guard let transport = target.transport else { return prepared.failure("no transport can send to this service URI") }
        switch transport.send(request, timeout: timeout, keptBody: DeliveryRecord.maxResponseBody + DeliveryRecord.scrubMargin) {
        case .response(let status, let headers, let body, let truncated):
            return prepared.success(status: status, headers: headers, body: body, truncated: truncated)
        case .failure(let reason):
            return prepared.failure(reason)
        }
    }

    /// What every delivery to one webhook shares, worked out once (``target(_:)``): the secrets to scrub,
    /// the headers to send and to log, the masked URI, and the transport that sends it. A lane of `serve`
    /// builds it once per drain rather than once per event.
    public func target(_ webhook: WebhookState) -> Target {
        cache.target(webhook) {
            var target = Target(webhook, hiddenValues: hiddenValues)
            target.transport = target.uri.flatMap { uri in transports.first { $0.canSend(to: uri) } } ?? transports.last
            return target
        }
    }

    public struct Target: Sendable {
        public var webhook: WebhookState
        var scrubber: SecretScrubber
        var sentHeaders: [(name: String, value: String)] = []
        var loggedHeaders: [String: String] = [:]
        var maskedURI: String
        /// Parsed once; nil when it does not parse (the last transport then reports why).
        var uri: ServiceURI?
        /// The first of the delivery's transports that takes ``uri``.
        var transport: (any DeliveryTransport)?

        fileprivate init(_ webhook: WebhookState, hiddenValues: [String]) {
            self.webhook = webhook
            scrubber = SecretScrubber(webhook: webhook, also: hiddenValues)
            var hasContentType = false
            var hasUserAgent = false
            for header in webhook.customHeaders {
                if header.name.lowercased() == "content-type" { hasContentType = true }
                if header.name.lowercased() == "user-agent" { hasUserAgent = true }
                loggedHeaders[header.name] = Redaction.isSecretHeader(header.name) ? Redaction.sensitiveValue : header.value
                sentHeaders.append((header.name, header.value))
            }
            if !hasContentType {
                loggedHeaders["Content-Type"] = "application/json"
                sentHeaders.insert(("Content-Type", "application/json"), at: 0)
            }
            // ACR's agent, so that receivers built for ACR take the delivery; a webhook's own User-Agent wins.
            if !hasUserAgent {
                loggedHeaders["User-Agent"] = Product.deliveryUserAgent
                sentHeaders.append(("User-Agent", Product.deliveryUserAgent))
            }
            maskedURI = scrubber.scrub(Redaction.maskURI(webhook.serviceUri))
            uri = try? ServiceURI(parsing: webhook.serviceUri)
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
            // Scrubbed whole, then cut: a secret crossing the limit must not leave its first half behind.
            let kept = scrubber.scrub(String(decoding: body, as: UTF8.self), keepingBytes: DeliveryRecord.maxResponseBody)
            return DeliveryRecord(
                id: eventID, webhook: webhook.name, action: action, timestamp: timestamp, request: request,
                response: .init(status: status, headers: logged, body: kept.text, bodyTruncated: truncated || kept.truncated),
                error: nil, durationMilliseconds: elapsed(), attempt: attempt)
        }
    }
}

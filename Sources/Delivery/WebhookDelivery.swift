import Dispatch
import Glibc
import HookKit
import HookSpec
import Reconciler

/// POSTs an event to a webhook the way ACR does: the custom headers, `Content-Type: application/json`
/// unless a custom one is set, a 5-second timeout; and records the attempt with secrets masked.
/// Beyond ACR, for a local registry's webhooks: the event as a CloudEvent (``CloudEvent``) when the
/// webhook asks for it, and Standard Webhooks signatures (``WebhookSigner``) when it has secrets.
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
    /// The CloudEvents `source` of the registry whose webhooks these are.
    public var eventSource: String
    /// Unix seconds for `webhook-timestamp`; a test sets the clock.
    public var clock: @Sendable () -> Int = { Int(time(nil)) }
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

    public init(timeout: Double = 5, transports: [any DeliveryTransport]? = nil, hiddenValues: [String] = [], eventSource: String = CloudEvent.source(registry: "local")) {
        self.timeout = timeout
        self.transports = transports ?? [SocketTransport(), URLSessionTransport(timeout: timeout)]
        self.hiddenValues = hiddenValues
        self.eventSource = eventSource
    }

    /// Sends `body` (an event's JSON) and returns the logged record; never throws: a transport failure is recorded.
    public func send(_ body: [UInt8], to webhook: WebhookState, eventID: String, action: String, attempt: Int = 1, isChart: Bool = false) async -> DeliveryRecord {
        let target = self.target(webhook)
        let record = Locked<DeliveryRecord?>(nil)
        let delivery = self
        // Transports block: off the cooperative pool.
        await BlockingBridge.onOwnThread {
            record.set(delivery.sendBlocking(body, to: target, eventID: eventID, action: action, attempt: attempt, isChart: isChart))
        }
        return record.value ?? Attempt(body: body, target: target, eventID: eventID, action: action, attempt: attempt, signing: [])
            .failure("no answer was recorded")
    }

    /// ``send(_:to:eventID:action:attempt:)`` for a caller on its own thread (serve's delivery lanes),
    /// without a hop per delivery. Never call it from Swift's cooperative pool: it blocks.
    /// - Parameter isChart: the event is about a Helm chart (serve saw its config media type), for the
    ///   CloudEvents type; ACR's own JSON does not change.
    public func sendBlocking(_ body: [UInt8], to target: Target, eventID: String, action: String, attempt: Int = 1, isChart: Bool = false) -> DeliveryRecord {
        let payload = target.webhook.payloadFormat == .cloudevents
            ? CloudEvent.structured(acrBody: body, id: eventID, source: eventSource, isChart: isChart) : body
        var headers = target.sentHeaders
        var signing: [(name: String, value: String)] = []
        if let signer = target.signer {
            // Signed afresh on every attempt: a new timestamp, over the bytes this attempt sends.
            signing = signer.headers(id: eventID, timestamp: clock(), body: payload)
            headers += signing
        }
        let prepared = Attempt(body: payload, target: target, eventID: eventID, action: action, attempt: attempt, signing: signing)
        let request = OutgoingDelivery(uri: target.webhook.serviceUri, parsed: target.uri, headers: headers, body: payload)
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
        /// Nil when the webhook has no signing secret.
        var signer: WebhookSigner?

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
            if webhook.payloadFormat == .cloudevents {
                // Structured mode is told by its media type alone (validation refuses a custom one).
                sentHeaders.removeAll { $0.name.lowercased() == "content-type" }
                loggedHeaders = loggedHeaders.filter { $0.key.lowercased() != "content-type" }
                loggedHeaders["Content-Type"] = CloudEvent.contentType
                sentHeaders.insert(("Content-Type", CloudEvent.contentType), at: 0)
            } else if !hasContentType {
                loggedHeaders["Content-Type"] = "application/json"
                sentHeaders.insert(("Content-Type", "application/json"), at: 0)
            }
            signer = WebhookSigner(secrets: webhook.signingSecrets)
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
        /// This attempt's signatures (each `v1,…` and its base64 alone), in case a receiver echoes them:
        /// a second pass, since the webhook's own scrubber is built once per webhook and these change
        /// every attempt (``SecretScrubber/scrubbing(_:once:)`` builds one only when the text needs it).
        var signatures: [String] = []

        /// Text from the receiver with every secret and this attempt's signatures hidden.
        func scrubbed(_ text: String) -> String {
            scrubber.scrub(signatures.isEmpty ? text : SecretScrubber.scrubbing(text, once: signatures))
        }

        init(body: [UInt8], target: Target, eventID: String, action: String, attempt: Int, signing: [(name: String, value: String)]) {
            self.body = body
            self.target = target
            self.eventID = eventID
            self.action = action
            self.attempt = attempt
            var loggedHeaders = target.loggedHeaders
            loggedHeaders["Content-Length"] = String(body.count)
            // The signature is masked: beside the body, id and timestamp it would let a reader of the log
            // test guesses of a weak key offline. Id and timestamp are kept, to match a receiver's log.
            for header in signing {
                loggedHeaders[header.name] = header.name == "webhook-signature" ? Redaction.sensitiveValue : header.value
                if header.name == "webhook-signature" {
                    let parts = header.value.split(separator: " ").map(String.init)
                    signatures = parts + parts.map { String($0.dropFirst(3)) }
                }
            }
            request = DeliveryRecord.Request(method: "POST", uri: target.maskedURI, headers: loggedHeaders,
                                             body: target.scrubber.scrub(String(decoding: body, as: UTF8.self)))
            timestamp = Timestamp.now()
            start = DispatchTime.now().uptimeNanoseconds
        }

        func elapsed() -> Int { Int((DispatchTime.now().uptimeNanoseconds - start) / 1_000_000) }

        func failure(_ message: String) -> DeliveryRecord {
            DeliveryRecord(id: eventID, webhook: webhook.name, action: action, timestamp: timestamp, request: request,
                           response: nil, error: scrubbed(message), durationMilliseconds: elapsed(), attempt: attempt)
        }

        func success(status: Int, headers: [(String, String)], body: some Collection<UInt8>, truncated: Bool) -> DeliveryRecord {
            var logged: [String: String] = [:]
            for (name, value) in headers {
                let hidden = scrubbed(value)
                logged[name] = logged[name].map { $0 + ", " + hidden } ?? hidden
            }
            // Scrubbed whole, then cut: a secret crossing the limit must not leave its first half behind.
            let text = String(decoding: body, as: UTF8.self)
            let kept = scrubber.scrub(signatures.isEmpty ? text : SecretScrubber.scrubbing(text, once: signatures), keepingBytes: DeliveryRecord.maxResponseBody)
            return DeliveryRecord(
                id: eventID, webhook: webhook.name, action: action, timestamp: timestamp, request: request,
                response: .init(status: status, headers: logged, body: kept.text, bodyTruncated: truncated || kept.truncated),
                error: nil, durationMilliseconds: elapsed(), attempt: attempt)
        }
    }
}

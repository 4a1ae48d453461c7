import Foundation
import HTTP1
import HookKit
import HookSpec
import Reconciler

/// What `hookapply serve` does with each request, and the loop that delivers what it accepts.
///
/// `POST /events` takes a Distribution notification envelope: the bearer token must match (else 401,
/// nothing kept), the content type must be Distribution's or JSON (else 415), the body must parse (else
/// 400, nothing kept; bodies over 1 MiB were already refused with 413). Accepted events are appended to the
/// durable queue, fsynced, before the 2xx. `GET /healthz` and `GET /metrics` (Prometheus text) report state.
/// `POST /admin/replay` queues dead letters again (``DeliveryEngine/replay(_:dryRun:)``) for `hookapply
/// serve replay`: it takes the admin token, or the ingest token when there is no admin token, and is
/// refused (403) when serve has neither, since anyone reaching the listener could then replay.
public final class ServeService: Sendable {
    private let engine: DeliveryEngine
    /// SHA-256 of the token, computed once: every POST compares against it.
    private let tokenDigest: [UInt8]?
    /// What `POST /admin/replay` takes: the admin token's digest, else the ingest token's; nil: refused.
    private let adminDigest: [UInt8]?
    private let log: @Sendable (LogEntry) -> Void
    /// Raised when a batch is stored, so deliveries start at once (up at start: deliver what a previous
    /// run left pending).
    private let arrivals = WakeSignal(raised: true)
    private let running = Locked(true)
    /// Finished events that make a compaction worthwhile (see ``DeliveryEngine/compactIfWorthwhile(threshold:)``).
    private let compactionThreshold: Int

    static let acceptedTypes = [
        "application/vnd.docker.distribution.events.v1+json", "application/vnd.docker.distribution.events.v2+json", "application/json",
    ]

    public init(engine: DeliveryEngine, token: String?, adminToken: String? = nil, compactionThreshold: Int = 10_000,
                log: @escaping @Sendable (LogEntry) -> Void = { _ in }) {
        self.compactionThreshold = compactionThreshold
        self.engine = engine
        self.tokenDigest = token.map { SHA256.hash(Array($0.utf8)) }
        self.adminDigest = (adminToken ?? token).map { SHA256.hash(Array($0.utf8)) }
        self.log = log
    }

    /// The answer to a request refused on its head alone (route, method, token, content type), before
    /// a byte of its body is read; nil to read the body. The body size is the parser's (413).
    public func precheck(_ head: HTTPRequest) -> HTTPServer.Response? {
        let path = String(head.target.split(separator: "?", maxSplits: 1).first ?? "")
        switch (head.method, path) {
        case (.post, "/events"): return refusal(head)
        case (.post, Self.replayPath): return adminRefusal(head)
        case (.get, "/healthz"), (.get, "/metrics"): return nil
        case (_, "/events"), (_, "/healthz"), (_, "/metrics"), (_, Self.replayPath): return .text(405, "method not allowed")
        default: return .text(404, Self.notFound)
        }
    }

    public static let replayPath = "/admin/replay"
    static let notFound = "not found; hookapply serve answers POST /events, GET /healthz, GET /metrics and POST /admin/replay"

    /// Why `POST /admin/replay` is refused (403 without any token, 401 with a wrong one), or nil.
    private func adminRefusal(_ head: HTTPRequest) -> HTTPServer.Response? {
        guard let adminDigest else {
            return .text(403, "replay over HTTP is off: serve was started without --token-env or --admin-token-env; stop serve and run hookapply serve replay, which then works on the queue itself")
        }
        if !Self.presents(head.header("Authorization"), tokenDigest: adminDigest) {
            log(LogEntry(.warning, "replay.refused", "refused a replay request: missing or wrong bearer token", [("status", 401)]))
            return .text(401, "missing or wrong bearer token")
        }
        return nil
    }

    /// `{"webhook": "name"?, "since": unix seconds?, "dry_run": bool?}` → the outcome as JSON.
    private func replay(_ request: HTTPRequest) -> HTTPServer.Response {
        if let refused = adminRefusal(request) { return refused }
        guard let root = try? JSONReader.read(request.body), case .object(let members) = root.value else {
            return .text(400, "the body must be a JSON object: {\"webhook\": name, \"since\": unix seconds, \"dry_run\": bool}, each optional")
        }
        var selection = ReplaySelection()
        var dryRun = false
        for member in members {
            switch (member.key, member.value.value) {
            case ("webhook", .string(let name)): selection.webhook = name.lowercased()
            case ("since", .number(let text)):
                guard let seconds = Double(text), seconds.isFinite else { return .text(400, "'since' must be a number of Unix seconds") }
                selection.since = seconds
            case ("dry_run", .bool(let flag)): dryRun = flag
            case ("webhook", .null), ("since", .null): continue
            default: return .text(400, "unknown or mistyped member '\(member.key)'; the body takes webhook (string), since (number) and dry_run (bool)")
            }
        }
        do {
            let outcome = try engine.replay(selection, dryRun: dryRun)
            if !dryRun && !outcome.replayed.isEmpty {
                log(LogEntry(.info, "replay.queued", "queued \(outcome.replayed.count) dead letter\(outcome.replayed.count == 1 ? "" : "s") again",
                             [("replayed", outcome.replayed.count), ("skipped", outcome.skipped.count)]))
                arrivals.raise()
            }
            return HTTPServer.Response(status: 200, headers: ["Content-Type": "application/json"], body: outcome.json())
        } catch {
            log(LogEntry(.error, "replay.failed", "could not replay dead letters: \(error)", [("status", 503)]))
            return .text(503, "could not replay: \(error)")
        }
    }

    /// Why `POST /events` with these headers is refused (401, 415), or nil.
    private func refusal(_ head: HTTPRequest) -> HTTPServer.Response? {
        if let tokenDigest, !Self.presents(head.header("Authorization"), tokenDigest: tokenDigest) {
            log(LogEntry(.warning, "batch.refused", "refused a batch: missing or wrong bearer token", [("status", 401)]))
            return .text(401, "missing or wrong bearer token")
        }
        guard ServeService.acceptedTypes.contains(Self.mediaType(head.header("Content-Type") ?? "")) else {
            return .text(415, "Content-Type must be application/vnd.docker.distribution.events.v1+json, …v2+json or application/json")
        }
        return nil
    }

    /// Whether `authorization` is `Bearer <token>`: the scheme case-insensitively (RFC 9110 §11.1), the
    /// token compared in constant time, as SHA-256 digests so that not even its length shows in timing.
    static func presents(_ authorization: String?, token: String) -> Bool {
        presents(authorization, tokenDigest: SHA256.hash(Array(token.utf8)))
    }

    /// Byte by byte, without Foundation's trimming: it runs for every request, twice (head and body).
    /// The separators are the field's own (RFC 9110 OWS: spaces and tabs).
    static func presents(_ authorization: String?, tokenDigest expected: [UInt8]) -> Bool {
        guard let authorization else { return false }
        let bytes = Self.trimmed(Array(authorization.utf8)[...])
        guard let space = bytes.firstIndex(where: Self.isSpace) else { return false }
        let scheme = bytes[..<space]
        let credentials = Self.trimmed(bytes[space...])
        let presented = SHA256.hash(Array(credentials))
        var difference: UInt8 = ASCII.equalIgnoringCase(scheme, "bearer".utf8) ? 0 : 1
        for index in 0..<min(presented.count, expected.count) { difference |= presented[index] ^ expected[index] }
        return difference == 0
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else { return [] }
        return bytes[first...last]
    }

    /// `type/subtype` of a Content-Type, lowercased, without parameters or spaces.
    static func mediaType(_ contentType: String) -> String {
        let bytes = Array(contentType.utf8)
        let end = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.endIndex
        return String(decoding: trimmed(bytes[..<end]).map(ASCII.lowercased), as: UTF8.self)
    }

    public func handle(_ request: HTTPRequest) -> HTTPServer.Response {
        handle(batch: [request]).first ?? .text(500, "no answer")
    }

    /// Answers requests that arrived together: every batch of events among them is stored with one fsync
    /// before any of them is acknowledged. Blocks for the fsync.
    public func handle(batch requests: [HTTPRequest]) -> [HTTPServer.Response] {
        var (answers, ingests) = route(requests)
        if !ingests.isEmpty {
            do {
                let acceptances = try engine.accept(batches: ingests.map(\.notifications))
                arrivals.raise()
                for (ingest, acceptance) in zip(ingests, acceptances) { answers[ingest.index] = accepted(ingest.notifications, acceptance) }
            } catch {
                // Not stored, so not acknowledged: the registry will send the batches again.
                log(LogEntry(.error, "batch.unstored", "could not store \(ingests.count == 1 ? "a batch" : "\(ingests.count) batches"): \(error)", [("status", 503)]))
                for ingest in ingests { answers[ingest.index] = .text(503, "could not store the events; try again") }
            }
        }
        return answers.map { $0 ?? .text(500, "no answer") }
    }

    /// The answers to everything but event batches, and the event batches, translated, by position.
    private func route(_ requests: [HTTPRequest]) -> (answers: [HTTPServer.Response?], ingests: [Ingest]) {
        var answers: [HTTPServer.Response?] = Array(repeating: nil, count: requests.count)
        var ingests: [Ingest] = []
        for (index, request) in requests.enumerated() {
            let path = String(request.target.split(separator: "?", maxSplits: 1).first ?? "")
            switch (request.method, path) {
            case (.post, "/events"):
                switch translate(request) {
                case .success(let notifications): ingests.append(Ingest(index: index, notifications: notifications))
                case .failure(let refusal): answers[index] = refusal.response
                }
            case (.get, "/healthz"):
                // Unhealthy when nothing can be accepted any more, so a supervisor restarts it.
                answers[index] = engine.queue.isBroken ? .text(503, "the delivery queue could not be written to disk; restart serve") : .text(200, "ok")
            case (.get, "/metrics"): answers[index] = metrics()
            case (.post, Self.replayPath): answers[index] = replay(request)
            case (_, "/events"), (_, "/healthz"), (_, "/metrics"), (_, Self.replayPath): answers[index] = .text(405, "method not allowed")
            default: answers[index] = .text(404, Self.notFound)
            }
        }
        return (answers, ingests)
    }

    /// One `POST /events` of a batch of requests: its position and its events.
    private struct Ingest: Sendable {
        var index: Int
        var notifications: [RegistryNotification]
    }

    private func accepted(_ notifications: [RegistryNotification], _ result: DeliveryEngine.Acceptance) -> HTTPServer.Response {
        engine.metrics.add(.received, notifications.count)
        // Blob uploads, pulls and mounts have no ACR event: counted (ignored), not logged, or every
        // push would add lines saying nothing happened.
        if !notifications.isEmpty {
            var message = "received \(notifications.count) event\(notifications.count == 1 ? "" : "s"): \(result.stored) stored for delivery"
            if result.duplicates > 0 { message += ", \(result.duplicates) seen before" }
            if result.unmatched > 0 { message += ", \(result.unmatched) matching no webhook" }
            log(LogEntry(result.unmatched > 0 && result.stored == 0 ? .warning : .info, "batch.received", message, [
                ("events", notifications.count), ("stored", result.stored),
                ("duplicates", result.duplicates), ("unmatched", result.unmatched),
            ]))
        }
        let body = #"{"accepted":\#(result.stored),"duplicates":\#(result.duplicates),"unmatched":\#(result.unmatched)}"#
        return HTTPServer.Response(status: 200, headers: ["Content-Type": "application/json"], body: Array(body.utf8))
    }

    /// A refused batch's answer, carried through a `Result`.
    private struct Refusal: Error, Sendable {
        var response: HTTPServer.Response
    }

    private func translate(_ request: HTTPRequest) -> Result<[RegistryNotification], Refusal> {
        // Checked again here (the server has usually refused these on the head already): the token never
        // appears in a log line or an answer.
        if let refused = refusal(request) { return .failure(Refusal(response: refused)) }
        do {
            let translated = try DistributionTranslator.translateCounting(request.body)
            engine.metrics.add(.ignored, translated.total - translated.notifications.count)
            return .success(translated.notifications)
        } catch {
            log(LogEntry(.warning, "batch.refused", "refused a batch: \(error.message)", [("status", 400)]))
            return .failure(Refusal(response: .text(400, "not a notification envelope: \(error.message)")))
        }
    }

    private func metrics() -> HTTPServer.Response {
        let depth = (try? engine.depth()) ?? 0
        var text = ""
        for metric in DeliveryMetric.allCases {
            let name = "hookapply_events_\(metric.rawValue)_total"
            text += "# HELP \(name) \(metric.help).\n# TYPE \(name) counter\n"
            text += "\(name) \(engine.metrics.value(metric))\n"
        }
        text += "# HELP hookapply_queue_depth Deliveries waiting.\n# TYPE hookapply_queue_depth gauge\nhookapply_queue_depth \(depth)\n"
        text += "# HELP hookapply_dead_letters Dead letters not replayed yet.\n# TYPE hookapply_dead_letters gauge\nhookapply_dead_letters \(engine.pendingDeadLetters())\n"
        return HTTPServer.Response(status: 200, headers: ["Content-Type": "text/plain; version=0.0.4"], body: Array(text.utf8))
    }

    /// Delivers whenever a batch arrives (and once at start, for what a previous run left), until ``stop()``;
    /// the drain in progress when stopped is finished first.
    public func runDeliveries() async {
        while running.value {
            await arrivals.wait()
            guard running.value else { break }
            do {
                try await engine.drain()
            } catch {
                log(LogEntry(.error, "webhooks.unreadable", "could not read the webhooks: \(ProviderError.from(error).message)"))
            }
            // Between drains, so no lane holds a position the compaction would change.
            do {
                if let compaction = try engine.compactIfWorthwhile(threshold: compactionThreshold) {
                    log(LogEntry(.info, "queue.compacted", "compacted the delivery queue: \(compaction.kept) events pending, \(compaction.removed) finished removed",
                                 [("pending", compaction.kept), ("removed", compaction.removed)]))
                }
            } catch {
                log(LogEntry(.error, "queue.uncompacted", "could not compact the delivery queue: \(ProviderError.from(error).message)"))
            }
        }
    }

    public func stop() {
        running.set(false)
        arrivals.raise()  // a loop waiting for batches sees the stop now
    }
}

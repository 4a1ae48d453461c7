import Delivery
import Foundation
import HookKit
import HookSpec
import Reconciler

/// One notification `reconcile --notify` POSTs: on a transition only (drift found, drift gone, drift
/// corrected, a failure, a recovery), never on every cycle. Changes are the plan's own (masked exactly
/// as `plan --format json` masks them); `text` is what Slack- and Teams-style incoming webhooks display.
public struct DriftNotification: Sendable, Encodable {
    public enum Kind: String, Sendable, Encodable, CaseIterable {
        /// Without `--apply`: the registry drifted from the spec (or its drift changed).
        case driftDetected = "drift_detected"
        /// Without `--apply`: the drift is gone (someone fixed it, or the spec changed).
        case driftResolved = "drift_resolved"
        /// With `--apply`: drift was found and every change was applied.
        case driftCorrected = "drift_corrected"
        /// The registry's cycle failed (observe, plan or apply); sent once until it recovers.
        case failed
        /// The first successful cycle after a failure.
        case recovered
    }

    public struct Result: Sendable, Encodable {
        public var webhook: String
        public var action: String
        public var outcome: String
        public var message: String?
    }

    public var kind: Kind
    public var registry: String
    /// The git commit reconciled (`--git-pull`), or null.
    public var revision: String?
    public var time: String
    public var hookapply_version: String
    public var summary: Plan.Summary
    public var changes: [Change]
    public var results: [Result]
    public var error: String?
    public var text: String
}

/// Delivers notifications one at a time, in order, each retried with backoff a bounded number of times.
/// It never holds up the loop: `send` queues and returns; a full queue drops its oldest notification
/// (and says so in the log). The URL is a secret (a Slack webhook's path is its key), so the log names
/// only its scheme and host.
public final class DriftNotifier: Sendable {
    public struct Options: Sendable {
        public var maxAttempts = 4
        public var firstBackoff = 1.0
        public var timeout = 10.0
        public var queueLimit = 64

        public init(maxAttempts: Int = 4, firstBackoff: Double = 1.0, timeout: Double = 10.0, queueLimit: Int = 64) {
            self.maxAttempts = maxAttempts
            self.firstBackoff = firstBackoff
            self.timeout = timeout
            self.queueLimit = queueLimit
        }
    }

    private let uri: String
    private let parsed: ServiceURI
    private let options: Options
    /// The socket client for `http://`, URLSession for `https://`: chosen once, the URL never changes.
    private let transport: any DeliveryTransport
    private let log: LogWriter
    private let state = Locked<State>(State())

    struct State {
        var queue: [DriftNotification] = []
        var working = false
        var sent = 0
        var dropped = 0
    }

    /// Where notifications go, as the log may show it: scheme, host and port, never the path (Slack's
    /// path is its secret).
    public let displayTarget: String

    public init(url: String, options: Options = Options(), log: LogWriter) throws(ServiceURI.Problem) {
        parsed = try ServiceURI(parsing: url)
        uri = url
        self.options = options
        self.log = log
        let socket = SocketTransport()
        transport = socket.canSend(to: parsed) ? socket : URLSessionTransport(timeout: options.timeout)
        displayTarget = "\(parsed.scheme)://\(parsed.host)" + (parsed.port.map { ":\($0)" } ?? "")
    }

    /// How many notifications were delivered (a 2xx), for tests and the final log line.
    public var sentCount: Int { state.value.sent }

    /// Queues `notification`; a worker delivers the queue in order.
    public func send(_ notification: DriftNotification) {
        let start = state.withLock { state -> Bool in
            if state.queue.count >= options.queueLimit {
                let oldest = state.queue.removeFirst()
                state.dropped += 1
                log(LogEntry(.warning, "notify.dropped", "dropped the \(oldest.kind.rawValue) notification of registry '\(oldest.registry)' to \(displayTarget): \(options.queueLimit) newer ones are queued",
                             [("kind", oldest.kind.rawValue), ("registry", oldest.registry)]))
            }
            state.queue.append(notification)
            if state.working { return false }
            state.working = true
            return true
        }
        if start { Task.detached { await self.work() } }
    }

    /// Waits until the queue is empty or `timeout` seconds pass (at shutdown, so a last notification is
    /// not lost to an exit).
    /// Notifications still queued then are logged as dropped, one line each: a shutdown must not lose
    /// one silently.
    public func drain(timeout: Double) async {
        let deadline = DispatchTime.now().uptimeNanoseconds + Seconds.nanoseconds(timeout)
        while state.withLock({ $0.working }) && DispatchTime.now().uptimeNanoseconds < deadline {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        let (left, inFlight) = state.withLock { state -> ([DriftNotification], Bool) in
            defer { state.queue.removeAll() }
            return (state.queue, state.working)
        }
        if inFlight {
            log(LogEntry(.warning, "notify.dropped", "a notification to \(displayTarget) was still being sent at shutdown after \(Seconds.describe(timeout)); it may not have arrived"))
        }
        for notification in left {
            log(LogEntry(.warning, "notify.dropped", "dropped the \(notification.kind.rawValue) notification of registry '\(notification.registry)' to \(displayTarget): still queued at shutdown",
                         [("kind", notification.kind.rawValue), ("registry", notification.registry)]))
        }
    }

    private func work() async {
        while true {
            let next = state.withLock { state -> DriftNotification? in
                if state.queue.isEmpty {
                    state.working = false
                    return nil
                }
                return state.queue.removeFirst()
            }
            guard let notification = next else { return }
            await deliver(notification)
        }
    }

    private func deliver(_ notification: DriftNotification) async {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let body = try? encoder.encode(notification) else { return }
        let request = OutgoingDelivery(uri: uri, parsed: parsed, headers: [("Content-Type", "application/json"), ("User-Agent", Product.userAgent)],
                                       body: Array(body))
        let transport = self.transport
        var delay = options.firstBackoff
        for attempt in 1...options.maxAttempts {
            let outcome = Locked<TransportOutcome>(.failure("not sent"))
            let timeout = options.timeout
            await BlockingBridge.onOwnThread { outcome.set(transport.send(request, timeout: timeout, keptBody: 512)) }
            let problem: String
            switch outcome.value {
            case .response(let status, _, _, _) where (200..<300).contains(status):
                state.withLock { $0.sent += 1 }
                log(LogEntry(.info, "notify.sent", "notified \(displayTarget) of \(notification.kind.rawValue) in registry '\(notification.registry)'",
                             [("kind", notification.kind.rawValue), ("registry", notification.registry), ("status", status)]))
                return
            case .response(let status, _, _, _): problem = "HTTP \(status)"
            case .failure(let reason): problem = reason
            }
            if attempt == options.maxAttempts {
                log(LogEntry(.error, "notify.gave_up", "could not notify \(displayTarget) of \(notification.kind.rawValue) in registry '\(notification.registry)' after \(attempt) attempts: \(problem); reconciling goes on",
                             [("kind", notification.kind.rawValue), ("registry", notification.registry), ("attempts", attempt)]))
                return
            }
            log(LogEntry(.warning, "notify.retry", "notifying \(displayTarget) failed (\(problem)), attempt \(attempt) of \(options.maxAttempts); retrying in \(Seconds.describe(delay))",
                         [("attempt", attempt), ("problem", problem)]))
            try? await Task.sleep(nanoseconds: Seconds.nanoseconds(delay))
            delay *= 2
        }
    }
}

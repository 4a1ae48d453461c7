import Foundation
import HookSpec

/// The durable queue behind `serve`: accepted events are appended (and fsynced) before the registry gets
/// its 2xx, so a crash loses nothing that was acknowledged; deliveries are recorded per (event, webhook),
/// so a restart delivers exactly what is still pending. Delivery is at least once: a crash between a
/// delivery and its record sends that one again.
///
/// One append-only JSON-lines file: `{"kind":"event",…}` and `{"kind":"done",…}` records. A torn last
/// line (a crash mid-write) is ignored.
///
/// Group commit: appends happen under the lock, but the fsync does not. Requests arriving together share
/// one fsync (whoever syncs covers every write made before it started), and deliveries, which read the
/// queue and record what is done, never wait behind a disk flush. If an fsync fails the queue refuses
/// every later batch (the kernel may have dropped the unsynced pages, so nothing written since the last
/// good sync can be vouched for) and `serve` answers 503 until restarted, when it reloads what is on disk.
public final class DeliveryQueue: @unchecked Sendable {
    public let path: String
    private let lock = NSLock()
    private var events: [RegistryNotification] = []
    private var known: Set<String> = []
    private var done: Set<String> = []
    private var descriptor: Int32 = -1
    /// Appends made (under `lock`) and appends known to be on disk (under `syncLock`).
    private var written = 0
    private var synced = 0
    private var broken = false
    /// The file ends without a line end (a torn write before a crash): the first append starts a new line.
    private var tornTail = false
    private let syncLock = NSLock()

    public init(path: String) throws {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path) else { return }
        // A crash mid-write leaves a torn last line; the next append must not be glued onto it.
        tornTail = data.last.map { $0 != 0x0A } ?? false
        for line in data.split(separator: 0x0A) where !line.isEmpty {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: String] else { continue }
            switch object["kind"] {
            case "event":
                guard let id = object["id"], let actionText = object["action"], let action = WebhookAction(rawValue: actionText),
                    let repository = object["repository"], let body = object["body"].flatMap({ Data(base64Encoded: $0) })
                else { continue }
                if known.insert(id).inserted {
                    events.append(RegistryNotification(id: id, action: action, repository: repository, tag: object["tag"], body: Array(body)))
                }
            case "done":
                if let id = object["id"], let webhook = object["webhook"] { done.insert(Self.key(id, webhook)) }
            default:
                continue
            }
        }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    static func key(_ id: String, _ webhook: String) -> String { id + "\u{0}" + webhook.lowercased() }

    /// Appends the events not seen before (registries retry batches) and returns them once they are on
    /// disk: when this returns, an acknowledgement is safe.
    public func enqueue(_ notifications: [RegistryNotification]) throws -> [RegistryNotification] {
        let (fresh, ticket) = try lock.withLock { () throws -> ([RegistryNotification], Int) in
            guard !broken else { throw Self.brokenError(path) }
            var fresh: [RegistryNotification] = []
            var seenNow: Set<String> = []
            for notification in notifications where !known.contains(notification.id) && seenNow.insert(notification.id).inserted {
                fresh.append(notification)
            }
            guard !fresh.isEmpty else { return ([], 0) }
            var lines: [UInt8] = []
            for notification in fresh {
                var record = ["kind": "event", "id": notification.id, "action": notification.action.rawValue,
                              "repository": notification.repository, "body": Data(notification.body).base64EncodedString()]
                if let tag = notification.tag { record["tag"] = tag }
                lines += try Self.line(record)
            }
            try append(lines)
            written += 1
            // Visible to deliveries before the sync: a crash before it means the registry never got its
            // 2xx and sends the batch again, so an early delivery is at worst a duplicate (at least once).
            for notification in fresh {
                known.insert(notification.id)
                events.append(notification)
            }
            return (fresh, written)
        }
        if ticket > 0 { try sync(upTo: ticket) }
        return fresh
    }

    /// Makes every append up to `ticket` durable, with one fsync for all the callers waiting together.
    private func sync(upTo ticket: Int) throws {
        try syncLock.withLock {
            if synced >= ticket { return }  // someone else's fsync covered this append
            let (target, file) = lock.withLock { (written, descriptor) }
            if fsync(file) != 0 {
                let reason = String(cString: strerror(errno))
                lock.withLock { broken = true }
                throw ProviderError(.fatal, code: "queue", "cannot sync the delivery queue '\(path)': \(reason); restart serve to reload it")
            }
            synced = target
        }
    }

    private static func brokenError(_ path: String) -> ProviderError {
        ProviderError(.fatal, code: "queue", "the delivery queue '\(path)' could not be synced to disk earlier; restart serve to reload it")
    }

    /// Records that an event is finished for a webhook (delivered, or given up after the last attempt).
    public func markDone(_ id: String, webhook: String) throws {
        try lock.withLock {
            // No fsync: losing this record only means one more delivery after a crash (at least once).
            done.insert(Self.key(id, webhook))
            guard !broken else { return }
            try append(try Self.line(["kind": "done", "id": id, "webhook": webhook]))
        }
    }

    public func isDone(_ id: String, webhook: String) -> Bool { lock.withLock { done.contains(Self.key(id, webhook)) } }

    /// Every event received, in order.
    public var allEvents: [RegistryNotification] { lock.withLock { events } }

    /// Events from position `start` on (the queue only grows, so positions are stable).
    public func events(from start: Int) -> ArraySlice<RegistryNotification> {
        lock.withLock { start < events.count ? events[start...] : [] }
    }

    private static func line(_ record: [String: String]) throws -> [UInt8] {
        CompactJSON.object(record) + [0x0A]
    }

    /// One write on the queue's descriptor, opened on first use and kept (under `lock`).
    private func append(_ bytes: [UInt8]) throws {
        if descriptor < 0 {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else {
                throw ProviderError(.fatal, code: "queue", "cannot open the delivery queue '\(path)': \(String(cString: strerror(errno)))")
            }
        }
        let bytes = tornTail ? [0x0A] + bytes : bytes
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress.map { $0 + offset }, $0.count - offset) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                // Half a line on disk would swallow the next record when the file is read back, so
                // nothing more is appended (serve answers 503; a restart reloads what is intact).
                if offset > 0 { broken = true }
                throw ProviderError(.fatal, code: "queue", "cannot append to the delivery queue '\(path)': \(String(cString: strerror(errno)))")
            }
            offset += count
        }
        tornTail = false
    }
}

/// Counters for `/metrics`.
public final class DeliveryMetrics: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: Int] = [:]

    public init() {}

    public func add(_ name: String, _ amount: Int = 1) { lock.withLock { values[name, default: 0] += amount } }
    public func value(_ name: String) -> Int { lock.withLock { values[name] ?? 0 } }
}

/// Delivers queued events to the webhooks they match: in event order per webhook, different webhooks
/// concurrently, failed attempts retried with backoff up to `maxAttempts`, every attempt in the event log.
public struct DeliveryEngine: Sendable {
    public var queue: DeliveryQueue
    /// Read at every drain, so webhooks changed by `apply` are picked up without a restart.
    public var webhooks: @Sendable () throws -> [WebhookState]
    public var log: EventLog
    public var delivery: WebhookDelivery
    public var maxAttempts: Int
    public var retry: RetryPolicy
    public var metrics: DeliveryMetrics
    /// Called after every attempt (for a log line); the record is already masked.
    public var onAttempt: @Sendable (DeliveryRecord) -> Void = { _ in }
    /// At most this many webhooks are delivered to at once.
    public var concurrency = AsyncSemaphore(16)
    /// Per webhook, the queue position before which everything is finished: a drain looks only at newer
    /// events, instead of rescanning the whole queue after every batch.
    private let cursors = Cursors()

    final class Cursors: @unchecked Sendable {
        private let lock = NSLock()
        private var positions: [String: Int] = [:]
        func get(_ webhook: String) -> Int { lock.withLock { positions[webhook.lowercased()] ?? 0 } }
        func set(_ webhook: String, _ position: Int) { lock.withLock { positions[webhook.lowercased()] = position } }
    }

    public init(
        queue: DeliveryQueue, webhooks: @escaping @Sendable () throws -> [WebhookState], log: EventLog,
        delivery: WebhookDelivery = WebhookDelivery(), maxAttempts: Int = 5, retry: RetryPolicy = RetryPolicy(), metrics: DeliveryMetrics = DeliveryMetrics()
    ) {
        self.queue = queue
        self.webhooks = webhooks
        self.log = log
        self.delivery = delivery
        self.maxAttempts = max(1, maxAttempts)
        self.retry = retry
        self.metrics = metrics
    }

    /// How many (event, webhook) deliveries are pending.
    public func depth() throws -> Int { try pending().reduce(0) { $0 + $1.events.count } }

    private func pending() throws -> [(webhook: WebhookState, events: [(Int, RegistryNotification)])] {
        let current = try webhooks()
        return current.compactMap { webhook in
            let start = cursors.get(webhook.name)
            let due = queue.events(from: start).enumerated().compactMap { offset, event -> (Int, RegistryNotification)? in
                guard !queue.isDone(event.id, webhook: webhook.name), !WebhookMatcher.webhooks(for: event, among: [webhook]).isEmpty else { return nil }
                return (start + offset, event)
            }
            if due.isEmpty {
                cursors.set(webhook.name, start + queue.events(from: start).count)
                return nil
            }
            return (webhook, due)
        }
    }

    /// Delivers everything pending and returns when done.
    ///
    /// Each webhook's run is a lane on its own thread: its deliveries are sequential anyway (event order),
    /// and a lane that calls the blocking socket client directly saves two thread hand-offs per delivery,
    /// which on a busy two-core machine cost more than the round trip itself.
    public func drain() async throws {
        let work = try pending()
        let engine = self
        await concurrentForEach(work.count) { index in
            let (webhook, events) = work[index]
            await engine.concurrency.acquire()
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                Thread {
                    let target = WebhookDelivery.Target(webhook)
                    for (position, event) in events {  // in order: one webhook's events never overtake each other
                        engine.deliver(event, to: target)
                        engine.cursors.set(webhook.name, position + 1)
                    }
                    continuation.resume()
                }.start()
            }
            await engine.concurrency.release()
        }
    }

    /// Runs on a lane's thread: blocking is fine here, and the (injectable, async) retry sleep is waited for.
    private func deliver(_ event: RegistryNotification, to target: WebhookDelivery.Target) {
        let webhook = target.webhook
        metrics.add("forwarded")
        for attempt in 1...maxAttempts {
            let record = delivery.sendBlocking(event.body, to: target, eventID: event.id, action: event.action.rawValue, attempt: attempt)
            try? log.append(record)
            onAttempt(record)
            if record.isSuccess {
                metrics.add("delivered")
                try? queue.markDone(event.id, webhook: webhook.name)
                return
            }
            if attempt < maxAttempts {
                metrics.add("retried")
                let retry = retry
                let delay = retry.delay(afterAttempt: attempt, retryAfter: nil)
                let slept = DispatchSemaphore(value: 0)
                Task {
                    await retry.sleep(delay)
                    slept.signal()
                }
                slept.wait()
            }
        }
        metrics.add("failed")
        try? queue.markDone(event.id, webhook: webhook.name)
    }
}

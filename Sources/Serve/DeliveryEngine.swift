import Delivery
import Foundation
import HookKit
import HookSpec
import Reconciler

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
    /// Where deliveries given up on are kept for `serve replay`; nil: they are only logged as gave up.
    public var deadLetters: DeadLetterFile?
    /// Called when dead letters could not be written (the deliveries then stay pending, and are tried
    /// again at the next start rather than forgotten).
    public var onDeadLetterFailure: @Sendable (String) -> Void = { _ in }
    /// At most this many webhooks are delivered to at once.
    public var concurrency = AsyncSemaphore(16)
    /// Per webhook, the queue position before which everything is finished: a drain looks only at newer
    /// events, instead of rescanning the whole queue after every batch.
    private let cursors = Cursors()
    /// The index of the webhooks last read, reused while the provider hands out the same array.
    private let matching = Locked<WebhookIndex?>(nil)

    struct Cursors: Sendable {
        private let positions = Locked<[String: Int]>([:])
        func get(_ webhook: String) -> Int { positions.withLock { $0[webhook.lowercased()] ?? 0 } }
        func set(_ webhook: String, _ position: Int) { positions.withLock { $0[webhook.lowercased()] = position } }
        func reset() { positions.set([:]) }
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

    /// What became of a batch: events stored for delivery, events seen before (a retried batch), and
    /// events no webhook takes (not stored: there is nobody to deliver them to).
    public struct Acceptance: Hashable, Sendable {
        public var stored: Int
        public var duplicates: Int
        public var unmatched: Int
    }

    /// Fixes each event's audience (the webhooks it matches now) and stores those with one; returns once
    /// they are on disk.
    public func accept(_ notifications: [RegistryNotification]) throws -> Acceptance {
        guard let only = try accept(batches: [notifications]).first else { return Acceptance(stored: 0, duplicates: 0, unmatched: 0) }
        return only
    }

    /// ``accept(_:)`` for batches that arrived together: the webhooks are read once, and every batch is
    /// stored with one fsync, so requests arriving at once share the cost of the disk.
    public func accept(batches: [[RegistryNotification]]) throws -> [Acceptance] {
        let staged = try stage(batches: batches)
        try queue.sync(staged.ticket)
        return staged.acceptances
    }

    /// ``accept(batches:)`` without waiting for the disk: acknowledge the batches only once
    /// ``DeliveryQueue/sync(_:)`` returned for `ticket`.
    public func stage(batches: [[RegistryNotification]]) throws -> (acceptances: [Acceptance], ticket: Int) {
        let current = try webhooks()
        let index = matching.withLock { cached -> WebhookIndex in
            if let cached, cached.isBuilt(from: current) { return cached }
            let built = WebhookIndex(current)
            cached = built
            return built
        }
        var queued: [[QueuedEvent]] = []
        var counts: [(duplicates: Int, unmatched: Int)] = []
        for notifications in batches {
            var events: [QueuedEvent] = []
            var duplicates = 0
            var unmatched = 0
            for notification in notifications {
                if queue.contains(notification.id) {
                    duplicates += 1
                    continue
                }
                let targets = index.indices(for: notification).map { current[$0].name }
                if targets.isEmpty {
                    unmatched += 1
                } else {
                    events.append(QueuedEvent(notification, targets: targets))
                }
            }
            queued.append(events)
            counts.append((duplicates, unmatched))
        }
        let staged = try queue.stage(batches: queued)
        let acceptances = zip(zip(queued, staged.fresh), counts).map { pair, count in
            Acceptance(stored: pair.1.count, duplicates: count.duplicates + pair.0.count - pair.1.count, unmatched: count.unmatched)
        }
        return (acceptances, staged.ticket)
    }

    /// Rewrites the queue without finished events, counting as finished the deliveries to webhooks that
    /// no longer exist. Never during a drain: `serve` runs it at start and between drains.
    @discardableResult
    public func compact() throws -> (kept: Int, removed: Int) {
        let current = try webhooks()
        queue.resolveUnaddressed { WebhookMatcher.webhooks(for: $0, among: current).map(\.name) }
        let result = try queue.compact(liveWebhooks: Set(current.map { $0.name.lowercased() }))
        cursors.reset()  // positions changed
        return result
    }

    /// Compacts once at least `threshold` events are finished and they are at least half of the queue:
    /// the rewrite then costs little next to what it frees. Returns what a compaction did, if one ran.
    public func compactIfWorthwhile(threshold: Int = 10_000) throws -> (kept: Int, removed: Int)? {
        let finished = queue.finishedCount
        guard finished >= max(1, threshold), finished * 2 >= queue.count else { return nil }
        return try compact()
    }

    /// How many (event, webhook) deliveries are pending. Moves no cursor, so it is safe beside a drain.
    public func depth() throws -> Int { try pending(advancing: false).reduce(0) { $0 + $1.events.count } }

    /// Each current webhook's due events, in order. One pass over the events no webhook has finished
    /// yet (from the lowest cursor), rather than one pass per webhook: a registry can hold hundreds of
    /// webhooks of which a batch concerns a few.
    private func pending(advancing: Bool = true) throws -> [(webhook: WebhookState, events: [(Int, RegistryNotification)])] {
        let current = try webhooks()
        let names = current.map { $0.name.lowercased() }
        let starts = names.map { cursors.get($0) }
        guard let lowest = starts.min() else { return [] }
        var startOf: [String: Int] = [:]
        for (name, start) in zip(names, starts) { startOf[name] = start }
        let slice = queue.events(from: lowest)
        var due: [String: [(Int, RegistryNotification)]] = [:]
        for (offset, event) in slice.enumerated() {
            let position = lowest + offset
            for target in event.targets {
                guard let start = startOf[target], position >= start, !queue.isDone(event.notification.id, webhook: target) else { continue }
                due[target, default: []].append((position, event.notification))
            }
        }
        let end = lowest + slice.count
        return zip(current, names).compactMap { webhook, name in
            guard let events = due[name] else {
                if advancing { cursors.set(name, end) }  // nothing due: later drains start after what exists now
                return nil
            }
            return (webhook, events)
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
            await BlockingBridge.onOwnThread {
                let target = engine.delivery.target(webhook)
                var journal = Journal()
                for (position, event) in events {  // in order: one webhook's events never overtake each other
                    engine.deliver(event, to: target, journal: &journal)
                    engine.cursors.set(webhook.name, position + 1)
                    if journal.finished.count >= Journal.batch { engine.write(&journal) }
                }
                engine.write(&journal)
            }
            await engine.concurrency.release()
        }
    }

    /// What a lane did and has not written yet: attempt records for the event log, and finished
    /// deliveries for the queue. Written together, every ``batch`` deliveries, before a retry waits, and
    /// when the lane ends: one write each instead of one per delivery. A crash before the write loses
    /// both, so those deliveries are made (and logged) again after a restart, as the queue's
    /// at-least-once promise already allows.
    struct Journal {
        static let batch = 32
        var records: [DeliveryRecord] = []
        var finished: [(id: String, webhook: String)] = []
        var dead: [DeadLetter] = []
    }

    private func write(_ journal: inout Journal) {
        try? log.append(contentsOf: journal.records)
        var finished = journal.finished
        if let deadLetters, !journal.dead.isEmpty {
            // The letters first: the queue may forget a delivery only once its letter is on disk.
            do {
                try deadLetters.append(journal.dead)
                metrics.add(.deadLettered, journal.dead.count)
            } catch {
                let keys = Set(journal.dead.map { DeliveryQueue.key($0.queueID, $0.webhook) })
                finished.removeAll { keys.contains(DeliveryQueue.key($0.id, $0.webhook)) }
                onDeadLetterFailure("\(error); \(journal.dead.count) given-up deliveries stay in the queue and are tried again at the next start")
            }
        }
        try? queue.markDone(finished)
        journal = Journal()
    }

    /// Runs on a lane's thread: blocking is fine here, and the (injectable, async) retry sleep is waited for.
    private func deliver(_ event: RegistryNotification, to target: WebhookDelivery.Target, journal: inout Journal) {
        let webhook = target.webhook
        // Its audience was fixed at ingest; a webhook since disabled, or changed to no longer take this
        // event, does not get it.
        guard WebhookMatcher.matches(event, webhook) else {
            metrics.add(.dropped)
            journal.finished.append((event.id, webhook.name))
            return
        }
        metrics.add(.forwarded)
        for attempt in 1...maxAttempts {
            var record = delivery.sendBlocking(event.body, to: target, eventID: event.eventID, action: event.action.rawValue, attempt: attempt,
                                               isChart: event.isChart)
            record.subject = event.subject
            // The last attempt of a failed delivery says so, in the event log and the serve log alike.
            if !record.isSuccess && attempt == maxAttempts { record.gaveUp = true }
            journal.records.append(record)
            onAttempt(record)
            if record.gaveUp == true, deadLetters != nil {
                journal.dead.append(DeadLetter(
                    key: UUID().uuidString.lowercased(), eventID: event.eventID, webhook: webhook.name, action: event.action,
                    repository: event.repository, tag: event.tag, isChart: event.isChart, body: event.body, attempts: maxAttempts,
                    status: record.response?.status, answer: record.error ?? record.response?.body ?? "", deadAt: Timestamp.now(), queueID: event.id))
            }
            if record.isSuccess {
                metrics.add(.delivered)
                journal.finished.append((event.id, webhook.name))
                return
            }
            if attempt < maxAttempts {
                metrics.add(.retried)
                write(&journal)  // a failing receiver shows in `events` while the retries wait
                let retry = retry
                let delay = retry.delay(afterAttempt: attempt, retryAfter: nil)
                BlockingBridge.wait { await retry.sleep(delay) }
            }
        }
        metrics.add(.failed)
        journal.finished.append((event.id, webhook.name))
    }
}

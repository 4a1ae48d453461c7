import Delivery
import HookKit
import HookSpec

/// Which dead letters `serve replay` takes: one webhook's or all, given up at or after a time.
public struct ReplaySelection: Hashable, Sendable {
    /// Lowercased; nil: every webhook.
    public var webhook: String?
    /// Unix seconds; nil: any time.
    public var since: Double?

    public init(webhook: String? = nil, since: Double? = nil) {
        self.webhook = webhook?.lowercased()
        self.since = since
    }

    func takes(_ letter: DeadLetter) -> Bool {
        if let webhook, letter.webhook.lowercased() != webhook { return false }
        if let since {
            guard let died = Timestamp.seconds(letter.deadAt), died >= since else { return false }
        }
        return true
    }
}

/// What a replay did (or, dry, would do).
public struct ReplayOutcome: Sendable {
    /// Queued again, in the order they died.
    public var replayed: [DeadLetter]
    /// Selected but left as they are: their webhook no longer exists (a replay would be dropped at once).
    public var skipped: [DeadLetter]
    public var dryRun: Bool
}

extension DeliveryEngine {
    /// Queues the selected dead letters again, once each, in the order they died, each to its webhook
    /// alone; they are delivered by the next drain with their original event id (the body's `id`,
    /// `webhook-id`). Durable before it returns. Letters of webhooks that no longer exist are skipped.
    public func replay(_ selection: ReplaySelection, dryRun: Bool) throws -> ReplayOutcome {
        guard let deadLetters else { return ReplayOutcome(replayed: [], skipped: [], dryRun: dryRun) }
        let live = Set(try webhooks().map { $0.name.lowercased() })
        let queue = self.queue
        // One read of the file, under its lock: the selection's letters of deleted webhooks are noted as
        // skipped while the others are chosen.
        var skipped: [DeadLetter] = []
        let choose = { (letter: DeadLetter) -> Bool in
            guard selection.takes(letter) else { return false }
            if live.contains(letter.webhook.lowercased()) { return true }
            skipped.append(letter)
            return false
        }
        let replayed = try deadLetters.replay(selecting: choose, dryRun: dryRun) { chosen in
            let events = chosen.map { letter -> QueuedEvent in
                var notification = RegistryNotification(id: "\(letter.eventID)#replay-\(letter.key)", action: letter.action, repository: letter.repository,
                                                        tag: letter.tag, body: letter.body, isChart: letter.isChart)
                notification.replayOf = letter.eventID
                return QueuedEvent(notification, targets: [letter.webhook])
            }
            _ = try queue.enqueue(events)
        }
        if !dryRun { metrics.add(.replayed, replayed.count) }
        return ReplayOutcome(replayed: replayed, skipped: skipped, dryRun: dryRun)
    }

    /// Dead letters not replayed yet (for `/metrics`).
    public func pendingDeadLetters() -> Int {
        (try? deadLetters?.pendingCount()) ?? 0
    }
}

extension ReplayOutcome {
    /// `{"dry_run": …, "replayed": [...], "skipped": [...]}`: what `POST /admin/replay` answers and
    /// `serve replay --format json` prints, whichever of the two did the work.
    public func json() -> [UInt8] {
        func entry(_ letter: DeadLetter) -> CompactJSON.Value {
            .object([
                "id": .string(letter.eventID), "webhook": .string(letter.webhook), "action": .string(letter.action.rawValue),
                "subject": .string(letter.subject), "attempts": .number(String(letter.attempts)), "dead_at": .string(letter.deadAt),
                "status": letter.status.map { .number(String($0)) } ?? .null, "answer": .string(letter.answer),
            ])
        }
        return CompactJSON.value(.object(["dry_run": .bool(dryRun), "replayed": .array(replayed.map(entry)), "skipped": .array(skipped.map(entry))]))
    }
}

import Delivery
import Foundation
import HookKit
import HookSpec

/// The durable queue behind `serve`: accepted events are appended (and fsynced) before the registry gets
/// its 2xx, so a crash loses nothing that was acknowledged; deliveries are recorded per (event, webhook),
/// so a restart delivers exactly what is still pending. Delivery is at least once: a crash between a
/// delivery and its record sends that one again.
///
/// One append-only JSON-lines file: `{"kind":"event",…,"targets":"a,b"}` and `{"kind":"done",…}`
/// records. A torn last line (a crash mid-write) is ignored. ``compact(liveWebhooks:)`` rewrites the file
/// with only the unfinished events: `serve` runs it at start and, between drains, once enough events have
/// finished, so neither the file nor memory grows with the events of the past. The body of an event
/// finished for all its targets is dropped from memory at once. Ids of the last
/// ``rememberedFinished`` compacted events stay in memory, so a batch retried after a compaction is
/// still recognised (after a restart, only what is in the file is).
///
/// Group commit: appends happen under the lock, but the fsync does not. Requests arriving together share
/// one fsync (whoever syncs covers every write made before it started), and deliveries, which read the
/// queue and record what is done, never wait behind a disk flush. If an fsync fails the queue refuses
/// every later batch (the kernel may have dropped the unsynced pages, so nothing written since the last
/// good sync can be vouched for) and `serve` answers 503 until restarted, when it reloads what is on disk.
///
/// `@unchecked Sendable` on purpose: group commit needs two locks taken in a fixed order (`syncLock`
/// around the fsync, `lock` around the state, briefly, inside it), and a compaction holds both. One
/// `Locked` box cannot say that; every stored property below is read or written only under the lock its
/// comment names, and `release-smoke.sh` runs the queue's concurrency tests in an optimised build.
public final class DeliveryQueue: @unchecked Sendable {
    public let path: String
    private let lock = NSLock()
    private var events: [QueuedEvent] = []
    /// Event id → position in `events`.
    private var positions: [String: Int] = [:]
    private var done: Set<String> = []
    /// Events finished for all their targets, among `events`.
    private var finished = 0
    /// Ids of compacted events, oldest first, for de-duplication (bounded).
    private var forgotten: Set<String> = []
    private var forgottenOrder: [String] = []
    public static let rememberedFinished = 100_000
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
        let data: [UInt8]
        do {
            // Never blocks: a queue path that is a FIFO or a device is refused, not waited on.
            data = try FileBytes.read(path, limit: Int(Int32.max))
        } catch {
            if error.kind == .missing { return }
            throw QueueError(.open, "cannot read the delivery queue '\(path)': \(error.reason)")
        }
        // A crash mid-write leaves a torn last line; the next append must not be glued onto it.
        tornTail = data.last.map { $0 != 0x0A } ?? false
        for line in data.split(separator: 0x0A) where !line.isEmpty {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: String] else { continue }
            switch object["kind"] {
            case "event":
                guard let id = object["id"], let actionText = object["action"], let action = WebhookAction(rawValue: actionText),
                    let repository = object["repository"], let body = object["body"].flatMap({ Data(base64Encoded: $0) })
                else { continue }
                // Written before events carried their audience: resolved against the webhooks at start
                // (``resolveUnaddressed(_:)``), so an upgrade loses nothing.
                let targets = object["targets"] ?? Self.unaddressed
                if positions[id] == nil {
                    positions[id] = events.count
                    var notification = RegistryNotification(id: id, action: action, repository: repository, tag: object["tag"], body: Array(body),
                                                                    isChart: object["chart"] == "true")
                    notification.replayOf = object["replay_of"]
                    events.append(QueuedEvent(notification, targets: targets.split(separator: ",").map(String.init)))
                }
            case "done":
                if let id = object["id"], let webhook = object["webhook"] { done.insert(Self.key(id, webhook)) }
            default:
                continue
            }
        }
        for index in events.indices where isFinished(events[index], live: nil) {
            events[index].notification.body = []
            finished += 1
        }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// The audience of an event stored without one (never a webhook name: those are letters and digits).
    static let unaddressed = "*"

    /// Gives events stored without an audience the one `resolve` returns (the webhooks they match now).
    public func resolveUnaddressed(_ resolve: (RegistryNotification) -> [String]) {
        lock.withLock {
            for index in events.indices where events[index].targets == [Self.unaddressed] {
                events[index].targets = resolve(events[index].notification).map { $0.lowercased() }
            }
        }
    }

    static func key(_ id: String, _ webhook: String) -> String { id + "\u{0}" + webhook.lowercased() }

    /// Every target has it done (or, when `live` is given, is done or no longer exists).
    private func isFinished(_ event: QueuedEvent, live: Set<String>?) -> Bool {
        event.targets.allSatisfy { target in
            done.contains(Self.key(event.notification.id, target)) || (live.map { !$0.contains(target) } ?? false)
        }
    }

    /// Appends the events not seen before (registries retry batches) and returns them once they are on
    /// disk: when this returns, an acknowledgement is safe.
    public func enqueue(_ queued: [QueuedEvent]) throws -> [QueuedEvent] {
        let staged = try stage(batches: [queued])
        try sync(staged.ticket)
        return staged.fresh.first ?? []
    }

    /// Batches appended but perhaps not yet on disk: acknowledge them only once ``sync(_:)`` returned for
    /// `ticket` (0: nothing was written).
    public struct Staged: Sendable {
        public var fresh: [[QueuedEvent]]
        public var ticket: Int
    }

    /// Appends the fresh events of `batches` (the requests that arrived together) in one write, without
    /// waiting for the disk; each batch's fresh events come back in order, and an event in two of them is
    /// fresh in the first only.
    public func stage(batches: [[QueuedEvent]]) throws -> Staged {
        try lock.withLock { () throws -> Staged in
            guard !broken else { throw Self.brokenError(path) }
            var seenNow: Set<String> = []
            let fresh = batches.map { queued in
                queued.filter { event in
                    positions[event.notification.id] == nil && !forgotten.contains(event.notification.id)
                        && seenNow.insert(event.notification.id).inserted
                }
            }
            guard fresh.contains(where: { !$0.isEmpty }) else { return Staged(fresh: fresh, ticket: 0) }
            var lines: [UInt8] = []
            for event in fresh.joined() { lines += Self.line(Self.record(event)) }
            try append(lines)
            written += 1
            // Visible to deliveries before the sync: a crash before it means the registry never got its
            // 2xx and sends the batch again, so an early delivery is at worst a duplicate (at least once).
            for event in fresh.joined() {
                positions[event.notification.id] = events.count
                events.append(event)
            }
            return Staged(fresh: fresh, ticket: written)
        }
    }

    /// Makes the appends up to `ticket` durable, blocking (one fsync shared with whoever waits together).
    public func sync(_ ticket: Int) throws {
        if ticket > 0 { try sync(upTo: ticket) }
    }

    private static func record(_ event: QueuedEvent) -> [String: String] {
        let notification = event.notification
        var record = ["kind": "event", "id": notification.id, "action": notification.action.rawValue, "repository": notification.repository,
                      "body": Data(notification.body).base64EncodedString(), "targets": event.targets.joined(separator: ",")]
        if let tag = notification.tag { record["tag"] = tag }
        if notification.isChart { record["chart"] = "true" }
        if let original = notification.replayOf { record["replay_of"] = original }
        return record
    }

    /// Whether `id` was accepted before (a retried batch).
    public func contains(_ id: String) -> Bool { lock.withLock { positions[id] != nil || forgotten.contains(id) } }

    /// How many events are finished for all their targets but still in the file (what a compaction removes,
    /// webhooks that no longer exist aside).
    public var finishedCount: Int { lock.withLock { finished } }

    /// True after a failed fsync or a torn append: no batch is accepted until a restart.
    public var isBroken: Bool { lock.withLock { broken } }

    /// What a failed fsync does, for tests (a disk cannot be made to fail on demand here).
    func simulateDiskFailure() { lock.withLock { broken = true } }

    /// How many events the queue holds.
    public var count: Int { lock.withLock { events.count } }

    /// Makes every append up to `ticket` durable, with one fsync for all the callers waiting together.
    private func sync(upTo ticket: Int) throws {
        try syncLock.withLock {
            if synced >= ticket { return }  // someone else's fsync covered this append
            let (target, file) = lock.withLock { (written, descriptor) }
            // No descriptor: a compaction rewrote the file, with fsync, after this append.
            if file >= 0, fsync(file) != 0 {
                let reason = String(cString: strerror(errno))
                lock.withLock { broken = true }
                throw QueueError(.sync, "cannot sync the delivery queue '\(path)': \(reason); restart serve to reload it")
            }
            synced = target
        }
    }

    private static func brokenError(_ path: String) -> QueueError {
        QueueError(.broken, "the delivery queue '\(path)' could not be synced to disk earlier; restart serve to reload it")
    }

    /// Records that an event is finished for a webhook (delivered, given up after the last attempt, or
    /// dropped because the webhook no longer takes it).
    public func markDone(_ id: String, webhook: String) throws {
        try markDone([(id, webhook)])
    }

    /// ``markDone(_:webhook:)`` for several deliveries, in one write.
    public func markDone(_ finished: [(id: String, webhook: String)]) throws {
        guard !finished.isEmpty else { return }
        try lock.withLock {
            var lines: [UInt8] = []
            for (id, webhook) in finished {
                let wasFinished = positions[id].map { isFinished(events[$0], live: nil) } ?? true
                done.insert(Self.key(id, webhook))
                if let position = positions[id], !wasFinished, isFinished(events[position], live: nil) {
                    events[position].notification.body = []  // nobody needs it any more; the position stays
                    self.finished += 1
                }
                lines += Self.line(["kind": "done", "id": id, "webhook": webhook])
            }
            guard !broken else { return }
            // No fsync: losing these records only means more deliveries after a crash (at least once).
            try append(lines)
        }
    }

    public func isDone(_ id: String, webhook: String) -> Bool { lock.withLock { done.contains(Self.key(id, webhook)) } }

    /// Every event received, in order.
    public var allEvents: [RegistryNotification] { lock.withLock { events.map(\.notification) } }

    /// Events from position `start` on (the queue only grows while running, so positions are stable).
    public func events(from start: Int) -> ArraySlice<QueuedEvent> {
        lock.withLock { start < events.count ? events[start...] : [] }
    }

    /// Rewrites the file with only the unfinished events (and what is done of them), atomically, and
    /// returns how many events were kept and removed. An event is finished when every target has it done
    /// or, given `liveWebhooks`, is no longer among them. Positions change: run it only while no drain
    /// is in progress, and start the next drain from position 0 (``DeliveryEngine/compact()`` does).
    /// Batches may arrive meanwhile: they wait for the lock, and an append made before it is in the new
    /// file, which is fsynced, so its acknowledgement stays safe.
    @discardableResult
    public func compact(liveWebhooks: Set<String>?) throws -> (kept: Int, removed: Int) {
        // The sync lock first (the order sync() takes them in): the descriptor is closed below, and must
        // not be while an fsync on it is under way.
        try syncLock.withLock { try lock.withLock {
            guard !broken else { throw Self.brokenError(path) }
            let live = liveWebhooks.map { Set($0.map { $0.lowercased() }) }
            let keep = events.filter { !isFinished($0, live: live) }
            let removed = events.count - keep.count
            var bytes: [UInt8] = []
            var keptDone: Set<String> = []
            for event in keep {
                bytes += Self.line(Self.record(event))
                for target in event.targets where done.contains(Self.key(event.notification.id, target)) {
                    bytes += Self.line(["kind": "done", "id": event.notification.id, "webhook": target])
                    keptDone.insert(Self.key(event.notification.id, target))
                }
            }
            if descriptor >= 0 {
                close(descriptor)
                descriptor = -1
            }
            AtomicFile.removeStaleTemporaries(of: path)
            try AtomicFile.write(bytes, to: path)
            let keptIDs = Set(keep.map(\.notification.id))
            for event in events where !keptIDs.contains(event.notification.id) {
                forgotten.insert(event.notification.id)
                forgottenOrder.append(event.notification.id)
            }
            if forgottenOrder.count > Self.rememberedFinished {
                let excess = forgottenOrder.count - Self.rememberedFinished
                for id in forgottenOrder[..<excess] { forgotten.remove(id) }
                forgottenOrder.removeFirst(excess)
            }
            events = keep
            positions = [:]
            for (index, event) in keep.enumerated() { positions[event.notification.id] = index }
            done = keptDone
            finished = 0
            tornTail = false
            synced = written  // everything appended so far is in the new file, which AtomicFile synced
            return (keep.count, removed)
        } }
    }

    private static func line(_ record: [String: String]) -> [UInt8] {
        CompactJSON.object(record) + [0x0A]
    }

    /// One write on the queue's descriptor, opened on first use and kept (under `lock`).
    private func append(_ bytes: [UInt8]) throws {
        if descriptor < 0 {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty { try? PrivateFolder.create(directory) }
            do {
                descriptor = try FileBytes.openForAppending(path)
            } catch {
                throw QueueError(.open, "cannot open the delivery queue '\(path)': \(error.reason)")
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
                throw QueueError(.append, "cannot append to the delivery queue '\(path)': \(String(cString: strerror(errno)))")
            }
            offset += count
        }
        tornTail = false
    }
}

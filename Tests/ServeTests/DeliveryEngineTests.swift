import Delivery
import Foundation
import HookKit
import HookSpec
import Reconciler
import TestSupport
import Testing

@testable import Serve

/// The durable queue and the delivery engine behind `serve`, against real loopback receivers.
@Suite struct DeliveryEngineTests {
    static func push(_ id: String, repository: String = "demo/hello", tag: String = "v1") -> RegistryNotification {
        RegistryNotification(id: id, action: .push, repository: repository, tag: tag, body: Array(#"{"id":"\#(id)","action":"push"}"#.utf8))
    }

    /// An event for the queue alone, addressed to `targets`.
    static func queued(_ id: String, to targets: [String] = ["hook1x"]) -> QueuedEvent { QueuedEvent(push(id), targets: targets) }

    static let fastRetry = RetryPolicy(maxAttempts: 5, baseDelay: 0.001, maxDelay: 0.005)

    /// Webhooks the engine reads at each drain (a test can change them, as an apply would).
    final class Webhooks: @unchecked Sendable {
        private let lock = NSLock()
        private var current: [WebhookState]
        init(_ webhooks: [WebhookState]) { current = webhooks }
        func set(_ webhooks: [WebhookState]) { lock.withLock { current = webhooks } }
        var value: [WebhookState] { lock.withLock { current } }
    }

    @Test("accepted events survive a restart, duplicates are dropped, and a torn last line is ignored")
    func durability() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/dev.queue.jsonl"
        let queue = try DeliveryQueue(path: path)
        #expect(try queue.enqueue([Self.queued("a"), Self.queued("b"), Self.queued("a")]).map(\.notification.id) == ["a", "b"])
        #expect(try queue.enqueue([Self.queued("b"), Self.queued("c")]).map(\.notification.id) == ["c"])  // a retried batch
        try queue.markDone("a", webhook: "hook1x")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"kind":"event","id":"torn"#.utf8))
        try handle.close()
        let reopened = try DeliveryQueue(path: path)
        #expect(reopened.allEvents.map(\.id) == ["a", "b", "c"])
        #expect(reopened.allEvents[1].body == Self.push("b").body)
        #expect(reopened.allEvents[0].body.isEmpty, "finished for all its targets: its body is not kept in memory")
        #expect(reopened.isDone("a", webhook: "HOOK1X"))
        #expect(!reopened.isDone("b", webhook: "hook1x"))
    }

    @Test("compaction keeps only unfinished events (and what is done of them), counting removed webhooks as finished")
    func compaction() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/dev.queue.jsonl"
        let queue = try DeliveryQueue(path: path)
        _ = try queue.enqueue([Self.queued("a", to: ["one", "two"]), Self.queued("b", to: ["one"]), Self.queued("c", to: ["one", "gone"])])
        try queue.markDone("a", webhook: "one")  // a: half done
        try queue.markDone("b", webhook: "one")  // b: finished
        try queue.markDone("c", webhook: "one")  // c: finished once "gone" no longer exists
        let before = try #require(FileManager.default.contents(atPath: path)).count
        let restarted = try DeliveryQueue(path: path)
        #expect(try restarted.compact(liveWebhooks: ["one", "two"]) == (kept: 1, removed: 2))
        #expect(try #require(FileManager.default.contents(atPath: path)).count < before)
        let again = try DeliveryQueue(path: path)
        #expect(again.allEvents.map(\.id) == ["a"])
        #expect(again.isDone("a", webhook: "one") && !again.isDone("a", webhook: "two"))
        #expect(again.events(from: 0).first?.targets == ["one", "two"])
        // Appending after a compaction keeps working, and a compaction with nothing finished keeps all.
        _ = try again.enqueue([Self.queued("d", to: ["two"])])
        #expect(try again.compact(liveWebhooks: nil) == (kept: 2, removed: 0))
        #expect(try DeliveryQueue(path: path).allEvents.map(\.id) == ["a", "d"])
        // While running, compacted ids are remembered: a batch retried after a compaction is still a duplicate.
        try again.markDone("d", webhook: "two")
        #expect(again.finishedCount == 1)
        #expect(try again.compact(liveWebhooks: nil) == (kept: 1, removed: 1))
        #expect(again.contains("d") && again.finishedCount == 0)
        #expect(try again.enqueue([Self.queued("d", to: ["two"]), Self.queued("e", to: ["two"])]).map(\.notification.id) == ["e"])
        #expect(try DeliveryQueue(path: path).allEvents.map(\.id) == ["a", "e"])
    }

    @Test("the engine compacts only when enough events are finished, and delivers correctly afterwards")
    func compactionBetweenDrains() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let receiver = try LoopbackReceiver()
        defer { receiver.stop() }
        let queue = try DeliveryQueue(path: directory + "/q.jsonl")
        let webhooks = [WebhookState(name: "hook1x", serviceUri: receiver.url + "/one", actions: [.push]),
                        WebhookState(name: "hook2x", serviceUri: receiver.url + "/two", actions: [.push], scope: "demo/hello:v1")]
        let engine = DeliveryEngine(queue: queue, webhooks: { webhooks }, log: EventLog(path: directory + "/events.jsonl"), retry: Self.fastRetry)
        _ = try engine.accept((1...8).map { Self.push("a\($0)") })
        #expect(try engine.compactIfWorthwhile(threshold: 5) == nil, "nothing finished yet")
        try await engine.drain()
        #expect(receiver.requests.count == 16)
        let compaction = try #require(try engine.compactIfWorthwhile(threshold: 5))
        #expect(compaction == (kept: 0, removed: 8))
        _ = try engine.accept((9...11).map { Self.push("a\($0)") } + [Self.push("a3")])  // a3: retried, remembered
        #expect(try engine.depth() == 6)
        try await engine.drain()
        #expect(receiver.requests.count == 22)
        #expect(try engine.depth() == 0)
    }

    @Test("events stored without an audience (an older serve) are addressed to the webhooks matching at start, not lost")
    func unaddressedEvents() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let receiver = try LoopbackReceiver()
        defer { receiver.stop() }
        let path = directory + "/q.jsonl"
        let body = Data(Self.push("old").body).base64EncodedString()
        try Data((#"{"action":"push","body":"\#(body)","id":"old","kind":"event","repository":"demo/hello","tag":"v1"}"# + "\n").utf8)
            .write(to: URL(fileURLWithPath: path))
        let webhooks = [WebhookState(name: "matches", serviceUri: receiver.url + "/m", actions: [.push]),
                        WebhookState(name: "elsewhere", serviceUri: receiver.url + "/e", actions: [.push], scope: "other/app:*")]
        let engine = DeliveryEngine(queue: try DeliveryQueue(path: path), webhooks: { webhooks }, log: EventLog(path: directory + "/e.jsonl"),
                                    retry: Self.fastRetry)
        #expect(try engine.depth() == 0, "not addressed to anyone until resolved")
        #expect(try engine.compact() == (kept: 1, removed: 0))
        #expect(try DeliveryQueue(path: path).events(from: 0).first?.targets == ["matches"])
        try await engine.drain()
        #expect(receiver.requests.map(\.target) == ["/m"])
    }

    @Test("an append after a torn last line starts a new line, so the new event survives the next restart")
    func appendAfterTornLine() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/dev.queue.jsonl"
        _ = try DeliveryQueue(path: path).enqueue([Self.queued("a", to: ["w"])])
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"kind":"event","id":"torn"#.utf8))
        try handle.close()
        let restarted = try DeliveryQueue(path: path)
        _ = try restarted.enqueue([Self.queued("b", to: ["w"])])
        try restarted.markDone("a", webhook: "w")
        let again = try DeliveryQueue(path: path)
        #expect(again.allEvents.map(\.id) == ["a", "b"])
        #expect(again.isDone("a", webhook: "w"))
    }

    @Test("concurrent batches share fsyncs (group commit) and every acknowledged event is on disk, once")
    func groupCommit() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/dev.queue.jsonl"
        let queue = try DeliveryQueue(path: path)
        await concurrentForEach(8) { client in
            for round in 0..<40 {
                // Each batch repeats one event of the previous batch, as a registry retrying would.
                _ = try? queue.enqueue([Self.queued("c\(client)-\(round)"), Self.queued("c\(client)-\(max(0, round - 1))")])
            }
        }
        let reloaded = try DeliveryQueue(path: path).allEvents.map(\.id)
        #expect(reloaded.count == 320 && Set(reloaded).count == 320)
        for client in 0..<8 {
            let mine = reloaded.filter { $0.hasPrefix("c\(client)-") }
            #expect(mine == (0..<40).map { "c\(client)-\($0)" }, "one client's batches keep their order")
        }
    }

    @Test("batches stored together: one ticket, each batch's own counts, an event in two batches stored once; a broken queue refuses them all")
    func batchesTogether() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/dev.queue.jsonl"
        let queue = try DeliveryQueue(path: path)
        let webhooks = [WebhookState(name: "hook1x", serviceUri: "http://127.0.0.1:1/", actions: [.push], scope: "demo/hello:*")]
        let engine = DeliveryEngine(queue: queue, webhooks: { webhooks }, log: EventLog(path: directory + "/events.jsonl"))
        let staged = try engine.stage(batches: [[Self.push("a"), Self.push("b")], [Self.push("b"), Self.push("c"), Self.push("x", repository: "other/repo")], []])
        #expect(staged.acceptances == [
            .init(stored: 2, duplicates: 0, unmatched: 0), .init(stored: 1, duplicates: 1, unmatched: 1), .init(stored: 0, duplicates: 0, unmatched: 0),
        ])
        #expect(staged.ticket == 1, "one append for every batch")
        try queue.sync(staged.ticket)
        #expect(try DeliveryQueue(path: path).allEvents.map(\.id) == ["a", "b", "c"])
        // Nothing fresh: no append, nothing to sync.
        #expect(try engine.stage(batches: [[Self.push("a")]]).ticket == 0)
        queue.simulateDiskFailure()
        #expect(throws: QueueError.self) { try engine.accept(batches: [[Self.push("d")], [Self.push("e")]]) }
        #expect(try DeliveryQueue(path: path).allEvents.map(\.id) == ["a", "b", "c"])
    }

    @Test("events reach only matching webhooks, in order per webhook, with custom headers, logged with secrets masked")
    func delivers() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let receiver = try LoopbackReceiver()
        defer { receiver.stop() }
        let queue = try DeliveryQueue(path: directory + "/q.jsonl")
        let secret = "s3cret-\(UUID().uuidString)"
        let webhooks = Webhooks([
            WebhookState(name: "scoped", serviceUri: receiver.url + "/scoped?code=\(secret)", customHeaders: [ResolvedHeader(name: "Authorization", value: secret)],
                         actions: [.push], scope: "demo/hello:*"),
            WebhookState(name: "deletes", serviceUri: receiver.url + "/deletes", actions: [.delete]),
            WebhookState(name: "paused", serviceUri: receiver.url + "/paused", actions: [.push], status: .disabled),
        ])
        let log = EventLog(path: directory + "/q.events.jsonl")
        let engine = DeliveryEngine(queue: queue, webhooks: { webhooks.value }, log: log, retry: Self.fastRetry)
        let accepted = try engine.accept((1...5).map { Self.push("e\($0)") } + [Self.push("other", repository: "other/app")])
        #expect(accepted == .init(stored: 5, duplicates: 0, unmatched: 1))
        #expect(try engine.accept([Self.push("e1")]) == .init(stored: 0, duplicates: 1, unmatched: 0))  // a retried batch
        #expect(try engine.depth() == 5)
        try await engine.drain()
        let received = receiver.requests
        #expect(received.map(\.target) == Array(repeating: "/scoped?code=\(secret)", count: 5))
        let ids = received.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: String])?["id"] }
        #expect(ids == ["e1", "e2", "e3", "e4", "e5"])
        #expect(received.allSatisfy { $0.headers["authorization"] == secret && $0.headers["content-type"] == "application/json" })
        #expect(try engine.depth() == 0)
        let text = try String(contentsOfFile: log.path, encoding: .utf8)
        #expect(!text.contains(secret))
        #expect(engine.metrics.value(.delivered) == 5)
        // A webhook added later (an apply) is picked up without a restart, for events from then on: like
        // an ACR webhook, it does not receive the events that arrived before it existed.
        webhooks.set(webhooks.value + [WebhookState(name: "newcomer", serviceUri: receiver.url + "/new", actions: [.push])])
        #expect(try engine.depth() == 0)
        #expect(try engine.accept([Self.push("e6")]).stored == 1)
        #expect(try engine.depth() == 2)
        try await engine.drain()
        #expect(receiver.requests.filter { $0.target == "/new" }.count == 1)
        #expect(receiver.requests.filter { $0.target.hasPrefix("/scoped") }.count == 6)
        // Disabled after an event arrived: that delivery is dropped, not sent.
        #expect(try engine.accept([Self.push("e7")]).stored == 1)
        webhooks.set(webhooks.value.map { var webhook = $0; if webhook.name == "newcomer" { webhook.status = .disabled }; return webhook })
        try await engine.drain()
        #expect(receiver.requests.filter { $0.target == "/new" }.count == 1)
        #expect(engine.metrics.value(.dropped) == 1)
        #expect(try engine.depth() == 0)
    }

    @Test("failed deliveries are retried, then given up after the last attempt; a restart does not resend finished ones")
    func retries() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let counter = Counter()
        // Fails the first two attempts of every event, then accepts.
        let flaky = try LoopbackReceiver(handler: { _ in LoopbackReceiver.Response(status: counter.next() % 3 == 0 ? 200 : 503) })
        let down = try LoopbackReceiver(status: 500)
        defer {
            flaky.stop()
            down.stop()
        }
        let path = directory + "/q.jsonl"
        let queue = try DeliveryQueue(path: path)
        let webhooks = [
            WebhookState(name: "flaky", serviceUri: flaky.url, actions: [.push]),
            WebhookState(name: "down", serviceUri: down.url, actions: [.push]),
        ]
        let log = EventLog(path: directory + "/q.events.jsonl")
        let engine = DeliveryEngine(queue: queue, webhooks: { webhooks }, log: log, maxAttempts: 3, retry: Self.fastRetry)
        _ = try engine.accept([Self.push("x1"), Self.push("x2")])
        try await engine.drain()
        #expect(flaky.requests.count == 6)  // 3 attempts each, the third accepted
        #expect(down.requests.count == 6)  // 3 attempts each, then given up
        #expect(engine.metrics.value(.delivered) == 2)
        #expect(engine.metrics.value(.failed) == 2)
        #expect(engine.metrics.value(.retried) == 8)
        let attempts = log.read(webhook: "flaky", limit: 10).map(\.attempt)
        #expect(attempts.sorted() == [1, 1, 2, 2, 3, 3])
        // After a restart nothing is pending: delivered and given-up events are finished.
        let restarted = DeliveryEngine(queue: try DeliveryQueue(path: path), webhooks: { webhooks }, log: log, maxAttempts: 3, retry: Self.fastRetry)
        #expect(try restarted.depth() == 0)
    }

    @Test("https deliveries go through URLSession from a lane's thread: an unreachable receiver is a logged failure, not a hang", .timeLimit(.minutes(1)))
    func httpsFromLane() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let closed = try ScriptedServer { _, _ in .close }
        let port = closed.port
        closed.stop()  // nothing listens there now: URLSession fails at once
        let queue = try DeliveryQueue(path: directory + "/q.jsonl")
        let secret = "tls-query-secret"
        let webhooks = [WebhookState(name: "tls", serviceUri: "https://127.0.0.1:\(port)/hook?code=\(secret)", actions: [.push])]
        let log = EventLog(path: directory + "/events.jsonl")
        let engine = DeliveryEngine(queue: queue, webhooks: { webhooks }, log: log, delivery: WebhookDelivery(timeout: 2), maxAttempts: 2,
                                    retry: Self.fastRetry)
        _ = try engine.accept([Self.push("t1"), Self.push("t2")])
        try await engine.drain()
        #expect(engine.metrics.value(.failed) == 2 && engine.metrics.value(.delivered) == 0)
        let records = log.read(webhook: "tls", limit: 10)
        #expect(records.count == 4 && records.allSatisfy { $0.response == nil && !($0.error ?? "").isEmpty })
        #expect(!(try String(contentsOfFile: log.path, encoding: .utf8)).contains(secret))
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func next() -> Int { lock.withLock { count += 1; return count } }
    }
}

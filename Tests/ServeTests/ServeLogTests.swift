import Delivery
import Foundation
import HTTP1
import HookKit
import HookSpec
import Reconciler
import TestSupport
import Testing

@testable import Serve

/// Honest logs: timestamps, JSON lines, give-ups said and counted, nothing logged for events ACR has
/// no name for, warnings when there is nobody to deliver to, and a delivery log bounded on disk.
@Suite struct LogWriterTests {
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [LogEntry] = []
        func add(_ entry: LogEntry) { lock.withLock { values.append(entry) } }
        var all: [LogEntry] { lock.withLock { values } }
    }

    @Test("text lines start with an RFC 3339 timestamp; JSON lines are objects with stable names")
    func formats() throws {
        let entry = LogEntry(.warning, "delivery.gave_up", "gave up on \"x\"\n", [("webhook", "hook1x"), ("attempt", 5), ("gave_up", true), ("seconds", 1.25), ("id", "7")])
        let text = LogWriter(format: .text, clock: { "2026-11-30T21:00:00.000Z" }) { _ in }.line(entry)
        #expect(text == #"2026-11-30T21:00:00.000Z warning: gave up on "x"\n"#)
        let json = LogWriter(format: .json, clock: { "2026-11-30T21:00:00.000Z" }) { _ in }.line(entry)
        // Numbers and booleans are JSON numbers and booleans; text that looks like a number stays text.
        #expect(json == #"{"time":"2026-11-30T21:00:00.000Z","level":"warning","event":"delivery.gave_up","msg":"gave up on \"x\"\n","webhook":"hook1x","attempt":5,"gave_up":true,"seconds":1.25,"id":"7"}"#)
        #expect(try JSONSerialization.jsonObject(with: Data(json.utf8)) is [String: Any])
        #expect(!json.contains("\n"))
        // Bidirectional and C1 controls from outside stay inert and the line stays valid JSON.
        let hostile = LogWriter(format: .json, clock: { "t" }) { _ in }.line(LogEntry(.info, "e", "name\u{202E}txt\u{9B}2J"))
        #expect(!hostile.unicodeScalars.contains { TerminalText.isUnsafe($0) }, "\(hostile)")
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(hostile.utf8)) as? [String: String])
        #expect(decoded["msg"] == "name\u{202E}txt\u{9B}2J")
        // The real clock writes RFC 3339 with milliseconds.
        let stamped = LogWriter(format: .text) { _ in }.line(LogEntry(.info, "e", "m"))
        #expect(stamped.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z m$"#, options: .regularExpression) != nil, "\(stamped)")
    }

    @Test("the webhook count is said at start and on change, with a warning when there are none or fewer than declared")
    func webhookCounts() {
        let lines = Lines()
        let watch = WebhookWatch(declared: 2) { lines.add($0) }
        watch.saw([])
        #expect(lines.all.map(\.event) == ["webhooks.changed", "webhooks.none"])
        #expect(lines.all.last?.message.contains("run `hookapply apply` first") == true)
        watch.saw([])
        #expect(lines.all.count == 2, "unchanged: nothing more is logged")
        watch.saw([WebhookState(name: "hookone", serviceUri: "https://h.example.com/", actions: [.push])])
        #expect(lines.all.suffix(2).map(\.event) == ["webhooks.changed", "webhooks.missing"])
        #expect(lines.all.suffix(2).first?.message == "1 webhook in the local registry, 1 enabled (was 0)")
        watch.saw([WebhookState(name: "hookone", serviceUri: "https://h.example.com/", actions: [.push]),
                   WebhookState(name: "hooktwo", serviceUri: "https://h.example.com/", actions: [.push], status: .disabled)])
        #expect(lines.all.last?.event == "webhooks.changed")
        #expect(lines.all.last?.message == "2 webhooks in the local registry, 1 enabled (was 1)")
    }

    @Test("a delivery given up is marked on its last attempt, in the event log with the image, and counted")
    func gaveUp() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let receiver = try LoopbackReceiver(status: 500)
        defer { receiver.stop() }
        let webhook = WebhookState(name: "brokenhook", serviceUri: receiver.url + "/h", actions: [.push])
        let log = EventLog(path: directory + "/events.jsonl")
        let engine = DeliveryEngine(queue: try DeliveryQueue(path: directory + "/q.jsonl"), webhooks: { [webhook] }, log: log, maxAttempts: 3,
                                    retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.001, maxDelay: 0.002))
        let event = DeliveryEngineTests.push("ev-9", repository: "demo/hello", tag: "v2")
        _ = try engine.accept([event])
        try await engine.drain()
        let records = log.read(webhook: "brokenhook", limit: 10)
        #expect(records.map(\.attempt) == [3, 2, 1])
        #expect(records.map { $0.gaveUp == true } == [true, false, false])
        #expect(records.allSatisfy { $0.subject == "demo/hello:v2" })
        #expect(engine.metrics.value(.failed) == 1)
    }

    @Test("events ACR has no name for (blob uploads, pulls) are counted, not logged")
    func ignoredEvents() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let lines = Lines()
        let engine = DeliveryEngine(queue: try DeliveryQueue(path: directory + "/q.jsonl"), webhooks: { [] }, log: EventLog(path: directory + "/e.jsonl"))
        let service = ServeService(engine: engine, token: nil) { lines.add($0) }
        let blob = #"{"events":[{"id":"b1","action":"push","target":{"mediaType":"application/octet-stream","repository":"demo/hello","digest":"sha256:ab"}},{"id":"p1","action":"pull","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","repository":"demo/hello","tag":"v1"}}]}"#
        let response = service.handle(HTTPRequest(method: .post, target: "/events", headers: [ResolvedHeaderLine(name: "Content-Type", value: "application/json")], body: Array(blob.utf8)))
        #expect(response.status.rawValue == 200)
        #expect(lines.all.isEmpty, "\(lines.all.map(\.message))")
        #expect(engine.metrics.value(.ignored) == 2)
    }

    @Test("the event log rotates by size, keeps N files, reads across them newest first, and follows an external move")
    func rotation() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = EventLog(path: directory + "/events.jsonl", maxBytes: 4096, keep: 2)
        func record(_ index: Int) -> DeliveryRecord {
            DeliveryRecord(id: "ev-\(index)", webhook: "hookone", action: "push", timestamp: "t",
                           request: .init(method: "POST", uri: "https://h.example.com/", headers: [:], body: String(repeating: "x", count: 200)),
                           response: .init(status: 200, headers: [:], body: "ok", bodyTruncated: false), error: nil, durationMilliseconds: 1)
        }
        for index in 0..<100 { try log.append(record(index)) }
        let manager = FileManager.default
        #expect(manager.fileExists(atPath: log.path) && manager.fileExists(atPath: log.path + ".1") && manager.fileExists(atPath: log.path + ".2"))
        #expect(!manager.fileExists(atPath: log.path + ".3"))
        for file in log.files { #expect((try? manager.attributesOfItem(atPath: file)[.size] as? Int) ?? 0 <= 4096) }
        let read = log.read(webhook: nil, limit: 1000)
        #expect(read.first?.id == "ev-99")
        let ids = read.compactMap { Int($0.id.dropFirst(3)) }
        #expect(ids == ids.sorted(by: >), "newest first across files")
        // Every line of the three files kept is read, and the oldest are gone (how many fit depends on the line size).
        let kept = log.files.reduce(0) { $0 + ((try? String(contentsOfFile: $1, encoding: .utf8))?.split(separator: "\n").count ?? 0) }
        #expect(read.count == kept && read.count < 100 && read.count > 10, "\(read.count) read, \(kept) kept")
        // logrotate moves the file away: the next append starts a new one, and nothing is lost from it.
        try manager.moveItem(atPath: log.path, toPath: directory + "/moved.jsonl")
        try log.append(record(100))
        #expect(log.read(webhook: nil, limit: 1).first?.id == "ev-100")
    }
}

/// Log field values as JSON literals: numbers stay valid JSON numbers at every magnitude.
@Suite struct LogFieldValueTests {
    @Test("doubles", arguments: [(1.25, "1.25"), (3.0, "3"), (0.5, "0.5"), (-0.0001, "0"), (0.0004, "0"), (0.0005, "0.001"), (1e20, "100000000000000000000"), (-2.5, "-2.5")])
    func doubles(_ value: Double, _ expected: String) throws {
        #expect(value.jsonLiteral == expected)
        #expect(try JSONSerialization.jsonObject(with: Data("[\(expected)]".utf8)) is [Any])
    }

    @Test("what JSON cannot hold is text")
    func nonFinite() {
        #expect(Double.infinity.jsonLiteral == nil)
        #expect(Double.nan.jsonLiteral == nil)
        #expect(true.jsonLiteral == "true" && 42.jsonLiteral == "42" && "42".jsonLiteral == nil)
    }
}

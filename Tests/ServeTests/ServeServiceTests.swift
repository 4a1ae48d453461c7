import Delivery
import Foundation
import HTTP1
import HookKit
import HookSpec
import Reconciler
import TestSupport
import Testing

@testable import Serve

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `serve`'s service behind a real socket: ingest rules, durability across a restart, health and metrics.
@Suite struct ServeServiceTests {
    static let push = #"{"events":[{"id":"ev-1","timestamp":"2026-11-29T03:55:18Z","action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":418,"digest":"sha256:1f3e","length":418,"repository":"demo/hello","tag":"v2"},"request":{"id":"r1","host":"h","method":"PUT","useragent":"skopeo"}}]}"#

    struct Running {
        var server: HTTPServer
        var service: ServeService
        var deliveries: Task<Void, Never>

        func stop() async {
            server.stop()
            service.stop()
            await deliveries.value
        }
    }

    /// `deliver: false` runs ingest only, as a serve that dies before delivering anything.
    static func start(queuePath: String, webhooks: [WebhookState], directory: String, deliver: Bool = true,
                      compactionThreshold: Int = 10_000) throws -> Running {
        let queue = try DeliveryQueue(path: queuePath)
        let engine = DeliveryEngine(queue: queue, webhooks: { webhooks }, log: EventLog(path: directory + "/events.jsonl"),
                                    retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.001, maxDelay: 0.002))
        let service = ServeService(engine: engine, token: "registry-token", compactionThreshold: compactionThreshold)
        // As serve runs it: requests arriving together are handed over (and stored) together.
        let server = try HTTPServer.batching(host: "127.0.0.1", port: 0, headCheck: service.precheck, handler: service.handle(batch:))
        server.start()
        return Running(server: server, service: service, deliveries: Task { if deliver { await service.runDeliveries() } })
    }

    static func post(_ port: UInt16, _ body: String, token: String? = "registry-token",
                     type: String = "application/vnd.docker.distribution.events.v1+json") async throws -> Int {
        var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)/events")))
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue(type, forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    static func waitFor(_ condition: () -> Bool) async {
        for _ in 0..<200 where !condition() { try? await Task.sleep(nanoseconds: 10_000_000) }
    }

    @Test("ingest refuses a wrong token, a wrong type, bad JSON and an oversized body, keeping nothing; accepts and delivers the rest")
    func ingest() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let receiver = try LoopbackReceiver()
        defer { receiver.stop() }
        let running = try Self.start(queuePath: directory + "/q.jsonl",
                                     webhooks: [WebhookState(name: "deploybot", serviceUri: receiver.url + "/hook", actions: [.push], scope: "demo/hello:*")],
                                     directory: directory)
        let port = running.server.port
        #expect(try await Self.post(port, Self.push, token: "wrong") == 401)
        #expect(try await Self.post(port, Self.push, token: nil) == 401)
        #expect(try await Self.post(port, Self.push, type: "text/plain") == 415)
        #expect(try await Self.post(port, "{oops") == 400)
        #expect(try await Self.post(port, String(repeating: " ", count: 1_100_000) + Self.push) == 413)
        #expect(try DeliveryQueue(path: directory + "/q.jsonl").allEvents.isEmpty)
        #expect(try await Self.post(port, Self.push) == 200)
        #expect(try await Self.post(port, Self.push, type: "application/json") == 200)  // a retried batch: stored once
        await Self.waitFor { receiver.requests.count >= 1 }
        #expect(receiver.requests.count == 1)
        let event = try #require(try JSONSerialization.jsonObject(with: Data(receiver.requests[0].body)) as? [String: Any])
        #expect(event["id"] as? String == "ev-1" && event["action"] as? String == "push")
        // The receiver records a request before answering it, so the engine counts the delivery a moment later.
        var text = ""
        for _ in 0..<200 {
            let (metrics, _) = try await URLSession.shared.data(from: try #require(URL(string: "http://127.0.0.1:\(port)/metrics")))
            text = String(decoding: metrics, as: UTF8.self)
            if text.contains("hookapply_events_delivered_total 1") { break }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        #expect(text.contains("hookapply_events_received_total 2"))
        #expect(text.contains("hookapply_events_delivered_total 1"))
        let (health, _) = try await URLSession.shared.data(from: try #require(URL(string: "http://127.0.0.1:\(port)/healthz")))
        #expect(String(decoding: health, as: UTF8.self) == "ok\n")
        await running.stop()
    }

    @Test("events accepted while the receiver is down are delivered after a restart")
    func restart() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let down = [WebhookState(name: "deploybot", serviceUri: "http://127.0.0.1:9/unreachable", actions: [.push])]
        let first = try Self.start(queuePath: directory + "/q.jsonl", webhooks: down, directory: directory, deliver: false)
        #expect(try await Self.post(first.server.port, Self.push) == 200)
        await first.stop()
        // The receiver comes up at a new address (an apply changed the webhook), and serve starts again.
        let receiver = try LoopbackReceiver()
        defer { receiver.stop() }
        let up = [WebhookState(name: "deploybot", serviceUri: receiver.url + "/hook", actions: [.push])]
        let second = try Self.start(queuePath: directory + "/q.jsonl", webhooks: up, directory: directory)
        await Self.waitFor { receiver.requests.count >= 1 }
        #expect(receiver.requests.count == 1)
        await second.stop()
    }

    static func event(_ id: String) -> String {
        Self.push.replacingOccurrences(of: #""id":"ev-1""#, with: #""id":"\#(id)""#)
    }

    @Test("batches keep arriving while the queue compacts itself: every event is delivered exactly once and the file stays small", .timeLimit(.minutes(1)))
    func compactionUnderLoad() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let receiver = try LoopbackReceiver()
        defer { receiver.stop() }
        let webhooks = [WebhookState(name: "deploybot", serviceUri: receiver.url + "/a", actions: [.push]),
                        WebhookState(name: "auditlog", serviceUri: receiver.url + "/b", actions: [.push])]
        let queuePath = directory + "/q.jsonl"
        let running = try Self.start(queuePath: queuePath, webhooks: webhooks, directory: directory, compactionThreshold: 10)
        let port = running.server.port
        let refused = Counter()
        await concurrentForEach(4) { client in
            for index in 0..<40 {
                // Every fifth batch is sent twice, as a registry whose 2xx was lost would.
                let body = Self.event("c\(client)-\(index)")
                if (try? await Self.post(port, body)) != 200 { refused.add() }
                if index % 5 == 0, (try? await Self.post(port, body)) != 200 { refused.add() }
            }
        }
        #expect(refused.value == 0)
        for _ in 0..<2_000 where receiver.requests.count < 320 { try await Task.sleep(nanoseconds: 10_000_000) }  // 20 s at most
        _ = try await Self.post(port, Self.event("nudge"))  // one more batch: one more drain, and a compaction after it
        for _ in 0..<2_000 where receiver.requests.count < 322 { try await Task.sleep(nanoseconds: 10_000_000) }
        try await Task.sleep(nanoseconds: 100_000_000)  // the compaction runs right after the drain
        await running.stop()
        let ids = receiver.requests.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any])?["id"] as? String }
        let counts = Dictionary(ids.map { ($0, 1) }, uniquingKeysWith: +)
        #expect(counts.count == 161 && counts.values.allSatisfy { $0 == 2 }, "each event once to each of the two webhooks")
        let left = try DeliveryQueue(path: queuePath)
        #expect(left.count < 40, "compacted while running: \(left.count) events left in the file")
    }

    @Test("after a disk failure nothing more is acknowledged and /healthz says so, so a supervisor restarts serve")
    func diskFailure() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let queuePath = directory + "/q.jsonl"
        let queue = try DeliveryQueue(path: queuePath)
        let webhooks = [WebhookState(name: "deploybot", serviceUri: "http://127.0.0.1:9/x", actions: [.push])]
        let engine = DeliveryEngine(queue: queue, webhooks: { webhooks }, log: EventLog(path: directory + "/events.jsonl"))
        let service = ServeService(engine: engine, token: nil)
        let request = { (method: String, target: String, body: String) in
            HTTPRequest(method: HTTPMethod(method), target: target, version: "HTTP/1.1",
                        headers: [ResolvedHeaderLine(name: "Host", value: "h"), ResolvedHeaderLine(name: "Content-Type", value: "application/json")],
                        body: Array(body.utf8))
        }
        #expect(service.handle(request("GET", "/healthz", "")).status == 200)
        #expect(service.handle(request("POST", "/events", Self.event("before"))).status == 200)
        queue.simulateDiskFailure()
        #expect(service.handle(request("GET", "/healthz", "")).status == 503)
        #expect(service.handle(request("POST", "/events", Self.event("after"))).status == 503)
        #expect(try DeliveryQueue(path: queuePath).allEvents.map(\.id) == ["before"])
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func add() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }

    @Test("the bearer scheme is case-insensitive and the token must match exactly", arguments: [
        ("Bearer registry-token", true), ("bearer registry-token", true), ("BEARER   registry-token", true), ("Bearer\tregistry-token", true),
        ("Bearer registry-token2", false), ("Bearer registry-toke", false), ("Basic registry-token", false), ("registry-token", false),
        ("Bearer", false), ("", false), ("  Bearer registry-token \t", true), ("Bearers registry-token", false),
        ("Bearer registry token", false), ("Bearer registry-token registry-token", false), ("Bearer\u{00A0}registry-token", false),
    ])
    func bearer(_ header: String, _ accepted: Bool) {
        #expect(ServeService.presents(header, token: "registry-token") == accepted)
    }

    @Test("the media type is compared without parameters, spaces or case", arguments: [
        ("application/json", "application/json"), ("Application/JSON; charset=utf-8", "application/json"),
        (" application/vnd.docker.distribution.events.v1+json ;x=1", "application/vnd.docker.distribution.events.v1+json"),
        ("", ""), (";", ""), ("text/plain", "text/plain"),
    ])
    func mediaType(_ header: String, _ expected: String) {
        #expect(ServeService.mediaType(header) == expected)
    }

    @Test("batches posted together (pipelined) are stored together and answered in order, each with its own counts")
    func together() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let webhooks = [WebhookState(name: "hooka", serviceUri: "http://127.0.0.1:1/", actions: [.push], scope: "demo/hello:*")]
        let running = try Self.start(queuePath: directory + "/q.jsonl", webhooks: webhooks, directory: directory, deliver: false)
        let connection = try RawConnection(port: running.server.port)
        defer { connection.close() }
        func post(_ body: String, close: Bool = false) -> String {
            "POST /events HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer registry-token\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\(close ? "Connection: close\r\n" : "")\r\n\(body)"
        }
        let second = Self.push.replacingOccurrences(of: "ev-1", with: "ev-2")
        // One write: the server reads the three requests at once and hands them over as one batch.
        #expect(connection.send(Array((post(Self.push) + post(second) + post(second, close: true)).utf8)))
        let text = connection.readAll().text
        let bodies = text.components(separatedBy: "\r\n\r\n").dropFirst().map { $0.prefix { $0 != "}" } + "}" }
        #expect(bodies.map { String($0.prefix(60)) }.prefix(3) == [
            #"{"accepted":1,"duplicates":0,"unmatched":0}"#, #"{"accepted":1,"duplicates":0,"unmatched":0}"#, #"{"accepted":0,"duplicates":1,"unmatched":0}"#,
        ], "\(text)")
        await running.stop()
        #expect(try DeliveryQueue(path: directory + "/q.jsonl").allEvents.map(\.id) == ["ev-1", "ev-2"])
    }

    @Test("a lowercase bearer scheme is accepted through the socket")
    func lowercaseBearer() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let running = try Self.start(queuePath: directory + "/queue.jsonl", webhooks: [], directory: directory, deliver: false)
        var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(running.server.port)/events")))
        request.httpMethod = "POST"
        request.httpBody = Data(Self.push.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("bearer registry-token", forHTTPHeaderField: "Authorization")
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        await running.stop()
    }

    @Test("refusals on the head alone: route, method, token and type", arguments: [
        ("POST", "/events", "Bearer wrong", "application/json", 401), ("POST", "/events", nil, "application/json", 401),
        ("POST", "/events", "Bearer registry-token", "text/plain", 415), ("GET", "/events", nil, nil, 405),
        ("DELETE", "/metrics", nil, nil, 405), ("POST", "/other", nil, nil, 404),
    ] as [(String, String, String?, String?, Int)])
    func precheck(_ method: String, _ path: String, _ authorization: String?, _ type: String?, _ status: Int) throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let engine = DeliveryEngine(queue: try DeliveryQueue(path: directory + "/q.jsonl"), webhooks: { [] }, log: EventLog(path: directory + "/e.jsonl"))
        let service = ServeService(engine: engine, token: "registry-token")
        var headers = [ResolvedHeaderLine(name: "Host", value: "h")]
        if let authorization { headers.append(ResolvedHeaderLine(name: "Authorization", value: authorization)) }
        if let type { headers.append(ResolvedHeaderLine(name: "Content-Type", value: type)) }
        let refusal = service.precheck(HTTPRequest(method: HTTPMethod(method), target: path, headers: headers))
        #expect(refusal?.status.rawValue == status)
        #expect(service.precheck(HTTPRequest(method: .post, target: "/events", headers: [
            ResolvedHeaderLine(name: "Authorization", value: "Bearer registry-token"), ResolvedHeaderLine(name: "Content-Type", value: "application/json"),
        ])) == nil)
    }

    @Test("POST /admin/replay: the admin token (not the ingest one when an admin token is set); hostile bodies get 400 and change nothing",
          arguments: [
            (#"[]"#, 400), (#"{"since": "yesterday"}"#, 400), (#"{"webhook": 5}"#, 400), (#"{"dry_run": "yes"}"#, 400), (#"{"bogus": 1}"#, 400),
            (#"{"since": 1e400}"#, 400), ("not json", 400), (#"{"webhook": null, "dry_run": true}"#, 200), (#"{}"#, 200),
          ] as [(String, Int)])
    func replayRoute(_ body: String, _ status: Int) throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let queuePath = directory + "/q.jsonl"
        var engine = DeliveryEngine(queue: try DeliveryQueue(path: queuePath), webhooks: { [WebhookState(name: "deploybot", serviceUri: "http://127.0.0.1:9/x", actions: [.push])] },
                                    log: EventLog(path: directory + "/e.jsonl"))
        engine.deadLetters = DeadLetterFile(path: DeadLetterFile.path(forQueue: queuePath))
        try engine.deadLetters?.append([DeadLetterFileTests.letter("a")])
        let service = ServeService(engine: engine, token: "ingest-token", adminToken: "admin-token")
        func request(_ token: String) -> HTTPRequest {
            HTTPRequest(method: .post, target: ServeService.replayPath, version: "HTTP/1.1",
                        headers: [ResolvedHeaderLine(name: "Host", value: "h"), ResolvedHeaderLine(name: "Authorization", value: "Bearer " + token)],
                        body: Array(#"{"dry_run": true}"#.utf8))
        }
        #expect(service.precheck(request("ingest-token"))?.status.rawValue == 401)
        #expect(service.precheck(request("admin-token")) == nil)
        var hostile = request("admin-token")
        hostile.body = Array(body.utf8)
        let answer = service.handle(hostile)
        #expect(answer.status.rawValue == status, "\(String(decoding: answer.body, as: UTF8.self))")
        // Only a dry run or a refusal happened: the letter is still there to replay.
        #expect(try engine.deadLetters?.read().filter { !$0.replayed }.count == (body == "{}" ? 0 : 1))
        let withoutTokens = ServeService(engine: engine, token: nil)
        #expect(withoutTokens.precheck(request("anything"))?.status.rawValue == 403)
    }
}

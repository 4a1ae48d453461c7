import Foundation
import HookKit
import TestSupport
import Testing

/// Dead letters and `serve replay` through the real binary: a receiver down for the whole retry budget,
/// then up; every event arrives once more, in order, with its original id; a second replay sends nothing.
@Suite(.serialized) struct DeadLetterReplayTests {
    static let spec = #"{"version": 1, "owner": "team", "registries": [{"name": "selfhosted", "local": {}, "webhooks": [{"name": "deploybot", "serviceUri": "URL/hook", "actions": ["push"]}, {"name": "otherhook", "serviceUri": "URL/other", "actions": ["push"], "scope": "other:*"}]}]}"#

    /// A receiver that answers 503 until `up` is set, and records the ids it took (with 2xx).
    final class Switchable: @unchecked Sendable {
        let up = Locked(false)
        let taken = Locked<[String]>([])
        let refused = Locked(0)
        var receiver: LoopbackReceiver?
        init() throws {
            receiver = try LoopbackReceiver { [self] request in
                guard up.value else {
                    refused.withLock { $0 += 1 }
                    return LoopbackReceiver.Response(status: 503, body: Array("down for maintenance".utf8))
                }
                let id = (try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])?["id"] as? String ?? "?"
                taken.withLock { $0.append(id) }
                return LoopbackReceiver.Response(status: 200)
            }
        }
        var url: String { receiver?.url ?? "" }
    }

    static func post(_ id: Int, port: UInt16, token: String) throws -> String {
        let body = #"{"events":[{"id":"ev-\#(id)","timestamp":"2026-11-29T00:00:00Z","action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:\#(id)","length":1,"repository":"demo/hello","tag":"v\#(id)"},"request":{"id":"r","host":"h","method":"PUT","useragent":"u"}}]}"#
        let connection = try RawConnection(port: port)
        defer { connection.close() }
        connection.send(Array("POST /events HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8))
        connection.finishSending()
        return connection.readAll().text
    }

    /// The binary, a receiver that is down, and a folder whose spec's webhooks are applied.
    static func workspace() throws -> (BuiltBinary, Switchable, String) {
        let binary = try #require(BuiltBinary("hookapply"), "build the hookapply product first (swift build)")
        let receiver = try Switchable()
        let directory = try makeTemporaryDirectory()
        try spec.replacingOccurrences(of: "URL", with: receiver.url).write(toFile: directory + "/webhooks.json", atomically: true, encoding: .utf8)
        let applied = try binary.start(["apply", "--auto-approve"], environment: [:], directory: directory)
        #expect(applied.wait(timeout: 30) == 0, "\(applied.stderr)")
        return (binary, receiver, directory)
    }

    static func port(_ serve: BuiltBinary.Running) -> UInt16? {
        serve.stderr.range(of: #"127\.0\.0\.1:(\d+)/events"#, options: .regularExpression)
            .flatMap { UInt16(serve.stderr[$0].dropFirst("127.0.0.1:".count).dropLast("/events".count)) }
    }

    @Test("down for the whole budget, then up: replay through the running serve delivers each event once more, in order", .timeLimit(.minutes(2)))
    func replayThroughServe() throws {
        let (binary, receiver, directory) = try Self.workspace()
        defer { receiver.receiver?.stop(); try? FileManager.default.removeItem(atPath: directory) }
        let environment = ["INGEST_TOKEN": "ingest-token-planted-1234", "ADMIN_TOKEN": "admin-token-planted-5678"]
        let serve = try binary.start(["serve", "--listen", "127.0.0.1:0", "--token-env", "INGEST_TOKEN", "--admin-token-env", "ADMIN_TOKEN", "--max-attempts", "2"],
                                     environment: environment, directory: directory)
        defer { serve.send(SIGKILL); _ = serve.wait(timeout: 5) }
        #expect(serve.wait(until: { serve.stderr.contains("serving registry") }, timeout: 20), "\(serve.stderr)")
        let port = try #require(Self.port(serve))
        for id in 1...5 { #expect(try Self.post(id, port: port, token: "ingest-token-planted-1234").hasPrefix("HTTP/1.1 200 ")) }
        #expect(serve.wait(until: { serve.stderr.components(separatedBy: "gave up").count - 1 == 5 }, timeout: 30), "\(serve.stderr)")
        #expect(receiver.refused.value == 10, "two attempts each")

        // The wrong token, or the ingest token when an admin token is set, is refused; nothing is queued.
        let wrong = try binary.start(["serve", "replay", "--admin-token-env", "WRONG"], environment: ["WRONG": "not-it"], directory: directory)
        #expect(wrong.wait(timeout: 20) == 1)
        #expect(wrong.stderr.contains("refused the replay: 401"), "\(wrong.stderr)")
        let dry = try binary.start(["serve", "replay", "--admin-token-env", "ADMIN_TOKEN", "--dry-run", "-o", "json"], environment: environment, directory: directory)
        #expect(dry.wait(timeout: 20) == 0, "\(dry.stderr)")
        let planned = try #require(try JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? [String: Any])
        #expect((planned["replayed"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == (1...5).map { "ev-\($0)" })
        #expect((planned["replayed"] as? [[String: Any]])?.first?["answer"] as? String == "down for maintenance")

        // The token goes only where a trustworthy listen file says: not one others may write, not a host name.
        let listen = directory + "/.hookapply/selfhosted.queue.jsonl.listen"
        let written = try String(contentsOfFile: listen, encoding: .utf8)
        #expect(chmod(listen, 0o666) == 0)
        let loose = try binary.start(["serve", "replay", "--admin-token-env", "ADMIN_TOKEN"], environment: environment, directory: directory)
        #expect(loose.wait(timeout: 20) == 1)
        #expect(loose.stderr.contains("is writable by others"), "\(loose.stderr)")
        try "attacker.example.com:80\n".write(toFile: listen, atomically: true, encoding: .utf8)
        #expect(chmod(listen, 0o644) == 0)
        let named = try binary.start(["serve", "replay", "--admin-token-env", "ADMIN_TOKEN"], environment: environment, directory: directory)
        #expect(named.wait(timeout: 20) == 1)
        #expect(named.stderr.contains("does not hold an IP address"), "\(named.stderr)")
        try written.write(toFile: listen, atomically: true, encoding: .utf8)
        #expect(chmod(listen, 0o644) == 0)

        receiver.up.set(true)
        let replay = try binary.start(["serve", "replay", "--admin-token-env", "ADMIN_TOKEN", "--webhook", "deploybot", "--since", "1h"],
                                      environment: environment, directory: directory)
        #expect(replay.wait(timeout: 20) == 0, "\(replay.stderr)")
        #expect(replay.stdout.contains("Queued again 5 dead letters"), "\(replay.stdout)")
        #expect(serve.wait(until: { receiver.taken.value.count >= 5 }, timeout: 20))
        #expect(receiver.taken.value == (1...5).map { "ev-\($0)" }, "each once more, in order, with its original id")

        // Once each: a second replay finds nothing, and sends nothing.
        let again = try binary.start(["serve", "replay", "--admin-token-env", "ADMIN_TOKEN"], environment: environment, directory: directory)
        #expect(again.wait(timeout: 20) == 0)
        #expect(again.stdout.contains("No dead letters replayed."), "\(again.stdout)")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(receiver.taken.value.count == 5)

        // Metrics count them.
        let connection = try RawConnection(port: port)
        defer { connection.close() }
        connection.send(Array("GET /metrics HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".utf8))
        connection.finishSending()
        let metrics = connection.readAll().text
        #expect(metrics.contains("hookapply_events_dead_lettered_total 5"))
        #expect(metrics.contains("hookapply_events_replayed_total 5"))
        #expect(metrics.contains("hookapply_dead_letters 0"))
        // No token shows up anywhere serve or replay wrote.
        for text in [serve.stderr, replay.stdout, replay.stderr, wrong.stderr, (try? String(contentsOfFile: directory + "/.hookapply/selfhosted.queue.dead.jsonl", encoding: .utf8)) ?? ""] {
            #expect(!text.contains("planted"))
        }
    }

    @Test("with no serve running, replay works on the queue under its lock; the next serve delivers; a serve without tokens refuses replay over HTTP", .timeLimit(.minutes(2)))
    func replayOffline() throws {
        let (binary, receiver, directory) = try Self.workspace()
        defer { receiver.receiver?.stop(); try? FileManager.default.removeItem(atPath: directory) }
        let first = try binary.start(["serve", "--listen", "127.0.0.1:0", "--max-attempts", "1"], environment: [:], directory: directory)
        defer { first.send(SIGKILL); _ = first.wait(timeout: 5) }
        #expect(first.wait(until: { first.stderr.contains("serving registry") }, timeout: 20), "\(first.stderr)")
        let port = try #require(Self.port(first))
        for id in 1...3 { #expect(try Self.post(id, port: port, token: "").hasPrefix("HTTP/1.1 200 ")) }
        #expect(first.wait(until: { first.stderr.components(separatedBy: "gave up").count - 1 == 3 }, timeout: 30), "\(first.stderr)")
        // Running without any token: replay over HTTP is off, and replay says how to do it instead.
        let refused = try binary.start(["serve", "replay", "--token-env", "T"], environment: ["T": "x"], directory: directory)
        #expect(refused.wait(timeout: 20) == 1)
        #expect(refused.stderr.contains("403"), "\(refused.stderr)")
        first.send(SIGTERM)
        #expect(first.wait(timeout: 20) == 0)
        #expect(!FileManager.default.fileExists(atPath: directory + "/.hookapply/selfhosted.queue.jsonl.listen"))

        receiver.up.set(true)
        let replay = try binary.start(["serve", "replay", "--webhook", "DeployBot"], environment: [:], directory: directory)
        #expect(replay.wait(timeout: 20) == 0, "\(replay.stderr)")
        #expect(replay.stdout.contains("Queued again 3 dead letters"), "\(replay.stdout)")
        #expect(replay.stderr.contains("No serve is running"))
        #expect(receiver.taken.value.isEmpty, "queued, not delivered, until serve runs")
        let second = try binary.start(["serve", "--listen", "127.0.0.1:0"], environment: [:], directory: directory)
        defer { second.send(SIGKILL); _ = second.wait(timeout: 5) }
        #expect(second.wait(until: { receiver.taken.value.count >= 3 }, timeout: 30), "\(second.stderr)")
        #expect(receiver.taken.value == ["ev-1", "ev-2", "ev-3"])
        // A bad --since is a usage error.
        let bad = try binary.start(["serve", "replay", "--since", "last tuesday"], environment: [:], directory: directory)
        #expect(bad.wait(timeout: 20) == 64)
    }
}

import Foundation
import TestSupport
import Testing

/// One `serve` per delivery queue, through the real binary: a second one refuses to start, names the
/// first one's pid, and leaves its queue alone.
@Suite(.serialized) struct ServeInstanceTests {
    @Test("a second serve for the same registry exits 1 naming the first one's pid; the first keeps serving", .timeLimit(.minutes(1)))
    func secondInstance() throws {
        let binary = try #require(BuiltBinary("hookapply"), "build the hookapply product first (swift build)")
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try #"{"version": 1, "owner": "team", "registries": [{"name": "selfhosted", "local": {}, "webhooks": [{"name": "hookone", "serviceUri": "http://127.0.0.1:9/h", "actions": ["push"]}]}]}"#
            .write(toFile: directory + "/webhooks.json", atomically: true, encoding: .utf8)
        #expect(try binary.start(["apply", "--auto-approve"], environment: [:], directory: directory).wait(timeout: 30) == 0)
        let first = try binary.start(["serve", "--listen", "127.0.0.1:0"], environment: [:], directory: directory)
        defer {
            first.send(SIGKILL)
            _ = first.wait(timeout: 5)
        }
        #expect(first.wait(until: { first.stderr.contains("serving registry") }, timeout: 20), "\(first.stderr)")
        let queue = directory + "/.hookapply/selfhosted.queue.jsonl"
        let before = try FileManager.default.attributesOfItem(atPath: queue)[.systemFileNumber] as? Int

        let second = try binary.start(["serve", "--listen", "127.0.0.1:0"], environment: [:], directory: directory)
        let status = second.wait(timeout: 20)
        #expect(status == 1, "\(second.stderr)")
        #expect(second.stderr.contains("locked by another hookapply serve (pid \(first.process.processIdentifier))"), "\(second.stderr)")
        #expect(second.stderr.contains("one serve per registry"))
        // The first one's queue file is the same file, and it still answers.
        #expect(try FileManager.default.attributesOfItem(atPath: queue)[.systemFileNumber] as? Int == before)
        let port = try #require(first.stderr.range(of: #"127\.0\.0\.1:(\d+)/events"#, options: .regularExpression)
            .flatMap { UInt16(first.stderr[$0].dropFirst("127.0.0.1:".count).dropLast("/events".count)) })
        let connection = try RawConnection(port: port)
        defer { connection.close() }
        connection.send(Array("GET /healthz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".utf8))
        connection.finishSending()
        #expect(connection.readAll().text.hasPrefix("HTTP/1.1 200 "))
        first.send(SIGTERM)
        #expect(first.wait(timeout: 20) == 0, "\(first.stderr)")
        #expect(first.stderr.contains("stopped"))
        // At start it said how many webhooks it delivers to.
        #expect(first.stderr.contains("1 webhook in the local registry, 1 enabled"))
    }
}

/// `events` shows what serve logged: the image an event was about, and a delivery that was given up.
@Suite struct GaveUpEventsTests {
    @Test("events shows the image and 'gave up' on a delivery's last failed attempt")
    func gaveUp() async throws {
        let workspace = try ReconcileCommandTests.Workspace(#"{"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": [{"name": "hookone", "serviceUri": "https://h.example.com/", "actions": ["push"]}]}]}"#)
        defer { workspace.remove() }
        try FileManager.default.createDirectory(atPath: workspace.directory + "/.hookapply", withIntermediateDirectories: true)
        let line = #"{"action":"push","attempt":5,"durationMilliseconds":3,"gaveUp":true,"id":"ev-1","request":{"body":"{}","headers":{},"method":"POST","uri":"https://h.example.com/"},"response":{"body":"","bodyTruncated":false,"headers":{},"status":500},"subject":"demo/hello:v2","timestamp":"2026-11-30T00:00:00Z","webhook":"hookone"}"#
        try (line + "\n").write(toFile: workspace.directory + "/.hookapply/dev.events.jsonl", atomically: true, encoding: .utf8)
        let result = await workspace.run(["events", "hookone"])
        #expect(result.code == .success, "\(result.stderr)")
        #expect(result.stdout.contains("push demo/hello:v2"), "\(result.stdout)")
        #expect(result.stdout.contains("attempt 5  gave up"), "\(result.stdout)")
    }
}

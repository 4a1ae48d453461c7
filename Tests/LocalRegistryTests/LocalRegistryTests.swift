import Delivery
import Foundation
import HookKit
import HookSpec
import Reconciler
import TestSupport
import Testing

@testable import LocalRegistry

@Suite struct LocalRegistryTests {
    static func provider(_ directory: String) -> LocalRegistryProvider {
        LocalRegistryProvider(path: directory + "/state/dev.json", displayPath: "state/dev.json")
    }

    @Test("a missing file is an empty registry; changes persist in a versioned file")
    func persistence() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let provider = Self.provider(directory)
        #expect(try await provider.observe().webhooks.isEmpty)
        try await provider.create(Fixture.state("alpha", headers: [("Authorization", "x")]))
        try await provider.create(Fixture.state("beta"))
        try await provider.update(Fixture.state("ALPHA", status: .disabled), changedFields: [.status])
        try await provider.delete(name: "beta")
        try await provider.delete(name: "beta")  // already gone: success
        let reopened = Self.provider(directory)
        let webhooks = try await reopened.observe().webhooks
        #expect(webhooks.map(\.name) == ["alpha"])  // the stored spelling is kept on update
        #expect(webhooks.first?.status == .disabled)
        let text = try String(contentsOfFile: directory + "/state/dev.json", encoding: .utf8)
        #expect(text.hasPrefix("{\n  \"formatVersion\": 1,"))
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/state/dev.json")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test("signing secrets and payload formats survive a round trip; only then is the file format 2, which 1-only readers refuse")
    func formatTwo() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let provider = Self.provider(directory)
        var signed = Fixture.state("signedhook")
        signed.signingSecrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_" + String(repeating: "A", count: 32)]
        signed.payloadFormat = .cloudevents
        try await provider.create(signed)
        let path = directory + "/state/dev.json"
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("{\n  \"formatVersion\": 2,"))
        let read = try await Self.provider(directory).observe().webhooks.first
        #expect(read?.signingSecrets == signed.signingSecrets && read?.payloadFormat == .cloudevents)
        // Back to plain webhooks: format 1 again, readable by every hookapply.
        try await provider.update(Fixture.state("signedhook"), changedFields: [.signingSecret, .payloadFormat])
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("{\n  \"formatVersion\": 1,"))
        // A payload format this build does not know is corruption, not a guess.
        try #"{"formatVersion": 2, "webhooks": [{"name": "a", "serviceUri": "https://h/", "actions": ["push"], "status": "enabled", "scope": "", "payloadFormat": "xml"}]}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        await #expect(throws: ProviderError.self) { _ = try await Self.provider(directory).observe() }
    }

    @Test("a reader (serve) sees every change another process writes, though it parses the file only when it changed")
    func readerSeesChanges() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = Self.provider(directory)
        let reader = Self.provider(directory)
        #expect(try reader.currentWebhooks().isEmpty)
        for round in 1...5 {
            try await writer.create(Fixture.state("hook\(round)x"))
            #expect(try reader.currentWebhooks().count == round)
        }
        try await writer.update(Fixture.state("hook1x", status: .disabled), changedFields: [.status])
        #expect(try reader.currentWebhooks().first { $0.name == "hook1x" }?.status == .disabled)
        let before = try reader.currentWebhooks()
        try await writer.delete(name: "hook5x")
        #expect(try reader.currentWebhooks().count == 4 && before.count == 5)
        try FileManager.default.removeItem(atPath: directory + "/state/dev.json")
        #expect(try reader.currentWebhooks().isEmpty, "a removed file is an empty registry")
    }

    @Test("a crash between writing and renaming leaves the old state intact")
    func crashBeforeRename() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let provider = Self.provider(directory)
        try await provider.create(Fixture.state("alpha"))
        let path = directory + "/state/dev.json"
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        struct Crash: Error {}
        #expect(throws: Crash.self) {
            try AtomicFile.write(Array("{\"formatVersion\": 1, \"webhooks\": []}".utf8), to: path, beforeRename: { throw Crash() })
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory + "/state").filter { $0.contains(".tmp-") }
        #expect(leftovers.count == 1)  // the torn temporary file, never read
        #expect(try await Self.provider(directory).observe().webhooks.map(\.name) == ["alpha"])
    }

    @Test("corrupt and newer-format state files are refused and left untouched", arguments: [
        ("{\"formatVersion\": 1, \"webhooks\": [", "corrupt-state"),
        ("not json", "corrupt-state"),
        ("{\"webhooks\": []}", "corrupt-state"),
        ("{\"formatVersion\": 1, \"webhooks\": [{\"name\": 5}]}", "corrupt-state"),
        ("{\"formatVersion\": 3, \"webhooks\": [], \"future\": true}", "newer-state-format"),
    ])
    func refusesBadState(_ content: String, _ code: String) async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
        let path = directory + "/state/dev.json"
        try content.write(toFile: path, atomically: true, encoding: .utf8)
        let provider = Self.provider(directory)
        let observeError = await #expect(throws: ProviderError.self) { try await provider.observe() }
        #expect(observeError?.code.rawValue == code)
        let createError = await #expect(throws: ProviderError.self) { try await provider.create(Fixture.state("alpha")) }
        #expect(createError?.code.rawValue == code)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == content)
    }

    @Test("a second lock fails at once naming the holder's pid, or waits up to the timeout")
    func lockContention() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let provider = Self.provider(directory)
        let held = try await provider.lockForApply(timeout: 0)
        let error = await #expect(throws: ProviderError.self) { try await provider.lockForApply(timeout: 0) }
        #expect(error?.code == .locked)
        #expect(error?.message.contains("pid \(getpid())") == true)
        let waiter = Task { try await provider.lockForApply(timeout: 5) }
        try await Task.sleep(nanoseconds: 200_000_000)
        held.release()
        let second = try await waiter.value
        second.release()
        // Released: free again.
        try await provider.lockForApply(timeout: 0).release()
    }

    @Test("the event log appends, reads newest first, filters by webhook and skips a torn line")
    func eventLog() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = EventLog(path: directory + "/dev.events.jsonl")
        func record(_ id: String, _ webhook: String) -> DeliveryRecord {
            DeliveryRecord(id: id, webhook: webhook, action: "ping", timestamp: "t", request: .init(method: "POST", uri: "u", headers: [:], body: ""),
                           response: nil, error: "refused", durationMilliseconds: 1)
        }
        try log.append(record("1", "alpha"))
        try log.append(record("2", "beta"))
        try log.append(record("3", "alpha"))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log.path))
        handle.seekToEndOfFile()
        handle.write(Data("{\"id\": \"torn".utf8))
        try handle.close()
        #expect(log.read(webhook: "alpha", limit: 10).map(\.id) == ["3", "1"])
        #expect(log.read(webhook: nil, limit: 2).map(\.id) == ["3", "2"])
    }

    @Test("ping really POSTs ACR's ping event with the custom headers, and logs it with secrets masked")
    func ping() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let receiver = try LoopbackReceiver(echoHeaders: true)
        defer { receiver.stop() }
        let secret = "tok-\(UUID().uuidString)"
        let provider = Self.provider(directory)
        try await provider.create(Fixture.state("alpha", uri: "\(receiver.url)/hook?code=\(secret)q", headers: [("Authorization", "Bearer \(secret)"), ("X-Team", "web")]))
        let record = try await provider.ping(name: "alpha")
        let request = try #require(receiver.requests.first)
        #expect(request.method == "POST")
        #expect(request.target == "/hook?code=\(secret)q")
        #expect(request.headers["authorization"] == "Bearer \(secret)")
        #expect(request.headers["x-team"] == "web")
        #expect(request.headers["content-type"] == "application/json")
        let event = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: String])
        #expect(event["action"] == "ping")
        #expect(event["id"] == record.id)
        #expect(UUID(uuidString: event["id"] ?? "") != nil)
        #expect(event["timestamp"]?.hasSuffix("Z") == true)
        #expect(record.isSuccess)
        #expect(record.request.uri == "\(receiver.url)/hook?…")
        #expect(record.request.headers["Authorization"] == "(sensitive value)")
        // The receiver echoed the token and the URL back; the log keeps neither.
        let log = try String(contentsOfFile: provider.eventLogPath, encoding: .utf8)
        #expect(!log.contains(secret))
        #expect(log.contains("(sensitive value)"))
        #expect(try await provider.events(name: "alpha", limit: 5).first?.id == record.id)
    }

    @Test("a custom Content-Type replaces the default; a refused connection is logged as an error")
    func pingVariants() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let receiver = try LoopbackReceiver(status: 503)
        defer { receiver.stop() }
        let provider = Self.provider(directory)
        try await provider.create(Fixture.state("typed", uri: receiver.url, headers: [("Content-Type", "application/cloudevents+json")]))
        let typed = try await provider.ping(name: "typed")
        #expect(receiver.requests.first?.headers["content-type"] == "application/cloudevents+json")
        #expect(typed.response?.status == 503)
        #expect(!typed.isSuccess)
        try await provider.create(Fixture.state("nobody", uri: "http://127.0.0.1:9/x"))
        let refused = try await provider.ping(name: "nobody")
        #expect(refused.response == nil)
        #expect(refused.error?.isEmpty == false)
        let missing = await #expect(throws: ProviderError.self) { try await provider.ping(name: "ghost") }
        #expect(missing?.code == .notFound)
    }
}

import Delivery
import Foundation
import HookKit
import HookSpec
import Reconciler
import TestSupport
import Testing

@testable import Serve

/// The dead-letter file: round trip, once-each replay, a torn or mutated file read without a crash
/// (fuzzed), and hostile paths refused without blocking.
@Suite struct DeadLetterFileTests {
    static func letter(_ id: String, webhook: String = "deploybot", at time: String = "2026-12-07T10:00:00.000Z") -> DeadLetter {
        DeadLetter(key: "key-" + id, eventID: id, webhook: webhook, action: .push, repository: "demo/hello", tag: "v1", isChart: id.hasSuffix("c"),
                   body: Array(#"{"action":"push","id":"\#(id)","note":"é \" \n"}"#.utf8), attempts: 5, status: id.hasSuffix("t") ? nil : 503,
                   answer: "down", deadAt: time)
    }

    @Test("letters read back as written, in order; replay takes each once; selection by webhook and time")
    func roundTrip() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = DeadLetterFile(path: directory + "/q.dead.jsonl")
        #expect(try file.read().isEmpty, "a missing file is no letters")
        let written = [Self.letter("a"), Self.letter("bc", webhook: "other"), Self.letter("ct", at: "2026-12-07T11:00:00.000Z")]
        try file.append(written)
        #expect(try file.read().map(\.letter) == written)
        #expect(try file.pendingCount() == 3)
        let selection = ReplaySelection(webhook: "DeployBot", since: Timestamp.seconds("2026-12-07T10:30:00Z"))
        var queued: [[DeadLetter]] = []
        #expect(try file.replay(selecting: selection.takes, dryRun: true) { queued.append($0) }.map(\.eventID) == ["ct"])
        #expect(queued.isEmpty, "a dry run queues nothing")
        #expect(try file.replay(selecting: selection.takes, dryRun: false) { queued.append($0) }.map(\.eventID) == ["ct"])
        #expect(try file.replay(selecting: selection.takes, dryRun: false) { queued.append($0) }.isEmpty, "once each")
        #expect(try file.replay(selecting: { _ in true }, dryRun: false) { queued.append($0) }.map(\.eventID) == ["a", "bc"])
        #expect(queued.map { $0.map(\.eventID) } == [["ct"], ["a", "bc"]])
        #expect(try file.pendingCount() == 0)
        // A queue that cannot take them: nothing is marked, so they can be replayed later.
        try file.append([Self.letter("d")])
        struct Refused: Error {}
        #expect(throws: Refused.self) { try file.replay(selecting: { _ in true }, dryRun: false) { _ in throw Refused() } }
        #expect(try DeadLetterFile(path: file.path).read().filter { !$0.replayed }.map(\.letter.eventID) == ["d"])
    }

    @Test("fuzz: a mutated or torn file never crashes the reader, and yields only whole letters (seeded)")
    func fuzz() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/q.dead.jsonl"
        let file = DeadLetterFile(path: path)
        try file.append([Self.letter("a"), Self.letter("bc"), Self.letter("ct")])
        try file.append([])
        _ = try file.replay(selecting: { $0.eventID == "a" }, dryRun: false) { _ in }
        let original = try #require(FileManager.default.contents(atPath: path)).map { $0 }
        var random = SeededRandom(state: 2026)
        let pieces = ["\n", "{", "}", "\"kind\":\"dead\"", "\"kind\":\"replayed\"", "\"key\":\"key-a\"", ",", "null", "\\u0000", "\"status\":\"x\""]
        for _ in 0..<3000 {
            let mutated = random.mutate(original, pieces: pieces)
            try Data(mutated).write(to: URL(fileURLWithPath: path))
            let read = try DeadLetterFile(path: path).read()
            for entry in read {
                #expect(!entry.letter.key.isEmpty && !entry.letter.eventID.isEmpty && !entry.letter.webhook.isEmpty)
            }
        }
    }

    @Test("a symbolic link or a FIFO as the file is refused, at once, and the target is left alone")
    func hostilePaths() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let victim = directory + "/spec.json"
        try "{}".write(toFile: victim, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: directory + "/linked.dead.jsonl", withDestinationPath: victim)
        #expect(throws: DeadLetterFile.Failure.self) { try DeadLetterFile(path: directory + "/linked.dead.jsonl").append([Self.letter("a")]) }
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "{}")
        #expect(mkfifo(directory + "/fifo.dead.jsonl", 0o600) == 0)
        let fifo = DeadLetterFile(path: directory + "/fifo.dead.jsonl")
        #expect(throws: (any Error).self) { try fifo.append([Self.letter("a")]) }
        #expect(throws: (any Error).self) { try fifo.read() }
        // Said as a sentence wherever a command prints it, never as a type name.
        do {
            _ = try fifo.read()
        } catch {
            #expect(ProviderError.from(error).message.hasPrefix("cannot read the dead letters"), "\(ProviderError.from(error).message)")
        }
    }
}

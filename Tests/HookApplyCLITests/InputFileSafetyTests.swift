import Foundation
import TestSupport
import Testing

/// Every file hookapply reads (spec, saved plan, state) is read only when it is a regular file, without
/// ever blocking: through the real binary, a FIFO or a kernel file is refused at once with a sentence.
@Suite struct InputFileSafetyTests {
    /// (what, arguments, words of the refusal)
    static let cases: [(String, [String], String)] = [
        ("a spec that is a FIFO", ["plan", "-f", "fifo"], "pipe (FIFO)"),
        ("a spec that links to a FIFO", ["validate", "-f", "fifo-link.json"], "pipe (FIFO)"),
        ("a spec that links to standard error", ["plan", "-f", "stderr-link.json"], "under /proc"),
        ("a spec under /proc", ["validate", "-f", "/proc/self/environ"], "under /proc"),
        ("a saved plan that is a FIFO", ["apply", "fifo"], "pipe (FIFO)"),
        ("a state file that is a FIFO", ["plan", "-f", "fifo-state.json"], "pipe (FIFO)"),
        ("fmt on a FIFO", ["fmt", "-f", "fifo-link.json"], "pipe (FIFO)"),
        ("fmt --check on /proc", ["fmt", "--check", "-f", "stderr-link.json"], "under /proc"),
    ]

    @Test("a FIFO or a kernel file where a file is read is refused at once, never waited on", arguments: cases.indices)
    func refused(_ index: Int) throws {
        let (what, arguments, words) = Self.cases[index]
        let binary = try #require(BuiltBinary("hookapply"), "build the hookapply product first (swift build)")
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(mkfifo(directory + "/fifo", 0o600) == 0)
        #expect(symlink("fifo", directory + "/fifo-link.json") == 0)
        #expect(symlink("/proc/self/fd/2", directory + "/stderr-link.json") == 0)
        try #"{"version": 1, "registries": [{"name": "dev", "local": {"path": "fifo"}, "webhooks": []}]}"#
            .write(toFile: directory + "/fifo-state.json", atomically: true, encoding: .utf8)
        let started = Date()
        let running = try binary.start(arguments, environment: ["SECRET_IN_ENV": "must-not-show-1234"], directory: directory)
        let status = running.wait(timeout: 10)
        #expect(status == 1, "\(what): \(status.map(String.init) ?? "hung") \(running.stderr)")
        #expect(Date().timeIntervalSince(started) < 5, "\(what) took \(Date().timeIntervalSince(started)) s")
        #expect(running.stderr.contains(words), "\(what): \(running.stderr)")
        #expect(!running.stderr.contains("must-not-show-1234"), "\(what): a kernel file's content was quoted")
    }

    @Test("a delivery log that is a FIFO blocks neither ping (which appends to it) nor events (which reads it)")
    func eventLogFIFO() throws {
        let binary = try #require(BuiltBinary("hookapply"), "build the hookapply product first (swift build)")
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try #"{"version": 1, "registries": [{"name": "dev", "local": {}, "webhooks": [{"name": "hookone", "serviceUri": "http://127.0.0.1:9/x", "actions": ["push"]}]}]}"#
            .write(toFile: directory + "/webhooks.json", atomically: true, encoding: .utf8)
        let apply = try binary.start(["apply", "--auto-approve"], environment: [:], directory: directory)
        #expect(apply.wait(timeout: 20) == 0, "\(apply.stderr)")
        #expect(mkfifo(directory + "/.hookapply/dev.events.jsonl", 0o600) == 0)
        for arguments in [["ping", "hookone"], ["events", "hookone"]] {
            let started = Date()
            let running = try binary.start(arguments, environment: [:], directory: directory)
            let status = running.wait(timeout: 15)
            #expect(status != nil, "\(arguments[0]) hung on the FIFO")
            #expect(Date().timeIntervalSince(started) < 10)
            if arguments[0] == "ping" { #expect(running.stderr.contains("not a regular file") || running.stderr.contains("pipe"), "\(running.stdout)\(running.stderr)") }
        }
    }
}

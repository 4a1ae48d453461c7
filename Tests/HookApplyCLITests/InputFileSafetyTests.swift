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
}

import Foundation
import TestSupport
import Testing

/// A kill -9 at any moment of an apply leaves every local state file either as it was or as it was
/// going to be (one atomic write per phase), and the next apply converges.
@Suite(.serialized) struct KillDuringApplyTests {
    @Test("SIGKILL in the middle of a large apply: every state file still reads, and a re-apply converges", .timeLimit(.minutes(3)))
    func killDuringApply() throws {
        let binary = try #require(BuiltBinary("hookapply"), "build the hookapply product first (swift build)")
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var registries: [String] = []
        for registry in 0..<20 {
            let hooks = (0..<200).map { #"{"name": "hook\#($0)x", "serviceUri": "https://h.example.com/\#(registry)/\#($0)", "actions": ["push"]}"# }
            registries.append(#"{"name": "reg\#(registry)", "local": {}, "webhooks": [\#(hooks.joined(separator: ","))]}"#)
        }
        try #"{"version": 1, "owner": "team", "registries": [\#(registries.joined(separator: ","))]}"#
            .write(toFile: directory + "/webhooks.json", atomically: true, encoding: .utf8)
        var random = SeededRandom(state: 0xC0FFEE)
        for round in 0..<4 {
            let run = try binary.start(["apply", "--auto-approve"], environment: [:], directory: directory)
            usleep(useconds_t(50_000 + random.below(400_000)))
            run.send(SIGKILL)
            _ = run.wait(timeout: 20)
            // Whatever the moment, every state file is whole: plan reads them all.
            let plan = try binary.start(["plan", "--detailed-exitcode"], environment: [:], directory: directory)
            let status = plan.wait(timeout: 60)
            #expect(status == 0 || status == 2, "round \(round): \(plan.stderr)")
            #expect(!plan.stderr.contains("corrupt"), "round \(round): \(plan.stderr)")
        }
        let apply = try binary.start(["apply", "--auto-approve"], environment: [:], directory: directory)
        #expect(apply.wait(timeout: 120) == 0, "\(apply.stderr)")
        let plan = try binary.start(["plan", "--detailed-exitcode"], environment: [:], directory: directory)
        #expect(plan.wait(timeout: 60) == 0, "\(plan.stdout.suffix(300))")
        // No temporary file of the killed applies is left behind once an apply has run.
        let leftovers = (try FileManager.default.contentsOfDirectory(atPath: directory + "/.hookapply")).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}

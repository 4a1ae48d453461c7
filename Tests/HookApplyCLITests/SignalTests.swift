import Foundation
import TestSupport
import Testing

/// Ctrl-C and SIGTERM through the real binary: the first signal lets changes in flight finish and
/// starts no new ones, the summary tells the truth, and the exit code is 130 or 143.
@Suite(.serialized) struct SignalTests {
    static let binary = BuiltBinary("hookapply")

    static func setup(latency: Double) throws -> AzureCommandTests.Setup {
        let setup = try AzureCommandTests.Setup()
        setup.emulator.latency = latency
        try setup.write(AzureCommandTests.spec(endpoint: setup.emulator.endpoint, webhooks: 6))
        return setup
    }

    static func hooks(_ setup: AzureCommandTests.Setup) -> Int {
        setup.emulator.hooks(subscription: AzureCommandTests.subscription, group: "rg-prod", name: "contosoprod").count
    }

    @Test("the first signal during apply finishes what is in flight, reports the rest as not started, exits 130 or 143",
          arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
    func interruptApply(_ signal: Int32, _ expected: Int32) throws {
        let binary = try #require(Self.binary, "build the hookapply product first (swift build)")
        let setup = try Self.setup(latency: 0.3)
        defer { setup.finish() }
        let run = try binary.start(["apply", "--auto-approve", "--parallelism", "1"], environment: setup.environment, directory: setup.directory)
        #expect(run.wait(until: { Self.hooks(setup) >= 1 }, timeout: 30), "\(run.stdout)\(run.stderr)")
        run.send(signal)
        let status = run.wait(timeout: 30)
        #expect(status == expected, "\(run.stdout)\(run.stderr)")
        let created = run.stdout.split(separator: "\n").filter { $0.hasSuffix(": created") }.count
        #expect(created >= 1 && created < 6, "\(run.stdout)")
        #expect(run.stdout.contains("Apply interrupted: \(created) done, 0 failed, \(6 - created) not started."), "\(run.stdout)")
        #expect(run.stdout.contains("not started: the apply was interrupted"))
        #expect(run.stderr.contains("no new changes will start"))
        // The summary is the truth: the registry holds exactly what it says was created.
        #expect(Self.hooks(setup) == created)
    }

    @Test("a second signal exits at once, saying changes in flight may or may not have been made")
    func secondSignal() throws {
        let binary = try #require(Self.binary, "build the hookapply product first (swift build)")
        let setup = try Self.setup(latency: 4)
        defer { setup.finish() }
        let run = try binary.start(["apply", "--auto-approve", "--parallelism", "1"], environment: setup.environment, directory: setup.directory)
        #expect(run.wait(until: { Self.hooks(setup) >= 1 }, timeout: 30))
        // The next create is now under way (each answer takes 4 s): the first signal finds it in flight,
        // so only the second signal can end the process before that answer.
        usleep(500_000)
        run.send(SIGINT)
        #expect(run.wait(until: { run.stderr.contains("no new changes will start") }, timeout: 10))
        let sent = Date()
        run.send(SIGINT)
        let status = run.wait(timeout: 10)
        #expect(status == 130)
        #expect(Date().timeIntervalSince(sent) < 2.5, "the second signal must not wait for the change in flight")
        #expect(run.stderr.contains("SIGINT again: exiting now"))
    }

    @Test("a signal while plan observes stops it at once: nothing was changed, exit 130")
    func interruptPlan() throws {
        let binary = try #require(Self.binary, "build the hookapply product first (swift build)")
        let setup = try Self.setup(latency: 3)
        defer { setup.finish() }
        let run = try binary.start(["plan"], environment: setup.environment, directory: setup.directory)
        usleep(500_000)
        let sent = Date()
        run.send(SIGINT)
        let status = run.wait(timeout: 10)
        #expect(status == 130, "\(run.stdout)\(run.stderr)")
        #expect(Date().timeIntervalSince(sent) < 1.5)
        #expect(run.stderr.contains("SIGINT: plan stopped before any change was made. Nothing was changed."), "\(run.stderr)")
    }
}

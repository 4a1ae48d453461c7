import Foundation
import TestSupport
import Testing

@testable import HookApplyCLI

/// Long operations say what they are doing: progress lines while a change is in flight, every ARM call
/// and retry with --verbose, and a refused endpoint named after two tries instead of a long silence.
@Suite struct ProgressTests {
    typealias Setup = AzureCommandTests.Setup

    @Test("a slow change reports 'Still creating... [Ns elapsed]' while it is in flight")
    func stillCreating() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        // The create takes 3 s and progress ticks every 0.25 s; a line needs 1 s elapsed (whole seconds), so
        // about eight ticks fall in the window even when a loaded machine runs the ticker late.
        setup.emulator.writeLatency = 3
        try setup.write(AzureCommandTests.spec(endpoint: setup.emulator.endpoint, webhooks: 1))
        let applied = await setup.run(["apply", "--auto-approve"], environment: ["HOOKAPPLY_PROGRESS_SECONDS": "0.25"])
        #expect(applied.code == .success, "\(applied.stderr)")
        // At least one progress line while it ran (a loaded machine may tick later than the first second).
        #expect(applied.stderr.range(of: #"prod/hook0x: Still creating\.\.\. \[[0-9]+s elapsed\]"#, options: .regularExpression) != nil, "\(applied.stderr)")
    }

    @Test("a slow observation says 'Reading registry …' on a terminal, and nothing when piped", arguments: [["plan"], ["list"], ["export", "-r", "prod"]])
    func reading(_ command: [String]) async throws {
        let setup = try Setup()
        defer { setup.finish() }
        setup.emulator.latency = 0.3
        try setup.write(AzureCommandTests.spec(endpoint: setup.emulator.endpoint, webhooks: 2))
        let environment = ["HOOKAPPLY_PROGRESS_SECONDS": "0.25"]
        let terminal = await setup.run(command, environment: environment, terminal: true)
        #expect(terminal.code == .success, "\(terminal.stderr)")
        #expect(terminal.stderr.range(of: #"Reading registry 'prod'… \[[0-9]+s elapsed\]"#, options: .regularExpression) != nil, "\(terminal.stderr)")
        let piped = await setup.run(command, environment: environment)
        #expect(piped.code == .success)
        #expect(!piped.stderr.contains("Reading"), "\(piped.stderr)")
    }

    @Test("the progress line names what is left", arguments: [
        (["prod"], 1, 10, "Reading registry 'prod'… [10s elapsed]"),
        (["a", "b"], 5, 3, "Reading 2 of 5 registries (a, b)… [3s elapsed]"),
        (["a", "b", "c", "d"], 12, 20, "Reading 4 of 12 registries (a, b, c, …)… [20s elapsed]"),
    ])
    func progressLine(_ left: [String], _ total: Int, _ elapsed: Int, _ expected: String) {
        #expect(ObservationProgress.line(left, total: total, elapsed: elapsed) == expected)
    }

    @Test("--verbose reports each ARM call with its status, and each retry")
    func verbose() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        setup.emulator.throttleEvery = 3
        try setup.write(AzureCommandTests.spec(endpoint: setup.emulator.endpoint, webhooks: 2))
        let planned = await setup.run(["plan", "--verbose"])
        #expect(planned.code == .success, "\(planned.stderr)")
        #expect(planned.stderr.contains("ARM GET /subscriptions/\(AzureCommandTests.subscription)/resourceGroups/rg-prod/providers/Microsoft.ContainerRegistry/registries/contosoprod -> 200"), "\(planned.stderr)")
        #expect(planned.stderr.contains("-> 429"))
        #expect(planned.stderr.contains(": retrying after 429 in"))
        #expect(!planned.stderr.contains("api-version") && !planned.stderr.contains(setup.emulator.token))
    }

    @Test("an ARM endpoint that refuses connections fails after two tries, naming the endpoint")
    func refused() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        let closed = try HTTPServerPort.closed()
        try setup.write(AzureCommandTests.spec(endpoint: "http://127.0.0.1:\(closed)", webhooks: 1))
        let planned = await setup.run(["plan", "--verbose"], environment: ["HOOKAPPLY_ARM_RETRY_BASE": "2"])
        #expect(planned.code == .failure)
        #expect(planned.stderr.contains("the ARM endpoint http://127.0.0.1:\(closed) refused the connection after 2 attempts"), "\(planned.stderr)")
        #expect(planned.stderr.components(separatedBy: "(attempt 2 of 2)").count >= 2)
    }
}

/// A loopback port nothing listens on.
enum HTTPServerPort {
    static func closed() throws -> UInt16 {
        let receiver = try LoopbackReceiver()
        let port = receiver.port
        receiver.stop()
        return port
    }
}

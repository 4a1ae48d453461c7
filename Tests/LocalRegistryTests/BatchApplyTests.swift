import Foundation
import HookSpec
import Reconciler
import TestSupport
import Testing

@testable import LocalRegistry

/// An apply writes a local registry's state file once per phase, not once per change, and a failed
/// write fails exactly the changes it carried.
@Suite struct BatchApplyTests {
    static func provider() throws -> (LocalRegistryProvider, String) {
        let directory = try makeTemporaryDirectory()
        return (LocalRegistryProvider(path: directory + "/dev.json"), directory)
    }

    static func plan(_ spec: ResolvedSpec, _ provider: LocalRegistryProvider) async throws -> Plan {
        try #require(Planner.plan(spec, specDigest: "d", observed: ["dev": try await provider.observe()]).plan)
    }

    @Test("500 creates are one write; deletes, updates and creates together are three", arguments: [500, 50])
    func writesPerPhase(_ count: Int) async throws {
        let (provider, directory) = try Self.provider()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spec = Fixture.spec((0..<count).map { Fixture.webhook("hook\($0)x") })
        let report = await Applier(parallelism: 16).apply(try await Self.plan(spec, provider), providers: ["dev": provider])
        #expect(report.isSuccess)
        #expect(provider.writeCount == 1)
        #expect(try await Self.plan(spec, provider).isEmpty)
        // Drop one, change one, add one: one write per phase.
        var changed = (1..<count).map { Fixture.webhook("hook\($0)x") }
        changed[0].status = .disabled
        changed.append(Fixture.webhook("newhookx"))
        let next = Fixture.spec(changed)
        let again = await Applier().apply(try await Self.plan(next, provider), providers: ["dev": provider])
        #expect(again.isSuccess)
        #expect(again.done == Plan.Summary(create: 1, update: 1, delete: 1))
        #expect(provider.writeCount == 4)
        // What is on disk is what was reported: a fresh provider reads it and plans nothing.
        #expect(try await Self.plan(next, LocalRegistryProvider(path: directory + "/dev.json")).isEmpty)
    }

    @Test("a phase whose write fails fails its changes, leaves the file as it was, and a re-apply converges")
    func failedCommit() async throws {
        let (provider, directory) = try Self.provider()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spec = Fixture.spec((0..<5).map { Fixture.webhook("hook\($0)x") })
        // The state file's folder is a regular file: reading finds no state (an empty registry), and the
        // write cannot happen (even as root).
        try "not a folder".write(toFile: directory + "/afile", atomically: true, encoding: .utf8)
        let blocked = LocalRegistryProvider(path: directory + "/afile/dev.json")
        let report = await Applier().apply(try await Self.plan(spec, provider), providers: ["dev": blocked])
        #expect(report.failures.count == 5)
        #expect(report.failures.allSatisfy { if case .failed(_, let message) = $0.outcome { message.hasPrefix("not saved:") } else { false } })
        // The good path, from the same plan, converges.
        let applied = await Applier().apply(try await Self.plan(spec, provider), providers: ["dev": provider])
        #expect(applied.isSuccess)
        #expect(try await Self.plan(spec, provider).isEmpty)
    }
}

import Foundation
import TestSupport
import Testing

@testable import HookApplyCLI

/// `list` and `get` show live webhooks the az way (masked), `show` points at `get`, a webhook named in
/// the wrong registry is pointed at the right one, and `--strict` counts unmanaged webhooks as drift.
@Suite struct LiveStateTests {
    typealias Workspace = ReconcileCommandTests.Workspace

    /// The shared spec, applied, plus a webhook made by hand (not declared, no owner).
    static func applied() async throws -> Workspace {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        _ = await workspace.run(["apply", "--auto-approve"])
        try await workspace.provider("dev").create(TestSupport.Fixture.state("byhandx", owner: nil, uri: "https://hand.example.com/x?key=hand-secret"))
        return workspace
    }

    @Test("list: every live webhook, masked, declared or not (golden, text and JSON)")
    func list() async throws {
        let workspace = try await Self.applied()
        defer { workspace.remove() }
        let text = await workspace.run(["list"])
        #expect(text.code == .success, "\(text.stderr)")
        expectGolden("list.txt", text.stdout)
        let json = await workspace.run(["list", "-r", "dev", "--format", "json"])
        expectGolden("list.json", json.stdout)
        for output in [text.stdout, json.stdout] {
            #expect(!output.contains("hand-secret") && !output.contains("t0ken") && !output.contains("c0de"))
        }
    }

    @Test("get: one webhook in full, masked; an unknown name is an error with a did-you-mean")
    func get() async throws {
        let workspace = try await Self.applied()
        defer { workspace.remove() }
        let found = await workspace.run(["get", "deploybot"])
        #expect(found.code == .success, "\(found.stderr)")
        expectGolden("get.txt", found.stdout)
        #expect(!found.stdout.contains("t0ken"))
        let missing = await workspace.run(["get", "deploybto"])
        #expect(missing.code == .failure)
        #expect(missing.stderr.contains("did you mean 'deploybot'?"), "\(missing.stderr)")
    }

    @Test("show with a webhook name says to use get")
    func showHint() async throws {
        let workspace = try await Self.applied()
        defer { workspace.remove() }
        let result = await workspace.run(["show", "deploybot"])
        #expect(result.code == .failure)
        #expect(result.stderr.contains("to see a live webhook, run: hookapply get deploybot"), "\(result.stderr)")
    }

    @Test("ping with the wrong --registry names the registry the webhook is declared in")
    func wrongRegistry() async throws {
        let workspace = try await Self.applied()
        defer { workspace.remove() }
        let result = await workspace.run(["ping", "audit", "--registry", "dev"])
        #expect(result.code == .failure)
        #expect(result.stderr.contains("it is declared in registry 'prod': use --registry prod"), "\(result.stderr)")
    }

    @Test("--strict: a webhook made by hand is drift (exit 2); without --strict it is only listed")
    func strict() async throws {
        let workspace = try await Self.applied()
        defer { workspace.remove() }
        let lenient = await workspace.run(["plan", "--detailed-exitcode"])
        #expect(lenient.code == .success, "\(lenient.stdout)")
        #expect(lenient.stdout.contains("byhandx (not managed by hookapply)"))
        let strict = await workspace.run(["plan", "--detailed-exitcode", "--strict"])
        #expect(strict.code == .changes)
        #expect(strict.stderr.contains("strict: 1 webhook not managed by this spec counts as drift"))
    }
}

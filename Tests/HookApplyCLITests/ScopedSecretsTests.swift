import Foundation
import TestSupport
import Testing

@testable import HookApplyCLI

/// A command needs only the secrets it uses: plan and apply the selected registries' variables,
/// read-only commands none; validate still reports every unset variable.
@Suite struct ScopedSecretsTests {
    static let spec = """
        {"version": 1, "owner": "team", "registries": [
          {"name": "dev", "local": {}, "webhooks": [
            {"name": "devhook", "serviceUri": "https://dev.example.com/hook?code=${env:DEV_CODE}", "customHeaders": {"Authorization": "Bearer ${env:DEV_TOKEN}"}, "actions": ["push"]}]},
          {"name": "prod", "local": {}, "webhooks": [
            {"name": "prodhook", "serviceUri": "https://prod.example.com/${env:PROD_PATH}", "customHeaders": {"X-Key": "${env:PROD_KEY}"}, "actions": ["push"]}]}]}
        """
    static let dev = ["DEV_CODE": "dev-code-value", "DEV_TOKEN": "dev-token-value"]
    static let prod = ["PROD_PATH": "prod-path-value", "PROD_KEY": "prod-key-value"]

    @Test("plan -r dev needs dev's variables only; plan of every registry needs them all, naming what is missing")
    func planScoped() async throws {
        let workspace = try ReconcileCommandTests.Workspace(Self.spec)
        defer { workspace.remove() }
        let scoped = await workspace.run(["plan", "-r", "dev"], environment: Self.dev)
        #expect(scoped.code == .success, "\(scoped.stderr)")
        #expect(!scoped.stderr.contains("PROD_"), "\(scoped.stderr)")
        let upper = await workspace.run(["apply", "-r", "DEV", "--auto-approve"], environment: Self.dev)
        #expect(upper.code == .success, "\(upper.stderr)")
        let whole = await workspace.run(["plan"], environment: Self.dev)
        #expect(whole.code == .failure)
        #expect(whole.stderr.contains("'PROD_PATH' is not set") && whole.stderr.contains("'PROD_KEY' is not set"), "\(whole.stderr)")
        let devMissing = await workspace.run(["plan", "-r", "dev"], environment: Self.prod)
        #expect(devMissing.code == .failure)
        #expect(devMissing.stderr.contains("'DEV_TOKEN' is not set"), "\(devMissing.stderr)")
    }

    @Test("read-only commands need no secret at all", arguments: [["list"], ["get", "devhook"], ["events", "devhook"], ["export", "-r", "dev"], ["list", "-r", "prod"]])
    func readOnly(_ arguments: [String]) async throws {
        let workspace = try ReconcileCommandTests.Workspace(Self.spec)
        defer { workspace.remove() }
        #expect(await workspace.run(["apply", "--auto-approve"], environment: Self.dev.merging(Self.prod) { $1 }).code == .success)
        let result = await workspace.run(arguments, environment: [:])
        #expect(result.code == .success, "\(arguments): \(result.stderr)")
        #expect(!result.stderr.contains("is not set"), "\(result.stderr)")
    }

    @Test("validate still lists every variable, and --resolve requires them all")
    func validateUnchanged() async throws {
        let workspace = try ReconcileCommandTests.Workspace(Self.spec)
        defer { workspace.remove() }
        let listed = await workspace.run(["validate"], environment: Self.dev)
        #expect(listed.code == .success)
        #expect(listed.stderr.contains("PROD_KEY") || listed.stdout.contains("PROD_KEY"), "\(listed.stdout)\(listed.stderr)")
        let resolved = await workspace.run(["validate", "--resolve"], environment: Self.dev)
        #expect(resolved.code == .failure)
        #expect(resolved.stderr.contains("'PROD_KEY' is not set"), "\(resolved.stderr)")
    }
}

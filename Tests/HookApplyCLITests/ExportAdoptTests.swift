import Foundation
import HookKit
import TestSupport
import Testing

@testable import HookApplyCLI

/// Adopting a registry in one step: export without a spec, to a file that is never the spec it reads,
/// only one owner's webhooks, secrets to a 0600 dotenv file, descriptions kept, Content-Type as plans show it.
@Suite struct ExportAdoptTests {
    typealias Workspace = ReconcileCommandTests.Workspace

    @Test("export --local with no spec, --owner, --out and --secrets-env: the result plans to no changes")
    func adopt() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        #expect(await workspace.run(["apply", "--auto-approve"], environment: ["TOKEN": "t0ken-value", "CODE": "c0de-value"]).code == .success)
        try await workspace.provider("dev").create(TestSupport.Fixture.state("theirsx", owner: "other-team"))
        try FileManager.default.removeItem(atPath: workspace.directory + "/webhooks.json")  // no spec at all
        let exported = await workspace.run(["export", "--local", ".hookapply/dev.json", "--owner", "team", "--out", "adopted.json", "--secrets-env", "adopted.env"])
        #expect(exported.code == .success, "\(exported.stderr)")
        #expect(exported.stdout.isEmpty, "nothing on stdout with --out")
        #expect(exported.stderr.contains("left out 'theirsx': owned by 'other-team'"))
        let spec = workspace.read("adopted.json")
        #expect(!spec.contains("t0ken-value") && !spec.contains("c0de-value") && !spec.contains("theirsx"))
        #expect(spec.contains("\"owner\" : \"team\"") || spec.contains("\"owner\": \"team\""), "\(spec)")
        // The secrets went to the dotenv file only, mode 0600.
        let env = workspace.read("adopted.env")
        // Literal values, as docker --env-file and kubectl create secret --from-env-file read them.
        #expect(env.contains("=Bearer t0ken-value\n") && env.contains("=code=c0de-value\n") && !env.contains("'"), "\(env)")
        let mode = (try FileManager.default.attributesOfItem(atPath: workspace.directory + "/adopted.env")[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o600)
        // Read the dotenv back as those loaders do (everything after the first '=', as it is), and plan the
        // adopted spec: nothing to do.
        var environment: [String: String] = [:]
        for line in env.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            environment[parts[0]] = parts[1]
        }
        let planned = await workspace.run(["plan", "-f", "adopted.json", "--detailed-exitcode"], environment: environment)
        #expect(planned.code == .success, "\(planned.stdout)\(planned.stderr)")
    }

    @Test("--out refuses to overwrite the spec it reads; a spec and --local together are a usage error")
    func noClobber() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let before = workspace.read("webhooks.json")
        let clobber = await workspace.run(["export", "-r", "dev", "--out", "webhooks.json"])
        #expect(clobber.code == .usage)
        #expect(clobber.stderr.contains("is the spec being read"), "\(clobber.stderr)")
        #expect(workspace.read("webhooks.json") == before)
        let both = await workspace.run(["export", "-f", "webhooks.json", "--local", "x.json"])
        #expect(both.code == .usage)
    }

    @Test("export keeps the spec's descriptions, and Content-Type is shown alike by plan and export")
    func descriptionsAndContentType() async throws {
        let spec = #"{"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": [{"name": "hookone", "description": "tells the deploy bot", "serviceUri": "https://h.example.com/", "customHeaders": {"Content-Type": "application/cloudevents+json", "X-Key": "secret-value-1"}, "actions": ["push"]}]}]}"#
        let workspace = try Workspace(spec)
        defer { workspace.remove() }
        let planned = await workspace.run(["plan"])
        #expect(planned.stdout.contains(#"customHeaders["Content-Type"] = "application/cloudevents+json""#), "\(planned.stdout)")
        #expect(planned.stdout.contains(#"customHeaders["X-Key"]"#) && !planned.stdout.contains("secret-value-1"))
        #expect(await workspace.run(["apply", "--auto-approve"]).code == .success)
        let exported = await workspace.run(["export", "-r", "dev"])
        #expect(exported.stdout.contains("tells the deploy bot"), "\(exported.stdout)")
        #expect(exported.stdout.contains("application/cloudevents+json"))
        #expect(!exported.stdout.contains("secret-value-1"))
    }

    @Test("--secrets-env pairs with kubectl create secret --from-env-file: every value comes back exactly")
    func dotenvPairsWithKubectl() async throws {
        guard let kubectl = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return }
        let awkward = "Bearer a b'c\"d$e=f#g\\h"
        let spec = #"{"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": [{"name": "hookone", "serviceUri": "https://h.example.com/?k=q%20v'1", "customHeaders": {"Authorization": \#(JSONText.quote(awkward))}, "actions": ["push"]}]}]}"#
        let workspace = try Workspace(spec)
        defer { workspace.remove() }
        #expect(await workspace.run(["apply", "--auto-approve"]).code == .success)
        #expect(await workspace.run(["export", "-r", "dev", "--out", "adopted.json", "--secrets-env", "adopted.env"]).code == .success)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: kubectl)
        process.arguments = ["create", "secret", "generic", "x", "--from-env-file=" + workspace.directory + "/adopted.env", "--dry-run=client", "-o", "json"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let secret = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let values = Set((secret["data"] as? [String: String] ?? [:]).values.compactMap { Data(base64Encoded: $0).map { String(decoding: $0, as: UTF8.self) } })
        #expect(values.contains(awkward), "\(values)")
        #expect(values.contains("k=q%20v'1"), "\(values)")
    }
}

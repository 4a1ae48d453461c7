import Foundation
import TestSupport
import Testing

@testable import HookApplyCLI

/// `export` gives every secret its own variable, even when their derived names would collide.
@Suite struct ExportNamesTests {
    @Test("headers, webhooks and URI parts whose names collide get distinct variables, and the export round-trips")
    func collisions() async throws {
        let workspace = try ReconcileCommandTests.Workspace(#"{"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": []}]}"#)
        defer { workspace.remove() }
        func hook(_ name: String, _ suffix: String) -> String {
            """
            {"name": "\(name)", "serviceUri": "https://h.example.com/p?code=query-\(suffix)", "customHeaders": [
              {"name": "X-Key", "value": "dash-\(suffix)"}, {"name": "X_Key", "value": "underscore-\(suffix)"}, {"name": "URI-Query", "value": "header-\(suffix)"}],
             "actions": ["push"], "status": "enabled", "scope": "", "tags": {"hookapply-owner": "team"}}
            """
        }
        let state = #"{"formatVersion": 1, "webhooks": ["# + hook("deploybot", "one") + "," + hook("scannerbot", "two") + "]}"
        try FileManager.default.createDirectory(atPath: workspace.directory + "/.hookapply", withIntermediateDirectories: true)
        try state.write(toFile: workspace.directory + "/.hookapply/dev.json", atomically: true, encoding: .utf8)
        let exported = await workspace.run(["export"])
        #expect(exported.code == .success, "\(exported.stderr)")
        let variables = exported.stderr.split(separator: "\n").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(variables.count == 8)
        #expect(Set(variables).count == variables.count, "a variable is shared: \(variables)")
        // Give each variable the value it stands for, read from the exported spec, and plan: no changes.
        let document = try #require(try JSONSerialization.jsonObject(with: Data(exported.stdout.utf8)) as? [String: Any])
        let webhooks = try #require(((document["registries"] as? [[String: Any]])?.first?["webhooks"]) as? [[String: Any]])
        var environment: [String: String] = [:]
        func variable(_ text: String) -> String? {
            guard let start = text.range(of: "${env:"), let end = text[start.upperBound...].firstIndex(of: "}") else { return nil }
            return String(text[start.upperBound..<end])
        }
        for webhook in webhooks {
            let suffix = (webhook["name"] as? String) == "deploybot" ? "one" : "two"
            if let name = variable(webhook["serviceUri"] as? String ?? "") { environment[name] = "code=query-\(suffix)" }
            for (header, value) in webhook["customHeaders"] as? [String: String] ?? [:] {
                let expected = ["X-Key": "dash-", "X_Key": "underscore-", "URI-Query": "header-"][header] ?? "?"
                if let name = variable(value) { environment[name] = expected + suffix }
            }
        }
        #expect(environment.count == 8)
        try exported.stdout.write(toFile: workspace.directory + "/exported.json", atomically: true, encoding: .utf8)
        let planned = await workspace.run(["plan", "-f", "exported.json", "--detailed-exitcode"], environment: environment)
        #expect(planned.code == .success, "\(planned.stdout)\(planned.stderr)")
    }
}

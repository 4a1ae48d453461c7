import Foundation
import TestSupport
import Testing

@testable import HookApplyCLI

/// One state file per registry, names unique regardless of case, and no secrets left in temporary files.
@Suite struct StateSafetyTests {
    typealias Workspace = ReconcileCommandTests.Workspace

    static func spec(_ first: String, _ second: String) -> String {
        """
        {"version": 1, "owner": "team", "registries": [
          {"name": "one", "local": \(first), "webhooks": []},
          {"name": "two", "local": \(second), "webhooks": []}
        ]}
        """
    }

    @Test("two registries on one local state file are refused by validate", arguments: [
        (#"{"path": "s.json"}"#, #"{"path": "./s.json"}"#),
        (#"{"path": "s.json"}"#, #"{"path": "x/../s.json"}"#),
        (#"{"path": "a//s.json"}"#, #"{"path": "a/s.json"}"#),
        (#"{}"#, #"{"path": ".hookapply/one.json"}"#),
    ])
    func duplicatePaths(_ first: String, _ second: String) async throws {
        let workspace = try Workspace(Self.spec(first, second))
        defer { workspace.remove() }
        let result = await workspace.run(["validate"])
        #expect(result.code == .failure)
        #expect((result.stdout + result.stderr).contains("[duplicate-registry-target] registry 'two' is the same local state file as registry 'one'"), "\(result.stdout)\(result.stderr)")
    }

    @Test("an absolute and a relative spelling of one state file are refused before anything is read")
    func absoluteAndRelative() async throws {
        let workspace = try Workspace("{}")
        defer { workspace.remove() }
        try workspace.write(Self.spec(#"{"path": "s.json"}"#, #"{"path": "\#(workspace.directory)/s.json"}"#))
        let result = await workspace.run(["apply", "--auto-approve"])
        #expect(result.code == .failure)
        #expect(result.stderr.contains("registries 'one' and 'two' use the same local state file"), "\(result.stderr)")
    }

    @Test("two Azure registries with the same coordinates are refused by validate")
    func duplicateAzure() async throws {
        let azure = #"{"name": "%@", "azure": {"subscriptionId": "6e9ef8d4-3c07-4a07-9d7e-1c4f3a7e2b11", "resourceGroup": "rg", "registry": "%@"}, "webhooks": []}"#
        let spec = #"{"version": 1, "owner": "team", "registries": ["# + String(format: azure, "a", "contoso") + "," + String(format: azure, "b", "CONTOSO") + "]}"
        let workspace = try Workspace(spec)
        defer { workspace.remove() }
        let result = await workspace.run(["validate"])
        #expect(result.code == .failure)
        #expect((result.stdout + result.stderr).contains("[duplicate-registry-target] registry 'b' is the same Azure registry as registry 'a'"), "\(result.stdout)\(result.stderr)")
    }

    @Test("a local state holding two names that differ only in case is refused, and left as it is")
    func caseDuplicates() async throws {
        let workspace = try Workspace(#"{"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": [{"name": "hookone", "serviceUri": "https://h.example.com/", "actions": ["push"]}]}]}"#)
        defer { workspace.remove() }
        let state = """
            {"formatVersion": 1, "webhooks": [
              {"name": "HookOne", "serviceUri": "https://h.example.com/", "customHeaders": [], "actions": ["push"], "status": "enabled", "scope": "", "tags": {"hookapply-owner": "team"}},
              {"name": "hookone", "serviceUri": "https://h.example.com/", "customHeaders": [], "actions": ["push"], "status": "enabled", "scope": "", "tags": {"hookapply-owner": "team"}}
            ]}
            """
        try FileManager.default.createDirectory(atPath: workspace.directory + "/.hookapply", withIntermediateDirectories: true)
        try state.write(toFile: workspace.directory + "/.hookapply/dev.json", atomically: true, encoding: .utf8)
        let result = await workspace.run(["apply", "--auto-approve"])
        #expect(result.code == .failure)
        #expect(result.stderr.contains("holds webhooks 'HookOne' and 'hookone', whose names differ only in case"), "\(result.stderr)")
        #expect(workspace.read(".hookapply/dev.json") == state)
    }

    @Test("apply removes temporary state files of dead processes, and only those")
    func staleTemporaries() async throws {
        let workspace = try Workspace(#"{"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": [{"name": "hookone", "serviceUri": "https://h.example.com/?code=${env:CODE:-PLANTED}", "actions": ["push"]}]}]}"#)
        defer { workspace.remove() }
        let folder = workspace.directory + "/.hookapply"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // A pid that existed and is gone: a finished child's.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = folder + "/dev.json.tmp-\(child.processIdentifier)-42"
        let alive = folder + "/dev.json.tmp-1-7"  // pid 1 is always alive
        let unrelated = folder + "/other.json.tmp-\(child.processIdentifier)-1"
        for path in [dead, alive, unrelated] { try "{\"secret\": \"PLANTED\"}".write(toFile: path, atomically: false, encoding: .utf8) }
        let result = await workspace.run(["apply", "--auto-approve"])
        #expect(result.code == .success, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: alive))
        #expect(FileManager.default.fileExists(atPath: unrelated))
    }
}

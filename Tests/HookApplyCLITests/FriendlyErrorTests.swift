import Foundation
import TestSupport
import Testing

@testable import HookApplyCLI
@testable import Reconciler

/// Every error a user can cause is a sentence that says what to do, never a Cocoa error number, and
/// nothing that is not a regular file is ever replaced.
@Suite struct FriendlyErrorTests {
    static let unfriendly = ["NSCocoaErrorDomain", "The operation could not be completed", "Error Domain=", "You don’t have permission"]

    static func expectFriendly(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for phrase in unfriendly { #expect(!text.contains(phrase), "'\(phrase)' in: \(text)", sourceLocation: sourceLocation) }
    }

    static func isPipe(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO
    }

    // A named pipe stands in for a device such as /dev/null: the same "not a regular file" case, without
    // putting the machine's /dev/null at risk if the product ever regresses (as root, a rename replaces it).
    @Test("a local state path that is a folder or a pipe is refused with a fix, and never replaced", arguments: [
        (".", "it is a folder"), ("pipe", "not a regular file"),
    ])
    func statePaths(_ path: String, _ reason: String) async throws {
        let workspace = try ReconcileCommandTests.Workspace(#"{"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {"path": "\#(path)"}, "webhooks": [{"name": "hookone", "serviceUri": "https://h.example.com/", "actions": ["push"]}]}]}"#)
        defer { workspace.remove() }
        #expect(mkfifo(workspace.directory + "/pipe", 0o600) == 0)
        for arguments in [["plan"], ["apply", "--auto-approve"]] {
            let result = await workspace.run(arguments)
            #expect(result.code == .failure)
            #expect(result.stderr.contains(reason), "\(result.stderr)")
            #expect(result.stderr.contains("local.path"))
            Self.expectFriendly(result.stdout + result.stderr)
        }
        #expect(Self.isPipe(workspace.directory + "/pipe"))
    }

    @Test("plan --out refuses a folder and a pipe, in a sentence, and leaves them as they are", arguments: ["folder", "pipe"])
    func planOut(_ target: String) async throws {
        let workspace = try ReconcileCommandTests.Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        #expect(mkfifo(workspace.directory + "/pipe", 0o600) == 0)
        if target == "folder" { try FileManager.default.createDirectory(atPath: workspace.directory + "/folder", withIntermediateDirectories: true) }
        let result = await workspace.run(["plan", "--out", target])
        #expect(result.code == .usage)
        #expect(result.stderr.contains("Nothing was written"), "\(result.stderr)")
        Self.expectFriendly(result.stderr)
        #expect(Self.isPipe(workspace.directory + "/pipe"))
        var isFolder: ObjCBool = false
        if target == "folder" { #expect(FileManager.default.fileExists(atPath: workspace.directory + "/folder", isDirectory: &isFolder) && isFolder.boolValue) }
    }

    @Test("an apply of a folder, and a plan file with a missing member, say so plainly")
    func planFiles() async throws {
        let workspace = try ReconcileCommandTests.Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let folder = await workspace.run(["apply", "."])
        #expect(folder.code == .failure)
        #expect(folder.stderr.contains("it is a folder"), "\(folder.stderr)")
        try #"{"format_version": 4, "hookapply_version": "x", "owner": "o", "spec_digest": "d", "registries": []}"#.write(toFile: workspace.directory + "/p.json", atomically: true, encoding: .utf8)
        let partial = await workspace.run(["apply", "p.json"])
        #expect(partial.code == .failure)
        #expect(partial.stderr.contains("the top level has no 'changes'"), "\(partial.stderr)")
        Self.expectFriendly(folder.stderr + partial.stderr)
    }

    @Test("an unexpected system error becomes a sentence")
    func systemErrors() {
        let error = NSError(domain: NSCocoaErrorDomain, code: 256, userInfo: [NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(EISDIR))])
        let message = ProviderError.from(error).message
        #expect(message.contains("it is a folder"), "\(message)")
        Self.expectFriendly(message)
    }

    @Test("an ARM endpoint whose name does not resolve is a sentence with what to check")
    func unresolvableEndpoint() async throws {
        let setup = try AzureCommandTests.Setup()
        defer { setup.finish() }
        try setup.write(AzureCommandTests.spec(endpoint: "https://arm.invalid", webhooks: 1))
        let result = await setup.run(["plan"], environment: ["HOOKAPPLY_ARM_TIMEOUT": "5"])
        #expect(result.code == .failure)
        Self.expectFriendly(result.stderr)
        #expect(result.stderr.contains("arm.invalid"), "\(result.stderr)")
    }
}

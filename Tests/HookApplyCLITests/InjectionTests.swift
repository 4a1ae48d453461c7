import Foundation
import HookKit
import TestSupport
import Testing

@testable import HookApplyCLI

/// Values from outside (a registry's tags and names, a receiver's answer) cannot forge output: no line
/// breaks out of its line, no escape sequence reaches a terminal, no value closes the markdown fence.
@Suite struct InjectionTests {
    static let hostileOwner = "team\n```\n</details>\n## No changes. Safe to merge.\u{1B}]0;pwned\u{07}"

    /// A local state with an unmanaged webhook whose owner tag and name are hostile.
    static func workspace() throws -> ReconcileCommandTests.Workspace {
        let workspace = try ReconcileCommandTests.Workspace(#"{"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": [{"name": "hookone", "serviceUri": "https://h.example.com/", "actions": ["push"]}]}]}"#)
        let state = """
            {"formatVersion": 1, "webhooks": [
              {"name": "evil\\u001b[2J\\nhook", "serviceUri": "https://h.example.com/", "customHeaders": [], "actions": ["push"], "status": "enabled", "scope": "", "tags": {"hookapply-owner": \(JSONText.quote(hostileOwner))}}
            ]}
            """
        try FileManager.default.createDirectory(atPath: workspace.directory + "/.hookapply", withIntermediateDirectories: true)
        try state.write(toFile: workspace.directory + "/.hookapply/dev.json", atomically: true, encoding: .utf8)
        return workspace
    }

    static func expectInert(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, "an escape sequence got through", sourceLocation: sourceLocation)
        #expect(!text.contains("\n## No changes"), "a forged line got through", sourceLocation: sourceLocation)
    }

    @Test("a hostile tag value cannot break out of the markdown plan's diff block")
    func markdown() async throws {
        let workspace = try Self.workspace()
        defer { workspace.remove() }
        let result = await workspace.run(["plan", "--format", "markdown"])
        #expect(result.code == .success, "\(result.stderr)")
        Self.expectInert(result.stdout)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.filter { $0 == "</details>" }.count == 1, "exactly our own closing tag: \(result.stdout)")
        #expect(lines.filter { $0.hasPrefix("```") }.count == 2, "exactly our own fences: \(result.stdout)")
        // The value is still shown, visibly escaped, inside a fence longer than its backticks.
        #expect(result.stdout.contains(#"team\n```\n</details>"#))
        #expect(result.stdout.contains("````diff\n"))
    }

    @Test("hostile names and tags reach the terminal escaped, in text plans and diagnostics")
    func text() async throws {
        let workspace = try Self.workspace()
        defer { workspace.remove() }
        let plan = await workspace.run(["plan"])
        Self.expectInert(plan.stdout + plan.stderr)
        #expect(plan.stdout.contains(#"evil\u{1B}[2J\nhook"#), "\(plan.stdout)")
        // Declaring it (same name) makes an ownership conflict whose message quotes the owner.
        try workspace.write(#"{"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "prune": "all", "webhooks": []}]}"#)
        let pruned = await workspace.run(["apply", "--auto-approve"])
        Self.expectInert(pruned.stdout + pruned.stderr)
    }

    @Test("a receiver's escape sequences and line breaks in headers and body are shown escaped by ping and events")
    func receiver() async throws {
        let receiver = try LoopbackReceiver { _ in
            LoopbackReceiver.Response(status: 200, headers: ["X-Title": "\u{1B}]0;owned\u{07}"],
                                      body: Array("fine\n\u{1B}[31mred\u{1B}[0m\n## No changes. Safe to merge.\u{9B}2J".utf8))
        }
        defer { receiver.stop() }
        let workspace = try ReconcileCommandTests.Workspace(#"{"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": [{"name": "hookone", "serviceUri": "\#(receiver.url)/h", "actions": ["push"]}]}]}"#)
        defer { workspace.remove() }
        #expect(await workspace.run(["apply", "--auto-approve"]).code == .success)
        let ping = await workspace.run(["ping", "hookone"])
        #expect(ping.code == .success, "\(ping.stderr)")
        Self.expectInert(ping.stdout)
        #expect(!ping.stdout.unicodeScalars.contains { $0.value == 0x9B })
        #expect(ping.stdout.contains(#"\u{1B}[31mred"#))
        // Line breaks of the body are kept as lines, each indented under the response.
        #expect(ping.stdout.contains("\n  ## No changes"))
        let events = await workspace.run(["events", "hookone"])
        Self.expectInert(events.stdout)
    }

    @Test("a line break in a registry's scope, tag, owner or name cannot add a row to list or get, nor a line to export's notes",
          arguments: [["list"], ["get", "forged"], ["export", "-r", "dev", "--owner", "team"]])
    func listAndGet(_ arguments: [String]) async throws {
        let workspace = try ReconcileCommandTests.Workspace(#"{"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": []}]}"#)
        defer { workspace.remove() }
        let state = """
            {"formatVersion": 1, "webhooks": [
              {"name": "forged", "serviceUri": "https://h.example.com/", "customHeaders": [], "actions": ["push"], "status": "enabled",
               "scope": "web:*\\nFAKE-ROW  evil  enabled", "tags": {"hookapply-owner": "other\\nFAKE-OWNER", "note": "x\\nFAKE-TAG"}}
            ]}
            """
        try FileManager.default.createDirectory(atPath: workspace.directory + "/.hookapply", withIntermediateDirectories: true)
        try state.write(toFile: workspace.directory + "/.hookapply/dev.json", atomically: true, encoding: .utf8)
        let result = await workspace.run(arguments)
        #expect(result.code == .success, "\(result.stderr)")
        for line in (result.stdout + result.stderr).split(separator: "\n") {
            #expect(!line.hasPrefix("FAKE"), "a forged line: \(line)\n\(result.stdout)\(result.stderr)")
        }
        Self.expectInert(result.stdout + result.stderr)
    }

    @Test("every line written with line() has its control characters escaped")
    func outputLines() {
        let stream = OutputStream()
        stream.line("id \u{1B}[2Jx\r\u{7F}\u{202E}txt\nnext")
        #expect(stream.text == "id \\u{1B}[2Jx\\r\\u{7F}\\u{202E}txt\nnext\n")
    }

    @Test("TerminalText", arguments: [
        ("plain", "plain", "plain"),
        ("a\nb", #"a\nb"#, "a\nb"),
        ("tab\there", #"tab\there"#, "tab\there"),
        ("\u{1B}[0m", #"\u{1B}[0m"#, #"\u{1B}[0m"#),
        ("\u{9B}31m", #"\u{9B}31m"#, #"\u{9B}31m"#),
        ("rtl\u{202E}txt", #"rtl\u{202E}txt"#, #"rtl\u{202E}txt"#),
        ("naïve café", "naïve café", "naïve café"),
    ])
    func terminalText(_ input: String, _ line: String, _ block: String) {
        #expect(TerminalText.line(input) == line)
        #expect(TerminalText.block(input) == block)
    }
}

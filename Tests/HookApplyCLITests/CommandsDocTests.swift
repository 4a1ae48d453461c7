import Foundation
import Testing

@testable import HookApplyCLI

/// `docs/commands.md`: its generated reference is what the command tables make (the same tables as
/// `--help` and the man page), and its hand-written overview table names exactly each command's options.
@Suite struct CommandsDocTests {
    static let path = repositoryRoot + "/docs/commands.md"

    @Test("the reference part of docs/commands.md is what the command tables make")
    func generated() throws {
        let text = try String(contentsOfFile: Self.path, encoding: .utf8)
        let marker = try #require(text.range(of: CommandsDoc.marker), "docs/commands.md lost its generated-part marker")
        let rendered = CommandsDoc.render()
        if ProcessInfo.processInfo.environment["HOOKAPPLY_RECORD"] == "1" {
            try (String(text[..<marker.upperBound]) + "\n\n" + rendered).write(toFile: Self.path, atomically: true, encoding: .utf8)
            Issue.record("recorded docs/commands.md; run again without HOOKAPPLY_RECORD")
            return
        }
        let committed = String(text[marker.upperBound...]).trimmingCharacters(in: .newlines) + "\n"
        #expect(committed == rendered, "docs/commands.md is out of date: run the tests with HOOKAPPLY_RECORD=1\n\(lineDiff(committed, rendered))")
        for command in HookApply.commands.map(\.spec) + [HookApply.helpSpec] {
            #expect(rendered.contains("### \(command.name)\n"), "\(command.name)")
            for option in command.options { #expect(rendered.contains("--\(option.long)"), "\(command.name) --\(option.long)") }
        }
    }

    @Test("the README names every command, one line each, linking to its reference section")
    func readmeListsEveryCommand() throws {
        let readme = try String(contentsOfFile: repositoryRoot + "/README.md", encoding: .utf8)
        for command in HookApply.commands.map(\.spec) + [HookApply.helpSpec] {
            #expect(readme.contains("[`\(command.name)`](docs/commands.md#\(command.name))"), "README does not list '\(command.name)'")
        }
    }
}

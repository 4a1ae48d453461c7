import Foundation
import Testing

@testable import HookApplyCLI

/// The overview table of docs/commands.md, `--help` and the man page say the same: every command has a
/// row, and each row's synopsis names exactly the command's options, with the values `--help` allows.
/// (The man page and the reference part of docs/commands.md are generated from the same tables as
/// `--help`, and kept equal by ManPageTests and CommandsDocTests.)
@Suite struct ReadmeCommandsTests {
    /// The synopses in the first cell of each table row, by command name: "`plan [-f FILE] …`".
    static func synopses() throws -> [String: String] {
        let readme = try String(contentsOfFile: repositoryRoot + "/docs/commands.md", encoding: .utf8)
        guard let start = readme.range(of: "| command | what it does |") else { return [:] }
        var result: [String: String] = [:]
        for line in readme[start.upperBound...].split(separator: "\n").dropFirst() {
            guard line.hasPrefix("| `") else { break }
            let cell = line.dropFirst(2)
            // The first cell ends at the first " | " outside a code span; code spans hold "\|" escapes only.
            var spans: [String] = []
            var inSpan = false
            var current = ""
            var index = cell.startIndex
            while index < cell.endIndex {
                let character = cell[index]
                if character == "`" {
                    if inSpan { spans.append(current) }
                    current = ""
                    inSpan.toggle()
                } else if inSpan {
                    current.append(character)
                } else if character == "|" {
                    break
                }
                index = cell.index(after: index)
            }
            for span in spans {
                let synopsis = span.replacingOccurrences(of: "\\|", with: "|")
                var name = String(synopsis.prefix { $0 != " " })
                // A subcommand's row is named by both words ("serve replay").
                if let sub = HookApply.subcommands.first(where: { synopsis.hasPrefix($0.spec.name + " ") || synopsis == $0.spec.name }) { name = sub.spec.name }
                result[name] = synopsis
            }
        }
        return result
    }

    @Test("every command has a row in docs/commands.md naming exactly its options and their allowed values")
    func tableAgreesWithHelp() throws {
        let synopses = try Self.synopses()
        #expect(!synopses.isEmpty, "no overview table found in docs/commands.md")
        for command in HookApply.commands.map(\.spec) + HookApply.subcommands.map(\.spec) + [HookApply.helpSpec] {
            guard let synopsis = synopses[command.name] else {
                Issue.record("docs/commands.md's overview table has no row for '\(command.name)'")
                continue
            }
            let tokens = synopsis.split(whereSeparator: { " []|".contains($0) })
            var named = Set(tokens.filter { $0.hasPrefix("--") }.map { String($0.dropFirst(2)) })
            for option in command.options {
                if let short = option.short, tokens.contains(Substring("-\(short)")) { named.insert(option.long) }
            }
            let options = Set(command.options.map(\.long))
            #expect(named == options, "docs/commands.md row for '\(command.name)': missing \(options.subtracting(named).sorted()), unknown \(named.subtracting(options).sorted())")
            for option in command.options {
                guard let values = option.allowedValues else { continue }
                #expect(synopsis.contains("--\(option.long) \(values.joined(separator: "|"))"),
                        "docs/commands.md row for '\(command.name)' should spell --\(option.long) \(values.joined(separator: "|"))")
            }
        }
        let known = Set(HookApply.commands.map(\.spec.name) + HookApply.subcommands.map(\.spec.name) + ["help"])
        for name in synopses.keys { #expect(known.contains(name), "docs/commands.md's overview table has a row for unknown command '\(name)'") }
    }

    @Test("the usage line of --help names the same options as the spec (so the check above covers --help)")
    func helpUsageNamesEveryOption() async {
        for command in HookApply.commands.map(\.spec) {
            let result = await hookapply([command.name, "--help"])
            for option in command.options {
                let spelled = option.short.map { "-\($0)" } ?? "--\(option.long)"
                #expect(result.stdout.contains("[\(spelled)"), "\(command.name) --help usage lacks \(spelled)")
                #expect(result.stdout.contains("--\(option.long)"), "\(command.name) --help lacks --\(option.long)")
            }
        }
    }
}

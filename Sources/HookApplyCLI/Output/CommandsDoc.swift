/// The generated part of `docs/commands.md`, made from the same command tables as `--help` and the man
/// page, so the three never disagree (CommandsDocTests regenerates it and compares; `HOOKAPPLY_RECORD=1`
/// rewrites it). Markdown: one section per command with its usage, options and examples.
enum CommandsDoc {
    /// The line that starts the generated part; what is above it is written by hand.
    static let marker = "<!-- Below: generated from the command tables that --help and the man page use (Output/CommandsDoc.swift). CommandsDocTests keeps it equal; HOOKAPPLY_RECORD=1 swift test --filter CommandsDocTests rewrites it. -->"

    static func render() -> String {
        var out: [String] = []
        out.append("## Reference")
        out.append("")
        out.append("Global options: `--no-color` (never colour output, as `NO_COLOR=1` does), `-v` and `--version`.")
        for command in HookApply.commands.map(\.spec) + HookApply.subcommands.map(\.spec) + [HookApply.helpSpec] {
            out.append("")
            out.append("### \(command.name)")
            out.append("")
            out.append(command.abstract)
            out.append("")
            out.append("```")
            out.append(command.usage)
            out.append("```")
            if !command.discussion.isEmpty {
                out.append("")
                out.append(command.discussion.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " "))
            }
            if !command.positionals.isEmpty || !command.options.isEmpty {
                out.append("")
                out.append("| argument or option | what it does |")
                out.append("|---|---|")
                for positional in command.positionals {
                    out.append("| `<\(positional.name)>` | \(cell(positional.help)) |")
                }
                for option in command.options {
                    var left = (option.short.map { "-\($0), " } ?? "") + "--\(option.long)"
                    if let value = option.valueName { left += " <\(value)>" }
                    var help = option.help
                    if let allowed = option.allowedValues { help += " Values: \(allowed.map { "`\($0)`" }.joined(separator: ", "))." }
                    if option.isRepeatable && !help.contains("repeatable") { help += " Repeatable." }
                    out.append("| `\(cell(left))` | \(cell(help)) |")
                }
            }
            let examples = CommandExamples.byCommand[command.name] ?? []
            if !examples.isEmpty {
                out.append("")
                out.append("```sh")
                let width = examples.map(\.command.count).max() ?? 0
                for example in examples { out.append(example.command.padding(toLength: width + 2, withPad: " ", startingAt: 0) + "# " + example.what) }
                out.append("```")
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// A table cell: a pipe would end it.
    private static func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
}

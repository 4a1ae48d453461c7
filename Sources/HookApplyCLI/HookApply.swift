import HookSpec

/// The `hookapply` command: dispatches to subcommands. The executable only builds a ``Context`` and calls ``run(_:)``.
public enum HookApply {
    struct Command: Sendable {
        var spec: CommandSpec
        var run: @Sendable (ParsedArguments, Context) async -> ExitCode
    }

    static let commands: [Command] = [
        Command(spec: ValidateCommand.spec) { ValidateCommand.run($0, $1) },
        Command(spec: FmtCommand.spec) { FmtCommand.run($0, $1) },
        Command(spec: PlanCommand.spec) { await PlanCommand.run($0, $1) },
        Command(spec: ApplyCommand.spec) { await ApplyCommand.run($0, $1) },
        Command(spec: ShowCommand.spec) { ShowCommand.run($0, $1) },
        Command(spec: ListCommand.spec) { await ListCommand.run($0, $1) },
        Command(spec: GetCommand.spec) { await GetCommand.run($0, $1) },
        Command(spec: PingCommand.spec) { await PingCommand.run($0, $1) },
        Command(spec: EventsCommand.spec) { await EventsCommand.run($0, $1) },
        Command(spec: VerifyCommand.spec) { await VerifyCommand.run($0, $1) },
        Command(spec: ExportCommand.spec) { await ExportCommand.run($0, $1) },
        Command(spec: ServeCommand.spec) { await ServeCommand.run($0, $1) },
        Command(spec: ReconcileCommand.spec) { await ReconcileCommand.run($0, $1) },
        Command(spec: AuthCommand.spec) { await AuthCommand.run($0, $1) },
        Command(spec: SchemaCommand.spec) { SchemaCommand.run($0, $1) },
        Command(spec: CompletionCommand.spec) { CompletionCommand.run($0, $1) },
        Command(spec: VersionCommand.spec) { VersionCommand.run($0, $1) },
    ]

    /// Commands under another (`serve replay`): named by both words, run as `hookapply serve replay …`.
    static let subcommands: [Command] = [
        Command(spec: ReplayCommand.spec) { await ReplayCommand.run($0, $1) },
    ]

    /// The subcommand that `first` and the next argument name, if any.
    static func subcommand(_ first: String, _ rest: [String]) -> Command? {
        guard let second = rest.first else { return nil }
        return subcommands.first { $0.spec.name == first + " " + second }
    }

    static let helpSpec = CommandSpec(
        name: "help", abstract: "Show help for hookapply or one of its commands.",
        positionals: [PositionalSpec(name: "command", help: "The command to explain.")])

    static var overview: String {
        var lines = [
            "OVERVIEW: Keep container-registry webhooks exactly as declared in a JSON spec.",
            "",
            "USAGE: hookapply <command> [options]",
            "",
            "COMMANDS:",
        ]
        for command in commands.map(\.spec) + subcommands.map(\.spec) + [helpSpec] {
            lines.append("  " + command.name.padding(12) + command.abstract)
        }
        lines += ["", "GLOBAL OPTIONS:",
                  "  --no-color  Never colour output (as NO_COLOR=1 does); accepted by every command.",
                  "  -v, --version  Print the version.",
                  "", "See 'hookapply help <command>' for a command's options.", ""]
        return lines.joined(separator: "\n")
    }

    /// Runs the command line in `context.arguments` (without the program name) and returns the exit code.
    public static func run(_ context: Context) async -> ExitCode {
        var context = context
        // --no-color anywhere before "--" means NO_COLOR for this run (the no-color.org convention).
        let end = context.arguments.firstIndex(of: "--") ?? context.arguments.count
        if context.arguments[..<end].contains("--no-color") {
            context.arguments = context.arguments[..<end].filter { $0 != "--no-color" } + context.arguments[end...]
            context.environment["NO_COLOR"] = "1"
        }
        var arguments = context.arguments
        guard let first = arguments.first else {
            context.standardError.write(overview)
            return .usage
        }
        arguments.removeFirst()
        switch first {
        case "--help", "-h":
            context.standardOutput.write(overview)
            return .success
        case "--version", "-v":
            // `--version --format json` is `version --format json`: the rest is version's options.
            do {
                return VersionCommand.run(try ArgumentParser.parse(arguments, for: VersionCommand.spec), context)
            } catch {
                return usageError(error.message, usage: VersionCommand.spec.usage, context, helpFor: "version")
            }
        case "help":
            return help(arguments, context)
        case CompletionCommand.namesCommand:
            return CompletionCommand.names(arguments, context)
        default:
            break
        }
        if let command = subcommand(first, arguments) {
            arguments.removeFirst()
            return await run(command, arguments, context)
        }
        guard let command = commands.first(where: { $0.spec.name == first }) else {
            var message = "unknown command '\(first)'"
            if let match = Suggestion.closest(to: first, among: commands.map(\.spec.name) + ["help"]) {
                message += "; did you mean '\(match)'?"
            }
            return usageError(message, usage: "hookapply <command> [options]", context)
        }
        return await run(command, arguments, context)
    }

    static func run(_ command: Command, _ arguments: [String], _ context: Context) async -> ExitCode {
        do {
            let parsed = try ArgumentParser.parse(arguments, for: command.spec)
            if parsed.wantsHelp {
                context.standardOutput.write(command.spec.help)
                return .success
            }
            let code = await command.run(parsed, context)
            if OutputFormat.from(parsed) == .json { jsonFailure(code, context) }
            return code
        } catch {
            let code = usageError(error.message, usage: command.spec.usage, context, helpFor: command.spec.name)
            if asksForJSON(arguments) { jsonFailure(code, context) }
            return code
        }
    }

    static func help(_ arguments: [String], _ context: Context) -> ExitCode {
        guard let name = arguments.first else {
            context.standardOutput.write(overview)
            return .success
        }
        if name == "help" {
            context.standardOutput.write(helpSpec.help)
            return .success
        }
        if arguments.count == 2, let command = subcommand(name, Array(arguments.dropFirst())) {
            context.standardOutput.write(command.spec.help)
            return .success
        }
        guard arguments.count == 1, let command = commands.first(where: { $0.spec.name == name }) else {
            var message = arguments.count > 1 ? "unexpected argument '\(arguments[1])'" : "unknown command '\(name)'"
            if arguments.count == 1, let match = Suggestion.closest(to: name, among: commands.map(\.spec.name)) {
                message += "; did you mean '\(match)'?"
            }
            return usageError(message, usage: helpSpec.usage, context)
        }
        context.standardOutput.write(command.spec.help)
        return .success
    }

    /// With `--format json`, a command that fails without printing its document prints
    /// `{"diagnostics": [...]}` instead: its `error:` lines and spec diagnostics, so a program reading stdout
    /// always gets JSON (as `terraform validate -json` does). The exit code and stderr stay as they are.
    static func jsonFailure(_ code: ExitCode, _ context: Context) {
        guard code != .success, code != .changes, code != .verifyFailed, !context.standardOutput.hasWritten else { return }
        var records = context.standardError.reportedFailures
        if records.isEmpty {
            let reason = code == .interrupted || code == .terminated ? "stopped by a signal" : "the command failed; see standard error"
            records = [.failure(reason)]
        }
        if code == .usage {
            records = records.map { var record = $0; record.code = record.code == "command-failed" ? "usage" : record.code; return record }
        }
        context.standardOutput.write(JSONOutput.encode(DiagnosticRenderer.Document(diagnostics: records)))
    }

    /// Whether a command line that did not parse still asked for JSON (`--format json`, `--format=json`, `-o json`).
    static func asksForJSON(_ arguments: [String]) -> Bool {
        let end = arguments.firstIndex(of: "--") ?? arguments.count
        let words = Array(arguments[..<end])
        for (index, word) in words.enumerated() {
            if word == "--format=json" || word == "-ojson" { return true }
            if (word == "--format" || word == "-o"), index + 1 < words.count, words[index + 1] == "json" { return true }
        }
        return false
    }

    static func usageError(_ message: String, usage: String, _ context: Context, helpFor command: String? = nil) -> ExitCode {
        // One prefix for every error, as the rest of the output writes it (and as terraform and kubectl do).
        context.standardError.line("error: \(message)")
        context.standardError.line("Usage: \(usage)")
        context.standardError.line("  See 'hookapply help\(command.map { " \($0)" } ?? "")' for more information.")
        return .usage
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}

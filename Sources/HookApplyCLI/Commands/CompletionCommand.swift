import HookSpec

/// `hookapply completion bash|zsh|fish`: a completion script made from the command tables (commands,
/// options, and option values), so it never disagrees with `--help`. Registry and webhook names come
/// from the spec through the hidden `hookapply __complete registries|webhooks [-f FILE] [-r NAME]`,
/// which only parses the JSON (no variables, no network), so it is cheap enough to run on every Tab.
enum CompletionCommand {
    /// The hidden command the scripts call for names.
    static let namesCommand = "__complete"
    static let shells = ["bash", "zsh", "fish"]

    static let spec = CommandSpec(
        name: "completion",
        abstract: "Print a shell completion script (bash, zsh or fish).",
        discussion: """
            bash: source <(hookapply completion bash), or save it in /etc/bash_completion.d/hookapply.
            zsh: hookapply completion zsh > "${fpath[1]}/_hookapply".
            fish: hookapply completion fish > ~/.config/fish/completions/hookapply.fish.
            """,
        positionals: [PositionalSpec(name: "shell", help: "bash, zsh or fish.", isOptional: false)])

    static func run(_ arguments: ParsedArguments, _ context: Context) -> ExitCode {
        guard let shell = arguments.positionals.first, shells.contains(shell) else {
            return HookApply.usageError("the shell must be one of \(shells.joined(separator: ", "))", usage: spec.usage, context, helpFor: "completion")
        }
        switch shell {
        case "fish": context.standardOutput.write(fish())
        case "zsh": context.standardOutput.write("#compdef hookapply\nautoload -U +X bashcompinit && bashcompinit\n" + bash())
        default: context.standardOutput.write(bash())
        }
        return .success
    }

    static var commands: [CommandSpec] { HookApply.commands.map(\.spec) + [HookApply.helpSpec] }

    /// Commands whose positional is a webhook name.
    static let webhookPositional: Set<String> = ["get", "ping", "events"]

    /// `__complete registries|webhooks [-f FILE] [-r NAME]...`: names from the spec, one per line. Prints
    /// nothing on any problem (a completion must never print an error into a command line). Only names
    /// made of letters, digits, '-', '_' and '.' are printed: bash's `compgen -W` expands its word list,
    /// so a name like `$(…)` in a hostile spec would otherwise run as a command.
    static func names(_ arguments: [String], _ context: Context) -> ExitCode {
        guard let kind = arguments.first, kind == "registries" || kind == "webhooks" else { return .success }
        var file = "webhooks.json"
        var registries: Set<String> = []
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            let value = index + 1 < arguments.count ? arguments[index + 1] : nil
            if argument == "-f" || argument == "--file", let value { file = value; index += 1 }
            else if argument.hasPrefix("--file=") { file = String(argument.dropFirst(7)) }
            else if argument == "-r" || argument == "--registry", let value { registries.insert(value); index += 1 }
            else if argument.hasPrefix("--registry=") { registries.insert(String(argument.dropFirst(11))) }
            index += 1
        }
        guard file != "-", let bytes = try? FileReader.read(context.absolutePath(file), displayPath: file, limit: 16 * 1024 * 1024),
              let root = try? JSONReader.read(bytes), case .object(let top) = root.value,
              case .array(let list)? = top.first(where: { $0.key == "registries" })?.value.value
        else { return .success }
        func name(_ members: [JSONMember]) -> String? {
            guard case .string(let name)? = members.first(where: { $0.key == "name" })?.value.value, isSafe(name) else { return nil }
            return name
        }
        var printed: Set<String> = []
        for case .object(let registry) in list.map(\.value) {
            guard let registryName = name(registry) else { continue }
            if kind == "registries" {
                if printed.insert(registryName).inserted { context.standardOutput.line(registryName) }
                continue
            }
            guard registries.isEmpty || registries.contains(registryName),
                  case .array(let webhooks)? = registry.first(where: { $0.key == "webhooks" })?.value.value else { continue }
            for case .object(let webhook) in webhooks.map(\.value) {
                if let webhookName = name(webhook), printed.insert(webhookName).inserted { context.standardOutput.line(webhookName) }
            }
        }
        return .success
    }

    static func isSafe(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 256
            && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) }
    }

    static func bash() -> String {
        var lines = [
            "# hookapply completion for bash (generated by 'hookapply completion bash')",
            "# The -f/--file and -r/--registry words already typed, passed on to '__complete'.",
            "_hookapply_spec_words() {",
            "    local i",
            "    for ((i = 2; i < COMP_CWORD; i++)); do",
            "        case \"${COMP_WORDS[i]}\" in",
            "        -f|--file|-r|--registry) printf '%s %q ' \"${COMP_WORDS[i]}\" \"${COMP_WORDS[i+1]}\" ;;",
            "        esac",
            "    done",
            "}",
            "_hookapply_names() {",
            "    local words",
            "    words=\"$(eval hookapply \(namesCommand) \"$1\" $(_hookapply_spec_words) 2>/dev/null)\"",
            "    COMPREPLY=( $(compgen -W \"$words\" -- \"$cur\") )",
            "}",
            "_hookapply() {",
            "    local cur prev opts",
            "    cur=\"${COMP_WORDS[COMP_CWORD]}\"",
            "    prev=\"${COMP_WORDS[COMP_CWORD-1]}\"",
            "    if [ \"$COMP_CWORD\" -eq 1 ]; then",
            "        COMPREPLY=( $(compgen -W \"\(commands.map(\.name).joined(separator: " ")) --help --version --no-color\" -- \"$cur\") )",
            "        return",
            "    fi",
            "    case \"${COMP_WORDS[1]}\" in",
        ]
        for command in commands {
            var words: [String] = ["--help", "--no-color"]
            var values: [String] = []
            for option in command.options {
                words.append("--\(option.long)")
                if let short = option.short { words.append("-\(short)") }
                let names = ["--\(option.long)"] + (option.short.map { ["-\($0)"] } ?? [])
                if let allowed = option.allowedValues {
                    values.append("            \(names.joined(separator: "|"))) COMPREPLY=( $(compgen -W \"\(allowed.joined(separator: " "))\" -- \"$cur\") ); return ;;")
                } else if option.long == "registry" {
                    values.append("            \(names.joined(separator: "|"))) _hookapply_names registries; return ;;")
                } else if option.long == "file" || option.valueName == "planfile" {
                    values.append("            \(names.joined(separator: "|"))) COMPREPLY=( $(compgen -f -- \"$cur\") ); return ;;")
                } else if option.valueName != nil {
                    values.append("            \(names.joined(separator: "|"))) return ;;")
                }
            }
            lines.append("    \(command.name))")
            if !values.isEmpty {
                lines.append("        case \"$prev\" in")
                lines += values
                lines.append("        esac")
            }
            if command.name == "help" || command.name == "completion" {
                let next = command.name == "help" ? commands.map(\.name).joined(separator: " ") : shells.joined(separator: " ")
                lines.append("        if [ \"$COMP_CWORD\" -eq 2 ]; then COMPREPLY=( $(compgen -W \"\(next)\" -- \"$cur\") ); return; fi")
            }
            if webhookPositional.contains(command.name) {
                lines.append("        if [[ \"$cur\" != -* ]]; then _hookapply_names webhooks; return; fi")
            }
            if command.positionals.contains(where: { $0.name == "planfile" }) {
                lines.append("        if [[ \"$cur\" != -* ]]; then COMPREPLY=( $(compgen -f -- \"$cur\") ); return; fi")
            }
            lines.append("        opts=\"\(words.joined(separator: " "))\" ;;")
        }
        lines += [
            "    *) opts=\"--help\" ;;",
            "    esac",
            "    COMPREPLY=( $(compgen -W \"$opts\" -- \"$cur\") )",
            "}",
            "complete -F _hookapply hookapply",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    static func fish() -> String {
        func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'" }
        var lines = [
            "# hookapply completion for fish (generated by 'hookapply completion fish')",
            "function __hookapply_names",
            "    set -l words (commandline -opc)",
            "    set -l pass",
            "    for i in (seq 3 (count $words))",
            "        if contains -- $words[(math $i - 1)] -f --file -r --registry",
            "            set pass $pass $words[(math $i - 1)] $words[$i]",
            "        end",
            "    end",
            "    hookapply \(namesCommand) $argv[1] $pass 2>/dev/null",
            "end",
            "complete -c hookapply -f",
        ]
        for command in commands {
            if webhookPositional.contains(command.name) {
                lines.append("complete -c hookapply -n '__fish_seen_subcommand_from \(command.name)' -a '(__hookapply_names webhooks)'")
            }
            lines.append("complete -c hookapply -n __fish_use_subcommand -a \(command.name) -d \(quoted(command.abstract))")
            for option in command.options {
                var line = "complete -c hookapply -n '__fish_seen_subcommand_from \(command.name)' -l \(option.long)"
                if let short = option.short { line += " -s \(short)" }
                if let allowed = option.allowedValues { line += " -x -a \(quoted(allowed.joined(separator: " ")))" }
                else if option.long == "registry" { line += " -x -a '(__hookapply_names registries)'" }
                else if option.long == "file" { line += " -r -F" }
                else if option.valueName != nil { line += " -x" }
                lines.append(line + " -d \(quoted(option.help))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

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
        case "zsh": context.standardOutput.write(zsh())
        default: context.standardOutput.write(bash())
        }
        return .success
    }

    static var commands: [CommandSpec] { HookApply.commands.map(\.spec) + [HookApply.helpSpec] }

    /// The subcommands under a command (`serve` → `serve replay`), completed after its word.
    static func subcommands(of name: String) -> [CommandSpec] {
        HookApply.subcommands.map(\.spec).filter { $0.name.hasPrefix(name + " ") }
    }

    /// Commands whose positional is a webhook name.
    static let webhookPositional: Set<String> = ["get", "ping", "events"]

    /// Options whose value is a path: every shell completes files for them.
    static func takesPath(_ option: OptionSpec) -> Bool {
        ["file", "out", "local", "secrets-env"].contains(option.long) || option.valueName == "planfile"
    }

    /// `__complete registries|webhooks [-f FILE] [-r NAME]...`: names from the spec, one per line. Prints
    /// nothing on any problem (a completion must never print an error into a command line). Only names
    /// made of letters, digits, '-', '_' and '.' are printed: bash's `compgen -W` expands its word list,
    /// so a name like `$(…)` in a hostile spec would otherwise run as a command.
    static func names(_ arguments: [String], _ context: Context) -> ExitCode {
        guard let kind = arguments.first, ["registries", "webhooks", "targets"].contains(kind) else { return .success }
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
                guard let webhookName = name(webhook) else { continue }
                // targets: registry/webhook, as --target takes them.
                let word = kind == "targets" ? "\(registryName)/\(webhookName)" : webhookName
                if printed.insert(word).inserted { context.standardOutput.line(word) }
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
            "    local cur prev opts=\"\"",
            "    cur=\"${COMP_WORDS[COMP_CWORD]}\"",
            "    prev=\"${COMP_WORDS[COMP_CWORD-1]}\"",
            "    if [ \"$COMP_CWORD\" -eq 1 ]; then",
            "        COMPREPLY=( $(compgen -W \"\(commands.map(\.name).joined(separator: " ")) --help --version --no-color\" -- \"$cur\") )",
            "        return",
            "    fi",
            "    case \"${COMP_WORDS[1]}\" in",
        ]
        /// A command's part of the `case`: its option values, its positionals, then `opts` (no `;;`).
        func body(_ command: CommandSpec, indent: String) -> [String] {
            var lines: [String] = []
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
                } else if option.long == "target" {
                    values.append("            \(names.joined(separator: "|"))) _hookapply_names targets; return ;;")
                } else if takesPath(option) {
                    values.append("            \(names.joined(separator: "|"))) COMPREPLY=( $(compgen -f -- \"$cur\") ); return ;;")
                } else if option.valueName != nil {
                    values.append("            \(names.joined(separator: "|"))) return ;;")
                }
            }
            if !values.isEmpty {
                lines.append(indent + "case \"$prev\" in")
                lines += values.map { indent + String($0.dropFirst(8)) }
                lines.append(indent + "esac")
            }
            if command.name == "help" || command.name == "completion" {
                let next = command.name == "help" ? commands.map(\.name).joined(separator: " ") : shells.joined(separator: " ")
                lines.append(indent + "if [ \"$COMP_CWORD\" -eq 2 ]; then COMPREPLY=( $(compgen -W \"\(next)\" -- \"$cur\") ); return; fi")
            }
            if webhookPositional.contains(command.name) {
                lines.append(indent + "if [[ \"$cur\" != -* ]]; then _hookapply_names webhooks; return; fi")
            }
            if command.positionals.contains(where: { $0.name == "planfile" }) {
                lines.append(indent + "if [[ \"$cur\" != -* ]]; then COMPREPLY=( $(compgen -f -- \"$cur\") ); return; fi")
            }
            lines.append(indent + "opts=\"\(words.joined(separator: " "))\"")
            return lines
        }
        for command in commands {
            lines.append("    \(command.name))")
            let children = subcommands(of: command.name)
            if children.isEmpty {
                lines += body(command, indent: "        ")
            } else {
                // `serve replay …`: the subcommand's own options once its word is there; before, its word.
                lines.append("        case \"${COMP_WORDS[2]}\" in")
                for child in children {
                    let word = child.name.split(separator: " ").last.map(String.init) ?? child.name
                    lines.append("        \(word))")
                    lines.append("            if [ \"$COMP_CWORD\" -gt 2 ]; then")
                    lines += body(child, indent: "                ")
                    lines.append("            fi ;;")
                }
                lines.append("        esac")
                lines.append("        if [ -z \"$opts\" ]; then")
                let words = children.map { $0.name.split(separator: " ").last.map(String.init) ?? $0.name }.joined(separator: " ")
                lines.append("            if [ \"$COMP_CWORD\" -eq 2 ] && [[ \"$cur\" != -* ]]; then COMPREPLY=( $(compgen -W \"\(words)\" -- \"$cur\") ); return; fi")
                lines += body(command, indent: "            ")
                lines.append("        fi")
            }
            lines[lines.count - 1] += " ;;"
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
        /// The condition under which a command's options apply: its word typed, and none of its subcommands'.
        func condition(_ command: CommandSpec) -> String {
            let words = command.name.split(separator: " ").map(String.init)
            var parts = words.map { "__fish_seen_subcommand_from \($0)" }
            let children = subcommands(of: command.name).compactMap { $0.name.split(separator: " ").last.map(String.init) }
            if !children.isEmpty { parts.append("not __fish_seen_subcommand_from \(children.joined(separator: " "))") }
            return "'" + parts.joined(separator: "; and ") + "'"
        }
        for command in commands + HookApply.subcommands.map(\.spec) {
            if webhookPositional.contains(command.name) {
                lines.append("complete -c hookapply -n '__fish_seen_subcommand_from \(command.name)' -a '(__hookapply_names webhooks)'")
            }
            let words = command.name.split(separator: " ").map(String.init)
            if words.count == 1 {
                lines.append("complete -c hookapply -n __fish_use_subcommand -a \(command.name) -d \(quoted(command.abstract))")
            } else if let parent = words.first, let word = words.last {
                lines.append("complete -c hookapply -n '__fish_seen_subcommand_from \(parent); and not __fish_seen_subcommand_from \(word)' -a \(word) -d \(quoted(command.abstract))")
            }
            for option in command.options {
                var line = "complete -c hookapply -n \(condition(command)) -l \(option.long)"
                if let short = option.short { line += " -s \(short)" }
                if let allowed = option.allowedValues { line += " -x -a \(quoted(allowed.joined(separator: " ")))" }
                else if option.long == "registry" { line += " -x -a '(__hookapply_names registries)'" }
                else if option.long == "target" { line += " -x -a '(__hookapply_names targets)'" }
                else if takesPath(option) { line += " -r -F" }
                else if option.valueName != nil { line += " -x" }
                lines.append(line + " -d \(quoted(option.help))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A native zsh script: `_arguments` with descriptions for every command and option, names from the
    /// spec through `__complete`, files for path options. (Wrapping bash's script in bashcompinit made
    /// the first Tab of a new shell only beep.)
    static func zsh() -> String {
        /// Inside an `_arguments` spec: `[...]` descriptions and `:` fields need their specials escaped,
        /// then the whole spec is single-quoted for the shell.
        func described(_ text: String) -> String {
            var escaped = ""
            for character in text {
                if "[]:\\".contains(character) { escaped.append("\\") }
                escaped.append(character)
            }
            return escaped
        }
        func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        var lines = [
            "#compdef hookapply",
            "# hookapply completion for zsh (generated by 'hookapply completion zsh')",
            "",
            "# Names from the spec named by the -f/--file (and -r/--registry) words already typed.",
            "# _arguments inserts its compadd options before our argument: the kind is the last word.",
            "_hookapply_names() {",
            "  local kind=${@[-1]} i",
            "  set -- \"${@[1,-2]}\"",
            "  local -a pass names",
            "  for (( i = 2; i < CURRENT; i++ )); do",
            "    case ${words[i]} in",
            "      -f|--file|-r|--registry) pass+=(\"${words[i]}\" \"${words[i+1]}\") ;;",
            "      --file=*|--registry=*) pass+=(\"${words[i]}\") ;;",
            "    esac",
            "  done",
            "  names=(${(f)\"$(command hookapply \(namesCommand) $kind \"${pass[@]}\" 2>/dev/null)\"})",
            "  compadd \"$@\" -a names",
            "}",
            "",
            "_hookapply() {",
            "  local curcontext=$curcontext state line",
            "  typeset -A opt_args",
            "  local -a commands",
            "  commands=(",
        ]
        for command in commands {
            lines.append("    \(quoted(command.name + ":" + command.abstract))")
        }
        lines += [
            "  )",
            "  _arguments -C \\",
            "    '(- *)'{-h,--help}'[Show help]' \\",
            "    '(- *)'{-v,--version}'[Print the version]' \\",
            "    '--no-color[Never colour output]' \\",
            "    '1: :->command' \\",
            "    '*:: :->args' && return",
            "  case $state in",
            "    command) _describe -t commands 'hookapply command' commands ;;",
            "    args)",
            "      curcontext=${curcontext%:*:*}:hookapply-$words[1]:",
            "      case $words[1] in",
        ]
        /// A command's `_arguments` specs: help, every option with its values, its positionals.
        func specs(_ command: CommandSpec) -> [String] {
            var specs: [String] = ["'(- *)'{-h,--help}'[Show help]'", "'--no-color[Never colour output]'"]
            for option in command.options {
                let help = described(option.help)
                var action = ""
                if option.valueName != nil {
                    let message = described(option.valueName ?? "value")
                    if let allowed = option.allowedValues {
                        action = ":\(message):(\(allowed.joined(separator: " ")))"
                    } else if option.long == "registry" {
                        action = ":\(message):_hookapply_names registries"
                    } else if option.long == "target" {
                        action = ":\(message):_hookapply_names targets"
                    } else if takesPath(option) {
                        action = ":\(message):_files"
                    } else {
                        action = ":\(message): "
                    }
                }
                let repeated = option.isRepeatable ? "*" : ""
                if let short = option.short {
                    let exclusion = option.isRepeatable ? "" : "(-\(short) --\(option.long))"
                    specs.append(quoted(repeated + exclusion) + "{-\(short),--\(option.long)}" + quoted("[\(help)]" + action))
                } else {
                    specs.append(quoted(repeated + "--\(option.long)[\(help)]" + action))
                }
            }
            for (index, positional) in command.positionals.enumerated() {
                let message = described(positional.name)
                let action: String
                if command.name == "help" { action = "(\(commands.map(\.name).joined(separator: " ")))" }
                else if command.name == "completion" { action = "(\(shells.joined(separator: " ")))" }
                else if webhookPositional.contains(command.name) { action = "_hookapply_names webhooks" }
                else if positional.name == "planfile" { action = "_files" }
                else { action = " " }
                specs.append(quoted("\(index + 1)\(positional.isOptional ? "::" : ":")\(message):\(action)"))
            }
            return specs
        }
        func arguments(_ specs: [String], indent: String) -> [String] {
            [indent + "_arguments \\"] + specs.enumerated().map { index, spec in indent + "  " + spec + (index < specs.count - 1 ? " \\" : "") }
        }
        for command in commands {
            lines.append("        \(command.name))")
            let children = subcommands(of: command.name)
            if children.isEmpty {
                lines += arguments(specs(command), indent: "          ")
            } else {
                // `serve replay …`: past the subcommand's word, its own options; before it, the word too.
                var first = true
                for child in children {
                    let word = child.name.split(separator: " ").last.map(String.init) ?? child.name
                    lines.append("          \(first ? "if" : "elif") [[ $words[2] == \(word) ]] && (( CURRENT > 2 )); then")
                    lines.append("            shift words; (( CURRENT-- ))")
                    lines += arguments(specs(child), indent: "            ")
                    first = false
                }
                lines.append("          else")
                let choices = children.map { child -> String in
                    let word = child.name.split(separator: " ").last.map(String.init) ?? child.name
                    var text = ""
                    for character in described(child.abstract) {
                        if " ()".contains(character) { text.append("\\") }
                        text.append(character)
                    }
                    return "\(word)\\:\(text)"
                }.joined(separator: " ")
                lines += arguments(specs(command) + [quoted("1:subcommand:((\(choices)))")], indent: "            ")
                lines.append("          fi")
            }
            lines.append("          ;;")
        }
        lines += [
            "      esac",
            "      ;;",
            "  esac",
            "}",
            "",
            "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then",
            "  _hookapply \"$@\"",
            "else",
            "  compdef _hookapply hookapply",
            "fi",
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}

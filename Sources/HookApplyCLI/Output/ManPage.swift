import HookKit

/// `docs/hookapply.1`, made from the same command tables as `--help`, so the two never disagree (a test
/// regenerates it and compares; `HOOKAPPLY_RECORD=1` rewrites it). `man -l docs/hookapply.1` renders it.
enum ManPage {
    static func render() -> String {
        var out: [String] = []
        out.append(#".TH HOOKAPPLY 1 "" "hookapply \#(Product.version)" "User Commands""#)
        out.append(".SH NAME")
        out.append(#"hookapply \- keep container-registry webhooks exactly as declared in a JSON spec"#)
        out.append(".SH SYNOPSIS")
        out.append(".B hookapply")
        out.append(#"\fIcommand\fR [\fIoptions\fR]"#)
        out.append(".SH DESCRIPTION")
        out.append(text("hookapply validates a JSON spec of registry webhooks, plans the creates, updates and deletes that make each registry match it, and applies them. Secrets are never shown."))
        out.append(".SH GLOBAL OPTIONS")
        out += option(#"\-\-no\-color"#, "Never colour output, as NO_COLOR=1 does; accepted by every command.")
        out += option(#"\-v, \-\-version"#, "Print the version.")
        out.append(".SH COMMANDS")
        for command in HookApply.commands.map(\.spec) + HookApply.subcommands.map(\.spec) + [HookApply.helpSpec] {
            out.append(#".SS "\#(escape(command.usage))""#)
            out.append(text(command.abstract))
            if !command.discussion.isEmpty {
                out.append(".PP")
                out.append(text(command.discussion.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")))
            }
            for positional in command.positionals {
                out += option(#"\fI\#(escape(positional.name))\fR"#, positional.help)
            }
            for spec in command.options {
                var left = (spec.short.map { #"\-\#($0), "# } ?? "") + #"\-\-"# + escape(spec.long)
                if let value = spec.valueName { left += #" \fI\#(escape(value))\fR"# }
                var help = spec.help
                if let allowed = spec.allowedValues { help += " (values: \(allowed.joined(separator: ", ")))" }
                out += option(left, help)
            }
            let examples = CommandExamples.byCommand[command.name] ?? []
            if !examples.isEmpty {
                out.append(".PP")
                out.append("Examples:")
                for example in examples {
                    out.append(".RS")
                    out.append(".nf")
                    out.append(escapeLine(example.command))
                    out.append(".fi")
                    out.append(text(example.what))
                    out.append(".RE")
                }
            }
        }
        out.append(".SH EXIT STATUS")
        for (code, meaning) in [("0", "success"), ("1", "an invalid spec, an unreadable file, a conflict, a stale plan or a failed operation"),
                                ("2", "plan \\-\\-detailed\\-exitcode: there are changes"), ("64", "a usage error"),
                                ("130, 143", "stopped by SIGINT or SIGTERM")] {
            out += [".TP", ".B \(code)", text(meaning)]
        }
        out.append(".SH ENVIRONMENT")
        for (name, meaning) in [("NO_COLOR", "never colour output"),
                                ("AZURE_ACCESS_TOKEN, AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_FEDERATED_TOKEN_FILE", "Azure sign-in"),
                                ("HOOKAPPLY_ARM_ENDPOINT", "the Azure Resource Manager endpoint"),
                                ("HOOKAPPLY_ARM_POLL_INTERVAL, HOOKAPPLY_ARM_RETRY_BASE, HOOKAPPLY_ARM_TIMEOUT", "ARM timing, in seconds")] {
            out += [".TP", ".B \(escape(name))", text(meaning)]
        }
        out.append(".SH SEE ALSO")
        out.append(text("The README, docs/commands.md and docs/spec.md in the hookapply repository."))
        return out.joined(separator: "\n") + "\n"
    }

    private static func option(_ left: String, _ help: String) -> [String] {
        [".TP", ".B " + left, text(help)]
    }

    /// Backslashes and hyphens as roff wants them, and anything beyond ASCII as a groff Unicode escape
    /// (`…` is `\[u2026]`): roff reads its input as Latin-1 and warns on UTF-8 bytes.
    static func escape(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\e"
            case "-": result += "\\-"
            case _ where scalar.value > 127:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                result += "\\[u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "]"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// A line of running text: escaped, and never starting with a control character ('.' or "'").
    static func text(_ text: String) -> String {
        escapeLine(text)
    }

    static func escapeLine(_ text: String) -> String {
        let escaped = escape(text)
        return escaped.hasPrefix(".") || escaped.hasPrefix("'") ? "\\&" + escaped : escaped
    }
}

import Foundation
import HookSpec
import Reconciler

/// A plan saved with `plan --out`: the masked plan plus where its spec is. Holds no secret in clear.
struct SavedPlan: Codable {
    static let currentFormatVersion = 1
    var format_version: Int
    var hookapply_version: String
    /// The spec's absolute path when the plan was made (`apply PLANFILE` re-reads it).
    var spec_file: String?
    var plan: Plan
}

enum PlanCommand {
    static let spec = CommandSpec(
        name: "plan",
        abstract: "Show the changes that would make the registries match the spec.",
        discussion: """
            Reads each registry's live webhooks and compares them with the spec. Secrets are never shown:
            header values print as (sensitive value) and service URIs without userinfo and query.
            Exit codes: 0 success, 1 error; with --detailed-exitcode, 2 when there are changes.
            """,
        options: [
            OptionSpec(long: "file", short: "f", valueName: "file", help: "The spec to read; '-' reads standard input. Default: webhooks.json."),
            OptionSpec(long: "arm-endpoint", valueName: "url", help: "Azure Resource Manager endpoint (overrides the spec and HOOKAPPLY_ARM_ENDPOINT)."),
            OptionSpec(long: "registry", valueName: "name", help: "Plan only this registry (repeatable).", isRepeatable: true),
            OptionSpec(long: "out", valueName: "planfile", help: "Save the plan (masked) for 'hookapply apply PLANFILE'."),
            OptionSpec(long: "format", valueName: "format", help: "Output format.", allowedValues: ["text", "json", "markdown"]),
            OptionSpec(long: "detailed-exitcode", help: "Exit 2 when there are changes (drift detection)."),
            OptionSpec(long: "adopt-conflicts", help: "Take over declared webhooks that another owner's spec manages."),
            OptionSpec(long: "verbose", help: "Report ARM calls and retries per Azure registry on stderr."),
            OptionSpec(long: "parallelism", valueName: "n", help: "How many registry calls run at once across all registries (default 10)."),
        ])

    static func run(_ arguments: ParsedArguments, _ context: Context) async -> ExitCode {
        do {
            let reconciliation = try Reconciliation.prepare(arguments, context)
            let (plan, _) = try await reconciliation.plan(context, options: PlanOptions(adoptConflicts: arguments.has("adopt-conflicts")))
            if let out = arguments.value("out") {
                let saved = SavedPlan(format_version: SavedPlan.currentFormatVersion, hookapply_version: VersionCommand.version,
                                      spec_file: reconciliation.loaded.path, plan: plan)
                do {
                    try Data(JSONOutput.encode(saved).utf8).write(to: URL(fileURLWithPath: context.absolutePath(out)), options: .atomic)
                } catch {
                    context.standardError.line("error: cannot write the plan to '\(out)': \(error.localizedDescription)")
                    return .failure
                }
            }
            render(plan, format: arguments.value("format") ?? "text", context)
            reconciliation.reportStatistics(arguments, context)
            if let out = arguments.value("out"), arguments.value("format") ?? "text" == "text" {
                context.standardOutput.line("")
                context.standardOutput.line("Saved the plan to \(out). To make exactly these changes, run: hookapply apply \(out)")
            }
            return arguments.has("detailed-exitcode") && !plan.isEmpty ? .changes : .success
        } catch {
            return (error as? Reconciliation.Failure)?.code ?? .failure
        }
    }

    static func render(_ plan: Plan, format: String, _ context: Context) {
        switch format {
        case "json": context.standardOutput.write(PlanRenderer.json(plan))
        case "markdown": context.standardOutput.write(PlanRenderer.markdown(plan))
        default:
            let style = Style(isEnabled: context.usesColor(terminal: context.isStandardOutputTerminal))
            context.standardOutput.write(PlanRenderer.text(plan, style: style))
        }
    }
}

enum ShowCommand {
    static let spec = CommandSpec(
        name: "show",
        abstract: "Render a plan saved with 'plan --out'.",
        positionals: [PositionalSpec(name: "planfile", help: "The saved plan.", isOptional: false)],
        options: [OptionSpec(long: "format", valueName: "format", help: "Output format.", allowedValues: ["text", "json", "markdown"])])

    static func run(_ arguments: ParsedArguments, _ context: Context) -> ExitCode {
        guard let path = arguments.positionals.first else { return .usage }
        switch SavedPlanFile.read(path, context) {
        case .success(let saved):
            PlanCommand.render(saved.plan, format: arguments.value("format") ?? "text", context)
            return .success
        case .failure(let error):
            context.standardError.line("error: \(error.message)")
            return .failure
        }
    }
}

enum SavedPlanFile {
    struct ReadError: Error {
        var message: String
    }

    static func read(_ path: String, _ context: Context) -> Result<SavedPlan, ReadError> {
        let bytes: [UInt8]
        do {
            bytes = try FileReader.read(context.absolutePath(path), displayPath: path)
        } catch {
            return .failure(ReadError(message: "\(error)"))
        }
        struct Header: Decodable { var format_version: Int? }
        guard let header = try? JSONDecoder().decode(Header.self, from: Data(bytes)), let version = header.format_version else {
            return .failure(ReadError(message: "'\(path)' is not a hookapply plan file; make one with 'hookapply plan --out \(path)'"))
        }
        if version > SavedPlan.currentFormatVersion {
            return .failure(ReadError(message: "'\(path)' was saved by a newer hookapply (plan format \(version)); use that version, or plan again"))
        }
        do {
            return .success(try JSONDecoder().decode(SavedPlan.self, from: Data(bytes)))
        } catch {
            return .failure(ReadError(message: "'\(path)' is not a valid plan file (\(error.localizedDescription)); plan again"))
        }
    }
}

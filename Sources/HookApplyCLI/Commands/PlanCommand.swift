import Foundation
import HookKit
import HookSpec
import Reconciler

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
            .specFileOrStandardInput,
            .armEndpoint,
            OptionSpec(long: "registry", short: "r", valueName: "name", help: "Plan only this registry (repeatable).", isRepeatable: true),
            .target,
            OptionSpec(long: "out", valueName: "planfile", help: "Save the plan (masked) for 'hookapply apply PLANFILE'; '-' prints the plan document instead. Never the spec or a registry's file."),
            OptionSpec(long: "format", short: "o", valueName: "format", help: "Output format.", allowedValues: OutputFormat.plan.names),
            OptionSpec(long: "detailed-exitcode", help: "Exit 2 when there are changes (drift detection)."),
            OptionSpec(long: "strict", help: "With --detailed-exitcode, webhooks the spec does not manage (made by hand, or another owner's) count as drift too."),
            OptionSpec(long: "adopt-conflicts", help: "Take over declared webhooks that another owner's spec manages."),
            .verbose,
            .refresh,
            OptionSpec(long: "parallelism", valueName: "n", help: "How many registry calls run at once across all registries (default 10).", number: .integer(1...256)),
        ])

    static func run(_ arguments: ParsedArguments, _ context: Context) async -> ExitCode {
        // Ctrl-C while observing ends the command at once: a plan changes nothing.
        let interruption = Interruption(context, command: "plan")
        defer { interruption.end() }
        do {
            let reconciliation = try Reconciliation.prepare(arguments, context, observationCache: true)
            // The output is checked before the registries are read: a plan file must never replace the
            // spec or a registry's state, and a refusal should come at once.
            var destination: OutputPath?
            if let out = arguments.value("out") {
                switch OutputPath.check(out, option: "--out", secrets: false, protected: reconciliation.protectedFiles(context), context) {
                case .success(let path): destination = path
                case .failure(let error):
                    context.standardError.line("error: \(error.message)")
                    return .usage
                }
            }
            // The evidence a saved plan is checked against goes into plan files and the JSON document only.
            let evidence = destination != nil || OutputFormat.from(arguments) == .json
            let (plan, _) = try await reconciliation.plan(context, options: PlanOptions(adoptConflicts: arguments.has("adopt-conflicts"), recordsEvidence: evidence))
            switch destination {
            case .file(let planPath)?:
                let saved = SavedPlan(
                    spec_file: reconciliation.loaded.path.map { SavedPlan.relativePath(of: $0, fromFolderOf: planPath) }, plan: plan)
                // Streamed to the file a chunk at a time: the document never exists whole in memory.
                let writer = PlanDocumentWriter(hiding: reconciliation.spec.environmentValues)
                do {
                    try AtomicFile.write(to: planPath, permissions: 0o644) { sink in
                        try writer.write(saved) { try sink.write($0) }
                    }
                } catch is PlanDocumentWriter.Failure {
                    context.standardError.line("error: the plan was not saved: a value of an ${env:…} variable could not be hidden in it without breaking the file")
                    return .failure
                } catch {
                    context.standardError.line("error: the plan was not saved: \(error)")
                    return .failure
                }
                render(plan, format: OutputFormat.from(arguments), context)
            case .standardOutput?:
                // `--out -`: the plan document is the output (a pipe to a file or an artifact store);
                // the spec is recorded relative to the current folder.
                let saved = SavedPlan(
                    spec_file: reconciliation.loaded.path.map { SavedPlan.relativePath(of: $0, fromFolderOf: context.absolutePath("plan.json")) }, plan: plan)
                context.standardOutput.write((try? PlanDocumentWriter(hiding: []).document(saved)) ?? JSONOutput.encode(saved))
            case nil:
                render(plan, format: OutputFormat.from(arguments), context)
            }
            reconciliation.reportStatistics(arguments, context)
            if case .file? = destination, let out = arguments.value("out"), OutputFormat.from(arguments) == .text {
                context.standardOutput.line("")
                // Standard input leaves no path to record: the spec must come the same way again.
                let stdin = reconciliation.loaded.path == nil ? " -f - < (the same spec)" : ""
                context.standardOutput.line("Saved the plan to \(out). To make exactly these changes, run: hookapply apply \(CommandHint.quoted(out))\(stdin)")
            }
            let unmanaged = plan.registries.reduce(0) { $0 + $1.unmanaged.count }
            if arguments.has("strict") && unmanaged > 0 {
                context.standardError.line("strict: \(unmanaged) webhook\(unmanaged == 1 ? "" : "s") not managed by this spec \(unmanaged == 1 ? "counts" : "count") as drift")
            }
            let drift = !plan.isEmpty || (arguments.has("strict") && unmanaged > 0)
            return arguments.has("detailed-exitcode") && drift ? .changes : .success
        } catch {
            return (error as? Reconciliation.Failure)?.code ?? .failure
        }
    }

    static func render(_ plan: Plan, format: OutputFormat, _ context: Context) {
        switch format {
        case .json: context.standardOutput.write(PlanRenderer.json(plan))
        case .markdown: context.standardOutput.write(PlanRenderer.markdown(plan))
        case .text:
            let style = Style(isEnabled: context.usesColor(terminal: context.isStandardOutputTerminal))
            context.standardOutput.write(PlanRenderer.text(plan, style: style))
        }
    }
}

import Foundation
import HookKit
import HookSpec
import Reconciler

enum ApplyCommand {
    static let spec = CommandSpec(
        name: "apply",
        abstract: "Make the registries match the spec, or apply a saved plan.",
        discussion: """
            From a spec: plans, shows the plan and asks for 'yes' (or --auto-approve). Without a terminal and
            without --auto-approve it fails at once rather than wait.
            From a saved plan: no prompt (passing the file is the approval); refuses if the spec, a registry or
            a secret changed since the plan was made.
            Per registry, deletes run first, then updates, then creates; independent changes run concurrently.
            """,
        positionals: [PositionalSpec(name: "planfile", help: "A plan saved with 'hookapply plan --out'.")],
        options: [
            .specFileOrStandardInput,
            .armEndpoint,
            OptionSpec(long: "auto-approve", help: "Apply without asking."),
            OptionSpec(long: "parallelism", valueName: "n", help: "How many changes run at once across all registries (default 10).", number: .integer(1...256)),
            .refresh,
            OptionSpec(long: "registry", short: "r", valueName: "name", help: "Apply only this registry (repeatable).", isRepeatable: true),
            .target,
            OptionSpec(long: "lock-timeout", valueName: "duration", help: "How long to wait for another apply's lock, like 30s or 2m; a bare number is seconds (default 0: fail at once).", number: .seconds(0...86_400)),
            OptionSpec(long: "adopt-conflicts", help: "Take over declared webhooks that another owner's spec manages."),
            .verbose,
            OptionSpec(long: "verify", help: "After a successful apply, ping each webhook it created or updated (as 'hookapply verify'); exit 3 when the apply succeeded but a receiver failed."),
            OptionSpec(long: "wait", valueName: "duration", help: "With --verify: how long to wait for each delivery record (default 30s).", number: .seconds(0.1...3_600)),
            OptionSpec(long: "strict", help: "With --verify: count refused (a 4xx other than 401, 403 and 404) as a failure too."),
            OptionSpec(long: "format", short: "o", valueName: "format",
                       help: "text; json: one report document at the end; jsonl: one JSON line per change as it completes, then the summary. json and jsonl need --auto-approve or a saved plan.",
                       allowedValues: ["text", "json", "jsonl"]),
        ])

    static func run(_ arguments: ParsedArguments, _ context: Context) async -> ExitCode {
        let parallelism = arguments.integer("parallelism") ?? 10
        let lockTimeout = arguments.seconds("lock-timeout") ?? 0
        let interruption = Interruption(context, command: "apply")
        defer { interruption.end() }
        let planFile = arguments.positionals.first
        let format = arguments.value("format") ?? "text"
        if format != "text" && planFile == nil && !arguments.has("auto-approve") {
            return HookApply.usageError("--format \(format) prints no plan to approve: pass --auto-approve, or apply a saved plan", usage: spec.usage, context, helpFor: "apply")
        }
        var saved: SavedPlan? = nil
        if let planFile {
            if arguments.has("adopt-conflicts") || !arguments.allValues("registry").isEmpty || !arguments.allValues("target").isEmpty {
                return HookApply.usageError("a saved plan is applied as it was made; --registry, --target and --adopt-conflicts belong to 'plan'",
                                            usage: spec.usage, context, helpFor: "apply")
            }
            switch SavedPlanFile.read(planFile, context) {
            case .success(let value): saved = value
            case .failure(let error):
                context.standardError.line("error: \(error.message)")
                return .failure
            }
        } else if !arguments.has("auto-approve") && !context.isStandardInputTerminal {
            context.standardError.line(
                "error: apply needs approval, and there is no terminal to ask on; pass --auto-approve, or save a plan with 'hookapply plan --out FILE' and run 'hookapply apply FILE'")
            return .failure
        }
        do {
            var specFile = arguments.value("file")
            if specFile == nil, let saved, let planFile {
                guard let path = saved.specPath(planFile: context.absolutePath(planFile)) else {
                    // No spec_file: the spec came from standard input, or the document was printed by
                    // `plan --format json`, whose destination (and so a path relative to it) is unknown.
                    context.standardError.line("error: the plan '\(planFile)' does not say where its spec is (it was printed by 'plan --format json', or the spec came from standard input); name the spec: hookapply apply -f SPEC \(CommandHint.quoted(planFile)), or hookapply apply -f - \(CommandHint.quoted(planFile)) < SPEC")
                    return .usage
                }
                specFile = path
            }
            var effective = arguments
            if let saved {
                effective.values["registry"] = saved.plan.registries.map(\.name)
                // A targeted plan is re-planned with its targets: its staleness check looks only at what it touches.
                if let targets = saved.plan.targets { effective.values["target"] = targets }
            }
            let reconciliation = try Reconciliation.prepare(effective, context, file: specFile, observationCache: true)
            if let saved, reconciliation.specDigest != saved.plan.specDigest {
                context.standardError.line("error: saved plan is stale: the spec \(reconciliation.loaded.displayName) changed since the plan was made; run plan again. Nothing was changed")
                return .failure
            }
            // Hold every local registry's lock from observing to the last change, so no other apply interleaves.
            var locks: [any ApplyLock] = []
            defer { locks.forEach { $0.release() } }
            for registry in reconciliation.registries {
                if let lockable = reconciliation.providers[registry.name] as? any ApplyLocking {
                    do {
                        locks.append(try await lockable.lockForApply(timeout: lockTimeout))
                    } catch {
                        context.standardError.line("error: registry '\(registry.name)': \(ProviderError.from(error).message)")
                        return .failure
                    }
                }
            }
            // A saved plan is checked against the fresh plan's evidence; a plan applied at once needs none.
            let options = PlanOptions(adoptConflicts: arguments.has("adopt-conflicts"), recordsEvidence: saved != nil)
            let (plan, _) = try await reconciliation.plan(context, options: options)
            if let saved {
                // Compared as a file would hold the fresh plan, with the spec's ${env:…} values hidden alike.
                guard let written = SavedPlan.asWritten(plan, hiding: reconciliation.spec.environmentValues) else {
                    context.standardError.line("error: the fresh plan could not be compared with the saved one; run plan again. Nothing was changed")
                    return .failure
                }
                if let problem = staleness(saved: saved.plan, fresh: written) {
                    context.standardError.line("error: saved plan is stale: \(problem); run plan again. Nothing was changed")
                    return .failure
                }
            } else if format == "text" {
                let style = Style(isEnabled: context.usesColor(terminal: context.isStandardOutputTerminal))
                context.standardOutput.write(PlanRenderer.text(plan, style: style))
                if plan.isEmpty { return .success }
                if !arguments.has("auto-approve") {
                    context.standardOutput.write("\nDo you want to make these changes? Only 'yes' will be accepted: ")
                    guard context.readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else {
                        context.standardError.line("Apply cancelled. Nothing was changed.")
                        return .failure
                    }
                }
                context.standardOutput.line("")
            }
            if plan.isEmpty {
                if format == "text" { context.standardOutput.line("No changes. The registries match the spec.") }
                else { context.standardOutput.write(ApplyJSON.summaryDocument(ApplyReport(results: []), interrupted: false, lines: format == "jsonl")) }
                return .success
            }
            interruption.beginApplying()
            let verification = arguments.has("verify") ? Verification(wait: arguments.seconds("wait") ?? 30, strict: arguments.has("strict")) : nil
            let code = await execute(plan, reconciliation: reconciliation, parallelism: parallelism, interruption: interruption, format: format,
                                     verification: verification, context)
            reconciliation.reportStatistics(arguments, context)
            return code
        } catch {
            return (error as? Reconciliation.Failure)?.code ?? .failure
        }
    }

    /// Why a saved plan no longer applies, or nil when the fresh plan is the same plan.
    static func staleness(saved: Plan, fresh: Plan) -> String? {
        if saved.owner != fresh.owner { return "the plan was made for owner '\(saved.owner)', the spec now says '\(fresh.owner)'" }
        // Exactly the plan's registries: none more (an edited plan must not widen), none fewer.
        if Set(fresh.registries.map(\.name)) != Set(saved.registries.map(\.name)) {
            return "the plan covers \(saved.registries.map { "'\($0.name)'" }.joined(separator: ", ")), but applying it would touch \(fresh.registries.map { "'\($0.name)'" }.joined(separator: ", "))"
        }
        for registry in saved.registries {
            guard let now = fresh.registries.first(where: { $0.name == registry.name }) else {
                return "registry '\(registry.name)' is no longer in the spec"
            }
            if let difference = registry.staleness(against: now) {
                return difference
            }
            // What `show` displays must be what applying does: the target and the unmanaged list too, not
            // only the changes (an edited target once showed one registry while apply wrote another).
            if now.target != registry.target {
                return "the plan names the target of '\(registry.name)' as '\(registry.target)', but applying would write '\(now.target)' (was the plan file edited?)"
            }
            if now.unmanaged != registry.unmanaged {
                return "the plan's list of webhooks '\(registry.name)' does not manage is not what the registry holds now (was the plan file edited?)"
            }
            let fresh = now.changes.map(\.withoutDesiredState)
            let planned = registry.changes.map(\.withoutDesiredState)
            if fresh != planned {
                return "the plan's changes for '\(registry.name)' are not what applying would do now (was the plan file edited, or did a secret change?)"
            }
        }
        return nil
    }

    /// `apply --verify`: what to check once the changes are made.
    struct Verification {
        var wait: Double
        var strict: Bool
    }

    static func execute(
        _ plan: Plan, reconciliation: Reconciliation, parallelism: Int, interruption: Interruption, format: String = "text",
        verification: Verification? = nil, _ context: Context
    ) async -> ExitCode {
        let style = Style(isEnabled: context.usesColor(terminal: context.isStandardOutputTerminal))
        let total = plan.changes.count
        let counter = Locked(0)
        let output = context.standardOutput
        let isTerminal = context.isStandardOutputTerminal
        let applier = Applier(parallelism: parallelism)
        // Terraform-style progress for changes that take a while (ARM's long-running operations): every
        // interval, each change still in flight is named with how long it has run.
        let inFlight = Locked<[String: (verb: String, since: UInt64)]>([:])
        let interval = context.environment["HOOKAPPLY_PROGRESS_SECONDS"].flatMap(Seconds.parsePlain) ?? 10
        let progress = isTerminal ? output : context.standardError
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: Seconds.nanoseconds(interval))
                if Task.isCancelled { break }
                let now = DispatchTime.now().uptimeNanoseconds
                for (name, change) in inFlight.value.sorted(by: { $0.key < $1.key }) {
                    let elapsed = Int(Double(now - change.since) / 1e9)
                    if Double(elapsed) >= interval { progress.line("\(name): Still \(change.verb)... [\(elapsed)s elapsed]") }
                }
            }
        }
        defer { ticker.cancel() }
        let verbs: [ChangeAction: String] = [.create: "creating", .update: "modifying", .delete: "destroying", .replace: "replacing"]
        let report = await applier.apply(plan, providers: reconciliation.providers, shouldStop: { interruption.isInterrupted }, onStart: { change in
            inFlight.withLock { $0["\(change.registry)/\(change.webhook)"] = (verbs[change.action] ?? "changing", DispatchTime.now().uptimeNanoseconds) }
        }) { result in
            inFlight.withLock { _ = $0.removeValue(forKey: "\(result.change.registry)/\(result.change.webhook)") }
            let done = counter.withLock { count -> Int in
                count += 1
                return count
            }
            switch format {
            case "jsonl": output.write(ApplyJSON.line(result))
            case "json": break
            default:
                let line = ApplyRenderer.resultLine(result, style: style)
                output.write((isTerminal ? "[\(done)/\(total)] \(line)" : line) + "\n")  // styled: values escaped by the renderer
            }
        }
        // --verify: only after every change succeeded, and only the webhooks it created, updated or replaced.
        var verified: VerifyCommand.Report? = nil
        if let verification, report.isSuccess, interruption.signal == nil {
            let touched = Set(report.results.filter { $0.change.action != .delete }.map { "\($0.change.registry)/\($0.change.webhook.lowercased())" })
            let rows = touched.isEmpty ? [] : await VerifyCommand.verify(reconciliation, only: touched, wait: verification.wait)
            verified = VerifyCommand.report(rows, strict: verification.strict)
        }
        if format == "text" {
            context.standardOutput.line("")
            context.standardOutput.write(ApplyRenderer.summary(report, style: style))
            if let verified {
                context.standardOutput.line("")
                VerifyCommand.render(verified, context)
            }
        } else {
            context.standardOutput.write(ApplyJSON.summaryDocument(report, interrupted: interruption.isInterrupted, lines: format == "jsonl", verify: verified))
        }
        if let signal = interruption.signal { return .stopped(by: signal) }
        guard report.isSuccess else { return .failure }
        if let verified, !verified.passed {
            context.standardError.line("error: the apply succeeded, but verification failed: \(verified.results.filter { $0.result.fails(strict: verification?.strict ?? false) }.map { "\($0.registry)/\($0.webhook) (\($0.result.rawValue))" }.joined(separator: ", "))")
            return .verifyFailed
        }
        return .success
    }
}

/// Apply's results for programs: one JSON line per change (`jsonl`), or one report document (`json`).
/// Messages are the same scrubbed text the terminal shows; names and codes are plain strings.
enum ApplyJSON {
    struct Result: Encodable {
        var registry: String
        var webhook: String
        var action: String
        /// `succeeded`, `failed` or `skipped`.
        var outcome: String
        var code: String?
        var message: String?
        var attempts: Int
    }

    struct Summary: Encodable {
        var created: Int
        var updated: Int
        var deleted: Int
        var failed: Int
        var notStarted: Int
        var interrupted: Bool

        enum CodingKeys: String, CodingKey {
            case created, updated, deleted, failed, interrupted
            case notStarted = "not_started"
        }
    }

    struct Report: Encodable {
        var format_version = "1.0"
        var results: [Result]
        var summary: Summary
        /// `--verify`: the verification of what the apply created or updated.
        var verify: VerifyCommand.Report?
    }

    static func result(_ change: ChangeResult) -> Result {
        var result = Result(registry: change.change.registry, webhook: change.change.webhook, action: change.change.action.rawValue,
                            outcome: "succeeded", attempts: change.attempts)
        switch change.outcome {
        case .succeeded: break
        case .failed(let code, let message):
            result.outcome = "failed"
            result.code = code
            result.message = message
        case .skipped(let reason):
            result.outcome = "skipped"
            result.message = reason
        }
        return result
    }

    static func line(_ change: ChangeResult) -> String { compact(result(change)) + "\n" }

    static func summary(_ report: ApplyReport, interrupted: Bool) -> Summary {
        let done = report.done
        let skipped = report.results.filter { if case .skipped = $0.outcome { true } else { false } }.count
        return Summary(created: done.create, updated: done.update, deleted: done.delete, failed: report.failures.count - skipped,
                       notStarted: skipped, interrupted: interrupted)
    }

    /// `jsonl`: the summary as the last line; `json`: the whole report, pretty.
    static func summaryDocument(_ report: ApplyReport, interrupted: Bool, lines: Bool, verify: VerifyCommand.Report? = nil) -> String {
        if lines {
            struct Line: Encodable {
                var summary: Summary
                var verify: VerifyCommand.Report?
            }
            return compact(Line(summary: summary(report, interrupted: interrupted), verify: verify)) + "\n"
        }
        return JSONOutput.encode(Report(results: report.results.map(result), summary: summary(report, interrupted: interrupted), verify: verify))
    }

    private static func compact(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

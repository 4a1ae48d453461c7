import AzureRegistry
import Foundation
import HookKit
import HookSpec
import Reconciler

/// What plan, apply, ping, events and export share: read and resolve the spec, pick registries,
/// build their providers, observe them.
struct Reconciliation {
    var loaded: LoadedSpec
    var spec: ResolvedSpec
    /// The registries selected with --registry (all when none was given), in spec order.
    var registries: [ResolvedRegistry]
    var providers: [String: any WebhookProvider]
    /// `--target`: the webhooks a plan is narrowed to (registries under the spec's spelling); nil for all.
    var targets: [PlanTarget]? = nil
    /// SHA-256 of the spec file's bytes: plans record it and saved plans are checked against it. Computed
    /// when asked (a plan computes it while the registries are observed, off the critical path).
    var specDigest: String { SHA256.hexDigest(loaded.bytes) }

    /// A failure already explained on stderr; the command exits with `code`.
    struct Failure: Error {
        var code: ExitCode
    }

    /// - Parameter showsSecrets: the command was asked to print secrets (`export --include-secrets`), so
    ///   the spec's `${env:…}` values are not hidden from its output.
    /// - Parameter needsSecrets: the command sends the spec's webhooks (plan, apply): their variables must
    ///   be set. Read-only commands need none, and every command only the selected registries'.
    static func prepare(
        _ arguments: ParsedArguments, _ context: Context, file: String? = nil, requireSelection: Bool = false, showsSecrets: Bool = false,
        readOnly: Bool = false, observationCache: Bool = false, needsSecrets: Bool = true
    ) throws(Failure) -> Reconciliation {
        let loaded: LoadedSpec
        switch SpecInput.load(file ?? arguments.value("file"), context) {
        case .success(let value): loaded = value
        case .failure(let error):
            context.standardError.line("error: \(error.message)")
            throw Failure(code: .failure)
        }
        let style = Style(isEnabled: context.usesColor(terminal: context.isStandardErrorTerminal))
        let requested = try targets(arguments, loaded.document.spec, context)
        var selection = arguments.allValues("registry")
        if let requested, selection.isEmpty { selection = Array(Set(requested.map(\.registry))).sorted() }
        let scope = ResolutionScope(registries: selection.isEmpty ? nil : Set(selection), secrets: needsSecrets,
                                    webhooks: requested.map { Set($0.map(\.description)) })
        let resolved = loaded.document.resolve(environment: context.environment, scope: scope)
        guard let spec = resolved.spec else {
            context.standardError.write(DiagnosticRenderer.text(resolved.diagnostics, file: loaded.displayName, style: style))
            context.standardError.report(resolved.diagnostics, file: loaded.displayName)
            // A read-only command changes nothing anyway: saying so would only puzzle.
            context.standardError.line("\(loaded.displayName): \(DiagnosticRenderer.countLine(resolved.diagnostics))" + (readOnly ? "" : "; nothing was changed"))
            throw Failure(code: .failure)
        }
        if !showsSecrets {
            context.standardOutput.hide(spec.environmentValues)
            context.standardError.hide(spec.environmentValues)
        }
        if !resolved.diagnostics.isEmpty {
            context.standardError.write(DiagnosticRenderer.text(resolved.diagnostics, file: loaded.displayName, style: style))
        }
        let names = selection
        var selected: [ResolvedRegistry] = []
        for name in names {
            // Case-insensitively, as the spec compares registry names: `-r DEV` is `dev`.
            guard let registry = spec.registries.first(where: { $0.name.lowercased() == name.lowercased() }) else {
                var message = "error: the spec has no registry '\(name)'; it has \(spec.registries.map { "'\($0.name)'" }.joined(separator: ", "))"
                if let match = Suggestion.closest(to: name, among: spec.registries.map(\.name)) { message += "; did you mean '\(match)'?" }
                context.standardError.line(message)
                throw Failure(code: .usage)
            }
            if !selected.contains(where: { $0.name == registry.name }) { selected.append(registry) }
        }
        if names.isEmpty {
            if requireSelection && spec.registries.count > 1 {
                context.standardError.line("error: the spec has \(spec.registries.count) registries (\(spec.registries.map { "'\($0.name)'" }.joined(separator: ", "))); choose one with --registry NAME")
                throw Failure(code: .usage)
            }
            selected = spec.registries
        }
        if let shared = ProviderFactory.sharedStateFile(spec.registries, specDirectory: loaded.directory(context)) {
            context.standardError.line("error: registries '\(shared.first)' and '\(shared.second)' use the same local state file; each apply would delete the other's webhooks. Give each its own 'path'. Nothing was changed")
            throw Failure(code: .failure)
        }
        var providers: [String: any WebhookProvider] = [:]
        let azure = try azureSettings(arguments, context, observationCache: observationCache)
        for registry in selected {
            switch ProviderFactory.make(registry, specDirectory: loaded.directory(context), workingDirectory: (context.currentDirectory as NSString).standardizingPath,
                                        azure: azure, hiddenValues: spec.environmentValues) {
            case .success(let provider): providers[registry.name] = provider
            case .failure(let error):
                context.standardError.line("error: registry '\(registry.name)': \(error.message)")
                throw Failure(code: .failure)
            }
        }
        if requested != nil && !readOnly {
            // Once per command, as terraform says it: a targeted plan is a partial view.
            context.standardError.line("warning: --target is for exceptional use (a repair, one webhook at a time): only the targeted webhooks are planned, and the others are left as they are, drift included. Run a plan without --target to see everything")
        }
        return Reconciliation(loaded: loaded, spec: spec, registries: selected, providers: providers, targets: requested)
    }

    /// `--target REGISTRY/WEBHOOK` values, checked against the spec's registries (and `--registry`); nil
    /// when none was given. A webhook need not be declared: targeting one only present in the registry
    /// plans its deletion, as terraform's -target does for a removed resource.
    static func targets(_ arguments: ParsedArguments, _ spec: Spec?, _ context: Context) throws(Failure) -> [PlanTarget]? {
        let given = arguments.allValues("target")
        guard !given.isEmpty, let spec else { return nil }
        let selection = arguments.allValues("registry").map { $0.lowercased() }
        var targets: [PlanTarget] = []
        for text in given {
            guard let target = PlanTarget(parsing: text) else {
                context.standardError.line("error: --target '\(text)' must be REGISTRY/WEBHOOK, such as \(spec.registries.first.map { "\($0.name)/\($0.webhooks.first?.name ?? "deploybot")" } ?? "dev/deploybot")")
                throw Failure(code: .usage)
            }
            guard let registry = spec.registries.first(where: { $0.name.lowercased() == target.registry.lowercased() }) else {
                var message = "error: --target '\(text)': the spec has no registry '\(target.registry)'; it has \(spec.registries.map { "'\($0.name)'" }.joined(separator: ", "))"
                if let match = Suggestion.closest(to: target.registry, among: spec.registries.map(\.name)) { message += "; did you mean '\(match)'?" }
                context.standardError.line(message)
                throw Failure(code: .usage)
            }
            if !selection.isEmpty && !selection.contains(registry.name.lowercased()) {
                context.standardError.line("error: --target '\(text)' names registry '\(registry.name)', which --registry leaves out; add -r \(registry.name) or drop --registry")
                throw Failure(code: .usage)
            }
            targets.append(PlanTarget(registry: registry.name, webhook: target.webhook))
        }
        return Array(Set(targets)).sorted()
    }

    /// What every Azure registry of the run shares, from the options and the environment; a bad timing
    /// variable is explained and exits 64.
    /// - Parameter observationCache: the command may use the observation cache (plan, apply, reconcile),
    ///   unless `--refresh full` says not to.
    static func azureSettings(_ arguments: ParsedArguments, _ context: Context, observationCache: Bool = false) throws(Failure) -> AzureSettings {
        var azure: AzureSettings
        do {
            azure = try AzureSettings(environment: context.environment, parallelism: arguments.integer("parallelism") ?? 10,
                                      endpointFlag: arguments.value("arm-endpoint"))
        } catch {
            context.standardError.line("error: \(error.message)")
            throw Failure(code: .usage)
        }
        if arguments.has("verbose") {
            let err = context.standardError
            azure.trace = { err.line($0) }
        }
        if observationCache && arguments.value("refresh") != "full" {
            azure.observationCacheDirectory = ObservationCache.directory(environment: context.environment)
        }
        return azure
    }

    /// The spec narrowed to the selected registries.
    var selectedSpec: ResolvedSpec {
        ResolvedSpec(owner: spec.owner, registries: registries)
    }

    /// `--verbose`: what each registry that counts its calls (Azure) cost in calls and retries.
    func reportStatistics(_ arguments: ParsedArguments, _ context: Context) {
        guard arguments.has("verbose") else { return }
        for (name, provider) in providers.sorted(by: { $0.key < $1.key }) {
            guard let counting = provider as? any CallCounting else { continue }
            let statistics = counting.callStatistics
            context.standardError.line("registry '\(name)': \(statistics.calls) \(statistics.unit), \(statistics.retries) retried")
        }
    }

    /// The files no output of the command may replace: the spec, and every file of every registry it
    /// names (selected or not).
    func protectedFiles(_ context: Context) -> [OutputPath.Protected] {
        var files = ProviderFactory.files(of: spec.registries, specDirectory: loaded.directory(context))
        if let path = loaded.path { files.insert(OutputPath.Protected(path: path, what: "the spec being read (\(loaded.displayName))"), at: 0) }
        return files
    }

    var displayTargets: [String: String] { providers.mapValues(\.displayName) }

    /// Observes every selected registry at once; a failure is reported with the registry's name.
    func observe(_ context: Context) async throws -> [String: ObservedRegistry] {
        let named = providers.sorted { $0.key < $1.key }.map { (name: $0.key, provider: $0.value) }
        let found = Locked<[String: ObservedRegistry]>([:])
        let failures = Locked<[String: ProviderError]>([:])
        let progress = ObservationProgress(named.map(\.name), context)
        defer { progress.stop() }
        await concurrentForEach(named.count) { index in
            let item = named[index]
            defer { progress.finished(item.name) }
            do {
                let state = try await item.provider.observe()
                found.withLock { $0[item.name] = state }
            } catch {
                let failure = ProviderError.from(error)
                failures.withLock { $0[item.name] = failure }
            }
        }
        let observed = found.value
        for (name, state) in observed.sorted(by: { $0.key < $1.key }) {
            for note in state.notes { context.standardError.line("note: registry '\(name)': \(note)") }
        }
        var failed = false
        for (name, error) in failures.value.sorted(by: { $0.key < $1.key }) {
            context.standardError.line("error: registry '\(name)': \(error.message)")
            failed = true
        }
        if failed { throw Failure(code: .failure) }
        return observed
    }

    /// Observes and plans; ownership conflicts and tier limits are reported and fail.
    func plan(_ context: Context, options: PlanOptions) async throws -> (plan: Plan, observed: [String: ObservedRegistry]) {
        // Hashing a large spec takes tens of milliseconds: do it on another core while the registries are read.
        let bytes = loaded.bytes
        let digest = Task.detached { SHA256.hexDigest(bytes) }
        let sealedObservation = try await observe(context)
        // Webhooks the observation cache knew unchanged come sealed; the planner reads the few it needs.
        let result: (plan: Plan?, diagnostics: [Diagnostic], observed: [String: ObservedRegistry])
        do {
            var options = options
            options.targets = self.targets
            result = try await Planner.planHydrating(selectedSpec, specDigest: await digest.value, observed: sealedObservation, providers: providers,
                                                     targets: displayTargets, options: options)
        } catch {
            context.standardError.line("error: \(ProviderError.from(error).message)")
            throw Failure(code: .failure)
        }
        let observed = result.observed
        let diagnostics = loaded.document.locate(result.diagnostics)
        if !diagnostics.isEmpty {
            let style = Style(isEnabled: context.usesColor(terminal: context.isStandardErrorTerminal))
            context.standardError.write(DiagnosticRenderer.text(diagnostics, file: loaded.displayName, style: style))
        }
        guard let plan = result.plan else {
            context.standardError.report(diagnostics, file: loaded.displayName)
            context.standardError.line("error: cannot plan: \(DiagnosticRenderer.countLine(diagnostics)); nothing was changed")
            throw Failure(code: .failure)
        }
        return (plan, observed)
    }
}

extension LoadedSpec {
    /// Paths in the spec are relative to the spec file's folder (the current folder for standard input).
    func directory(_ context: Context) -> String {
        guard let path else { return context.currentDirectory }
        return (path as NSString).deletingLastPathComponent
    }
}

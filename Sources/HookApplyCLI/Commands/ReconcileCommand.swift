import AzureRegistry
import Controller
import Foundation
import HTTP1
import HookKit
import HookSpec
import Reconciler

/// `hookapply reconcile`: the GitOps loop. The CLI's part is the composition: it reads and resolves the
/// spec each cycle, builds providers (reused while the spec's bytes are unchanged), and wires signals,
/// the status listener, notifications and git; `Controller.ReconcileLoop` does the reconciling.
enum ReconcileCommand {
    static let spec = CommandSpec(
        name: "reconcile",
        abstract: "Reconcile continuously: plan every interval, report drift, and with --apply correct it.",
        discussion: """
            Each cycle re-reads the spec (so a git pull or a git-sync sidecar takes effect), resolves ${env:…},
            plans every registry on its own, and with --apply applies. An invalid spec keeps the last good one.
            Failures are retried sooner (1s, 2s, 4s … up to the interval). SIGHUP starts a cycle now; SIGTERM
            and SIGINT let the change in flight finish, then exit 0. Logs go to stderr, one timestamped line
            each (--log-format json for log shippers).
            """,
        options: [
            OptionSpec(long: "file", short: "f", valueName: "file", help: "The spec to read every cycle. Default: webhooks.json."),
            OptionSpec(long: "interval", valueName: "duration", help: "Time between cycles, like 30s, 5m, 1h (default 5m; 1s to 24h), ±10% jitter."),
            OptionSpec(long: "apply", help: "Apply the changes each cycle finds; without it drift is only reported."),
            OptionSpec(long: "registry", short: "r", valueName: "name", help: "Reconcile only this registry (repeatable).", isRepeatable: true),
            OptionSpec(long: "listen", valueName: "host:port", help: "Serve GET /healthz, /readyz and /metrics (Prometheus) here."),
            OptionSpec(long: "notify", valueName: "url",
                       help: "POST a JSON document here when drift is found, corrected or gone, and when a registry fails or recovers (or set HOOKAPPLY_NOTIFY_URL)."),
            OptionSpec(long: "git-pull", help: "Run 'git pull --ff-only' in the spec's working copy before each cycle."),
            OptionSpec(long: "log-format", valueName: "format", help: "Log lines as text, or as JSON objects (one per line).",
                       allowedValues: LogWriter.Format.allCases.map(\.rawValue)),
            OptionSpec(long: "parallelism", valueName: "n", help: "How many Azure calls run at once across all registries, and changes at once per registry (default 10).", number: .integer(1...256)),
            .refresh,
            OptionSpec(long: "trigger-token-env", valueName: "var",
                       help: "Offer POST /reconcile on --listen, proven with the value of VAR (Bearer, X-Gitlab-Token, or GitHub's X-Hub-Signature-256)."),
            OptionSpec(long: "max-connections", valueName: "n", help: "Open connections to --listen beyond which new ones get 503 (default 64).",
                       number: .integer(1...4096)),
            OptionSpec(long: "max-connections-per-client", valueName: "n",
                       help: "Open connections to --listen from one address beyond which its new ones get 503 (default 8).", number: .integer(1...4096)),
            OptionSpec(long: "full-refresh-every", valueName: "duration",
                       help: "How often each Azure registry is read without the observation cache, every secret included (default 1h; 1m to 168h)."),
            OptionSpec(long: "delivery-health-every", valueName: "duration",
                       help: "How often each managed webhook's delivery log is read for the delivery-health metrics (default 10m; 0s turns it off; on Azure one listEvents call per webhook)."),
            .armEndpoint,
        ])

    static let intervalRange: ClosedRange<Double> = 1...86_400
    static let fullRefreshRange: ClosedRange<Double> = 60...604_800

    static func run(_ arguments: ParsedArguments, _ context: Context) async -> ExitCode {
        let interval: Double
        let fullRefreshEvery: Double
        switch (duration(arguments, "interval", default: 300, range: intervalRange, bounds: "from 1s to 24h", like: "30s, 5m or 1h30m"),
                duration(arguments, "full-refresh-every", default: 3600, range: fullRefreshRange, bounds: "from 1m to 168h", like: "30m, 1h or 24h")) {
        case (.success(let first), .success(let second)):
            interval = first
            fullRefreshEvery = second
        case (.failure(let problem), _), (_, .failure(let problem)):
            return HookApply.usageError(problem.message, usage: spec.usage, context, helpFor: "reconcile")
        }
        let deliveryHealthEvery: Double
        switch duration(arguments, "delivery-health-every", default: 600, range: 0...604_800, bounds: "from 0s (off) to 168h", like: "5m, 10m or 1h") {
        case .success(let value): deliveryHealthEvery = value
        case .failure(let problem): return HookApply.usageError(problem.message, usage: spec.usage, context, helpFor: "reconcile")
        }
        if arguments.value("file") == "-" {
            return HookApply.usageError("reconcile reads the spec again every cycle, and standard input can be read only once; pass -f FILE",
                                        usage: spec.usage, context, helpFor: "reconcile")
        }
        var listen: ListenAddress? = nil
        if let text = arguments.value("listen") {
            guard let parsed = ListenAddress.parse(text) else {
                return HookApply.usageError("--listen needs HOST:PORT: an IP address and a port, [::1]:9090 for IPv6, or localhost:9090 for both loopbacks",
                                            usage: spec.usage, context, helpFor: "reconcile")
            }
            listen = parsed
        }
        var trigger: StatusRoutes.TriggerSecret? = nil
        if let variable = arguments.value("trigger-token-env") {
            guard listen != nil else {
                return HookApply.usageError("--trigger-token-env offers POST /reconcile on the --listen address; give --listen too",
                                            usage: spec.usage, context, helpFor: "reconcile")
            }
            guard let secret = context.environment[variable].flatMap(StatusRoutes.TriggerSecret.init) else {
                return HookApply.usageError("--trigger-token-env names \(variable), which is not set or is empty; set it to the secret POST /reconcile must prove",
                                            usage: spec.usage, context, helpFor: "reconcile")
            }
            trigger = secret
            context.standardError.hide([context.environment[variable] ?? ""])
        }
        let err = context.standardError
        let log = LogWriter(format: LogWriter.Format(rawValue: arguments.value("log-format") ?? "text") ?? .text) { err.write($0 + "\n") }
        var notifier: DriftNotifier? = nil
        if let url = arguments.value("notify") ?? context.environment["HOOKAPPLY_NOTIFY_URL"].flatMap({ $0.isEmpty ? nil : $0 }) {
            do {
                notifier = try DriftNotifier(url: url, options: notifyOptions(context), log: log)
            } catch {
                // The URL is a secret (a Slack webhook's path is its key): name the problem, never the URL.
                return HookApply.usageError("the notification URL is not a valid http(s) URL (\(error.message))", usage: spec.usage, context, helpFor: "reconcile")
            }
        }
        let azure: AzureSettings
        do {
            azure = try Reconciliation.azureSettings(arguments, context, observationCache: true)
        } catch {
            return error.code
        }
        let specFile = context.absolutePath(arguments.value("file") ?? SpecInput.defaultFile)
        var git: GitWorkingCopy? = nil
        if arguments.has("git-pull") {
            let workingCopy = GitWorkingCopy(directory: (specFile as NSString).deletingLastPathComponent, environment: context.environment)
            if case .failure(let failure) = workingCopy.check() {
                context.standardError.line("error: \(failure.message)")
                return .failure
            }
            git = workingCopy
        }
        // With --git-pull, whoever can push decides what the spec is: it and every local path must stay
        // inside the working copy, or a pushed link could make the loop read (and log) any file.
        var boundary: String? = nil
        if let git {
            guard let top = git.topLevel() else {
                context.standardError.line("error: git could not name the working copy's top folder (git rev-parse --show-toplevel)")
                return .failure
            }
            boundary = top
        }
        let source = CycleSource(arguments: arguments, context: context, azure: azure, boundary: boundary)
        let loop = ReconcileLoop(options: ReconcileLoop.Options(interval: interval, apply: arguments.has("apply"), parallelism: arguments.integer("parallelism") ?? 10,
                                                                firstBackoff: min(1, interval), fullRefreshEvery: fullRefreshEvery,
                                                                deliveryHealthEvery: deliveryHealthEvery),
                                 git: git, notifier: notifier, log: log) { source.load() }
        var server: HTTPServer? = nil
        if let listen {
            do {
                // A probe endpoint must stay answerable: few connections, and slow clients dropped soon, so a
                // handful of trickling connections cannot make /healthz fail and get the pod restarted.
                let timeouts = HTTPServer.Timeouts(idle: 5, header: 5, request: 10,
                                                   maxConnections: arguments.integer("max-connections") ?? 64,
                                                   maxConnectionsPerClient: arguments.integer("max-connections-per-client") ?? 8)
                let routeTrigger = trigger
                let started = try HTTPServer(hosts: listen.hosts, port: listen.port, timeouts: timeouts) { StatusRoutes.respond($0, loop: loop, trigger: routeTrigger) }
                started.start()
                log(LogEntry(.info, "listen.started", "serving http://\(listen.shown):\(started.port)/healthz, /readyz, /metrics and /status"
                                + (routeTrigger == nil ? "" : "; POST /reconcile starts a cycle (plain http: terminate TLS in front of it, or keep it in-cluster)"),
                             [("listen", "\(listen.shown):\(started.port)")]))
                server = started
            } catch {
                // HTTPError already names the address: "cannot listen on HOST:PORT: REASON".
                context.standardError.line("error: \(error)")
                return .failure
            }
        }
        if let notifier { log(LogEntry(.info, "notify.configured", "notifications go to \(notifier.displayTarget)/…")) }
        var signals: SignalWatcher? = nil
        if context.handlesSignals {
            signals = SignalWatcher(signals: [SIGINT, SIGTERM, SIGHUP]) { number in
                if number == SIGHUP {
                    log(LogEntry(.info, "cycle.triggered", "received SIGHUP; starting a cycle now"))
                    loop.trigger()
                } else {
                    log(LogEntry(.info, "reconcile.stopping", "received \(number == SIGTERM ? "SIGTERM" : "SIGINT"); finishing the change in flight, starting no other"))
                    loop.stop()
                }
            }
        }
        await loop.run()
        signals?.cancel()
        server?.stop(timeout: 2)
        return .success
    }

    /// A duration option written as --interval is (`30s`, `5m`, `1h30m`) in `range`, or `fallback` when absent.
    static func duration(
        _ arguments: ParsedArguments, _ name: String, default fallback: Double, range: ClosedRange<Double>, bounds: String, like examples: String
    ) -> Result<Double, DurationProblem> {
        guard let text = arguments.value(name) else { return .success(fallback) }
        guard let parsed = Seconds.parseDuration(text), range.contains(parsed) else {
            return .failure(DurationProblem(message: "--\(name) '\(TerminalText.line(text))' is not a duration \(bounds); write it like \(examples)"))
        }
        return .success(parsed)
    }

    struct DurationProblem: Error {
        var message: String
    }

    /// Notification retries: HOOKAPPLY_NOTIFY_BACKOFF_SECONDS shortens the first delay for tests.
    static func notifyOptions(_ context: Context) -> DriftNotifier.Options {
        var options = DriftNotifier.Options()
        if let text = context.environment["HOOKAPPLY_NOTIFY_BACKOFF_SECONDS"], let seconds = Seconds.parsePlain(text), seconds <= 60 {
            options.firstBackoff = seconds
        }
        return options
    }

    /// Reads the spec for each cycle. Providers are kept while the spec's bytes are the same, so a cycle
    /// does not sign in to Azure again; a changed spec gets new ones.
    final class CycleSource: Sendable {
        let arguments: ParsedArguments
        let context: Context
        let azure: AzureSettings
        let cached = Locked<(digest: String, spec: CycleSpec)?>(nil)
        /// The working copy's top folder with --git-pull: nothing outside it is read or written.
        let boundary: String?

        init(arguments: ParsedArguments, context: Context, azure: AzureSettings, boundary: String? = nil) {
            self.arguments = arguments
            self.context = context
            self.azure = azure
            self.boundary = boundary
        }

        /// Why `path` may not be used with --git-pull (it resolves outside the working copy), or nil.
        func outside(_ path: String) -> Bool {
            guard let boundary else { return false }
            let resolved = ResolvedPath.resolve(path, from: context.currentDirectory)
            return resolved != boundary && !resolved.hasPrefix(boundary.hasSuffix("/") ? boundary : boundary + "/")
        }

        func load() -> SpecLoad {
            let file = arguments.value("file") ?? SpecInput.defaultFile
            if file != "-", outside(context.absolutePath(file)) {
                return .invalid(["\(file): with --git-pull the spec must be a file inside the working copy \(boundary ?? ""); it resolves outside it (a link?), and is not read"])
            }
            let input: (displayName: String, path: String?, bytes: [UInt8])
            switch SpecInput.read(arguments.value("file"), context) {
            case .success(let value): input = value
            case .failure(let error): return .invalid([error.message])
            }
            // Unchanged bytes: the same spec, resolved against the same environment, with the same providers.
            let digest = SHA256.hexDigest(input.bytes)
            if let cached = cached.value, cached.digest == digest { return .valid(cached.spec, warnings: []) }
            let loaded = LoadedSpec(displayName: input.displayName, path: input.path, bytes: input.bytes, document: SpecLoader.load(input.bytes))
            func lines(_ diagnostics: [Diagnostic]) -> [String] { diagnostics.map { DiagnosticRenderer.logLine($0, file: loaded.displayName) } }
            let selection = arguments.allValues("registry")
            let resolved = loaded.document.resolve(environment: context.environment,
                                                    scope: ResolutionScope(registries: selection.isEmpty ? nil : Set(selection)))
            guard let spec = resolved.spec else { return .invalid(lines(resolved.diagnostics)) }
            context.standardError.hide(spec.environmentValues)
            context.standardOutput.hide(spec.environmentValues)
            let warnings = lines(resolved.diagnostics)
            var selected: [ResolvedRegistry] = []
            for name in arguments.allValues("registry") {
                guard let registry = spec.registries.first(where: { $0.name.lowercased() == name.lowercased() }) else {
                    return .invalid(["\(loaded.displayName): the spec has no registry '\(name)' (named with --registry); it has \(spec.registries.map { "'\($0.name)'" }.joined(separator: ", "))"])
                }
                if !selected.contains(where: { $0.name == registry.name }) { selected.append(registry) }
            }
            if selected.isEmpty { selected = spec.registries }
            let directory = loaded.directory(context)
            for registry in spec.registries {
                guard case .local(let path) = registry.target, outside(ProviderFactory.localStatePath(path, specDirectory: directory)) else { continue }
                return .invalid(["\(loaded.displayName): registry '\(registry.name)': with --git-pull, 'local.path' must resolve inside the working copy \(boundary ?? ""); '\(path)' does not"])
            }
            if let shared = ProviderFactory.sharedStateFile(spec.registries, specDirectory: directory) {
                return .invalid(["\(loaded.displayName): registries '\(shared.first)' and '\(shared.second)' use the same local state file; give each its own 'path'"])
            }
            var registries: [CycleRegistry] = []
            for registry in selected {
                switch ProviderFactory.make(registry, specDirectory: directory, workingDirectory: (context.currentDirectory as NSString).standardizingPath,
                                            azure: azure, hiddenValues: spec.environmentValues) {
                case .success(let provider):
                    registries.append(CycleRegistry(name: registry.name, spec: ResolvedSpec(owner: spec.owner, registries: [registry]),
                                                    target: provider.displayName, provider: provider))
                case .failure(let error):
                    return .invalid(["\(loaded.displayName): registry '\(registry.name)': \(error.message)"])
                }
            }
            let cycleSpec = CycleSpec(specDigest: digest, registries: registries, hiddenValues: spec.environmentValues)
            cached.set((digest, cycleSpec))
            return .valid(cycleSpec, warnings: warnings)
        }
    }
}

import Foundation
import HookKit
import HookSpec
import Reconciler

/// `hookapply reconcile`: reads the spec, plans every registry, and (with `--apply`) applies, on an
/// interval, for as long as it runs. The GitOps loop (Flux and Argo CD practise it): the desired state is
/// pulled, drift is seen within an interval, and the state is exposed to monitoring.
///
/// Each registry is reconciled on its own, concurrently: one that fails does not stop the others. An
/// invalid spec keeps the last good one; a half-read spec is never applied (the CLI resolves the whole
/// spec before it hands one over). Failures back off exponentially up to the interval; `trigger()`
/// (SIGHUP) starts a cycle at once; `stop()` (SIGTERM, SIGINT) lets the change in flight finish, starts
/// no other, and ends `run()`.
public final class ReconcileLoop: Sendable {
    public struct Options: Sendable {
        /// Seconds between cycles.
        public var interval: Double
        /// The fraction of `interval` added or taken at random, so replicas and registries don't align.
        public var jitter: Double
        /// Apply the plan; without it drift is only reported.
        public var apply: Bool
        public var parallelism: Int
        /// How long to wait for another apply's lock on a local registry before the registry fails this cycle.
        public var lockTimeout: Double
        /// The first retry delay after a failed cycle; doubled on each failure, never above `interval`.
        public var firstBackoff: Double
        /// How often each managed webhook's delivery log is read for the delivery-health metrics (default
        /// 10 min; 0: never). On Azure that is one listEvents call per webhook, inside ARM's read budget.
        public var deliveryHealthEvery: Double
        /// How often a registry's observation ignores its cache and reads every secret (default 1 h).
        public var fullRefreshEvery: Double

        public init(
            interval: Double, jitter: Double = 0.1, apply: Bool, parallelism: Int = 10, lockTimeout: Double = 10, firstBackoff: Double = 1,
            fullRefreshEvery: Double = 3600, deliveryHealthEvery: Double = 600
        ) {
            self.deliveryHealthEvery = deliveryHealthEvery
            self.fullRefreshEvery = fullRefreshEvery
            self.interval = interval
            self.jitter = jitter
            self.apply = apply
            self.parallelism = parallelism
            self.lockTimeout = lockTimeout
            self.firstBackoff = firstBackoff
        }
    }

    /// What a cycle came to.
    public struct CycleSummary: Sendable {
        public var number: Int
        /// `success`, `partial` (some registries failed) or `failure`.
        public var result: String
        public var outcomes: [RegistryOutcome]
        public var specValid: Bool
        public var revision: String?
        public var seconds: Double
    }

    struct Watch {
        /// The drift last notified (without --apply), as a signature; nil when none.
        var driftSignature: String?
        var failing = false
    }

    struct State {
        var stopping = false
        var triggered = false
        var lastGood: CycleSpec?
        var watches: [String: Watch] = [:]
        var consecutiveFailures = 0
        var completed: [String: Bool] = [:]
        var cycles = 0
        var revision: String?
        /// When the last cycle finished (uptime nanoseconds), or the loop was made: readiness needs one
        /// within three intervals, so a loop stuck in a cycle is taken out of service.
        var lastFinished = DispatchTime.now().uptimeNanoseconds
        /// A digest of the invalid spec's problems last logged in full: the same problems are then a
        /// one-line reminder per cycle, not the whole list again.
        var loggedProblems: String?
        /// When each registry last observed without its cache (uptime nanoseconds); counted from the start.
        var fullRefreshes: [String: UInt64] = [:]
        /// When each registry's delivery logs were last read for the health metrics (uptime nanoseconds).
        var deliveryHealthChecks: [String: UInt64] = [:]
        /// What `GET /status` shows.
        var status = LoopStatus()
    }

    /// The most diagnostics of an invalid spec logged in full; the rest are counted.
    static let loggedProblemLimit = 50

    private let options: Options
    private let load: @Sendable () async -> SpecLoad
    private let git: GitWorkingCopy?
    public let metrics: ReconcileMetrics
    private let notifier: DriftNotifier?
    private let log: LogWriter
    private let state = Locked(State())
    /// When the loop was made: full refreshes are counted from here.
    private let started = DispatchTime.now().uptimeNanoseconds

    public init(options: Options, git: GitWorkingCopy?, notifier: DriftNotifier?, log: LogWriter, load: @escaping @Sendable () async -> SpecLoad) {
        self.options = options
        self.git = git
        self.notifier = notifier
        self.log = log
        self.load = load
        metrics = ReconcileMetrics(version: Product.version)
    }

    public var isStopping: Bool { state.value.stopping }

    /// Ready when a cycle has run with a good spec and every registry of it was observed and planned
    /// in its last cycle (an apply failure is reported, not a reason to be taken out of service).
    public var readiness: (ready: Bool, reason: String) {
        let state = self.state.value
        let silence = Double(DispatchTime.now().uptimeNanoseconds - min(state.lastFinished, DispatchTime.now().uptimeNanoseconds)) / 1e9
        if silence > 3 * options.interval {
            return (false, "no cycle has finished in the last \(Seconds.describe(silence.rounded())) (three intervals are \(Seconds.describe(3 * options.interval)))")
        }
        guard let spec = state.lastGood else { return (false, "no cycle has completed with a valid spec yet") }
        let pending = spec.registries.map(\.name).filter { state.completed[$0] != true }
        return pending.isEmpty ? (true, "ready") : (false, "not reconciled in the last cycle: " + pending.map { "'\($0)'" }.joined(separator: ", "))
    }

    /// What `GET /status` answers: the last cycle and each registry's state.
    public var status: LoopStatus {
        var status = state.value.status
        let readiness = self.readiness
        status.ready = readiness.ready
        status.readiness = readiness.reason
        return status
    }

    /// Ends `run()` after the change in flight; idempotent.
    public func stop() { state.withLock { $0.stopping = true } }

    /// Starts a cycle now (SIGHUP), or right after the one running.
    public func trigger() { state.withLock { $0.triggered = true } }

    /// Runs cycles until `stop()`.
    public func run() async {
        log(LogEntry(.info, "reconcile.started", "reconciling every \(Seconds.describe(options.interval)) (±\(Int(options.jitter * 100))%), \(options.apply ? "applying changes" : "reporting drift only (no --apply)")",
                     [("interval_seconds", options.interval), ("apply", options.apply)]))
        while !isStopping {
            let summary = await runCycle()
            if isStopping { break }
            let delay = nextDelay(after: summary)
            let at = summary.revision.map { " at revision \($0.prefix(12))" } ?? ""
            log(LogEntry(.info, "cycle.finished", "cycle \(summary.number) finished in \(Seconds.describe(summary.seconds))\(at): \(summary.result); next in \(Seconds.describe(delay))",
                         [("cycle", summary.number), ("result", summary.result), ("duration_ms", Int((summary.seconds * 1000).rounded())),
                          ("revision", summary.revision ?? ""), ("next_seconds", (delay * 1000).rounded() / 1000)]))
            await sleep(delay)
        }
        await notifier?.drain(timeout: 5)
        log(LogEntry(.info, "reconcile.stopped", "stopped; nothing is left half-done"))
    }

    /// The wait before the next cycle: the interval after a success; after failures 1 s, 2 s, 4 s … up
    /// to the interval. Both ± the jitter.
    func nextDelay(after summary: CycleSummary) -> Double {
        let failures = state.withLock { state -> Int in
            state.consecutiveFailures = summary.result == "success" ? 0 : state.consecutiveFailures + 1
            return state.consecutiveFailures
        }
        let base = failures == 0 ? options.interval : min(options.interval, options.firstBackoff * pow(2, Double(min(failures - 1, 30))))
        let spread = options.jitter * Double.random(in: -1...1)
        return max(0.05, base * (1 + spread))
    }

    /// Sleeps `seconds`, waking early on `stop()` or `trigger()`.
    private func sleep(_ seconds: Double) async {
        let deadline = DispatchTime.now().uptimeNanoseconds + Seconds.nanoseconds(seconds)
        while DispatchTime.now().uptimeNanoseconds < deadline {
            let wake = state.withLock { state -> Bool in
                if state.triggered {
                    state.triggered = false
                    return true
                }
                return state.stopping
            }
            if wake { return }
            try? await Task.sleep(nanoseconds: min(50_000_000, deadline - min(deadline, DispatchTime.now().uptimeNanoseconds)))
        }
        state.withLock { $0.triggered = false }
    }

    /// One cycle: pull, read the spec, reconcile every registry, notify on transitions, record metrics.
    public func runCycle() async -> CycleSummary {
        let started = DispatchTime.now().uptimeNanoseconds
        let number = state.withLock { state -> Int in
            state.cycles += 1
            state.triggered = false
            return state.cycles
        }
        func finish(_ result: String, _ outcomes: [RegistryOutcome], specValid: Bool) -> CycleSummary {
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            metrics.cycleFinished(result: result, seconds: seconds)
            state.withLock { state in
                state.lastFinished = DispatchTime.now().uptimeNanoseconds
                state.status.lastCycle = LoopStatus.Cycle(number: number, result: result, revision: state.revision, time: Timestamp.now(),
                                                          duration_seconds: (seconds * 1000).rounded() / 1000)
            }
            return CycleSummary(number: number, result: result, outcomes: outcomes, specValid: specValid, revision: state.value.revision, seconds: seconds)
        }
        if let git {
            // git blocks: it runs on a thread of its own, never on the cooperative pool.
            let result = Locked<Result<String, GitWorkingCopy.Failure>>(.failure(GitWorkingCopy.Failure(message: "git did not run")))
            await BlockingBridge.onOwnThread { [self] in result.set(git.pull(shouldStop: { self.isStopping })) }
            let pulled = result.value
            if isStopping { return finish("failure", [], specValid: true) }
            switch pulled {
            case .success(let revision):
                let previous = state.withLock { state -> String? in
                    defer { state.revision = revision }
                    return state.revision
                }
                metrics.revision(revision)
                if previous != revision {
                    log(LogEntry(.info, "git.updated", "spec at revision \(revision)\(previous.map { " (was \($0))" } ?? "")", [("revision", revision)]))
                }
            case .failure(let failure):
                log(LogEntry(.error, "git.failed", "\(failure.message); nothing was reconciled this cycle", [("revision", state.value.revision ?? "")]))
                return finish("failure", [], specValid: true)
            }
        }
        var specValid = true
        switch await load() {
        case .valid(let spec, let warnings):
            for warning in warnings { log(LogEntry(.warning, "spec.warning", warning)) }
            state.withLock { $0.loggedProblems = nil }
            let previous = state.withLock { state -> CycleSpec? in
                defer { state.lastGood = spec }
                return state.lastGood
            }
            if let previous, previous.specDigest != spec.specDigest {
                log(LogEntry(.info, "spec.changed", "the spec changed; reconciling the new one", [("spec_digest", spec.specDigest)]))
            }
        case .invalid(let problems):
            specValid = false
            let kept = state.value.lastGood != nil
            let plan = kept ? "reconciling the last good spec until it is fixed" : "nothing to reconcile until it is fixed"
            let count = "\(problems.count) problem\(problems.count == 1 ? "" : "s")"
            // Once per set of problems, at most a screenful: a spec with 40,000 problems at a 1 s interval
            // must not flood the log. Later cycles say in one line that it is still so.
            let digest = SHA256.hexDigest(Array(problems.joined(separator: "\n").utf8))
            let isNew = state.withLock { state -> Bool in
                defer { state.loggedProblems = digest }
                return state.loggedProblems != digest
            }
            if isNew {
                for problem in problems.prefix(Self.loggedProblemLimit) { log(LogEntry(.error, "spec.invalid", problem)) }
                if problems.count > Self.loggedProblemLimit {
                    log(LogEntry(.error, "spec.invalid", "… and \(problems.count - Self.loggedProblemLimit) more; run 'hookapply validate' to see them all"))
                }
                log(LogEntry(.error, "spec.invalid", "the spec is invalid (\(count)); \(plan)", [("problems", problems.count)]))
            } else {
                log(LogEntry(.error, "spec.invalid", "the spec is still invalid (the same \(count), logged when first seen); \(plan)", [("problems", problems.count)]))
            }
        }
        metrics.specValid(specValid)
        guard let spec = state.value.lastGood else { return finish("failure", [], specValid: false) }
        let scrubber = SecretScrubber(secrets: spec.hiddenValues)
        metrics.keepOnly(Set(spec.registries.map(\.name)))
        let results = Locked<[String: RegistryOutcome]>([:])
        await concurrentForEach(spec.registries.count) { index in
            let registry = spec.registries[index]
            let outcome = await self.reconcile(registry, specDigest: spec.specDigest, scrubber: scrubber)
            results.withLock { $0[registry.name] = outcome }
            await self.checkDeliveryHealth(registry)
        }
        let byName = results.value
        let outcomes = spec.registries.compactMap { byName[$0.name] }
        let now = Date().timeIntervalSince1970
        state.withLock { state in
            state.completed = Dictionary(uniqueKeysWithValues: outcomes.map { ($0.registry, $0.plan != nil) })
        }
        for outcome in outcomes {
            metrics.registry(outcome, at: now)
            report(outcome, scrubber: scrubber)
        }
        state.withLock { state in
            var registries: [String: LoopStatus.Registry] = [:]
            for outcome in outcomes {
                var entry = state.status.registries.first { $0.name == outcome.registry } ?? LoopStatus.Registry(name: outcome.registry)
                entry.reconciled = outcome.plan != nil
                entry.drift = outcome.plan == nil ? entry.drift : outcome.remainingDrift.count
                if outcome.isSuccess {
                    entry.last_success = Timestamp.now()
                    entry.last_error = nil
                } else {
                    entry.last_error = outcome.error ?? outcome.applyFailures.first.map { "\($0.change.webhook): \($0.change.action.rawValue) failed" }
                }
                registries[outcome.registry] = entry
            }
            state.status.registries = spec.registries.compactMap { registries[$0.name] }
        }
        let failed = outcomes.filter { !$0.isSuccess }.count
        let result = failed == 0 ? "success" : failed == outcomes.count ? "failure" : "partial"
        return finish(result, outcomes, specValid: specValid)
    }

    /// Reads the delivery log of each webhook the spec declares for `registry` (first page only), when
    /// `deliveryHealthEvery` has passed since the last time, and updates the delivery-health metrics: a
    /// webhook that exists as declared but whose receiver fails is not converged. A log that cannot be
    /// read leaves the metrics as they were.
    func checkDeliveryHealth(_ registry: CycleRegistry) async {
        guard options.deliveryHealthEvery > 0 else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        let due = state.withLock { state -> Bool in
            if let last = state.deliveryHealthChecks[registry.name], Double(now - min(last, now)) / 1e9 < options.deliveryHealthEvery { return false }
            state.deliveryHealthChecks[registry.name] = now
            return true
        }
        guard due else { return }
        let declared = registry.spec.registries.first { $0.name == registry.name }?.webhooks.map(\.name) ?? []
        metrics.keepWebhooks(registry.name, Set(declared))
        let counting = registry.provider as? any CallCounting
        let before = counting?.callStatistics
        let began = DispatchTime.now().uptimeNanoseconds
        var read = 0
        for name in declared {
            let records: [DeliveryRecord]
            do {
                if let reader = registry.provider as? any DeliveryOutcomeReading {
                    records = try await reader.deliveryOutcomes(name: name, limit: 20)
                } else {
                    records = try await registry.provider.events(name: name, limit: 20)
                }
            } catch {
                continue
            }
            read += 1
            metrics.deliveries(registry: registry.name, webhook: name, records: records)
        }
        // The cost, so that an operator can weigh --delivery-health-every against the registry's read budget.
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
        var fields: [(String, any LogFieldValue)] = [("registry", registry.name), ("webhooks", read), ("duration_ms", Int(elapsed * 1000))]
        var cost = ""
        if let before, let after = counting?.callStatistics {
            let calls = after.calls - before.calls
            fields.append(("calls", calls))
            let perHour = Int((Double(calls) * 3600 / options.deliveryHealthEvery).rounded())
            cost = ": \(calls) \(after.unit) (about \(perHour) an hour at every \(Seconds.describe(options.deliveryHealthEvery)))"
            fields.append(("calls_per_hour", perHour))
        }
        log(LogEntry(.info, "delivery_health.checked",
                     "registry '\(registry.name)': read the delivery log of \(read) of \(declared.count) webhook\(declared.count == 1 ? "" : "s") in \(Seconds.describe(elapsed))\(cost)",
                     fields))
    }

    /// Observes, plans and (with --apply) applies one registry; every failure becomes its outcome.
    func reconcile(_ registry: CycleRegistry, specDigest: String, scrubber: SecretScrubber) async -> RegistryOutcome {
        func failed(_ error: any Error, _ what: String) -> RegistryOutcome {
            RegistryOutcome(registry: registry.name, plan: nil, error: scrubber.scrub("\(what): \(ProviderError.from(error).message)"))
        }
        var lock: (any ApplyLock)? = nil
        defer { lock?.release() }
        if options.apply, let lockable = registry.provider as? any ApplyLocking {
            do {
                lock = try await lockable.lockForApply(timeout: options.lockTimeout)
            } catch {
                return failed(error, "could not lock")
            }
        }
        if let refreshing = registry.provider as? any ObservationRefreshing {
            let now = DispatchTime.now().uptimeNanoseconds
            let due = state.withLock { state -> Bool in
                let last = state.fullRefreshes[registry.name] ?? started
                guard Double(now - min(last, now)) / 1e9 >= options.fullRefreshEvery else {
                    if state.fullRefreshes[registry.name] == nil { state.fullRefreshes[registry.name] = last }
                    return false
                }
                state.fullRefreshes[registry.name] = now
                return true
            }
            if due {
                refreshing.refreshFully()
                log(LogEntry(.info, "registry.full_refresh", "registry '\(registry.name)': reading every webhook's secrets, not the observation cache (every \(Seconds.describe(options.fullRefreshEvery)))",
                             [("registry", registry.name)]))
            }
        }
        let observed: ObservedRegistry
        do {
            observed = try await registry.provider.observe()
        } catch {
            return failed(error, "could not read the registry")
        }
        for note in observed.notes { log(LogEntry(.warning, "registry.note", "registry '\(registry.name)': \(note)", [("registry", registry.name)])) }
        let result: (plan: Plan?, diagnostics: [Diagnostic], observed: [String: ObservedRegistry])
        do {
            // Webhooks an observation cache knew unchanged come sealed; the planner reads the few it needs.
            result = try await Planner.planHydrating(registry.spec, specDigest: specDigest, observed: [registry.name: observed],
                                                     providers: [registry.name: registry.provider], targets: [registry.name: registry.target],
                                                     options: PlanOptions(recordsEvidence: false))
        } catch {
            return failed(error, "could not read the registry")
        }
        guard let plan = result.plan, let registryPlan = plan.registries.first(where: { $0.name == registry.name }) else {
            let problems = result.diagnostics.filter { $0.severity == .error }.map { "[\($0.code)] \($0.message)" }
            return RegistryOutcome(registry: registry.name, plan: nil, error: scrubber.scrub("cannot plan: " + problems.joined(separator: "; ")))
        }
        guard options.apply, !plan.isEmpty, !isStopping else { return RegistryOutcome(registry: registry.name, plan: registryPlan) }
        let report = await Applier(parallelism: options.parallelism).apply(plan, providers: [registry.name: registry.provider],
                                                                            shouldStop: { [self] in isStopping })
        return RegistryOutcome(registry: registry.name, plan: registryPlan, applied: report.results)
    }

    /// Logs a registry's outcome, and notifies when its state changed.
    private func report(_ outcome: RegistryOutcome, scrubber: SecretScrubber) {
        let name = outcome.registry
        let revision = state.value.revision
        var fields: [(String, any LogFieldValue)] = [("registry", name)]
        if let revision { fields.append(("revision", revision)) }
        let drift = outcome.drift
        if let error = outcome.error {
            log(LogEntry(.error, "registry.failed", "registry '\(name)': \(error)", fields))
        } else if drift.isEmpty {
            log(LogEntry(.info, "registry.in_sync", "registry '\(name)': in sync with the spec", fields + [("drift", 0)]))
        } else {
            let summary = Plan.Summary(counting: drift.map(\.action))
            log(LogEntry(options.apply ? .info : .warning, "registry.drift",
                         "registry '\(name)': drift: \(Self.describe(summary)): \(Self.list(drift))",
                         fields + [("drift", drift.count), ("create", summary.create), ("update", summary.update), ("delete", summary.delete)]))
            for result in outcome.applied {
                switch result.outcome {
                case .succeeded:
                    log(LogEntry(.info, "change.applied", "\(name)/\(result.change.webhook): \(result.change.action.rawValue) done",
                                 fields + [("webhook", result.change.webhook), ("action", result.change.action.rawValue), ("result", "success")]))
                case .skipped where result.wasNotStarted:
                    // Stopping (SIGTERM) between changes: not a failure, the next run does it.
                    log(LogEntry(.info, "change.not_started", "\(name)/\(result.change.webhook): \(result.change.action.rawValue) not started: the loop is stopping",
                                 fields + [("webhook", result.change.webhook), ("action", result.change.action.rawValue), ("result", "not_started")]))
                case .failed(_, let message), .skipped(let message):
                    log(LogEntry(.error, "change.failed", "\(name)/\(result.change.webhook): \(result.change.action.rawValue) failed: \(scrubber.scrub(message))",
                                 fields + [("webhook", result.change.webhook), ("action", result.change.action.rawValue), ("result", "failure")]))
                }
            }
        }
        guard let kind = transition(outcome) else { return }
        notifier?.send(notification(kind, outcome, revision: revision, scrubber: scrubber))
    }

    /// The notification this outcome calls for, given what was notified before (once per transition).
    func transition(_ outcome: RegistryOutcome) -> DriftNotification.Kind? {
        let signature = outcome.drift.map { "\($0.webhook)\u{0}\($0.action.rawValue)\u{0}\($0.fields.map { "\($0.field.rawValue)\($0.key ?? "")" }.joined(separator: ","))" }
            .sorted().joined(separator: "\n")
        return state.withLock { state -> DriftNotification.Kind? in
            var watch = state.watches[outcome.registry] ?? Watch()
            defer { state.watches[outcome.registry] = watch }
            if !outcome.isSuccess {
                if watch.failing { return nil }
                watch.failing = true
                return .failed
            }
            if watch.failing {
                watch.failing = false
                watch.driftSignature = options.apply || outcome.drift.isEmpty ? nil : signature
                return .recovered
            }
            if options.apply {
                return outcome.applied.isEmpty ? nil : .driftCorrected
            }
            if outcome.drift.isEmpty {
                defer { watch.driftSignature = nil }
                return watch.driftSignature == nil ? nil : .driftResolved
            }
            if watch.driftSignature == signature { return nil }
            watch.driftSignature = signature
            return .driftDetected
        }
    }

    func notification(_ kind: DriftNotification.Kind, _ outcome: RegistryOutcome, revision: String?, scrubber: SecretScrubber) -> DriftNotification {
        let changes = outcome.drift
        let summary = Plan.Summary(counting: changes.map(\.action))
        let results = outcome.applied.map { result -> DriftNotification.Result in
            switch result.outcome {
            case .succeeded: DriftNotification.Result(webhook: result.change.webhook, action: result.change.action.rawValue, outcome: "success", message: nil)
            case .failed(_, let message): DriftNotification.Result(webhook: result.change.webhook, action: result.change.action.rawValue, outcome: "failure", message: scrubber.scrub(message))
            case .skipped(let reason): DriftNotification.Result(webhook: result.change.webhook, action: result.change.action.rawValue, outcome: "skipped", message: scrubber.scrub(reason))
            }
        }
        let at = revision.map { " at revision \($0.prefix(12))" } ?? ""
        var text: String
        switch kind {
        case .driftDetected: text = "hookapply: registry '\(outcome.registry)' has drifted from the spec\(at): \(Self.describe(summary)). \(Self.list(changes))"
        case .driftResolved: text = "hookapply: registry '\(outcome.registry)' matches the spec again\(at)."
        case .driftCorrected: text = "hookapply: corrected drift in registry '\(outcome.registry)'\(at): \(Self.describe(summary)). \(Self.list(changes))"
        case .failed:
            let failures = results.filter { $0.outcome != "success" }.map { "\($0.webhook): \($0.message ?? "failed")" }
            text = "hookapply: reconciling registry '\(outcome.registry)' failed\(at): \(outcome.error ?? failures.prefix(5).joined(separator: "; "))"
        case .recovered: text = "hookapply: registry '\(outcome.registry)' reconciles again\(at)" + (changes.isEmpty ? "." : ": \(Self.describe(summary)). \(Self.list(changes))")
        }
        text = scrubber.scrub(text)
        if text.count > 3000 { text = String(text.prefix(2990)) + " …" }
        return DriftNotification(kind: kind, registry: outcome.registry, revision: revision, time: Timestamp.now(), hookapply_version: Product.version,
                                 summary: summary, changes: changes, results: results, error: outcome.error, text: Self.slackEscaped(text))
    }

    /// `text` as Slack's mrkdwn (and Teams) show it literally: names and messages come from registries, and
    /// `<!channel>` or `<https://evil|portal.azure.com>` would otherwise be a live mention or a disguised
    /// link. Slack's rule: escape `&`, `<` and `>`, and nothing else.
    static func slackEscaped(_ text: String) -> String {
        guard text.contains(where: { $0 == "&" || $0 == "<" || $0 == ">" }) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 16)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            default: result.append(character)
            }
        }
        return result
    }

    static func describe(_ summary: Plan.Summary) -> String {
        "\(summary.create) to create, \(summary.update) to update, \(summary.delete) to delete"
    }

    /// `scanner (update: serviceUri, actions); old (delete)`, at most ten, then how many more.
    static func list(_ changes: [Change]) -> String {
        let items = changes.prefix(10).map { change -> String in
            let fields = Array(Set(change.fields.map(\.field.rawValue))).sorted()
            return "\(change.webhook) (\(change.action.rawValue)\(change.action == .update && !fields.isEmpty ? ": " + fields.joined(separator: ", ") : ""))"
        }
        return items.joined(separator: "; ") + (changes.count > 10 ? "; and \(changes.count - 10) more" : "")
    }

}

import Foundation
import HookKit
import HookSpec
import Reconciler
import TestSupport
import Testing

@testable import Controller

/// The loop's decisions, with in-memory registries: what each cycle does, when it notifies, how it
/// backs off, and what it exposes. End-to-end runs of the real binary are in HookApplyCLITests.
@Suite struct ReconcileLoopTests {
    /// Log lines, kept for assertions.
    final class Lines: Sendable {
        let lines = Locked<[String]>([])
        var writer: LogWriter { LogWriter(format: .text, clock: { "T" }) { line in self.lines.withLock { $0.append(line) } } }
        var text: String { lines.value.joined(separator: "\n") }
    }

    static func registry(_ name: String, _ provider: InMemoryProvider, _ webhooks: [WebhookState]) -> CycleRegistry {
        CycleRegistry(name: name, spec: ResolvedSpec(owner: "team", registries: [ResolvedRegistry(name: name, target: .local(path: "\(name).json"), prune: .owned, webhooks: webhooks)]),
                      target: "memory", provider: provider)
    }

    /// A create as the planner makes one (masked), through the public plan.
    static func create(_ webhook: WebhookState) -> Change {
        let spec = ResolvedSpec(owner: "team", registries: [ResolvedRegistry(name: "dev", target: .local(path: "dev.json"), prune: .owned, webhooks: [webhook])])
        let result = Planner.plan(spec, specDigest: String(repeating: "0", count: 64), observed: ["dev": ObservedRegistry(webhooks: [])], targets: ["dev": "t"])
        return result.plan?.changes.first ?? Change(registry: "dev", webhook: webhook.name, action: .create, reasons: [], fields: [], unchangedCount: 0,
                                                     before: nil, after: nil)
    }

    static func loop(apply: Bool, lines: Lines, interval: Double = 60, load: @escaping @Sendable () async -> SpecLoad) -> ReconcileLoop {
        ReconcileLoop(options: ReconcileLoop.Options(interval: interval, apply: apply), git: nil, notifier: nil, log: lines.writer, load: load)
    }

    @Test("without --apply drift is reported and left alone; with it, corrected; the gauge shows what is left")
    func reportThenCorrect() async throws {
        let provider = InMemoryProvider()
        let desired = [Fixture.webhook("alpha1"), Fixture.webhook("bravo2")]
        let spec = CycleSpec(specDigest: String(repeating: "a", count: 64), registries: [Self.registry("dev", provider, desired)], hiddenValues: [])
        let lines = Lines()
        let report = Self.loop(apply: false, lines: lines) { .valid(spec, warnings: []) }
        let first = await report.runCycle()
        #expect(first.result == "success" && first.outcomes.first?.drift.count == 2)
        #expect(await provider.webhooks.isEmpty)
        #expect(report.metrics.render().contains("hookapply_drift_changes{registry=\"dev\",action=\"create\"} 2"))
        let apply = Self.loop(apply: true, lines: lines) { .valid(spec, warnings: []) }
        let second = await apply.runCycle()
        #expect(second.outcomes.first?.applied.count == 2)
        #expect(await provider.webhooks.count == 2)
        let metrics = apply.metrics.render()
        #expect(metrics.contains("hookapply_drift_changes{registry=\"dev\",action=\"create\"} 0"))
        #expect(metrics.contains("hookapply_applied_changes_total{registry=\"dev\",action=\"create\",result=\"success\"} 2"))
        let third = await apply.runCycle()
        #expect(third.outcomes.first?.drift.isEmpty == true)
    }

    @Test("one failing registry does not stop another, and the cycle is partial")
    func failingRegistryIsolated() async throws {
        let broken = InMemoryProvider(fault: { operation, _, _ in operation == .observe ? ProviderError.fatal(.transport, "connection refused") : nil })
        let healthy = InMemoryProvider()
        let spec = CycleSpec(specDigest: String(repeating: "b", count: 64),
                             registries: [Self.registry("broken", broken, [Fixture.webhook("alpha1")]), Self.registry("healthy", healthy, [Fixture.webhook("alpha1")])],
                             hiddenValues: [])
        let lines = Lines()
        let loop = Self.loop(apply: true, lines: lines) { .valid(spec, warnings: []) }
        let summary = await loop.runCycle()
        #expect(summary.result == "partial")
        #expect(await healthy.webhooks.count == 1)
        let metrics = loop.metrics.render()
        #expect(metrics.contains("hookapply_registry_up{registry=\"broken\"} 0"))
        #expect(metrics.contains("hookapply_registry_up{registry=\"healthy\"} 1"))
        #expect(metrics.contains("hookapply_reconcile_cycles_total{result=\"partial\"} 1"))
        #expect(lines.text.contains("registry 'broken': could not read the registry: connection refused"), "\(lines.text)")
        #expect(!loop.readiness.ready && loop.readiness.reason.contains("'broken'"))
    }

    @Test("an invalid spec keeps the last good one: it is still reconciled, and spec_valid is 0")
    func invalidKeepsLastGood() async throws {
        let provider = InMemoryProvider()
        let spec = CycleSpec(specDigest: String(repeating: "c", count: 64), registries: [Self.registry("dev", provider, [Fixture.webhook("alpha1")])], hiddenValues: [])
        let valid = Locked(true)
        let lines = Lines()
        let loop = Self.loop(apply: true, lines: lines) { valid.value ? .valid(spec, warnings: []) : .invalid(["webhooks.json:3:4: error: [invalid-json] expected a value"]) }
        #expect(loop.readiness.ready == false)
        _ = await loop.runCycle()
        #expect(loop.readiness.ready)
        valid.set(false)
        await provider.set([])  // drift made by hand
        let summary = await loop.runCycle()
        #expect(summary.specValid == false && summary.result == "success")
        #expect(await provider.webhooks.count == 1, "the last good spec was not reconciled")
        #expect(loop.metrics.render().contains("hookapply_spec_valid 0"))
        #expect(lines.text.contains("webhooks.json:3:4: error: [invalid-json] expected a value"))
        #expect(lines.text.contains("reconciling the last good spec until it is fixed"))
    }

    @Test("an invalid spec's problems are logged once, at most 50 and a count; later cycles log one reminder; new problems are logged again")
    func invalidSpecDoesNotFlood() async {
        let problems = (0..<40_000).map { "webhooks.json:\($0 + 1):3: error: [unknown-property] 'x' is not a property" }
        let current = Locked(problems)
        let lines = Lines()
        let loop = Self.loop(apply: true, lines: lines) { .invalid(current.value) }
        for _ in 0..<3 { _ = await loop.runCycle() }
        let first = lines.lines.value
        let expected = Self.loggedLimit + 2 + 2  // the first 50, "… and N more", the summary; two reminders
        #expect(first.count == expected, "\(first.count) lines")
        #expect(first.contains { $0.contains("… and 39950 more; run 'hookapply validate' to see them all") })
        #expect(first.filter { $0.contains("the spec is still invalid (the same 40000 problems") }.count == 2)
        current.set(["webhooks.json:1:1: error: [invalid-json] expected a value"])
        _ = await loop.runCycle()
        #expect(lines.lines.value.count == first.count + 2, "new problems are logged in full: \(lines.lines.value.suffix(3))")
        #expect(lines.text.contains("[invalid-json] expected a value"))
    }

    static let loggedLimit = 50

    @Test("a registry whose provider keeps an observation cache is read in full every --full-refresh-every, and not more often")
    func fullRefresh() async throws {
        let provider = InMemoryProvider()
        let spec = CycleSpec(specDigest: String(repeating: "c", count: 64), registries: [Self.registry("dev", provider, [])], hiddenValues: [])
        let lines = Lines()
        let every = 2.0
        let made = Date()
        let loop = ReconcileLoop(options: ReconcileLoop.Options(interval: 60, apply: false, fullRefreshEvery: every), git: nil, notifier: nil,
                                 log: lines.writer) { .valid(spec, warnings: []) }
        _ = await loop.runCycle()
        _ = await loop.runCycle()
        // On a machine this busy a cycle may start late; only a check made within the period proves "not yet".
        if Date().timeIntervalSince(made) < every { #expect(provider.fullRefreshRequests.value == 0, "not due yet") }
        try await Task.sleep(nanoseconds: UInt64(every * 1.1 * 1e9))
        _ = await loop.runCycle()
        _ = await loop.runCycle()
        let elapsed = Date().timeIntervalSince(made)
        #expect(provider.fullRefreshRequests.value >= 1)
        #expect(provider.fullRefreshRequests.value <= Int(elapsed / every), "more often than every \(every) s")
        #expect(lines.text.contains("registry 'dev': reading every webhook's secrets, not the observation cache"), "\(lines.text)")
    }


    @Test("readiness: 503 once no cycle has finished within three intervals, ready again after one does")
    func readinessNeedsRecentCycles() async throws {
        let provider = InMemoryProvider()
        let spec = CycleSpec(specDigest: String(repeating: "c", count: 64), registries: [Self.registry("dev", provider, [])], hiddenValues: [])
        let lines = Lines()
        // Three intervals are 1.5 s: wide enough that a busy machine does not fail the checks made right after a cycle.
        let loop = Self.loop(apply: false, lines: lines, interval: 0.5) { .valid(spec, warnings: []) }
        _ = await loop.runCycle()
        #expect(loop.readiness.ready)
        try await Task.sleep(nanoseconds: 1_700_000_000)
        #expect(loop.readiness.ready == false)
        #expect(loop.readiness.reason.contains("no cycle has finished in the last"), "\(loop.readiness.reason)")
        _ = await loop.runCycle()
        #expect(loop.readiness.ready)
    }

    @Test("with no good spec yet, a cycle fails and nothing is touched")
    func noGoodSpec() async {
        let lines = Lines()
        let loop = Self.loop(apply: true, lines: lines) { .invalid(["cannot read 'webhooks.json': no such file"]) }
        let summary = await loop.runCycle()
        #expect(summary.result == "failure" && summary.outcomes.isEmpty)
        #expect(lines.text.contains("nothing to reconcile until it is fixed"))
    }

    @Test("notifications: once per transition, never per cycle")
    func transitions() async {
        let lines = Lines()
        let report = Self.loop(apply: false, lines: lines) { .invalid([]) }
        func outcome(_ names: [String], error: String? = nil) -> RegistryOutcome {
            let changes = names.map { Self.create(Fixture.webhook($0)) }
            return RegistryOutcome(registry: "dev", plan: error == nil ? RegistryPlan(name: "dev", target: "t", changes: changes, unmanaged: []) : nil,
                                   error: error)
        }
        let sequence: [(RegistryOutcome, DriftNotification.Kind?)] = [
            (outcome([]), nil),
            (outcome(["alpha1"]), .driftDetected),
            (outcome(["alpha1"]), nil),
            (outcome(["alpha1", "bravo2"]), .driftDetected),
            (outcome(["alpha1", "bravo2"]), nil),
            (outcome([]), .driftResolved),
            (outcome([]), nil),
            (outcome([], error: "down"), .failed),
            (outcome([], error: "down"), nil),
            (outcome(["alpha1"]), .recovered),
            (outcome(["alpha1"]), nil),
        ]
        for (index, (value, expected)) in sequence.enumerated() {
            #expect(report.transition(value) == expected, "step \(index)")
        }
        let apply = Self.loop(apply: true, lines: lines) { .invalid([]) }
        var corrected = outcome(["alpha1"])
        corrected.applied = corrected.drift.map { ChangeResult(change: $0, outcome: .succeeded, attempts: 1) }
        #expect(apply.transition(corrected) == .driftCorrected)
        #expect(apply.transition(outcome([])) == nil)
        var failedApply = outcome(["alpha1"])
        failedApply.applied = failedApply.drift.map { ChangeResult(change: $0, outcome: .failed(code: "x", message: "refused"), attempts: 3) }
        #expect(apply.transition(failedApply) == .failed)
        #expect(apply.transition(failedApply) == nil)
        #expect(apply.transition(corrected) == .recovered)
    }

    @Test("a notification's text and messages never carry a secret the spec resolved")
    func notificationScrubbed() {
        let lines = Lines()
        let loop = Self.loop(apply: true, lines: lines) { .invalid([]) }
        let secret = "planted-secret-\(UUID().uuidString)"
        let change = ReconcileLoopTests.create(Fixture.webhook("alpha1", uri: "https://h.example.com/x?sig=\(secret)", headers: [("Authorization", secret)]))
        var outcome = RegistryOutcome(registry: "dev", plan: RegistryPlan(name: "dev", target: "t", changes: [change], unmanaged: []))
        outcome.applied = [ChangeResult(change: change, outcome: .failed(code: "x", message: "the server said \(secret)"), attempts: 1)]
        let notification = loop.notification(.failed, outcome, revision: "abc", scrubber: SecretScrubber(secrets: [secret]))
        let encoder = JSONEncoder()
        let body = String(decoding: (try? encoder.encode(notification)) ?? Data(), as: UTF8.self)
        #expect(!body.isEmpty && !body.contains(secret), "\(body)")
        #expect(notification.text.contains("reconciling registry 'dev' failed at revision abc"))
    }

    @Test("a notification's text shows registry-supplied markup literally: no live mention, no disguised link", arguments: [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<https://evil.example.com|portal.azure.com>", "&lt;https://evil.example.com|portal.azure.com&gt;"),
        ("a&b", "a&amp;b"),
        ("&lt;", "&amp;lt;"),
    ])
    func notificationMarkup(_ hostile: String, _ shown: String) {
        let lines = Lines()
        let loop = Self.loop(apply: true, lines: lines) { .invalid([]) }
        let change = ReconcileLoopTests.create(Fixture.webhook("alpha1"))
        var outcome = RegistryOutcome(registry: "dev", plan: RegistryPlan(name: "dev", target: "t", changes: [change], unmanaged: []))
        outcome.applied = [ChangeResult(change: change, outcome: .failed(code: "x", message: "the registry said \(hostile)"), attempts: 1)]
        let notification = loop.notification(.failed, outcome, revision: nil, scrubber: SecretScrubber(secrets: []))
        #expect(notification.text.contains("the registry said \(shown)"), "\(notification.text)")
        #expect(!notification.text.contains("<") && !notification.text.contains(">"), "\(notification.text)")
        // Only the text is markup: the structured fields keep the value as it is.
        #expect(notification.results.first?.message == "the registry said \(hostile)")
    }

    @Test("notifications still queued at shutdown are logged as dropped, each by kind and registry, and the log names scheme, host and port")
    func droppedAtShutdown() async throws {
        let receiver = try LoopbackReceiver(status: 500)
        defer { receiver.stop() }
        let lines = Lines()
        let notifier = try DriftNotifier(url: receiver.url + "/hooks/secret-path", options: DriftNotifier.Options(maxAttempts: 4, firstBackoff: 30, timeout: 2),
                                         log: lines.writer)
        let loop = Self.loop(apply: false, lines: lines) { .invalid([]) }
        let change = ReconcileLoopTests.create(Fixture.webhook("alpha1"))
        for registry in ["one", "two", "three"] {
            let outcome = RegistryOutcome(registry: registry, plan: RegistryPlan(name: registry, target: "t", changes: [change], unmanaged: []))
            notifier.send(loop.notification(.driftDetected, outcome, revision: nil, scrubber: SecretScrubber(secrets: [])))
        }
        await notifier.drain(timeout: 0.3)
        let port = String(receiver.url.split(separator: ":").last ?? "")
        #expect(lines.text.contains("was still being sent at shutdown"), "\(lines.text)")
        for registry in ["two", "three"] {
            #expect(lines.text.contains("dropped the drift_detected notification of registry '\(registry)' to http://127.0.0.1:\(port): still queued at shutdown"), "\(lines.text)")
        }
        #expect(!lines.text.contains("secret-path"))
    }

    @Test("backoff after failures: 1 s, 2 s, 4 s … never above the interval, always within the jitter")
    func backoff() {
        let lines = Lines()
        let loop = ReconcileLoop(options: ReconcileLoop.Options(interval: 10, jitter: 0.1, apply: false), git: nil, notifier: nil, log: lines.writer) { .invalid([]) }
        func summary(_ result: String) -> ReconcileLoop.CycleSummary {
            ReconcileLoop.CycleSummary(number: 1, result: result, outcomes: [], specValid: true, revision: nil, seconds: 0)
        }
        for expected in [1.0, 2, 4, 8, 10, 10] {
            let delay = loop.nextDelay(after: summary("failure"))
            #expect(delay >= expected * 0.9 - 1e-9 && delay <= expected * 1.1 + 1e-9, "\(delay) for \(expected)")
        }
        let delay = loop.nextDelay(after: summary("success"))
        #expect(delay >= 9 && delay <= 11)
        #expect(loop.nextDelay(after: summary("partial")) <= 1.1)
        // Jitter spreads: 200 draws are not all alike.
        let draws = Set((0..<200).map { _ in loop.nextDelay(after: summary("success")) })
        #expect(draws.count > 100)
    }

    @Test("metrics: every family, label values escaped, histogram cumulative")
    func metricsText() {
        let metrics = ReconcileMetrics(version: "0.1.0")
        metrics.revision("abc\"def\\\n")
        metrics.cycleFinished(result: "success", seconds: 0.2)
        metrics.cycleFinished(result: "failure", seconds: 7)
        let text = metrics.render()
        #expect(text.contains(#"hookapply_info{version="0.1.0",revision="abc\"def\\\n"} 1"#), "\(text)")
        for family in ["hookapply_info", "hookapply_spec_valid", "hookapply_reconcile_cycles_total", "hookapply_drift_changes", "hookapply_applied_changes_total",
                       "hookapply_last_success_timestamp_seconds", "hookapply_reconcile_cycle_duration_seconds"] {
            #expect(text.contains("# TYPE \(family) "), "\(family)")
        }
        #expect(text.contains("hookapply_reconcile_cycle_duration_seconds_bucket{le=\"0.1\"} 0"))
        #expect(text.contains("hookapply_reconcile_cycle_duration_seconds_bucket{le=\"0.25\"} 1"))
        #expect(text.contains("hookapply_reconcile_cycle_duration_seconds_bucket{le=\"10\"} 2"))
        #expect(text.contains("hookapply_reconcile_cycle_duration_seconds_bucket{le=\"+Inf\"} 2"))
        #expect(text.contains("hookapply_reconcile_cycle_duration_seconds_count 2"))
        #expect(text.contains("hookapply_reconcile_cycles_total{result=\"partial\"} 0"))
        // Every sample line is `name{labels} value` or `name value`.
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            #expect(line.split(separator: " ").last.flatMap { Double($0) } != nil, "\(line)")
        }
    }
}

@Suite struct GitWorkingCopyTests {
    @Test("credentials in URLs are cut from git's messages", arguments: [
        ("fatal: unable to access 'https://user:ghp_token123@github.com/o/r.git/': 403", "fatal: unable to access 'https://…@github.com/o/r.git/': 403"),
        ("https://x-access-token:abc@host/a and ssh://git:pw@other/b", "https://…@host/a and ssh://…@other/b"),
        ("fatal: repository 'https://github.com/o/r.git/' not found", "fatal: repository 'https://github.com/o/r.git/' not found"),
        ("no url here", "no url here"),
        ("fatal: unable to access 'https://git.example.com/glpat-AbCdEf123456/r.git/': 403", "fatal: unable to access 'https://git.example.com/…/r.git/': 403"),
        ("fatal: 'https://host/api/r.git?private_token=s3cr3tvalue&x=1' failed", "fatal: 'https://host/api/r.git?…' failed"),
        ("remote https://host/0123456789abcdef0123/repo.git gone", "remote https://host/…/repo.git gone"),
        ("https://user:pw@host/ghp_abc/r?token=1", "https://…@host/…/r?…"),
    ])
    func credentials(input: String, expected: String) {
        #expect(GitWorkingCopy.withoutCredentials(input) == expected)
    }

    @Test("a folder that is not a working copy is refused at the start, with what to do")
    func notAWorkingCopy() throws {
        let folder = NSTemporaryDirectory() + "hookapply-git-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let copy = GitWorkingCopy(directory: folder, environment: ProcessInfo.processInfo.environment.merging(["GIT_CEILING_DIRECTORIES": NSTemporaryDirectory()]) { $1 })
        guard case .failure(let failure) = copy.check() else {
            Issue.record("a plain folder passed the check")
            return
        }
        #expect(failure.message.contains("is not in a git working copy") || failure.message.contains("needs the 'git' executable"), "\(failure.message)")
    }
}

/// Delivery health is part of drift: per managed webhook, the newest delivery's outcome and time, and
/// failed attempts counted once however often the log is read; at most once per --delivery-health-every.
@Suite struct DeliveryHealthTests {
    static func record(_ id: String, status: Int?, attempt: Int = 1, at timestamp: String) -> DeliveryRecord {
        DeliveryRecord(id: id, webhook: "alpha1", action: "push", timestamp: timestamp,
                       request: DeliveryRecord.Request(method: "POST", uri: "https://h.example.com/x", headers: [:], body: "{}"),
                       response: status.map { DeliveryRecord.Response(status: $0, headers: [:], body: "", bodyTruncated: false) },
                       error: status == nil ? "connection refused" : nil, durationMilliseconds: 3, attempt: attempt)
    }

    @Test("metrics per managed webhook: last success, its time, failures counted once; only declared webhooks")
    func metrics() async throws {
        let provider = InMemoryProvider()
        let desired = [Fixture.webhook("alpha1"), Fixture.webhook("bravo2")]
        await provider.set(desired.map { var webhook = $0; webhook.tags = [WebhookState.ownerTag: "team"]; return webhook }
                           + [Fixture.state("manual", owner: nil)])
        await provider.setDeliveries([Self.record("e2", status: 500, at: "2026-12-07T10:00:02.500Z"), Self.record("e1", status: 200, at: "2026-12-07T10:00:00Z")], for: "alpha1")
        await provider.setDeliveries([Self.record("e3", status: nil, attempt: 2, at: "2026-12-07T10:00:03Z"), Self.record("e3", status: nil, at: "2026-12-07T10:00:01Z")], for: "bravo2")
        await provider.setDeliveries([Self.record("m1", status: 500, at: "2026-12-07T10:00:00Z")], for: "manual")
        let spec = CycleSpec(specDigest: String(repeating: "a", count: 64), registries: [ReconcileLoopTests.registry("dev", provider, desired)], hiddenValues: [])
        let loop = ReconcileLoop(options: ReconcileLoop.Options(interval: 60, apply: false, deliveryHealthEvery: 0.001), git: nil, notifier: nil,
                                 log: ReconcileLoopTests.Lines().writer) { .valid(spec, warnings: []) }
        _ = await loop.runCycle()
        var text = loop.metrics.render()
        #expect(text.contains("hookapply_webhook_last_delivery_success{registry=\"dev\",webhook=\"alpha1\"} 0"), "\(text)")
        #expect(text.contains("hookapply_webhook_last_delivery_timestamp_seconds{registry=\"dev\",webhook=\"alpha1\"} 1796637602.5"), "\(text)")
        #expect(text.contains("hookapply_webhook_delivery_failures_total{registry=\"dev\",webhook=\"alpha1\"} 1"))
        #expect(text.contains("hookapply_webhook_delivery_failures_total{registry=\"dev\",webhook=\"bravo2\"} 2"), "two attempts of one event")
        #expect(!text.contains("webhook=\"manual\""), "only managed webhooks get series")
        // Read again (the interval has passed): the same failures are not counted twice; a new one is.
        await provider.setDeliveries([Self.record("e4", status: 200, at: "2026-12-07T10:00:05Z"),
                                      Self.record("e2", status: 500, at: "2026-12-07T10:00:02.500Z")], for: "alpha1")
        try await Task.sleep(nanoseconds: 5_000_000)
        _ = await loop.runCycle()
        text = loop.metrics.render()
        #expect(text.contains("hookapply_webhook_last_delivery_success{registry=\"dev\",webhook=\"alpha1\"} 1"), "\(text)")
        #expect(text.contains("hookapply_webhook_delivery_failures_total{registry=\"dev\",webhook=\"alpha1\"} 1"))
    }

    @Test("the logs are read at most once per --delivery-health-every, and never with 0")
    func budget() async throws {
        for (every, reads) in [(3600.0, 2), (0.0, 0)] {
            let provider = InMemoryProvider()
            let desired = [Fixture.webhook("alpha1"), Fixture.webhook("bravo2")]
            let spec = CycleSpec(specDigest: String(repeating: "a", count: 64), registries: [ReconcileLoopTests.registry("dev", provider, desired)], hiddenValues: [])
            let loop = ReconcileLoop(options: ReconcileLoop.Options(interval: 60, apply: false, deliveryHealthEvery: every), git: nil, notifier: nil,
                                     log: ReconcileLoopTests.Lines().writer) { .valid(spec, warnings: []) }
            for _ in 0..<3 { _ = await loop.runCycle() }
            #expect(provider.eventReads.value == reads, "every \(every): \(provider.eventReads.value) reads")
        }
    }
}

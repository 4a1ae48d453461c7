import Foundation
import HookKit
import HookSpec
import Reconciler

/// `hookapply verify`: a ping to every selected, enabled webhook, and a verdict on each receiver from the
/// logged delivery (``DeliveryVerdict``). Nothing in this space checks that a webhook fires; a webhook
/// that exists as declared but whose receiver answers 404 is not done. `apply --verify` runs it for the
/// webhooks an apply created or updated.
enum VerifyCommand {
    static let spec = CommandSpec(
        name: "verify",
        abstract: "Ping every webhook and check that its receiver takes the delivery.",
        discussion: """
            For each selected, enabled webhook of the spec, sends a ping and waits up to --wait for its
            delivery record (Azure: ARM's ping, then listEvents until the ping's event appears; local: the
            delivery itself). Each row gives the result: ok (2xx), refused (another 4xx: some receivers refuse
            pings by design, Keel for one), unauthorized (401/403), not-found (404), server-error (5xx),
            timeout, transport-error, missing (the registry holds no such webhook) or skipped (disabled).
            Exits 1 when any result is a failure (refused too with --strict), 0 otherwise.
            """,
        options: [
            .specFile,
            .armEndpoint,
            OptionSpec(long: "registry", short: "r", valueName: "name", help: "Verify only this registry (repeatable).", isRepeatable: true),
            .target,
            OptionSpec(long: "format", short: "o", valueName: "format", help: "Output format.", allowedValues: OutputFormat.records.names),
            OptionSpec(long: "wait", valueName: "duration", help: "How long to wait for each delivery record, like 30s or 2m (default 30s).",
                       number: .seconds(0.1...3_600)),
            OptionSpec(long: "strict", help: "Count refused (a 4xx other than 401, 403 and 404) as a failure too."),
            .verbose,
        ])

    struct Row: Encodable {
        var registry: String
        var webhook: String
        var result: DeliveryVerdict
        var status: Int?
        var latency_ms: Int?
        /// The status, the transport error or why it was not pinged; scrubbed as the delivery log is.
        var reason: String
        var event_id: String?
    }

    struct Summary: Encodable {
        var ok = 0
        var refused = 0
        var failed = 0
        var skipped = 0
    }

    struct Report: Encodable {
        var passed: Bool
        var summary: Summary
        var results: [Row]
    }

    static func run(_ arguments: ParsedArguments, _ context: Context) async -> ExitCode {
        let reconciliation: Reconciliation
        do {
            // A ping sends what the registry holds, not the spec: none of the spec's secrets is needed.
            reconciliation = try Reconciliation.prepare(arguments, context, readOnly: true, needsSecrets: false)
        } catch {
            return error.code
        }
        let rows = await verify(reconciliation, wait: arguments.seconds("wait") ?? 30)
        reconciliation.reportStatistics(arguments, context)
        let report = Self.report(rows, strict: arguments.has("strict"))
        if OutputFormat.from(arguments) == .json {
            context.standardOutput.write(JSONOutput.encode(report))
        } else {
            render(report, context)
        }
        return report.passed ? .success : .failure
    }

    static func report(_ rows: [Row], strict: Bool) -> Report {
        var summary = Summary()
        for row in rows {
            switch row.result {
            case .ok: summary.ok += 1
            case .skipped: summary.skipped += 1
            case .refused where !strict: summary.refused += 1
            default: summary.failed += 1
            }
        }
        return Report(passed: !rows.contains { $0.result.fails(strict: strict) }, summary: summary, results: rows)
    }

    /// Pings the declared webhooks of the selected registries (the reconciliation's targets only, and only
    /// `only`'s `registry/webhook` names when given), all at once; rows in spec order.
    static func verify(_ reconciliation: Reconciliation, only: Set<String>? = nil, wait: Double) async -> [Row] {
        var work: [(registry: String, webhook: WebhookState, provider: any WebhookProvider)] = []
        let targeted = reconciliation.targets.map { Set($0.map(\.description)) }
        for registry in reconciliation.registries {
            guard let provider = reconciliation.providers[registry.name] else { continue }
            for webhook in registry.webhooks {
                let key = "\(registry.name)/\(webhook.name.lowercased())"
                if let targeted, !targeted.contains(key) { continue }
                if let only, !only.contains(key) { continue }
                work.append((registry.name, webhook, provider))
            }
        }
        let items = work
        let rows = ParallelCollector<Row?>(count: items.count, empty: nil)
        await concurrentForEach(items.count) { index in
            let item = items[index]
            rows.set(index, await row(item.registry, item.webhook, provider: item.provider, wait: wait))
        }
        return rows.values.compactMap { $0 }
    }

    static func row(_ registry: String, _ webhook: WebhookState, provider: any WebhookProvider, wait: Double) async -> Row {
        if webhook.status == .disabled {
            return Row(registry: registry, webhook: webhook.name, result: .skipped, reason: "disabled in the spec")
        }
        let name = webhook.name
        let outcome = await within(wait) { () async -> Result<DeliveryRecord, ProviderError> in
            do {
                if let waiting = provider as? any PingWaiting { return .success(try await waiting.ping(name: name, waitingUpTo: wait)) }
                return .success(try await provider.ping(name: name))
            } catch {
                return .failure(ProviderError.from(error))
            }
        }
        switch outcome {
        case nil:
            return Row(registry: registry, webhook: name, result: .timeout, reason: "no delivery record within \(Seconds.describe(wait))")
        case .success(let record)?:
            let verdict = DeliveryVerdict(record)
            let reason = record.response.map { "answered \($0.status)" } ?? (record.error ?? "no response")
            return Row(registry: registry, webhook: name, result: verdict, status: record.response?.status,
                       latency_ms: record.durationMilliseconds, reason: reason, event_id: record.id)
        case .failure(let error)?:
            let verdict: DeliveryVerdict = switch error.code {
            case .notFound: .missing
            case .pingNotLogged, .timeout: .timeout
            default: .transportError
            }
            return Row(registry: registry, webhook: name, result: verdict, reason: error.message)
        }
    }

    /// `body`'s value, or nil when it takes longer than `seconds` (it is left to finish on its own: a
    /// delivery in flight cannot be taken back, and its record still goes to the log).
    static func within<Value: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async -> Value) async -> Value? {
        await withCheckedContinuation { continuation in
            let resumed = Locked(false)
            @Sendable func finish(_ value: Value?) {
                let first = resumed.withLock { done -> Bool in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: value) }
            }
            Task { finish(await body()) }
            // The deadline runs on a dispatch timer, not in the cooperative pool: deliveries that block
            // its threads (or a busy machine) must not push the timeout back.
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { finish(nil) }
        }
    }

    static func render(_ report: Report, _ context: Context) {
        let style = Style(isEnabled: context.usesColor(terminal: context.isStandardOutputTerminal))
        if report.results.isEmpty {
            context.standardOutput.line("No webhooks to verify.")
            return
        }
        // Names and reasons come from the spec, the registry and the receiver: escaped, never styled raw.
        let rows = report.results.map { row -> [String] in
            [row.registry + "/" + row.webhook, row.result.rawValue, row.status.map(String.init) ?? "-",
             row.latency_ms.map { Seconds.describe(Double($0) / 1000) } ?? "-", row.reason]
        }
        let header = ["WEBHOOK", "RESULT", "STATUS", "LATENCY", "REASON"]
        for (number, padded) in TextTable.padded(header: header, rows: rows).enumerated() {
            var cells = padded
            if number > 0 {
                let verdict = report.results[number - 1].result
                let padded = cells[1]
                cells[1] = verdict == .ok ? style.green(padded) : verdict == .skipped || verdict == .refused ? style.yellow(padded) : style.red(padded)
            }
            context.standardOutput.write(TextTable.line(cells) + "\n")
        }
        let summary = report.summary
        var parts = ["\(summary.ok) ok"]
        if summary.refused > 0 { parts.append("\(summary.refused) refused") }
        parts.append("\(summary.failed) failed")
        if summary.skipped > 0 { parts.append("\(summary.skipped) skipped") }
        context.standardOutput.line("")
        context.standardOutput.write(style.bold("Verify: \(parts.joined(separator: ", ")).") + "\n")
    }
}

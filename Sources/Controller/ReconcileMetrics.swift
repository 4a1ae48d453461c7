import HookKit
import Reconciler

/// What `reconcile` exposes on `/metrics`, in Prometheus' text format (version 0.0.4). Every family is
/// written on every scrape, with zeros, so an alert on a missing series never fires by accident.
public final class ReconcileMetrics: Sendable {
    /// Cycle-duration histogram buckets, in seconds: a local cycle takes milliseconds, an Azure one seconds.
    public static let buckets: [Double] = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]
    public static let cycleResults = ["success", "partial", "failure"]
    public static let actions = ChangeAction.allCases.map(\.rawValue)

    struct State {
        var cycles: [String: Int] = [:]
        var drift: [String: [String: Int]] = [:]
        var unmanaged: [String: Int] = [:]
        var applied: [String: Int] = [:]  // "registry\u{0}action\u{0}result"
        var lastSuccess: [String: Double] = [:]
        var up: [String: Bool] = [:]
        var specValid = true
        var revision = ""
        var bucketCounts = Array(repeating: 0, count: ReconcileMetrics.buckets.count)
        var durationSum = 0.0
        var durationCount = 0
        /// Delivery health, by "registry\u{0}webhook": the newest delivery's outcome and time, failures seen.
        var lastDeliverySuccess: [String: Bool] = [:]
        var lastDeliveryTime: [String: Double] = [:]
        var deliveryFailures: [String: Int] = [:]
        /// Failed attempts already counted (id and attempt), so a log read again counts each once.
        var countedFailures: [String: Set<String>] = [:]
    }

    private let state = Locked(State())
    private let version: String

    public init(version: String) {
        self.version = version
    }

    public func cycleFinished(result: String, seconds: Double) {
        state.withLock { state in
            state.cycles[result, default: 0] += 1
            state.durationSum += seconds
            state.durationCount += 1
            for (index, bound) in Self.buckets.enumerated() where seconds <= bound { state.bucketCounts[index] += 1 }
        }
    }

    public func specValid(_ valid: Bool) { state.withLock { $0.specValid = valid } }
    public func revision(_ revision: String?) { state.withLock { $0.revision = revision ?? "" } }

    /// A registry's cycle: the drift of its current plan, what was applied, and whether it succeeded.
    public func registry(_ outcome: RegistryOutcome, at time: Double) {
        state.withLock { state in
            if let plan = outcome.plan {
                var counts = Dictionary(uniqueKeysWithValues: Self.actions.map { ($0, 0) })
                for change in outcome.remainingDrift { counts[change.action.rawValue, default: 0] += 1 }
                state.drift[outcome.registry] = counts
                state.unmanaged[outcome.registry] = plan.unmanaged.count
            }
            for result in outcome.applied {
                // A change the stopping loop never started was neither done nor failed.
                if result.wasNotStarted { continue }
                state.applied["\(outcome.registry)\u{0}\(result.change.action.rawValue)\u{0}\(result.isSuccess ? "success" : "failure")", default: 0] += 1
            }
            state.up[outcome.registry] = outcome.isSuccess
            if outcome.isSuccess { state.lastSuccess[outcome.registry] = time }
        }
    }

    /// What one read of a webhook's delivery log (newest first) says.
    public func deliveries(registry: String, webhook: String, records: [DeliveryRecord]) {
        let key = registry + "\u{0}" + webhook
        state.withLock { state in
            if let newest = records.first {
                state.lastDeliverySuccess[key] = newest.isSuccess
                if let time = Timestamp.seconds(newest.timestamp) { state.lastDeliveryTime[key] = time }
            }
            var counted = state.countedFailures[key] ?? []
            for record in records where !record.isSuccess && counted.insert("\(record.id)\u{0}\(record.attempt)").inserted {
                state.deliveryFailures[key, default: 0] += 1
            }
            // Bounded: a log is read a page at a time, so older ids never come back.
            if counted.count > 1_000 { counted = Set(records.map { "\($0.id)\u{0}\($0.attempt)" }) }
            state.countedFailures[key] = counted
            if state.deliveryFailures[key] == nil { state.deliveryFailures[key] = 0 }
        }
    }

    /// Only managed webhooks get delivery-health series: one the spec no longer declares disappears.
    public func keepWebhooks(_ registry: String, _ webhooks: Set<String>) {
        state.withLock { state in
            func keep(_ key: String) -> Bool {
                let parts = key.split(separator: "\u{0}", maxSplits: 1, omittingEmptySubsequences: false)
                return parts.first.map(String.init) != registry || webhooks.contains(String(parts.last ?? ""))
            }
            state.lastDeliverySuccess = state.lastDeliverySuccess.filter { keep($0.key) }
            state.lastDeliveryTime = state.lastDeliveryTime.filter { keep($0.key) }
            state.deliveryFailures = state.deliveryFailures.filter { keep($0.key) }
            state.countedFailures = state.countedFailures.filter { keep($0.key) }
        }
    }

    /// Registries no longer in the spec stop being reported (their series disappear, as Prometheus expects).
    public func keepOnly(_ registries: Set<String>) {
        state.withLock { state in
            state.drift = state.drift.filter { registries.contains($0.key) }
            state.unmanaged = state.unmanaged.filter { registries.contains($0.key) }
            state.up = state.up.filter { registries.contains($0.key) }
            state.lastSuccess = state.lastSuccess.filter { registries.contains($0.key) }
            func inSpec(_ key: String) -> Bool { registries.contains(String(key.split(separator: "\u{0}").first ?? "")) }
            state.lastDeliverySuccess = state.lastDeliverySuccess.filter { inSpec($0.key) }
            state.lastDeliveryTime = state.lastDeliveryTime.filter { inSpec($0.key) }
            state.deliveryFailures = state.deliveryFailures.filter { inSpec($0.key) }
        }
    }

    /// The exposition text.
    public func render() -> String {
        let state = self.state.value
        var text = ""
        func family(_ name: String, _ type: String, _ help: String) { text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n" }
        family("hookapply_info", "gauge", "The running hookapply: its version, and the git revision of the spec it last read (with --git-pull).")
        text += "hookapply_info{version=\(Self.label(version)),revision=\(Self.label(state.revision))} 1\n"
        family("hookapply_spec_valid", "gauge", "1 when the spec read in the last cycle was valid; 0 when it was not and the last good one was kept.")
        text += "hookapply_spec_valid \(state.specValid ? 1 : 0)\n"
        family("hookapply_reconcile_cycles_total", "counter", "Reconcile cycles by result: success (every registry), partial (some failed), failure.")
        for result in Self.cycleResults { text += "hookapply_reconcile_cycles_total{result=\(Self.label(result))} \(state.cycles[result] ?? 0)\n" }
        family("hookapply_drift_changes", "gauge", "Drift from the spec after the registry's last cycle, by action: the plan's changes, less those --apply made.")
        for registry in state.drift.keys.sorted() {
            for action in Self.actions {
                text += "hookapply_drift_changes{registry=\(Self.label(registry)),action=\(Self.label(action))} \(state.drift[registry]?[action] ?? 0)\n"
            }
        }
        family("hookapply_unmanaged_webhooks", "gauge", "Webhooks in the registry that the spec does not manage (made by hand, or another owner's).")
        for registry in state.unmanaged.keys.sorted() { text += "hookapply_unmanaged_webhooks{registry=\(Self.label(registry))} \(state.unmanaged[registry] ?? 0)\n" }
        family("hookapply_applied_changes_total", "counter", "Changes applied, by registry, action and result.")
        for key in state.applied.keys.sorted() {
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else { continue }
            text += "hookapply_applied_changes_total{registry=\(Self.label(parts[0])),action=\(Self.label(parts[1])),result=\(Self.label(parts[2]))} \(state.applied[key] ?? 0)\n"
        }
        family("hookapply_registry_up", "gauge", "1 when the registry's last cycle succeeded.")
        for registry in state.up.keys.sorted() { text += "hookapply_registry_up{registry=\(Self.label(registry))} \(state.up[registry] == true ? 1 : 0)\n" }
        family("hookapply_last_success_timestamp_seconds", "gauge", "When the registry's last successful cycle ended, in Unix seconds.")
        for registry in state.lastSuccess.keys.sorted() {
            text += "hookapply_last_success_timestamp_seconds{registry=\(Self.label(registry))} \(Self.number(state.lastSuccess[registry] ?? 0))\n"
        }
        func webhookLabels(_ key: String) -> String {
            let parts = key.split(separator: "\u{0}", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            return "registry=\(Self.label(parts.first ?? "")),webhook=\(Self.label(parts.last ?? ""))"
        }
        family("hookapply_webhook_last_delivery_success", "gauge", "1 when the managed webhook's newest logged delivery got a 2xx, 0 when it did not.")
        for key in state.lastDeliverySuccess.keys.sorted() {
            text += "hookapply_webhook_last_delivery_success{\(webhookLabels(key))} \(state.lastDeliverySuccess[key] == true ? 1 : 0)\n"
        }
        family("hookapply_webhook_last_delivery_timestamp_seconds", "gauge", "When the managed webhook's newest logged delivery was sent, in Unix seconds.")
        for key in state.lastDeliveryTime.keys.sorted() {
            text += "hookapply_webhook_last_delivery_timestamp_seconds{\(webhookLabels(key))} \(Self.number(state.lastDeliveryTime[key] ?? 0))\n"
        }
        family("hookapply_webhook_delivery_failures_total", "counter", "Failed delivery attempts seen in the managed webhook's delivery log, each counted once.")
        for key in state.deliveryFailures.keys.sorted() {
            text += "hookapply_webhook_delivery_failures_total{\(webhookLabels(key))} \(state.deliveryFailures[key] ?? 0)\n"
        }
        family("hookapply_reconcile_cycle_duration_seconds", "histogram", "How long a cycle took, git pull included.")
        for (index, bound) in Self.buckets.enumerated() {
            text += "hookapply_reconcile_cycle_duration_seconds_bucket{le=\(Self.label(Self.number(bound)))} \(state.bucketCounts[index])\n"
        }
        text += "hookapply_reconcile_cycle_duration_seconds_bucket{le=\"+Inf\"} \(state.durationCount)\n"
        text += "hookapply_reconcile_cycle_duration_seconds_sum \(Self.number(state.durationSum))\n"
        text += "hookapply_reconcile_cycle_duration_seconds_count \(state.durationCount)\n"
        return text
    }

    /// A label value, quoted and escaped as the format requires (backslash, double quote, line feed).
    static func label(_ value: String) -> String {
        var result = "\""
        for character in value {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result + "\""
    }

    /// A sample value: whole numbers without a fraction, others as Swift prints a Double.
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

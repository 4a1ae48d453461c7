import HookKit

/// What `/metrics` counts, one Prometheus counter each (`hookapply_events_<name>_total`).
public enum DeliveryMetric: String, CaseIterable, Hashable, Sendable {
    case received
    case forwarded
    case delivered
    case failed
    case retried
    case dropped
    /// Events of the registry that no webhook format carries (blob uploads, pulls, mounts).
    case ignored
    /// Deliveries given up and kept as dead letters.
    case deadLettered = "dead_lettered"
    /// Dead letters queued again by `serve replay`.
    case replayed

    /// The counter's HELP text.
    public var help: String {
        switch self {
        case .received: "Events received from the registry"
        case .forwarded: "Deliveries started"
        case .delivered: "Deliveries answered with 2xx"
        case .failed: "Deliveries given up after the last attempt (logged as gave up)"
        case .retried: "Delivery attempts retried"
        case .dropped: "Deliveries dropped: the webhook was disabled or changed after the event arrived"
        case .ignored: "Registry events not forwarded because ACR has no such event (blob uploads, pulls, mounts)"
        case .deadLettered: "Deliveries given up and kept as dead letters for hookapply serve replay"
        case .replayed: "Dead letters queued again by hookapply serve replay"
        }
    }
}

/// Counters for `/metrics`.
public struct DeliveryMetrics: Sendable {
    private let values = Locked<[DeliveryMetric: Int]>([:])

    public init() {}

    public func add(_ metric: DeliveryMetric, _ amount: Int = 1) { values.withLock { $0[metric, default: 0] += amount } }
    public func value(_ metric: DeliveryMetric) -> Int { values.value[metric] ?? 0 }
}

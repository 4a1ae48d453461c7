import HookKit
import HookSpec

/// Says how many webhooks `serve` delivers to, at start and whenever the local registry's webhooks
/// change, and warns when that is none, or fewer than the spec declares: events that match no webhook
/// are dropped, so a serve started before `hookapply apply` would otherwise drop them in silence.
public final class WebhookWatch: Sendable {
    private let declared: Int
    private let log: @Sendable (LogEntry) -> Void
    /// What was seen last; nil before the first look.
    private let last = Locked<Seen?>(nil)

    private struct Seen: Sendable {
        /// Kept so that its storage cannot be reused by another array while compared.
        var webhooks: [WebhookState]
        /// Lowercased.
        var names: Set<String>
    }

    public init(declared: Int, log: @escaping @Sendable (LogEntry) -> Void) {
        self.declared = declared
        self.log = log
    }

    /// Called with the webhooks each time they are read; logs only when they changed.
    public func saw(_ webhooks: [WebhookState]) {
        // Called for every batch: the same array as last time (a provider that did not re-read its file)
        // has the same names, without lowercasing them all again.
        if last.withLock({ $0?.webhooks.hasSameStorage(as: webhooks) ?? false }) { return }
        let names = Set(webhooks.map { $0.name.lowercased() })
        let previous = last.withLock { last -> Set<String>?? in
            let before = last?.names
            last = Seen(webhooks: webhooks, names: names)
            return before == names ? .none : .some(before)
        }
        guard case .some(let before) = previous else { return }
        let active = webhooks.filter { $0.status == .enabled }.count
        var message = "\(names.count) webhook\(names.count == 1 ? "" : "s") in the local registry, \(active) enabled"
        if let before { message += " (was \(before.count))" }
        log(LogEntry(.info, "webhooks.changed", message, [("webhooks", names.count), ("enabled", active)]))
        if names.isEmpty {
            log(LogEntry(.warning, "webhooks.none",
                         "the local registry has no webhooks, so every event is dropped; run `hookapply apply` first", [("declared", declared)]))
        } else if names.count < declared {
            log(LogEntry(.warning, "webhooks.missing",
                         "the local registry holds \(names.count) of the \(declared) webhooks the spec declares; run `hookapply apply` to create the rest",
                         [("webhooks", names.count), ("declared", declared)]))
        }
    }
}

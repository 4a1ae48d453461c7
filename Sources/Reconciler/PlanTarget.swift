/// `--target REGISTRY/WEBHOOK`: one webhook a plan is narrowed to, as terraform's `-target` narrows to
/// one resource. Webhook names compare case-insensitively, so the name is kept lowercased.
public struct PlanTarget: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var registry: String
    /// Lowercased.
    public var webhook: String

    public init(registry: String, webhook: String) {
        self.registry = registry
        self.webhook = webhook.lowercased()
    }

    /// `REGISTRY/WEBHOOK`, both parts non-empty, one slash; nil otherwise.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        self.init(registry: String(parts[0]), webhook: String(parts[1]))
    }

    public var description: String { "\(registry)/\(webhook)" }

    public static func < (lhs: PlanTarget, rhs: PlanTarget) -> Bool { lhs.description < rhs.description }
}

import HookKit
import HookSpec

/// A registry's webhooks arranged for matching: serve matches every event of every batch, and scanning
/// every webhook's scope for each event was a twentieth of its CPU with 200 webhooks. Only the enabled
/// webhooks whose scope names the event's repository, and those with no scope, are looked at; each of
/// those is then checked by ``WebhookMatcher`` itself, so the index only narrows and never decides
/// (a property test holds it to the plain scan).
public struct WebhookIndex: Sendable {
    public let webhooks: [WebhookState]
    /// Enabled webhooks by the repository their scope names (the part before `:`), in webhook order.
    private let byRepository: [String: [Int]]
    /// Enabled webhooks with an empty scope (every repository), in webhook order.
    private let everywhere: [Int]

    public init(_ webhooks: [WebhookState]) {
        self.webhooks = webhooks
        var byRepository: [String: [Int]] = [:]
        var everywhere: [Int] = []
        for (index, webhook) in webhooks.enumerated() where webhook.status == .enabled {
            let bytes = webhook.scope.utf8
            if bytes.isEmpty {
                everywhere.append(index)
            } else {
                let end = bytes.firstIndex(of: UInt8(ascii: ":")) ?? bytes.endIndex
                byRepository[String(decoding: bytes[..<end], as: UTF8.self), default: []].append(index)
            }
        }
        self.byRepository = byRepository
        self.everywhere = everywhere
    }

    /// The positions of the webhooks `notification` goes to, in webhook order: what
    /// ``WebhookMatcher/indices(for:among:)`` returns for ``webhooks``.
    public func indices(for notification: RegistryNotification) -> [Int] {
        let named = byRepository[notification.repository] ?? []
        // Merge two ascending lists, keeping webhook order.
        var candidates: [Int] = []
        candidates.reserveCapacity(named.count + everywhere.count)
        var left = 0
        var right = 0
        while left < named.count || right < everywhere.count {
            if right == everywhere.count || (left < named.count && named[left] < everywhere[right]) {
                candidates.append(named[left])
                left += 1
            } else {
                candidates.append(everywhere[right])
                right += 1
            }
        }
        return candidates.filter { WebhookMatcher.matches(notification, webhooks[$0]) }
    }

    /// Whether `other` is the very array this index was built from (the same storage, so the same
    /// webhooks): a provider that has not re-read its state hands out the array it holds, and the
    /// index is then reused instead of rebuilt.
    public func isBuilt(from other: [WebhookState]) -> Bool { webhooks.hasSameStorage(as: other) }
}

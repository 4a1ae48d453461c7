/// What a change does to one webhook.
public enum ChangeAction: String, Hashable, Sendable, Codable, CaseIterable {
    case create
    case update
    case delete
    /// Delete, then create: a change that cannot be made in place (an Azure webhook's location).
    case replace

    /// Execution order within a registry: deletes first frees the tier's quota for creates.
    var order: Int {
        switch self {
        case .delete: 0
        case .replace: 1
        case .update: 2
        case .create: 3
        }
    }

    /// The action list of terraform's JSON plan: replace is delete then create.
    public var steps: [String] {
        self == .replace ? ["delete", "create"] : [rawValue]
    }
}

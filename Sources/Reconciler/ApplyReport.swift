/// What happened to one change.
public struct ChangeResult: Hashable, Sendable, Codable {
    public enum Outcome: Hashable, Sendable, Codable {
        case succeeded
        case failed(code: String, message: String)
        /// Not attempted, because something it depends on failed (a replacement's delete).
        case skipped(reason: String)
    }

    public var change: Change
    public var outcome: Outcome
    /// Attempts made, retries included (0 when skipped).
    public var attempts: Int

    public init(change: Change, outcome: Outcome, attempts: Int) {
        self.change = change
        self.outcome = outcome
        self.attempts = attempts
    }

    public var isSuccess: Bool { outcome == .succeeded }
    public var retries: Int { max(0, attempts - (change.action == .replace ? 2 : 1)) }
}

extension ChangeResult {
    /// Not attempted because the apply was interrupted (Ctrl-C, SIGTERM): nothing went wrong with it.
    public var wasNotStarted: Bool {
        if case .skipped(let reason) = outcome { return reason == Applier.interruptedReason }
        return false
    }
}

/// The result of an apply: every change with its outcome, in plan order.
public struct ApplyReport: Hashable, Sendable, Codable {
    public var results: [ChangeResult]

    public init(results: [ChangeResult]) {
        self.results = results
    }

    public var failures: [ChangeResult] { results.filter { !$0.isSuccess } }
    public var isSuccess: Bool { failures.isEmpty }
    public var retries: Int { results.reduce(0) { $0 + $1.retries } }

    /// Counts of what was done (a replacement counts as a create and a delete).
    public var done: Plan.Summary {
        Plan.Summary(counting: results.filter(\.isSuccess).map(\.change.action))
    }
}

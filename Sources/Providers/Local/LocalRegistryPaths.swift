/// Every file of a local registry, derived in one place from its state file's path, so the provider,
/// `serve` and the docs never disagree about a name.
///
/// For `.hookapply/dev.json`: the lock `.hookapply/dev.json.lock`, the delivery log
/// `.hookapply/dev.events.jsonl`, serve's queue `.hookapply/dev.queue.jsonl`, its dead letters `.hookapply/dev.queue.dead.jsonl`, and temporary files of
/// atomic writes `.hookapply/dev.json.tmp-<pid>-<random>`.
public struct LocalRegistryPaths: Hashable, Sendable {
    /// The state file, absolute.
    public var state: String

    public init(state: String) {
        self.state = state
    }

    /// The state path without a trailing `.json`, the stem the log and queue names grow from.
    private var stem: String { state.hasSuffix(".json") ? String(state.dropLast(5)) : state }

    /// Held by `apply` for its whole run.
    public var lock: String { state + ".lock" }
    /// Every delivery attempt, one JSON line each (what `events` reads).
    public var events: String { stem + ".events.jsonl" }
    /// `serve`'s durable delivery queue.
    public var queue: String { stem + ".queue.jsonl" }
    /// Deliveries `serve` gave up on, kept for `serve replay`.
    public var deadLetters: String { stem + ".queue.dead.jsonl" }
}

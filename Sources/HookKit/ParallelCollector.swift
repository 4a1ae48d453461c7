/// Results of work spread over cores with `DispatchQueue.concurrentPerform`, one slot per index.
///
/// Each slot is written once and read after the loop. Values are stored, never returned through
/// generic concurrency plumbing (see ConcurrentForEach.swift for the toolchain problem that avoids).
public struct ParallelCollector<Value: Sendable>: Sendable {
    private let slots: Locked<[Value]>

    public init(count: Int, empty: Value) {
        slots = Locked(Array(repeating: empty, count: count))
    }

    public func set(_ index: Int, _ value: Value) {
        slots.withLock { $0[index] = value }
    }

    public var values: [Value] { slots.value }
}

import Foundation

/// Results of work spread over cores with `DispatchQueue.concurrentPerform`, one slot per index.
///
/// A class with a lock rather than unsafe shared buffers: each slot is written once, read after the
/// loop. Values are stored with concrete types at each use; the project avoids passing composite
/// values through generic concurrency plumbing (see Reconciler's concurrentForEach for why).
public final class ParallelCollector<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Value]

    public init(count: Int, empty: Value) {
        slots = Array(repeating: empty, count: count)
    }

    public func set(_ index: Int, _ value: Value) {
        lock.lock()
        slots[index] = value
        lock.unlock()
    }

    public var values: [Value] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}

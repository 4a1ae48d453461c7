import Synchronization

/// The one box for state shared between threads and tasks: a value behind `Synchronization.Mutex`.
///
/// Types that share mutable state hold a `Locked` (or several) instead of an `NSLock` and
/// `@unchecked Sendable` of their own, so the compiler checks them and there is one lock to audit.
/// Work inside ``withLock(_:)`` must be short and must never await or block on I/O.
///
/// Generic on purpose, and safe under the Swift 6.3.1 release-mode miscompile described in
/// ConcurrentForEach.swift: that bit values returned through task groups, not values kept in a box
/// (scripts/release-smoke.sh exercises both in an optimised build).
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) {
        mutex = Mutex(value)
    }

    /// Runs `body` with exclusive access to the value.
    @discardableResult
    public func withLock<Result: Sendable>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try mutex.withLock { value in try body(&value) }
    }

    /// A copy of the value.
    public var value: Value { mutex.withLock { $0 } }

    /// Replaces the value.
    public func set(_ newValue: Value) { mutex.withLock { $0 = newValue } }
}

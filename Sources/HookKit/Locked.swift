#if canImport(Glibc)
import Glibc
#endif

/// The one box for state shared between threads and tasks: a value behind a mutex.
///
/// Types that share mutable state hold a `Locked` (or several) instead of an `NSLock` and
/// `@unchecked Sendable` of their own, so there is one lock to audit: this one.
/// Work inside ``withLock(_:)`` must be short and must never await or block on I/O.
///
/// A glibc `pthread_mutex_t`, not `Synchronization.Mutex`: on Linux the latter spins before it sleeps,
/// and with more threads than cores (serve's connections, lanes and clients on two cores) the spinning
/// took a quarter of serve's CPU in `perf` (`_MutexHandle._lockSlow`); glibc's default mutex sleeps in
/// the kernel at once. `hookapply-bench --only serve-loop` measures the difference.
///
/// Generic on purpose, and safe under the Swift 6.3.1 release-mode miscompile described in
/// ConcurrentForEach.swift: that bit values returned through task groups, not values kept in a box
/// (scripts/release-smoke.sh exercises both in an optimised build).
public final class Locked<Value: Sendable>: @unchecked Sendable {
    // Every access to `stored` is between lock and unlock of `mutex`, which is allocated once and never
    // moves (a pthread mutex must not be copied).
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var stored: Value

    public init(_ value: Value) {
        mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        stored = value
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value.
    @discardableResult
    public func withLock<Result: Sendable>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&stored)
    }

    /// A copy of the value.
    public var value: Value { withLock { $0 } }

    /// Replaces the value.
    public func set(_ newValue: Value) { withLock { $0 = newValue } }
}

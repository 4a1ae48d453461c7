/// A flag one async loop waits on, raised from any thread: the waiter resumes at once, or its next
/// ``wait()`` returns at once if the flag went up while it was busy. Raising twice before a wait
/// wakes it once (the loop then does everything pending, so one wake-up covers both).
///
/// Why not a sleep-and-check loop: a loop that looks every 20 ms adds 10 ms on average to every event
/// `serve` delivers, and it wakes fifty times a second with nothing to do.
public final class WakeSignal: Sendable {
    private struct State: Sendable {
        var raised: Bool
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state: Locked<State>

    /// - Parameter raised: true to have the first ``wait()`` return at once.
    public init(raised: Bool = false) {
        state = Locked(State(raised: raised, waiter: nil))
    }

    /// Wakes the waiter, or leaves the flag up for the next ``wait()``.
    public func raise() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.raised = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()  // outside the lock: resuming runs no code of ours, but keeps the lock short
    }

    /// Returns once the flag is up, and lowers it. One waiter at a time: a second concurrent waiter
    /// would replace the first, which is a programming error this type does not guard against.
    public func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.raised {
                    state.raised = false
                    return true
                }
                state.waiter = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }
}

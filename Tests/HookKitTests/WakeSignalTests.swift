import Foundation
import Testing

@testable import HookKit

/// The wake-up `serve`'s delivery loop waits on: no lost wake-ups, and no spurious ones.
@Suite(.timeLimit(.minutes(1))) struct WakeSignalTests {
    @Test("a flag raised before the wait makes the wait return at once, and is lowered by it")
    func raisedBefore() async {
        let signal = WakeSignal()
        signal.raise()
        await signal.wait()
        #expect(await Self.waitsForTheNextRaise(signal), "the first wait lowered the flag: the second must wait for a new raise")
    }

    /// Starts a wait, sees that it is still waiting a moment later, raises, and returns whether it was
    /// still waiting until then (it must then wake: a lost wake-up hangs the test).
    static func waitsForTheNextRaise(_ signal: WakeSignal) async -> Bool {
        let woke = Locked(false)
        let waiter = Task {
            await signal.wait()
            woke.set(true)
        }
        try? await Task.sleep(nanoseconds: 50_000_000)
        let waited = !woke.value
        signal.raise()
        await waiter.value
        return waited && woke.value
    }

    @Test("raised up front by the initialiser")
    func raisedAtStart() async {
        await WakeSignal(raised: true).wait()  // would hang until the time limit if not
    }

    @Test("two raises before a wait wake it once")
    func coalesces() async {
        let signal = WakeSignal()
        signal.raise()
        signal.raise()
        await signal.wait()
        #expect(await Self.waitsForTheNextRaise(signal))
    }

    @Test("raises from many threads while the waiter loops: every round that raises wakes it, none is lost")
    func noLostWakeUps() async {
        let signal = WakeSignal()
        let rounds = 2_000
        let consumed = Locked(0)
        let produced = Locked(0)
        let waiter = Task {
            // Each wait covers every raise made before it; the producer raises after each increment,
            // so once the waiter has seen `rounds`, it has been woken for the last raise.
            while consumed.value < rounds {
                await signal.wait()
                consumed.set(produced.value)
            }
        }
        await concurrentForEach(4) { _ in
            for _ in 0..<(rounds / 4) {
                produced.withLock { $0 += 1 }
                signal.raise()
            }
        }
        await waiter.value
        #expect(consumed.value == rounds)
    }
}

import Foundation

/// The two crossings between Swift's cooperative pool and blocking code, in one place.
///
/// The pool has one thread per core (two here), so blocking calls (sockets, sleeps on a semaphore) must
/// never run on it; and blocking code on its own thread sometimes needs an async function. Nothing
/// travels back through either crossing: results go into a class the caller owns (see
/// ConcurrentForEach.swift for the release-mode problem with composite values).
public enum BlockingBridge {
    /// Runs `body` on a thread of its own and resumes the caller when it returns.
    public static func onOwnThread(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread {
                body()
                continuation.resume()
            }.start()
        }
    }

    /// Runs `body` as a task and blocks the calling thread until it finishes. Never call it from the pool.
    public static func wait(for body: @escaping @Sendable () async -> Void) {
        let done = DispatchSemaphore(value: 0)
        Task {
            await body()
            done.signal()
        }
        done.wait()
    }
}

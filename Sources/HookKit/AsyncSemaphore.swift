/// A counting semaphore for async code: bounds how many changes run at once across every registry.
public actor AsyncSemaphore {
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init(_ count: Int) {
        self.available = max(1, count)
    }

    public func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    public func release() {
        if waiters.isEmpty {
            available += 1
        } else {
            // Hand the permit straight to the next waiter: the count stays the same.
            waiters.removeFirst().resume()
        }
    }
}

import HookKit

/// Exponential backoff with full jitter, honouring a provider's retry-after, for a bounded number of attempts.
///
/// Sleeping and randomness are injected so that tests run instantly and deterministically.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double
    public var sleep: @Sendable (Double) async -> Void
    /// The longest a provider's retry-after is honoured (5 minutes).
    public static let maxRetryAfter: Double = 300
    /// A uniformly random number in `0...upperBound`.
    public var random: @Sendable (Double) -> Double

    public init(
        maxAttempts: Int = 5, baseDelay: Double = 0.5, maxDelay: Double = 30,
        sleep: @escaping @Sendable (Double) async -> Void = RetryPolicy.taskSleep,
        random: @escaping @Sendable (Double) -> Double = { Double.random(in: 0...max($0, 0)) }
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.sleep = sleep
        self.random = random
    }

    /// The wait before attempt `attempt + 1`: full jitter over an exponential ceiling (AWS's "full jitter"),
    /// but never less than what the provider asked for, and never more than ``maxDelay`` unless it asked.
    public func delay(afterAttempt attempt: Int, retryAfter: Double?) -> Double {
        let ceiling = min(maxDelay, baseDelay * pow2(attempt - 1))
        let jittered = random(ceiling)
        guard let retryAfter else { return jittered }
        // A provider's wish is honoured up to a bound: a hostile or broken one must not park us for days.
        return max(min(Self.maxRetryAfter, Seconds.clamped(retryAfter)), jittered)
    }

    public static let taskSleep: @Sendable (Double) async -> Void = { seconds in
        guard seconds > 0 else { return }
        try? await Task.sleep(nanoseconds: Seconds.nanoseconds(seconds))
    }

    private func pow2(_ exponent: Int) -> Double {
        var value = 1.0
        for _ in 0..<max(0, min(exponent, 30)) { value *= 2 }
        return value
    }

    /// Runs `operation`, retrying retryable failures. Returns the outcome and how many attempts it took.
    public func run(_ operation: () async throws -> Void) async -> (error: ProviderError?, attempts: Int) {
        var attempt = 1
        while true {
            do {
                try await operation()
                return (nil, attempt)
            } catch {
                let error = ProviderError.from(error)
                if !error.isRetryable || attempt >= maxAttempts { return (error, attempt) }
                await sleep(delay(afterAttempt: attempt, retryAfter: error.retryAfter))
                attempt += 1
            }
        }
    }
}

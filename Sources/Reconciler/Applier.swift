import HookKit
import HookSpec

/// Executes a ``Plan`` through providers: per registry deletes, then updates, then creates (freeing the
/// tier's quota first), independent changes concurrently up to one bound shared by every registry.
///
/// A failed change does not stop the others; retryable failures are retried by the ``RetryPolicy``.
/// Only this type calls provider mutations.
public struct Applier: Sendable {
    public var parallelism: Int
    public var retryPolicy: RetryPolicy

    public init(parallelism: Int = 10, retryPolicy: RetryPolicy = RetryPolicy()) {
        self.parallelism = max(1, parallelism)
        self.retryPolicy = retryPolicy
    }

    /// - Parameter onResult: called as each change finishes (for progress lines), from any task.
    public func apply(
        _ plan: Plan, providers: [String: any WebhookProvider],
        onResult: @escaping @Sendable (ChangeResult) -> Void = { _ in }
    ) async -> ApplyReport {
        let semaphore = AsyncSemaphore(parallelism)
        let policy = retryPolicy
        let work = plan.registries.filter { !$0.changes.isEmpty }
        let collected = Locked<[ChangeResult]>([])
        await concurrentForEach(work.count) { index in
            let registry = work[index]
            guard let provider = providers[registry.name] else {
                let failed = registry.changes.map {
                    ChangeResult(change: $0, outcome: .failed(code: ProviderError.Code.noProvider.rawValue,
                                                              message: "no provider for registry '\(registry.name)'"), attempts: 0)
                }
                collected.withLock { $0 += failed }
                return
            }
            let results = await Self.apply(registry, provider: provider, semaphore: semaphore, policy: policy, onResult: onResult)
            collected.withLock { $0 += results }
        }
        let results = collected.value
        // Report in plan order, whatever order the tasks finished in.
        let order = Dictionary(plan.changes.enumerated().map { ("\($0.element.registry)\u{0}\($0.element.webhook)", $0.offset) },
                               uniquingKeysWith: { first, _ in first })
        return ApplyReport(results: results.sorted {
            (order["\($0.change.registry)\u{0}\($0.change.webhook)"] ?? 0) < (order["\($1.change.registry)\u{0}\($1.change.webhook)"] ?? 0)
        })
    }

    private static func apply(
        _ registry: RegistryPlan, provider: any WebhookProvider, semaphore: AsyncSemaphore, policy: RetryPolicy,
        onResult: @escaping @Sendable (ChangeResult) -> Void
    ) async -> [ChangeResult] {
        var results: [ChangeResult] = []
        // Phase 1: deletes, and the delete half of each replacement.
        let removals = registry.changes.filter { $0.action == .delete || $0.action == .replace }
        let removed = await runConcurrently(removals, semaphore: semaphore) { change in
            await policy.run { () async throws in try await provider.delete(name: change.webhook) }
        }
        var replaceDeleteAttempts: [String: Int] = [:]
        for (change, outcome) in removed {
            if change.action == .replace, outcome.error == nil {
                replaceDeleteAttempts[change.webhook] = outcome.attempts
                continue
            }
            let result = ChangeResult(change: change, outcome: outcome.error.map { .failed(code: $0.code.rawValue, message: $0.message) } ?? .succeeded,
                                      attempts: outcome.attempts)
            onResult(result)
            results.append(result)
        }
        // Phase 2: updates.
        let updates = registry.changes.filter { $0.action == .update }
        let updated = await runConcurrently(updates, semaphore: semaphore) { change in
            guard let desired = change.desired else { return (missingDesired(change), 0) }
            return await policy.run { () async throws in
                try await provider.update(desired, changedFields: change.changedFields)
            }
        }
        for (change, outcome) in updated {
            let result = ChangeResult(change: change, outcome: outcome.error.map { .failed(code: $0.code.rawValue, message: $0.message) } ?? .succeeded,
                                      attempts: outcome.attempts)
            onResult(result)
            results.append(result)
        }
        // Phase 3: creates, and the create half of replacements whose delete succeeded.
        let additions = registry.changes.filter { $0.action == .create || ($0.action == .replace && replaceDeleteAttempts[$0.webhook] != nil) }
        let added = await runConcurrently(additions, semaphore: semaphore) { change in
            guard let desired = change.desired else { return (missingDesired(change), 0) }
            return await policy.run { () async throws in try await provider.create(desired) }
        }
        for (change, outcome) in added {
            let attempts = outcome.attempts + (replaceDeleteAttempts[change.webhook] ?? 0)
            var outcomeValue: ChangeResult.Outcome = outcome.error.map { .failed(code: $0.code.rawValue, message: $0.message) } ?? .succeeded
            if change.action == .replace, let error = outcome.error {
                outcomeValue = .failed(code: error.code.rawValue, message: "deleted, but creating it again failed: \(error.message); run apply again to create it")
            }
            let result = ChangeResult(change: change, outcome: outcomeValue, attempts: attempts)
            onResult(result)
            results.append(result)
        }
        return results
    }

    private static func missingDesired(_ change: Change) -> ProviderError {
        .fatal(.noDesiredState,
               "the plan for '\(change.webhook)' carries no desired state; plans read from a file are re-made before applying")
    }

    /// Runs `body` for every change at once, each holding a permit of the shared semaphore.
    private static func runConcurrently(
        _ changes: [Change], semaphore: AsyncSemaphore,
        _ body: @escaping @Sendable (Change) async -> (error: ProviderError?, attempts: Int)
    ) async -> [(Change, (error: ProviderError?, attempts: Int))] {
        // Errors and attempt counts in two concrete arrays: nothing composite travels through the task group.
        let errors = Locked<[ProviderError?]>(Array(repeating: nil, count: changes.count))
        let attempts = Locked<[Int]>(Array(repeating: 0, count: changes.count))
        await concurrentForEach(changes.count) { index in
            await semaphore.acquire()
            let outcome = await body(changes[index])
            await semaphore.release()
            errors.withLock { $0[index] = outcome.error }
            attempts.withLock { $0[index] = outcome.attempts }
        }
        let finalErrors = errors.value
        let finalAttempts = attempts.value
        return changes.indices.map { (changes[$0], (finalErrors[$0], finalAttempts[$0])) }
    }
}

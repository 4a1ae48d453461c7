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

    /// - Parameters:
    ///   - shouldStop: asked before each change starts; once it says true (an interrupt), changes not yet
    ///     started are reported as skipped and only those in flight finish. The create half of a
    ///     replacement whose delete went through is in flight: stopping there would lose the webhook.
    ///   - onResult: called as each change finishes (for progress lines), from any task.
    public func apply(
        _ plan: Plan, providers: [String: any WebhookProvider],
        shouldStop: @escaping @Sendable () -> Bool = { false },
        onStart: @escaping @Sendable (Change) -> Void = { _ in },
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
            let run = Run(provider: provider, semaphore: semaphore, policy: policy, shouldStop: shouldStop, onStart: onStart, onResult: onResult)
            let results = await run.apply(registry)
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

    /// What one step of a change came to.
    enum StepOutcome: Sendable {
        case done(error: ProviderError?, attempts: Int)
        /// Not started: the apply was interrupted first.
        case notStarted

        var error: ProviderError? { if case .done(let error, _) = self { error } else { nil } }
        var attempts: Int { if case .done(_, let attempts) = self { attempts } else { 0 } }
    }

    public static let interruptedReason = "not started: the apply was interrupted"

    /// One registry's changes through one provider.
    struct Run: Sendable {
        var provider: any WebhookProvider
        var semaphore: AsyncSemaphore
        var policy: RetryPolicy
        var shouldStop: @Sendable () -> Bool
        var onStart: @Sendable (Change) -> Void
        var onResult: @Sendable (ChangeResult) -> Void

        /// The provider's batch, when it gathers writes (see ``BatchCommitting``).
        var batch: (any BatchCommitting)? { provider as? any BatchCommitting }

        /// Commits a phase's writes; when that fails, every change of the phase that had succeeded in memory
        /// fails with the reason (nothing of it reached the registry), and the batch starts over from disk.
        func committed(_ steps: [(Change, StepOutcome)]) async -> [(Change, StepOutcome)] {
            guard let batch, steps.contains(where: { if case .done(nil, _) = $0.1 { true } else { false } }) else { return steps }
            do {
                try await batch.commitBatch()
                return steps
            } catch {
                let failure = ProviderError.from(error)
                batch.endBatch()
                batch.beginBatch()
                return steps.map { change, step in
                    guard case .done(nil, let attempts) = step else { return (change, step) }
                    return (change, .done(error: ProviderError(failure.kind, code: failure.code, "not saved: \(failure.message)"), attempts: attempts))
                }
            }
        }

        func apply(_ registry: RegistryPlan) async -> [ChangeResult] {
            batch?.beginBatch()
            defer { batch?.endBatch() }
            var results: [ChangeResult] = []
            let provider = self.provider
            let policy = self.policy
            func finish(_ change: Change, _ outcome: ChangeResult.Outcome, attempts: Int) {
                let result = ChangeResult(change: change, outcome: Applier.scrubbed(outcome, for: change), attempts: attempts)
                onResult(result)
                results.append(result)
            }
            func outcome(_ step: StepOutcome) -> ChangeResult.Outcome {
                switch step {
                case .notStarted: .skipped(reason: Applier.interruptedReason)
                case .done(let error?, _): .failed(code: error.code.rawValue, message: error.message)
                case .done(nil, _): .succeeded
                }
            }
            // Phase 1: deletes, and the delete half of each replacement.
            let removals = registry.changes.filter { $0.action == .delete || $0.action == .replace }
            let removed = await committed(await runConcurrently(removals) { change in
                await policy.run { () async throws in try await provider.delete(name: change.webhook) }
            })
            var replaceDeleteAttempts: [String: Int] = [:]
            for (change, step) in removed {
                if change.action == .replace, case .done(nil, let attempts) = step {
                    replaceDeleteAttempts[change.webhook] = attempts
                    continue
                }
                finish(change, outcome(step), attempts: step.attempts)
            }
            // Phase 2: updates.
            let updates = registry.changes.filter { $0.action == .update }
            let updated = await committed(await runConcurrently(updates) { change in
                guard let desired = change.desired else { return (Applier.missingDesired(change), 0) }
                return await policy.run { () async throws in
                    try await provider.update(desired, changedFields: change.changedFields)
                }
            })
            for (change, step) in updated { finish(change, outcome(step), attempts: step.attempts) }
            // Phase 3: creates, and the create half of replacements whose delete succeeded (those run even
            // after an interrupt: their webhook is already gone).
            let additions = registry.changes.filter { $0.action == .create || ($0.action == .replace && replaceDeleteAttempts[$0.webhook] != nil) }
            let added = await committed(await runConcurrently(additions, mustRun: { $0.action == .replace }) { change in
                guard let desired = change.desired else { return (Applier.missingDesired(change), 0) }
                return await policy.run { () async throws in try await provider.create(desired) }
            })
            for (change, step) in added {
                let attempts = step.attempts + (replaceDeleteAttempts[change.webhook] ?? 0)
                guard change.action == .replace, let error = step.error else {
                    finish(change, outcome(step), attempts: attempts)
                    continue
                }
                finish(change, await restore(change, after: error), attempts: attempts)
            }
            return results
        }

        /// A replacement's create failed after its delete: put the observed webhook back, secrets and all,
        /// so that a failed apply never leaves a registry with fewer webhooks than it had.
        func restore(_ change: Change, after error: ProviderError) async -> ChangeResult.Outcome {
            let code = error.code.rawValue
            guard let previous = change.previous else {
                return .failed(code: code, message: "deleted, but creating it again failed: \(error.message); webhook '\(change.webhook)' is now missing; run apply again to create it")
            }
            await semaphore.acquire()
            let provider = self.provider
            let batch = self.batch
            let restored = await policy.run { () async throws in
                try await provider.create(previous)
                try await batch?.commitBatch()  // a restore counts only once it is written
            }
            await semaphore.release()
            if let restoreError = restored.error {
                return .failed(code: code, message: "deleted, but creating it again failed: \(error.message); putting the old webhook back also failed: \(restoreError.code): \(restoreError.message). Webhook '\(change.webhook)' is now MISSING from registry '\(change.registry)'; recreate it (fix the spec and run apply) as soon as possible")
            }
            return .failed(code: code, message: "creating it again failed: \(error.message); the old webhook was put back as it was, so nothing was lost")
        }

        /// Runs `body` for every change at once, each holding a permit of the shared semaphore. A change
        /// not yet started when ``shouldStop`` says so is not started, unless `mustRun` says it must.
        func runConcurrently(
            _ changes: [Change], mustRun: @escaping @Sendable (Change) -> Bool = { _ in false },
            _ body: @escaping @Sendable (Change) async -> (error: ProviderError?, attempts: Int)
        ) async -> [(Change, StepOutcome)] {
            let outcomes = Locked<[StepOutcome]>(Array(repeating: .notStarted, count: changes.count))
            let semaphore = self.semaphore
            let shouldStop = self.shouldStop
            let onStart = self.onStart
            await concurrentForEach(changes.count) { index in
                await semaphore.acquire()
                if shouldStop() && !mustRun(changes[index]) {
                    await semaphore.release()
                    return
                }
                onStart(changes[index])
                let outcome = await body(changes[index])
                await semaphore.release()
                outcomes.withLock { $0[index] = .done(error: outcome.error, attempts: outcome.attempts) }
            }
            let final = outcomes.value
            return changes.indices.map { (changes[$0], final[$0]) }
        }
    }

    /// A failure with the change's own secrets (desired and, for a replacement, previous) scrubbed out:
    /// a registry's error can quote the request it refused, service URI and header values included.
    static func scrubbed(_ outcome: ChangeResult.Outcome, for change: Change) -> ChangeResult.Outcome {
        guard case .failed(let code, let message) = outcome else { return outcome }
        let scrubber = SecretScrubber(webhooks: [change.desired, change.previous].compactMap { $0 })
        return .failed(code: scrubber.scrub(code), message: scrubber.scrub(message))
    }

    static func missingDesired(_ change: Change) -> ProviderError {
        .fatal(.noDesiredState,
               "the plan for '\(change.webhook)' carries no desired state; plans read from a file are re-made before applying")
    }
}

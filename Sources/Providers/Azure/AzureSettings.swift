import Foundation
import HookKit
import Reconciler

/// What every Azure registry of a run shares, read from the command's options and environment: one
/// sign-in, one budget of concurrent ARM calls, one pacer, and the endpoint and timing overrides.
public struct AzureSettings: Sendable {
    public static let defaultEndpoint = "https://management.azure.com"

    public var credential: CredentialChain
    public var budget: AsyncSemaphore
    /// `--arm-endpoint` or `HOOKAPPLY_ARM_ENDPOINT`, which win over the spec's `azure.endpoint`.
    public var endpointOverride: String?
    /// Seconds between polls when ARM gives no Retry-After (`HOOKAPPLY_ARM_POLL_INTERVAL`, default 2).
    public var pollInterval: Double
    public var pacer = ARMPacer()
    /// The first backoff step for throttled calls (`HOOKAPPLY_ARM_RETRY_BASE`, default 0.5; emulator tests shorten it).
    public var retryBase: Double
    /// Per-call timeout (`HOOKAPPLY_ARM_TIMEOUT`, default 60 s).
    public var requestTimeout: Double
    /// `--verbose`: where each ARM call and retry is reported.
    public var trace: (@Sendable (String) -> Void)? = nil
    /// Where observation caches live (``ObservationCache``); nil reads every webhook's secrets each time
    /// (`--refresh=full`, and the commands that show or export secrets).
    public var observationCacheDirectory: String? = nil
    /// The key that seals and authenticates the observation cache, found on first use.
    public var cacheKeys: CacheKeyStore

    /// - Parameters:
    ///   - parallelism: how many ARM calls may be in flight at once across every registry.
    ///   - endpointFlag: `--arm-endpoint`, when given.
    /// An environment variable with a value hookapply cannot use. The message names the variable and
    /// what it accepts, never the value (an environment may hold anything).
    public struct Problem: Error, Sendable {
        public var message: String
    }

    /// - Throws: ``Problem`` when a timing variable is not a plain number in its range: a typo must not
    ///   silently fall back to a default, and an absurd number must not reach a sleep.
    public init(environment: [String: String], parallelism: Int, endpointFlag: String?) throws(Problem) {
        credential = CredentialChain(environment: environment)
        cacheKeys = CacheKeyStore(environment: environment)
        budget = AsyncSemaphore(parallelism)
        endpointOverride = endpointFlag ?? environment["HOOKAPPLY_ARM_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }
        pollInterval = try Self.seconds(environment, "HOOKAPPLY_ARM_POLL_INTERVAL", default: 2, range: 0...300)
        retryBase = try Self.seconds(environment, "HOOKAPPLY_ARM_RETRY_BASE", default: 0.5, range: 0...60)
        requestTimeout = try Self.seconds(environment, "HOOKAPPLY_ARM_TIMEOUT", default: 60, range: 0.001...3600)
    }

    /// A variable of seconds: unset or empty means the default; otherwise digits with an optional fraction.
    static func seconds(_ environment: [String: String], _ name: String, default value: Double, range: ClosedRange<Double>) throws(Problem) -> Double {
        guard let text = environment[name], !text.isEmpty else { return value }
        guard let number = Seconds.parsePlain(text), range.contains(number) else {
            throw Problem(message: "\(name) must be a number of seconds from \(range.lowerBound) to \(range.upperBound) (digits, e.g. 2 or 0.5); unset it to use the default \(value)")
        }
        return number
    }

    /// The provider for one registry, on `endpoint` (already chosen and checked by the caller).
    public func provider(endpoint: URL, subscriptionId: String, resourceGroup: String, registry: String) -> AzureProvider {
        let client = ARMClient(endpoint: endpoint, credential: credential, budget: budget,
                               retry: RetryPolicy(maxAttempts: 8, baseDelay: retryBase), defaultPollInterval: pollInterval,
                               pacer: pacer, requestTimeout: requestTimeout, trace: trace)
        return AzureProvider(client: client, subscriptionId: subscriptionId, resourceGroup: resourceGroup, registry: registry,
                             cacheDirectory: observationCacheDirectory, cacheKeys: cacheKeys)
    }
}

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

    /// - Parameters:
    ///   - parallelism: how many ARM calls may be in flight at once across every registry.
    ///   - endpointFlag: `--arm-endpoint`, when given.
    public init(environment: [String: String], parallelism: Int, endpointFlag: String?) {
        credential = CredentialChain(environment: environment)
        budget = AsyncSemaphore(parallelism)
        endpointOverride = endpointFlag ?? environment["HOOKAPPLY_ARM_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }
        pollInterval = Double(environment["HOOKAPPLY_ARM_POLL_INTERVAL"] ?? "") ?? 2
        retryBase = Double(environment["HOOKAPPLY_ARM_RETRY_BASE"] ?? "") ?? 0.5
        requestTimeout = Double(environment["HOOKAPPLY_ARM_TIMEOUT"] ?? "") ?? 60
    }

    /// The provider for one registry, on `endpoint` (already chosen and checked by the caller).
    public func provider(endpoint: URL, subscriptionId: String, resourceGroup: String, registry: String) -> AzureProvider {
        let client = ARMClient(endpoint: endpoint, credential: credential, budget: budget,
                               retry: RetryPolicy(maxAttempts: 8, baseDelay: retryBase), defaultPollInterval: pollInterval,
                               pacer: pacer, requestTimeout: requestTimeout)
        return AzureProvider(client: client, subscriptionId: subscriptionId, resourceGroup: resourceGroup, registry: registry)
    }
}

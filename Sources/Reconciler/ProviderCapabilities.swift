import HookSpec

/// What some providers can do beyond ``WebhookProvider``. Callers ask with `as? any ApplyLocking` and
/// friends, which name a capability, never a provider type, so a new provider gains a behaviour by
/// conforming and no caller changes.

/// Holds an exclusive lock on the registry for the length of an apply, so two applies never interleave
/// (the local registry's file lock; Azure has no such lock).
public protocol ApplyLocking: WebhookProvider {
    /// Waits up to `timeout` seconds (0: try once); throws a ``ProviderError`` naming the holder.
    func lockForApply(timeout: Double) async throws -> any ApplyLock
}

/// A held lock; released explicitly, or when the process ends.
public protocol ApplyLock: Sendable {
    func release()
}

/// Gathers mutations in memory and writes them at once: a provider whose every write rewrites its whole
/// state (the local registry's file) would otherwise make an apply quadratic. The applier begins a
/// batch, commits it after each phase (deletes, updates, creates), and ends it; a crash before a commit
/// leaves the state as it was, so a re-apply converges.
public protocol BatchCommitting: WebhookProvider {
    /// From now on, mutations change only what is held in memory, until ``commitBatch()``.
    func beginBatch()
    /// Writes every mutation since ``beginBatch()`` or the last commit, durably and at once.
    func commitBatch() async throws
    /// Stops batching; mutations not committed are dropped, and the state is read again when next needed.
    func endBatch()
}

/// Counts the remote calls it made, for `--verbose`.
public protocol CallCounting: WebhookProvider {
    var callStatistics: CallStatistics { get }
}

public struct CallStatistics: Hashable, Sendable {
    /// What a call is, for messages ("ARM calls").
    public var unit: String
    public var calls: Int
    public var retries: Int

    public init(unit: String, calls: Int, retries: Int) {
        self.unit = unit
        self.calls = calls
        self.retries = retries
    }
}

/// A registry whose webhooks hookapply fires itself (the local registry), so `serve` can deliver a
/// self-hosted registry's events to them: it reads the webhooks cheaply and often, and keeps its
/// delivery queue and log beside the registry.
public protocol DeliveryHosting: WebhookProvider {
    /// The webhooks as they are now; cheap to call for every batch.
    func currentWebhooks() throws -> [WebhookState]
    /// Where serve keeps its durable queue for this registry.
    var deliveryQueuePath: String { get }
    /// Where every delivery attempt is logged (what `events` reads).
    var eventLogPath: String { get }
}

/// Can observe with secrets sealed (known by digest from a cache) and read them on demand: the planner
/// asks for exactly the sealed webhooks a plan touches, so a warm plan reads no unchanged secret.
public protocol SecretHydrating: WebhookProvider {
    /// `observed` with the secrets of `names` (lowercased) read from the registry and unsealed.
    func hydrate(_ observed: ObservedRegistry, names: Set<String>) async throws -> ObservedRegistry
}

/// Keeps an observation cache that the next observation can be told to ignore: `reconcile` does so at
/// least hourly, since a cached webhook is trusted as long as its `lastModifiedAt` stands still.
public protocol ObservationRefreshing: WebhookProvider {
    /// The next observation reads every webhook's secrets and rewrites the cache.
    func refreshFully()
}

/// Who a provider signs in as, as `hookapply auth` shows it: the way that signed in and what its token
/// says (never the token).
public struct CredentialIdentity: Sendable, Equatable {
    /// `client secret`, `workload identity`, `managed identity (instance metadata)`, `the Azure CLI`…
    public var source: String
    /// False for an opaque token, whose claims cannot be read.
    public var isJWT: Bool
    public var tenantId: String?
    public var clientId: String?
    public var objectId: String?

    public init(source: String, isJWT: Bool, tenantId: String? = nil, clientId: String? = nil, objectId: String? = nil) {
        self.source = source
        self.isJWT = isJWT
        self.tenantId = tenantId
        self.clientId = clientId
        self.objectId = objectId
    }
}

/// Signs in, and can say whether the identity may read the registry: what `hookapply auth` checks.
public protocol AccessChecking: WebhookProvider {
    /// Signs in (or reuses the run's token) and says as whom.
    func identity() async throws -> CredentialIdentity
    /// Reads the registry and lists its webhooks; how many the first page lists. Throws what ARM refused.
    func checkAccess() async throws -> Int
}

/// A registry that logs a ping's delivery some time after accepting it (ARM): `verify --wait` says how
/// long to look for the record before calling it a timeout.
public protocol PingWaiting: WebhookProvider {
    func ping(name: String, waitingUpTo seconds: Double) async throws -> DeliveryRecord
}

/// Reads a webhook's delivery outcomes (id, attempt, time, status) without reading its secrets: what
/// reconcile's delivery health needs. Azure's `events` first reads the callback config to scrub what it
/// returns, a second ARM call per webhook that outcomes without bodies or headers do not need.
public protocol DeliveryOutcomeReading: WebhookProvider {
    /// The newest `limit` records (first page only), with request and response reduced to the status:
    /// no URI, headers, bodies or error text, so nothing in them can hold a secret.
    func deliveryOutcomes(name: String, limit: Int) async throws -> [DeliveryRecord]
}

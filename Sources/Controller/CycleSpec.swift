import HookSpec
import Reconciler

/// What one cycle reconciles: the spec as read at the start of the cycle, narrowed to the selected
/// registries, each with its provider. The CLI builds it (it owns the provider factory); the loop
/// only reconciles it, so this target never knows which kinds of registry exist.
public struct CycleSpec: Sendable {
    /// SHA-256 of the spec file's bytes.
    public var specDigest: String
    public var registries: [CycleRegistry]
    /// The values behind the spec's `${env:…}` references: scrubbed from every log line and notification.
    public var hiddenValues: [String]

    public init(specDigest: String, registries: [CycleRegistry], hiddenValues: [String]) {
        self.specDigest = specDigest
        self.registries = registries
        self.hiddenValues = hiddenValues
    }
}

/// One registry of a cycle.
public struct CycleRegistry: Sendable {
    public var name: String
    /// The spec narrowed to this registry (the planner plans one registry at a time here, so one
    /// failing registry never holds up another).
    public var spec: ResolvedSpec
    /// Where it is, without secrets (`local: .hookapply/dev.json`).
    public var target: String
    public var provider: any WebhookProvider

    public init(name: String, spec: ResolvedSpec, target: String, provider: any WebhookProvider) {
        self.name = name
        self.spec = spec
        self.target = target
        self.provider = provider
    }
}

/// The spec as read for a cycle: usable, or not (then the loop keeps reconciling the last good one).
public enum SpecLoad: Sendable {
    /// Warnings are diagnostic lines (`FILE:LINE:COL: warning: …`).
    case valid(CycleSpec, warnings: [String])
    /// Every problem as a diagnostic line, with its position.
    case invalid([String])
}

/// What one registry's part of a cycle came to.
public struct RegistryOutcome: Sendable {
    public var registry: String
    /// The plan made this cycle (nil when observing or planning failed).
    public var plan: RegistryPlan?
    /// What `--apply` did, in plan order (empty without `--apply` or without drift).
    public var applied: [ChangeResult]
    /// Why the cycle failed for this registry: observe, plan or lock (already free of secrets).
    public var error: String?

    public init(registry: String, plan: RegistryPlan?, applied: [ChangeResult] = [], error: String? = nil) {
        self.registry = registry
        self.plan = plan
        self.applied = applied
        self.error = error
    }

    public var drift: [Change] { plan?.changes ?? [] }
    /// The drift left after this cycle: all of it without `--apply`, what did not succeed with it.
    public var remainingDrift: [Change] {
        guard !applied.isEmpty else { return drift }
        let done = Set(applied.filter(\.isSuccess).map { $0.change.webhook.lowercased() })
        return drift.filter { !done.contains($0.webhook.lowercased()) }
    }
    /// Changes that were attempted and failed (or were skipped for a failed dependency); those a stopping loop
    /// never started are not failures.
    public var applyFailures: [ChangeResult] { applied.filter { !$0.isSuccess && !$0.wasNotStarted } }
    public var isSuccess: Bool { error == nil && applyFailures.isEmpty }
}

/// The loop's state as `GET /status` shows it (schema/hookapply-status.schema.json): JSON keys are the
/// schema's snake_case names.
public struct LoopStatus: Sendable, Encodable, Equatable {
    public struct Cycle: Sendable, Encodable, Equatable {
        public var number: Int
        /// `success`, `partial` or `failure`.
        public var result: String
        public var revision: String?
        /// When it finished (RFC 3339).
        public var time: String
        public var duration_seconds: Double
    }

    public struct Registry: Sendable, Encodable, Equatable {
        public var name: String
        /// Whether the last cycle observed and planned it.
        public var reconciled = false
        /// Changes left to make after the last cycle that planned it.
        public var drift = 0
        public var last_success: String?
        /// Why the last cycle failed for it (free of secrets); null after a success.
        public var last_error: String?

        public init(name: String) { self.name = name }
    }

    public var ready = false
    /// Why `/readyz` answers as it does.
    public var readiness = ""
    public var last_cycle: Cycle?
    public var registries: [Registry] = []

    var lastCycle: Cycle? {
        get { last_cycle }
        set { last_cycle = newValue }
    }

    public init() {}

    public func encode(to encoder: any Encoder) throws {
        enum Keys: String, CodingKey { case ready, readiness, last_cycle, registries }
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(ready, forKey: .ready)
        try container.encode(readiness, forKey: .readiness)
        try container.encode(last_cycle, forKey: .last_cycle)  // null before the first cycle
        try container.encode(registries, forKey: .registries)
    }
}

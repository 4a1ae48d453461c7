import Foundation
import Delivery
import HookKit
import HookSpec
import Reconciler

/// The embedded local registry: webhooks kept in a versioned JSON state file, pings really sent,
/// deliveries logged beside it (see ``LocalRegistryPaths``). The default target; needs no account or server.
///
/// A missing file is an empty registry. A corrupt or newer-format file is an error and is never
/// overwritten. Every change rewrites the file atomically; `apply` holds ``lockForApply(timeout:)`` throughout.
///
/// Its work is short synchronous file I/O that never awaits while holding the state, so the state is a
/// ``Locked`` box rather than an actor, which keeps ``currentWebhooks()`` synchronous for `serve`.
public final class LocalRegistryProvider: WebhookProvider, ApplyLocking, BatchCommitting, DeliveryHosting, Sendable {
    /// The newest state format this build reads. 2 adds signing secrets and payload formats; a file is
    /// written as 2 only when a webhook uses them, so that an older hookapply refuses it ("upgrade")
    /// rather than reading it, dropping them, and writing the webhooks back unsigned.
    public static let formatVersion = 2

    /// The format a set of webhooks needs.
    static func formatVersion(for webhooks: [WebhookState]) -> Int {
        webhooks.contains { !$0.signingSecrets.isEmpty || $0.payloadFormat != .acr } ? 2 : 1
    }

    public let paths: LocalRegistryPaths
    public let displayName: String
    private let delivery: WebhookDelivery

    /// The state as last read or written, so a run reads the file once and then works from memory, and
    /// what the file looked like (inode, size, mtime) when it was parsed.
    private struct Cache: Sendable {
        var webhooks: [WebhookState]?
        var identity: [Int]?
        /// An apply's batch: mutations stay in `webhooks` until the commit writes them.
        var batching = false
        var dirty = false
        /// Lowercased name → position in `webhooks`, so that a batch of N changes costs O(N), not O(N × size).
        /// Nil whenever `webhooks` was replaced wholesale.
        var index: [String: Int]? = nil

        var webhooksWithIndex: [WebhookState]? {
            get { webhooks }
            set {
                webhooks = newValue
                index = nil
            }
        }
    }
    /// Serialises every read-modify-write of the state within this process.
    private let cache = Locked(Cache())

    /// - Parameters:
    ///   - path: the state file, absolute.
    ///   - displayPath: how to show it (relative to the spec, as written).
    public init(path: String, displayPath: String? = nil, delivery: WebhookDelivery = WebhookDelivery()) {
        self.paths = LocalRegistryPaths(state: path)
        self.displayName = "local: \(displayPath ?? path)"
        self.delivery = delivery
    }

    public var path: String { paths.state }
    public var eventLogPath: String { paths.events }
    public var deliveryQueuePath: String { paths.queue }

    /// Takes the exclusive lock for an apply.
    public func lockForApply(timeout: Double) async throws -> any ApplyLock {
        // A state path that can never be read is refused before its lock file is made beside it.
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
            let reason = info.st_mode & S_IFMT == S_IFDIR ? "it is a folder; name a file" : "it is not a regular file (a device, pipe or socket); name a file"
            throw ProviderError.fatal(.unreadableState, "cannot read the local registry state '\(path)': \(reason); set the registry's 'local.path' to a JSON file (default .hookapply/<registry>.json)")
        }
        do {
            let lock = try await FileLock.acquire(paths.lock, timeout: timeout, what: "the local registry '\(displayName.dropFirst(7))'",
                                                  holderVerb: "another hookapply apply")
            // Holding the lock, no other apply is writing: what a crashed one left can go.
            AtomicFile.removeStaleTemporaries(of: paths.state)
            return lock
        } catch {
            switch error.code {
            case .held: throw ProviderError.fatal(.locked, error.message + "; wait for it to finish, or pass --lock-timeout SECONDS to wait")
            case .unavailable: throw ProviderError.fatal(.lockFailed, error.message)
            }
        }
    }

    // MARK: - State file

    private func load(_ cache: inout Cache) throws -> [WebhookState] {
        if let webhooks = cache.webhooks { return webhooks }
        let bytes: [UInt8]
        do {
            bytes = try FileBytes.read(path)
        } catch {
            if error.kind == .missing && !FileManager.default.fileExists(atPath: path) {
                cache.webhooksWithIndex = []
                return []
            }
            throw ProviderError.fatal(.unreadableState, "cannot read the local registry state '\(path)': \(error.reason); set the registry's 'local.path' to a JSON file (default .hookapply/<registry>.json)")
        }
        let root: JSONNode
        do {
            root = try JSONReader.read(bytes)
        } catch {
            throw corrupt("it is not valid JSON")
        }
        let version: Int
        do {
            version = try LocalStateCodec.formatVersion(root)
        } catch {
            throw corrupt(error.reason)
        }
        if version > Self.formatVersion {
            throw ProviderError.fatal(.newerStateFormat,
                                      "the local registry state '\(path)' has formatVersion \(version), newer than this hookapply understands (\(Self.formatVersion)); upgrade hookapply. The file was left as it is")
        }
        do {
            let webhooks = try LocalStateCodec.webhooks(root)
            cache.webhooksWithIndex = webhooks
            return webhooks
        } catch {
            throw corrupt(error.reason)
        }
    }

    private func corrupt(_ reason: String) -> ProviderError {
        .fatal(.corruptState, "the local registry state '\(path)' is corrupt: \(reason). It was left as it is; restore it from a backup, or move it away to start empty")
    }

    /// Whole-file writes so far (the scaling tests check one per apply phase, not one per change).
    private let writes = Locked(0)
    var writeCount: Int { writes.value }

    private func save(_ webhooks: [WebhookState], _ cache: inout Cache) throws {
        writes.withLock { $0 += 1 }
        let sorted = webhooks.sorted { $0.name.lowercased() < $1.name.lowercased() }
        do {
            try AtomicFile.write(LocalStateCodec.encode(sorted, formatVersion: Self.formatVersion(for: sorted)), to: path)
        } catch {
            throw ProviderError.fatal(.writeFailed, "cannot save the local registry state: \(error)")
        }
        cache.webhooksWithIndex = sorted
    }

    /// Keeps a mutation: in memory during a batch (the commit writes it), else on disk at once.
    private func store(_ webhooks: [WebhookState], index: [String: Int], _ cache: inout Cache) throws {
        if cache.batching {
            cache.webhooks = webhooks
            cache.index = index
            cache.dirty = true
        } else {
            try save(webhooks, &cache)
        }
    }

    /// The webhooks and their index, taken out of the cache so that changing them copies nothing.
    private func takeForChange(_ cache: inout Cache) throws -> (webhooks: [WebhookState], index: [String: Int]) {
        let webhooks = try load(&cache)
        var index = cache.index ?? [:]
        if cache.index == nil {
            index.reserveCapacity(webhooks.count)
            for (position, webhook) in webhooks.enumerated() { index[webhook.name.lowercased()] = position }
        }
        cache.webhooks = nil  // the only reference is now the caller's
        cache.index = nil
        return (webhooks, index)
    }

    // MARK: - BatchCommitting

    public func beginBatch() {
        cache.withLock { $0.batching = true }
    }

    /// One atomic write of the whole state for everything since the last commit: the file is either the
    /// old one or the new one, whatever happens during it.
    public func commitBatch() async throws {
        try locked { cache in
            guard cache.dirty, let webhooks = cache.webhooks else { return }
            try save(webhooks, &cache)
            cache.dirty = false
        }
    }

    public func endBatch() {
        cache.withLock { cache in
            if cache.dirty { cache.webhooksWithIndex = nil }  // what was not committed is not the state
            cache.dirty = false
            cache.batching = false
        }
    }

    // MARK: - WebhookProvider

    /// Runs `body` holding the in-process lock. Never across an `await`.
    private func locked<T: Sendable>(_ body: (inout Cache) throws -> T) throws -> T {
        try cache.withLock { try body(&$0) }
    }

    /// Always from disk: another process may have changed it since this provider last looked.
    public func observe() async throws -> ObservedRegistry {
        ObservedRegistry(webhooks: try currentWebhooks(), facts: RegistryFacts(maxWebhooks: SpecValidator.maxWebhooksPerRegistry, tier: "local"))
    }

    /// The webhooks as the state file holds them now: `serve` asks for every batch and so picks up an
    /// `apply`. The file is parsed again only when it changed; every save is a rename, so a new inode,
    /// size or modification time tells.
    public func currentWebhooks() throws -> [WebhookState] {
        try locked { cache in
            let identity = Self.identity(of: path)
            if identity == nil || identity != cache.identity { cache.webhooksWithIndex = nil }
            let webhooks = try load(&cache)
            cache.identity = identity
            return webhooks
        }
    }

    /// Inode, size and modification time of a file; nil when it cannot be read.
    private static func identity(of path: String) -> [Int]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [Int(info.st_ino), Int(info.st_size), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec)]
    }

    /// Creating a webhook that exists replaces it: creates are retried after timeouts, so they must be idempotent.
    public func create(_ webhook: WebhookState) async throws {
        try locked { cache in
            var (webhooks, index) = try takeForChange(&cache)
            var stored = webhook
            stored.location = nil  // a local registry has no regions
            let key = webhook.name.lowercased()
            if let position = index[key] {
                webhooks[position] = stored
            } else {
                if webhooks.count >= SpecValidator.maxWebhooksPerRegistry {
                    (cache.webhooks, cache.index) = (webhooks, index)  // unchanged: a batch keeps what it holds
                    throw ProviderError.fatal(.quotaExceeded,
                                              "the local registry holds \(webhooks.count) webhooks, the most it allows (\(SpecValidator.maxWebhooksPerRegistry))")
                }
                webhooks.append(stored)
                index[key] = webhooks.count - 1
            }
            try store(webhooks, index: index, &cache)
        }
    }

    public func update(_ webhook: WebhookState, changedFields: Set<WebhookField>) async throws {
        try locked { cache in
            var (webhooks, index) = try takeForChange(&cache)
            guard let position = index[webhook.name.lowercased()] else {
                (cache.webhooks, cache.index) = (webhooks, index)
                throw ProviderError.fatal(.notFound, "webhook '\(webhook.name)' no longer exists in \(displayName); run plan again")
            }
            var stored = webhook
            stored.location = nil
            stored.name = webhooks[position].name
            webhooks[position] = stored
            try store(webhooks, index: index, &cache)
        }
    }

    public func delete(name: String) async throws {
        try locked { cache in
            var (webhooks, index) = try takeForChange(&cache)
            let key = name.lowercased()
            guard let position = index[key] else {
                cache.webhooks = webhooks  // already gone: success, nothing changed
                cache.index = index
                return
            }
            // Swap with the last and drop it: O(1); the file is written sorted anyway.
            let last = webhooks.count - 1
            if position != last {
                webhooks[position] = webhooks[last]
                index[webhooks[position].name.lowercased()] = position
            }
            webhooks.removeLast()
            index[key] = nil
            try store(webhooks, index: index, &cache)
        }
    }

    public func ping(name: String) async throws -> DeliveryRecord {
        let found = try locked { cache in try load(&cache).first(where: { $0.name.lowercased() == name.lowercased() }) }
        guard let webhook = found else {
            throw ProviderError.fatal(.notFound, "no webhook '\(name)' in \(displayName); apply the spec first")
        }
        let id = UUID().uuidString.lowercased()
        let record = await delivery.send(RegistryEvent.ping(id: id), to: webhook, eventID: id, action: "ping")
        try appendEvent(record)
        return record
    }

    public func events(name: String, limit: Int) async throws -> [DeliveryRecord] {
        EventLog(path: eventLogPath).read(webhook: name, limit: limit)
    }

    /// Appends a delivery to the event log.
    public func appendEvent(_ record: DeliveryRecord) throws(ProviderError) {
        do {
            try EventLog(path: eventLogPath).append(record)
        } catch {
            throw .fatal(.eventLog, error.message)
        }
    }
}

extension FileLock: ApplyLock {}

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
public final class LocalRegistryProvider: WebhookProvider, ApplyLocking, DeliveryHosting, Sendable {
    public static let formatVersion = 1

    public let paths: LocalRegistryPaths
    public let displayName: String
    private let delivery: WebhookDelivery

    /// The state as last read or written, so a run reads the file once and then works from memory, and
    /// what the file looked like (inode, size, mtime) when it was parsed.
    private struct Cache: Sendable {
        var webhooks: [WebhookState]?
        var identity: [Int]?
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
            bytes = try FileBytes.read(path, regularOnly: true)
        } catch {
            if error.kind == .missing && !FileManager.default.fileExists(atPath: path) {
                cache.webhooks = []
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
            cache.webhooks = webhooks
            return webhooks
        } catch {
            throw corrupt(error.reason)
        }
    }

    private func corrupt(_ reason: String) -> ProviderError {
        .fatal(.corruptState, "the local registry state '\(path)' is corrupt: \(reason). It was left as it is; restore it from a backup, or move it away to start empty")
    }

    private func save(_ webhooks: [WebhookState], _ cache: inout Cache) throws {
        let sorted = webhooks.sorted { $0.name.lowercased() < $1.name.lowercased() }
        do {
            try AtomicFile.write(LocalStateCodec.encode(sorted, formatVersion: Self.formatVersion), to: path)
        } catch {
            throw ProviderError.fatal(.writeFailed, "cannot save the local registry state: \(error)")
        }
        cache.webhooks = sorted
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
            if identity == nil || identity != cache.identity { cache.webhooks = nil }
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
            var webhooks = try load(&cache).filter { $0.name.lowercased() != webhook.name.lowercased() }
            if webhooks.count >= SpecValidator.maxWebhooksPerRegistry {
                throw ProviderError.fatal(.quotaExceeded,
                                          "the local registry holds \(webhooks.count) webhooks, the most it allows (\(SpecValidator.maxWebhooksPerRegistry))")
            }
            var stored = webhook
            stored.location = nil  // a local registry has no regions
            webhooks.append(stored)
            try save(webhooks, &cache)
        }
    }

    public func update(_ webhook: WebhookState, changedFields: Set<WebhookField>) async throws {
        try locked { cache in
            var webhooks = try load(&cache)
            guard let index = webhooks.firstIndex(where: { $0.name.lowercased() == webhook.name.lowercased() }) else {
                throw ProviderError.fatal(.notFound, "webhook '\(webhook.name)' no longer exists in \(displayName); run plan again")
            }
            var stored = webhook
            stored.location = nil
            stored.name = webhooks[index].name
            webhooks[index] = stored
            try save(webhooks, &cache)
        }
    }

    public func delete(name: String) async throws {
        try locked { cache in
            let webhooks = try load(&cache)
            let remaining = webhooks.filter { $0.name.lowercased() != name.lowercased() }
            if remaining.count == webhooks.count { return }  // already gone: success
            try save(remaining, &cache)
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

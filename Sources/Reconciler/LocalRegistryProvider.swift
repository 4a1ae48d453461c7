import Foundation
import HookSpec

/// The embedded local registry: webhooks kept in a versioned JSON state file, pings really sent,
/// deliveries logged beside it in `<state>.events.jsonl`. The default target; needs no account or server.
///
/// A missing file is an empty registry. A corrupt or newer-format file is an error and is never
/// overwritten. Every change rewrites the file atomically; `apply` holds ``lock(timeout:)`` throughout.
///
/// A class with a lock rather than an actor: its work is short synchronous file I/O that never awaits
/// while holding the state, so a lock says exactly what is needed and keeps `currentWebhooks()` synchronous.
public final class LocalRegistryProvider: WebhookProvider, @unchecked Sendable {
    public static let formatVersion = 1

    public let path: String
    public let displayName: String
    private let delivery: WebhookDelivery
    /// Serialises every read-modify-write of the state (and of ``cache``) within this process.
    private let mutex = NSLock()
    /// The state as last read or written, so a run reads the file once and then works from memory.
    private var cache: [WebhookState]?
    /// What the state file looked like when `currentWebhooks` last parsed it.
    private var cacheIdentity: [Int]?

    /// - Parameters:
    ///   - path: the state file, absolute.
    ///   - displayPath: how to show it (relative to the spec, as written).
    public init(path: String, displayPath: String? = nil, delivery: WebhookDelivery = WebhookDelivery()) {
        self.path = path
        self.displayName = "local: \(displayPath ?? path)"
        self.delivery = delivery
    }

    public var lockPath: String { path + ".lock" }
    public var eventLogPath: String { path.hasSuffix(".json") ? String(path.dropLast(5)) + ".events.jsonl" : path + ".events.jsonl" }

    /// Takes the exclusive lock for an apply.
    public func lock(timeout: Double) async throws -> FileLock {
        try await FileLock.acquire(lockPath, timeout: timeout, what: "the local registry '\(displayName.dropFirst(7))'")
    }

    // MARK: - State file

    private func load() throws -> [WebhookState] {
        if let cache { return cache }
        let bytes: [UInt8]
        do {
            bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            if !FileManager.default.fileExists(atPath: path) {
                cache = []
                return []
            }
            throw ProviderError(.fatal, code: "unreadable-state", "cannot read the local registry state '\(path)': \(error.localizedDescription)")
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
            throw corrupt((error as? LocalStateCodec.Corrupt)?.reason ?? "\(error)")
        }
        if version > Self.formatVersion {
            throw ProviderError(.fatal, code: "newer-state-format",
                                "the local registry state '\(path)' has formatVersion \(version), newer than this hookapply understands (\(Self.formatVersion)); upgrade hookapply. The file was left as it is")
        }
        do {
            let webhooks = try LocalStateCodec.webhooks(root)
            cache = webhooks
            return webhooks
        } catch {
            throw corrupt((error as? LocalStateCodec.Corrupt)?.reason ?? "\(error)")
        }
    }

    private func corrupt(_ reason: String) -> ProviderError {
        ProviderError(.fatal, code: "corrupt-state",
                      "the local registry state '\(path)' is corrupt: \(reason). It was left as it is; restore it from a backup, or move it away to start empty")
    }

    private func save(_ webhooks: [WebhookState]) throws {
        let sorted = webhooks.sorted { $0.name.lowercased() < $1.name.lowercased() }
        do {
            try AtomicFile.write(LocalStateCodec.encode(sorted, formatVersion: Self.formatVersion), to: path)
        } catch {
            throw ProviderError(.fatal, code: "write-failed", "cannot write the local registry state: \(error)")
        }
        cache = sorted
    }

    // MARK: - WebhookProvider

    /// Runs `body` holding the in-process lock. Never across an `await`.
    private func locked<T>(_ body: () throws -> T) throws -> T {
        mutex.lock()
        defer { mutex.unlock() }
        return try body()
    }

    /// Always from disk: another process may have changed it since this provider last looked.
    public func observe() async throws -> ObservedRegistry {
        ObservedRegistry(webhooks: try currentWebhooks(), facts: RegistryFacts(maxWebhooks: SpecValidator.maxWebhooksPerRegistry, tier: "local"))
    }

    /// The webhooks as the state file holds them now: `serve` asks for every batch and so picks up an
    /// `apply`. The file is parsed again only when it changed; every save is a rename, so a new inode,
    /// size or modification time tells.
    public func currentWebhooks() throws -> [WebhookState] {
        try locked {
            let identity = Self.identity(of: path)
            if identity == nil || identity != cacheIdentity { cache = nil }
            let webhooks = try load()
            cacheIdentity = identity
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
        try locked {
            var webhooks = try load().filter { $0.name.lowercased() != webhook.name.lowercased() }
            if webhooks.count >= SpecValidator.maxWebhooksPerRegistry {
                throw ProviderError(.fatal, code: "QuotaExceeded",
                                    "the local registry holds \(webhooks.count) webhooks, the most it allows (\(SpecValidator.maxWebhooksPerRegistry))")
            }
            var stored = webhook
            stored.location = nil  // a local registry has no regions
            webhooks.append(stored)
            try save(webhooks)
        }
    }

    public func update(_ webhook: WebhookState, changedFields: Set<WebhookField>) async throws {
        try locked {
            var webhooks = try load()
            guard let index = webhooks.firstIndex(where: { $0.name.lowercased() == webhook.name.lowercased() }) else {
                throw ProviderError(.fatal, code: "NotFound", "webhook '\(webhook.name)' no longer exists in \(displayName); run plan again")
            }
            var stored = webhook
            stored.location = nil
            stored.name = webhooks[index].name
            webhooks[index] = stored
            try save(webhooks)
        }
    }

    public func delete(name: String) async throws {
        try locked {
            let webhooks = try load()
            let remaining = webhooks.filter { $0.name.lowercased() != name.lowercased() }
            if remaining.count == webhooks.count { return }  // already gone: success
            try save(remaining)
        }
    }

    public func ping(name: String) async throws -> DeliveryRecord {
        let found = try locked { try load().first(where: { $0.name.lowercased() == name.lowercased() }) }
        guard let webhook = found else {
            throw ProviderError(.fatal, code: "NotFound", "no webhook '\(name)' in \(displayName); apply the spec first")
        }
        let id = UUID().uuidString.lowercased()
        let record = await delivery.send(RegistryEvent.ping(id: id), to: webhook, eventID: id, action: "ping")
        try appendEvent(record)
        return record
    }

    public func events(name: String, limit: Int) async throws -> [DeliveryRecord] {
        try EventLog(path: eventLogPath).read(webhook: name, limit: limit)
    }

    /// Appends a delivery to the event log (also used by `serve`).
    public func appendEvent(_ record: DeliveryRecord) throws(ProviderError) {
        try EventLog(path: eventLogPath).append(record)
    }
}

/// The append-only delivery log: one JSON record per line, secrets already masked by ``WebhookDelivery``.
public struct EventLog: Sendable {
    public var path: String

    public init(path: String) {
        self.path = path
    }

    public func append(_ record: DeliveryRecord) throws(ProviderError) {
        var descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        if descriptor < 0 && errno == ENOENT {  // the folder is made on first use only: serve appends per attempt
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        }
        guard descriptor >= 0 else {
            throw ProviderError(.fatal, code: "event-log", "cannot open the event log '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        // One write per line: with O_APPEND, lines from concurrent writers never interleave.
        let line = record.jsonLine() + [0x0A]
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == line.count else {
            throw ProviderError(.fatal, code: "event-log", "cannot append to the event log '\(path)'")
        }
        // No fsync: the log records what happened; losing its last lines in a power cut loses no event
        // (the delivery queue is what must be durable, and it is synced before every acknowledgement).
    }

    /// The records of one webhook (all when nil), newest first. Lines that do not parse are skipped:
    /// a torn last line after a crash must not hide the rest of the log.
    public func read(webhook: String?, limit: Int) throws(ProviderError) -> [DeliveryRecord] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let decoder = JSONDecoder()
        var records: [DeliveryRecord] = []
        for line in data.split(separator: 0x0A) where !line.isEmpty {
            guard let record = try? decoder.decode(DeliveryRecord.self, from: Data(line)) else { continue }
            if let webhook, record.webhook.lowercased() != webhook.lowercased() { continue }
            records.append(record)
        }
        return Array(records.reversed().prefix(max(0, limit)))
    }
}

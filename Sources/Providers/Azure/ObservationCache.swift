import Foundation
import HookKit
import Reconciler

/// What a warm plan needs to skip `getCallbackConfig`: per webhook of one registry, its ARM id, its
/// `systemData.lastModifiedAt` when its secrets were read, and keyed digests of those secrets (never a
/// secret in clear, nor a plain hash of one). An entry is used only when the id and lastModifiedAt listed
/// now are the ones it was made from, so a stale or half-written file can only cause a read.
///
/// The cache is a trust boundary. A CI cache folder is often writable by pull-request jobs, and an
/// entry that claims a webhook unchanged would hide drift made in the portal. So every entry carries an
/// HMAC-SHA256 over all it says, made with a ``CacheKey`` that never lives in the cache folder: an entry
/// edited by hand, or written with another key, fails and only causes a fresh read. A folder that is not
/// the user's or that others can write is not used at all.
///
/// One file per registry, `azure-<SHA-256 of the resource id>.json`, mode 0600 in a 0700 folder
/// (`HOOKAPPLY_CACHE_DIR`, else `$XDG_CACHE_HOME/hookapply`, else `~/.cache/hookapply`).
public struct ObservationCache: Sendable {
    /// 2: entries are authenticated and secrets keyed (format 1 held plain SHA-256 digests).
    public static let formatVersion = 2

    public struct Entry: Codable, Hashable, Sendable {
        public var id: String
        public var lastModifiedAt: String
        public var secrets: SealedSecrets
        /// HMAC-SHA256 over the registry, the webhook's name and everything above; set by ``save(_:)``.
        public var mac: String = ""

        public init(id: String, lastModifiedAt: String, secrets: SealedSecrets) {
            self.id = id
            self.lastModifiedAt = lastModifiedAt
            self.secrets = secrets
        }

        /// What the MAC covers, each part length-prefixed so that no two entries serialise alike.
        func authenticated(name: String, resourceID: String) -> [UInt8] {
            var parts = [resourceID.lowercased(), name, id.lowercased(), lastModifiedAt, secrets.serviceUri]
            for (header, digest) in secrets.headers.sorted(by: { $0.key < $1.key }) { parts += [header, digest, secrets.headerNames[header] ?? ""] }
            var bytes: [UInt8] = []
            for part in parts {
                let count = UInt32(truncatingIfNeeded: part.utf8.count)
                bytes += [UInt8(truncatingIfNeeded: count >> 24), UInt8(truncatingIfNeeded: count >> 16), UInt8(truncatingIfNeeded: count >> 8), UInt8(truncatingIfNeeded: count)]
                bytes += Array(part.utf8)
            }
            return bytes
        }

        public static func == (lhs: Entry, rhs: Entry) -> Bool {
            lhs.id == rhs.id && lhs.lastModifiedAt == rhs.lastModifiedAt && lhs.secrets == rhs.secrets
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(id)
            hasher.combine(lastModifiedAt)
            hasher.combine(secrets)
        }
    }

    struct File: Codable {
        var format_version: Int
        var resource_id: String
        var webhooks: [String: Entry]
    }

    public let path: String
    let resourceID: String
    public let key: CacheKey

    public init(directory: String, resourceID: String, key: CacheKey) {
        self.resourceID = resourceID
        self.key = key
        path = (directory as NSString).appendingPathComponent("azure-\(SHA256.hexDigest(resourceID.lowercased())).json")
    }

    /// Why the cache folder (or file) must not be trusted, or nil: not the user's, or writable by others.
    func untrusted() -> String? {
        for (what, place) in [("folder", (path as NSString).deletingLastPathComponent), ("file", path)] {
            var info = stat()
            guard lstat(place, &info) == 0 else { continue }
            if info.st_uid != geteuid() { return "the observation cache \(what) \(place) belongs to another user" }
            if what == "folder", info.st_mode & 0o022 != 0 { return "the observation cache folder \(place) can be written by others (mode \(String(info.st_mode & 0o777, radix: 8)))" }
            if what == "file", info.st_mode & S_IFMT != S_IFREG { return "the observation cache file \(place) is not a regular file" }
        }
        return nil
    }

    /// The entries by lowercased webhook name, each authenticated with the key; none (with a note saying
    /// why) when the file is unreadable, corrupt, of another format, for another registry, or in a folder
    /// that cannot be trusted. A missing file is no note: the first run.
    public func load() -> (entries: [String: Entry], note: String?) {
        let fallback = "reading every webhook's secrets this time"
        // An in-memory key could check nothing another process wrote.
        if key.isEphemeral { return ([:], nil) }
        if let problem = untrusted() { return ([:], "\(problem); not using it, \(fallback). Point HOOKAPPLY_CACHE_DIR at a folder of your own (mode 0700)") }
        guard FileManager.default.fileExists(atPath: path) else { return ([:], nil) }
        let bytes: [UInt8]
        do {
            bytes = try FileBytes.read(path, limit: 64 * 1024 * 1024)
        } catch {
            return ([:], "the observation cache \(path) could not be read (\(error.reason)); \(fallback)")
        }
        struct Header: Decodable { var format_version: Int? }
        guard let header = try? JSONDecoder().decode(Header.self, from: Data(bytes)), let version = header.format_version else {
            return ([:], "the observation cache \(path) is not one hookapply wrote; \(fallback), then writing it anew")
        }
        guard version == Self.formatVersion else {
            return ([:], "the observation cache \(path) has format \(version), this hookapply writes \(Self.formatVersion); \(fallback), then writing it anew")
        }
        guard let file = try? JSONDecoder().decode(File.self, from: Data(bytes)) else {
            return ([:], "the observation cache \(path) is damaged; \(fallback), then writing it anew")
        }
        guard file.resource_id.lowercased() == resourceID.lowercased() else {
            return ([:], "the observation cache \(path) belongs to another registry; \(fallback), then writing it anew")
        }
        var entries: [String: Entry] = [:]
        var refused = 0
        for (name, entry) in file.webhooks {
            let expected = SHA256.hex(key.hmac.code(entry.authenticated(name: name, resourceID: resourceID)))
            if HMAC.constantTimeEqual(expected, entry.mac) { entries[name] = entry } else { refused += 1 }
        }
        if refused > 0 {
            return (entries, "\(refused) entr\(refused == 1 ? "y" : "ies") of the observation cache \(path) failed authentication (edited, or written with another key); reading \(refused == 1 ? "its" : "their") secrets again")
        }
        return (entries, nil)
    }

    /// Writes the entries (atomically, 0600, the folder 0700); a note when it could not, never an error:
    /// a cache that cannot be written only makes the next plan cold.
    public func save(_ entries: [String: Entry]) -> String? {
        if key.isEphemeral { return nil }
        if untrusted() != nil { return nil }  // said when it was loaded
        let directory = (path as NSString).deletingLastPathComponent
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder), !isFolder.boolValue {
            return "the observation cache folder \(directory) is a file, not a folder; point HOOKAPPLY_CACHE_DIR at a folder. Until then every plan reads every webhook's secrets"
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            // Foundation's error is a Cocoa code; the POSIX one beneath it makes a sentence.
            let posix = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError).map { Int32($0.code) } ?? EIO
            return "the observation cache folder \(directory) could not be made (\(FileBytes.reason(posix))); the next plan will read every webhook's secrets"
        }
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var signed = entries
            for (name, entry) in entries { signed[name]?.mac = SHA256.hex(key.hmac.code(entry.authenticated(name: name, resourceID: resourceID))) }
            let data = try encoder.encode(File(format_version: Self.formatVersion, resource_id: resourceID, webhooks: signed))
            try AtomicFile.write(Array(data), to: path, permissions: 0o600)
            return nil
        } catch {
            return "the observation cache \(path) could not be written (\(ProviderError.from(error).message)); the next plan will read every webhook's secrets"
        }
    }

    /// Where caches live: `HOOKAPPLY_CACHE_DIR`, else `$XDG_CACHE_HOME/hookapply`, else `$HOME/.cache/hookapply`;
    /// nil when none is set (then nothing is cached).
    public static func directory(environment: [String: String]) -> String? {
        if let explicit = environment["HOOKAPPLY_CACHE_DIR"], !explicit.isEmpty { return explicit }
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/hookapply" }
        if let home = environment["HOME"], home.hasPrefix("/") { return home + "/.cache/hookapply" }
        return nil
    }
}

import Foundation
import HookKit
import Reconciler

/// What a warm plan needs to skip `getCallbackConfig`: per webhook of one registry, its ARM id, its
/// `systemData.lastModifiedAt` when its secrets were read, and SHA-256 digests of those secrets (never
/// a secret in clear). An entry is used only when the id and lastModifiedAt listed now are the ones it
/// was made from, so it validates itself: any change made through ARM moves lastModifiedAt, and a stale
/// or half-written file can only cause a read, never a wrong plan.
///
/// One file per registry, `azure-<SHA-256 of the resource id>.json`, mode 0600 in a 0700 folder
/// (`HOOKAPPLY_CACHE_DIR`, else `$XDG_CACHE_HOME/hookapply`, else `~/.cache/hookapply`).
public struct ObservationCache: Sendable {
    public static let formatVersion = 1

    public struct Entry: Codable, Hashable, Sendable {
        public var id: String
        public var lastModifiedAt: String
        public var secrets: SealedSecrets
    }

    struct File: Codable {
        var format_version: Int
        var resource_id: String
        var webhooks: [String: Entry]
    }

    public let path: String
    let resourceID: String

    public init(directory: String, resourceID: String) {
        self.resourceID = resourceID
        path = (directory as NSString).appendingPathComponent("azure-\(SHA256.hexDigest(resourceID.lowercased())).json")
    }

    /// The entries by lowercased webhook name; none (with a note saying why) when the file is unreadable,
    /// corrupt, of another format, or for another registry. A missing file is no note: the first run.
    public func load() -> (entries: [String: Entry], note: String?) {
        guard FileManager.default.fileExists(atPath: path) else { return ([:], nil) }
        let fallback = "reading every webhook's secrets this time"
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
        return (file.webhooks, nil)
    }

    /// Writes the entries (atomically, 0600, the folder 0700); a note when it could not, never an error:
    /// a cache that cannot be written only makes the next plan cold.
    public func save(_ entries: [String: Entry]) -> String? {
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
            let data = try encoder.encode(File(format_version: Self.formatVersion, resource_id: resourceID, webhooks: entries))
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

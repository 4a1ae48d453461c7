import Foundation
import HookKit

/// The key that seals and authenticates the observation cache (``ObservationCache``). It never lives in
/// the cache folder: whoever can write the cache (a CI cache that pull-request jobs restore) must not be
/// able to make an entry that hides drift, nor test guesses of a secret against what the cache keeps.
///
/// Found in this order:
/// 1. `HOOKAPPLY_CACHE_KEY`: at least 32 bytes, as hex or base64 (in CI, a secret that pull-request jobs
///    cannot read);
/// 2. `$XDG_CONFIG_HOME/hookapply/cache.key`, else `~/.config/hookapply/cache.key`: mode 0600, owned by
///    the user, made on first use when that folder can be written;
/// 3. otherwise a key held in memory for the life of the process, with one note: a long-running
///    `reconcile` keeps its cache warm in memory, a one-shot command is cold. Such a key never reads or
///    writes the cache file (an entry it wrote could not be checked by the next process).
public struct CacheKey: Sendable {
    public enum Source: Sendable, Equatable {
        case environment
        case file(String)
        case memory
    }

    public let hmac: HMAC
    public let source: Source
    /// What the user should know about the key (why it is held in memory); nil when all is well.
    public let note: String?

    /// A key that lasts only as long as this process: its cache stays in memory.
    public var isEphemeral: Bool { source == .memory }

    /// The smallest key accepted, in bytes.
    public static let minimumBytes = 32

    /// One random key per process, for when no other is to be had.
    static let processKey: [UInt8] = randomBytes(32)

    public static func find(environment: [String: String]) -> CacheKey {
        if let text = environment["HOOKAPPLY_CACHE_KEY"], !text.isEmpty {
            guard let bytes = decode(text), bytes.count >= minimumBytes else {
                return memory(because: "HOOKAPPLY_CACHE_KEY is not a key of at least \(minimumBytes) bytes written as hex or base64 (make one with 'head -c 32 /dev/urandom | base64')")
            }
            return CacheKey(hmac: HMAC(key: bytes), source: .environment, note: nil)
        }
        guard let folder = configFolder(environment) else {
            return memory(because: "neither HOOKAPPLY_CACHE_KEY, XDG_CONFIG_HOME nor HOME is set")
        }
        let path = (folder as NSString).appendingPathComponent("cache.key")
        switch loadOrCreate(path, folder: folder) {
        case .success(let bytes): return CacheKey(hmac: HMAC(key: bytes), source: .file(path), note: nil)
        case .failure(let problem): return memory(because: problem.message)
        }
    }

    private static func memory(because reason: String) -> CacheKey {
        CacheKey(hmac: HMAC(key: processKey), source: .memory,
                 note: "the observation cache key is held in memory for this process only (\(reason)); the cache stays in memory, so a one-shot command reads every webhook's secrets. Set HOOKAPPLY_CACHE_KEY to keep the cache between runs")
    }

    static func configFolder(_ environment: [String: String]) -> String? {
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") { return xdg + "/hookapply" }
        if let home = environment["HOME"], home.hasPrefix("/") { return home + "/.config/hookapply" }
        return nil
    }

    struct Problem: Error {
        var message: String
    }

    /// Reads the key file, or makes it (0600, in a 0700 folder) when there is none. A file that others
    /// can read or write, or that is not the user's, is refused: the key would not be private.
    static func loadOrCreate(_ path: String, folder: String) -> Result<[UInt8], Problem> {
        var info = stat()
        if lstat(path, &info) != 0 {
            guard errno == ENOENT else { return .failure(Problem(message: "\(path) cannot be examined: \(FileBytes.reason(errno))")) }
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                return .failure(Problem(message: "\(folder) cannot be made"))
            }
            // Written whole to a private temporary file, then linked into place: two processes that start
            // together both end up with the one key that won, never with a half-written file.
            let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let text = SHA256.hex(randomBytes(32)) + "\n"
            do {
                try AtomicFile.write(Array(text.utf8), to: temporary, permissions: 0o600)
            } catch {
                return .failure(Problem(message: "\(path) cannot be written (\(error))"))
            }
            defer { unlink(temporary) }
            if link(temporary, path) != 0 && errno != EEXIST {
                return .failure(Problem(message: "\(path) cannot be written: \(FileBytes.reason(errno))"))
            }
            guard lstat(path, &info) == 0 else { return .failure(Problem(message: "\(path) vanished while it was made")) }
        }
        guard info.st_mode & S_IFMT == S_IFREG else { return .failure(Problem(message: "\(path) is not a regular file")) }
        guard info.st_uid == geteuid() else { return .failure(Problem(message: "\(path) belongs to another user")) }
        guard info.st_mode & 0o077 == 0 else { return .failure(Problem(message: "\(path) can be read or written by others; make it private with 'chmod 600'")) }
        let bytes: [UInt8]
        do {
            bytes = try FileBytes.read(path, limit: 4096)
        } catch {
            return .failure(Problem(message: "\(path) cannot be read: \(error.reason)"))
        }
        guard let key = decode(String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)), key.count >= minimumBytes else {
            return .failure(Problem(message: "\(path) does not hold a key of at least \(minimumBytes) bytes as hex or base64"))
        }
        return .success(key)
    }

    /// Hex (an even number of hex digits) or base64 (standard or URL-safe, padding optional).
    static func decode(_ text: String) -> [UInt8]? {
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if !text.isEmpty, text.count % 2 == 0, text.allSatisfy(\.isHexDigit) {
            var bytes: [UInt8] = []
            var index = text.startIndex
            while index < text.endIndex {
                let next = text.index(index, offsetBy: 2)
                guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
                bytes.append(byte)
                index = next
            }
            return bytes
        }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map { Array($0) }
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}

/// The cache key of a run, found on first use (so that a run without an Azure registry never makes a
/// key file), and its note said once.
public final class CacheKeyStore: Sendable {
    private let environment: [String: String]
    private let state = Locked<(key: CacheKey?, noted: Bool)>((nil, false))

    public init(environment: [String: String]) {
        self.environment = environment
    }

    public var key: CacheKey {
        state.withLock { state in
            if let key = state.key { return key }
            let key = CacheKey.find(environment: environment)
            state.key = key
            return key
        }
    }

    /// The key's note, the first time it is asked for; nil after that, or when there is none.
    public func takeNote() -> String? {
        let key = self.key
        return state.withLock { state in
            guard !state.noted, let note = key.note else { return nil }
            state.noted = true
            return note
        }
    }
}

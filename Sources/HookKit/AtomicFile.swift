import Foundation

/// Crash-safe whole-file writes: a temporary file beside the target, fsync, rename, fsync of the folder.
/// A crash at any point leaves either the old file or the new one, never a torn one.
public enum AtomicFile {
    public struct WriteError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Removes temporary files a crashed writer of `path` left behind (`<path>.tmp-<pid>-<n>`, whose
    /// process is gone): they can hold a whole state file, secrets included. Files of a live process
    /// are left alone, whoever it is. Returns the paths removed.
    @discardableResult
    public static func removeStaleTemporaries(of path: String) -> [String] {
        let directory = (path as NSString).deletingLastPathComponent
        let prefix = (path as NSString).lastPathComponent + ".tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = pid_t(rest[..<dash]), pid > 0 else { continue }
            if pid == getpid() { continue }
            // kill(pid, 0) fails with ESRCH only when no such process exists.
            guard kill(pid, 0) != 0, errno == ESRCH else { continue }
            let full = (directory as NSString).appendingPathComponent(name)
            if unlink(full) == 0 { removed.append(full) }
        }
        return removed
    }

    /// Writes `bytes` as the whole of `path`. A private mode (0600) is set exactly, whatever the umask: a
    /// file that may hold a secret must never be readable by others because of the caller's umask.
    ///
    /// A symbolic link at `path` is written through, never replaced: the file it ends at is replaced, and
    /// the link stays (a link at `/dev/stdout` must not become a file of secrets). Only a regular file, or
    /// nothing, is replaced: renaming over a device, a folder or a socket (a state path of "/dev/null", run
    /// as root) would destroy something that is not ours.
    ///
    /// - Parameter keepsExactMode: set `permissions` whatever the umask (a file rewritten in place keeps its mode).
    /// - Parameter beforeRename: a hook for tests that simulate a crash between write and rename.
    public static func write(
        _ bytes: [UInt8], to givenPath: String, permissions: mode_t = 0o600, keepsExactMode: Bool = false, beforeRename: () throws -> Void = {}
    ) throws {
        try write(to: givenPath, permissions: permissions, keepsExactMode: keepsExactMode, beforeRename: beforeRename) { sink in
            try sink.write(bytes)
        }
    }

    /// Where a streamed write goes: bytes are buffered and written to the temporary file as the buffer
    /// fills, so a large document never has to exist whole in memory.
    public struct Sink: ~Copyable {
        fileprivate let descriptor: Int32
        fileprivate let path: String
        private var buffer: [UInt8] = []
        static let capacity = 256 * 1024

        fileprivate init(descriptor: Int32, path: String) {
            self.descriptor = descriptor
            self.path = path
            buffer.reserveCapacity(Self.capacity)
        }

        public mutating func write(_ bytes: some Collection<UInt8>) throws {
            buffer.append(contentsOf: bytes)
            if buffer.count >= Self.capacity { try flush() }
        }

        public mutating func write(_ text: String) throws { try write(text.utf8) }

        fileprivate mutating func flush() throws {
            var offset = 0
            while offset < buffer.count {
                let written = buffer.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress.map { $0 + offset }, $0.count - offset) }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw WriteError(description: "cannot write '\(path)': \(FileBytes.reason(errno))")
                }
                offset += written
            }
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// Streams the whole of `path` through `contents`, with the same guarantees as ``write(_:to:permissions:keepsExactMode:beforeRename:)``:
    /// an error thrown by `contents` leaves the old file as it was.
    public static func write(
        to givenPath: String, permissions: mode_t = 0o600, keepsExactMode: Bool = false, beforeRename: () throws -> Void = {},
        contents: (inout Sink) throws -> Void
    ) throws {
        let path = ResolvedPath.fileType(givenPath) == S_IFLNK ? ResolvedPath.resolve(givenPath) : givenPath
        if let type = ResolvedPath.fileType(path), type != S_IFREG {
            throw WriteError(description: "cannot write '\(givenPath)': \(ResolvedPath.describe(type))")
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? PrivateFolder.create(directory)
        }
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        guard descriptor >= 0 else { throw WriteError(description: "cannot write '\(givenPath)': \(FileBytes.reason(errno))") }
        // A private file (no group or other bits asked for) gets exactly its mode, whatever the umask; a
        // shareable one (a plan, a masked export) keeps the umask's say, as files of other tools do.
        if permissions & 0o077 == 0 || keepsExactMode { fchmod(descriptor, permissions) }
        var sink = Sink(descriptor: descriptor, path: givenPath)
        do {
            try contents(&sink)
            try sink.flush()
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        guard fsync(descriptor) == 0 else {
            let reason = FileBytes.reason(errno)
            close(descriptor)
            unlink(temporary)
            throw WriteError(description: "cannot write '\(givenPath)' to disk: \(reason)")
        }
        close(descriptor)
        do {
            try beforeRename()
        } catch {
            // A simulated crash leaves the temporary file behind, as a real one would.
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let reason = FileBytes.reason(errno)
            unlink(temporary)
            throw WriteError(description: "cannot replace '\(givenPath)': \(reason)")
        }
        // Make the rename itself durable.
        let folder = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }
}

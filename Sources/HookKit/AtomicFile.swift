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

    /// - Parameter beforeRename: a hook for tests that simulate a crash between write and rename.
    public static func write(_ bytes: [UInt8], to path: String, permissions: mode_t = 0o600, beforeRename: () throws -> Void = {}) throws {
        // Only a regular file (or nothing) is replaced: renaming over a device, a folder or a socket
        // (a state path of "/dev/null", run as root) would destroy something that is not ours.
        var existing = stat()
        if lstat(path, &existing) == 0 {
            let type = existing.st_mode & S_IFMT
            if type == S_IFDIR { throw WriteError(description: "cannot write '\(path)': it is a folder; name a file") }
            if type != S_IFREG && type != S_IFLNK {
                throw WriteError(description: "cannot write '\(path)': it is not a regular file (a device, pipe or socket), and it is not replaced; name a file")
            }
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        guard descriptor >= 0 else { throw WriteError(description: "cannot write '\(path)': \(FileBytes.reason(errno))") }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress.map { $0 + offset }, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                let reason = FileBytes.reason(errno)
                close(descriptor)
                unlink(temporary)
                throw WriteError(description: "cannot write '\(path)': \(reason)")
            }
            offset += written
        }
        guard fsync(descriptor) == 0 else {
            let reason = FileBytes.reason(errno)
            close(descriptor)
            unlink(temporary)
            throw WriteError(description: "cannot write '\(path)' to disk: \(reason)")
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
            throw WriteError(description: "cannot replace '\(path)': \(reason)")
        }
        // Make the rename itself durable.
        let folder = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }
}

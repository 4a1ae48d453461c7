import Foundation

/// Reads whole files with POSIX calls, so that errors say exactly what went wrong ("no such file",
/// "is a folder", "permission denied") in a sentence, never as a Cocoa error number, and never blocks.
public enum FileBytes {
    public struct ReadError: Error, Sendable, CustomStringConvertible {
        public enum Kind: Sendable {
            case missing, directory, notRegularFile, permission, tooLarge, other
        }
        public var kind: Kind
        /// What is wrong, as the end of "cannot read 'PATH': …".
        public var reason: String
        public var description: String { reason }
    }

    /// The one way hookapply reads a file it was pointed at (spec, state, saved plan, cache, key, token
    /// file). Only a regular file is read: a FIFO, a device, a socket or a folder is refused at once, so a
    /// spec that a commit turned into a FIFO, or a link to `/proc/self/fd/2`, can never block a command or
    /// the reconcile loop. The file is opened with `O_NONBLOCK` and read that way, and `EAGAIN` is a
    /// refusal too: some procfs files (`/proc/kmsg`) look regular and would block. Files under `/proc` and
    /// `/sys` are the kernel's, never the user's, and are refused by name.
    public static func read(_ path: String, limit: Int = 64 * 1024 * 1024) throws(ReadError) -> [UInt8] {
        let resolved = ResolvedPath.resolve(path)
        for kernel in ["/proc", "/sys"] where resolved == kernel || resolved.hasPrefix(kernel + "/") {
            throw ReadError(kind: .notRegularFile, reason: "it is under \(kernel), a file of the kernel's, not a file of yours; name a file")
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        if descriptor < 0 { throw error(errno) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw error(errno) }
        let type = info.st_mode & S_IFMT
        if type == S_IFDIR { throw ReadError(kind: .directory, reason: "it is a folder; name a file") }
        if type != S_IFREG {
            throw ReadError(kind: .notRegularFile, reason: type == S_IFIFO
                ? "it is a pipe (FIFO), not a regular file; name a file (a spec can come from a pipe through standard input: -f -)"
                : "it is not a regular file (a device or socket); name a file")
        }
        var bytes: [UInt8] = []
        if info.st_size > 0 { bytes.reserveCapacity(Int(min(Int64(limit), Int64(info.st_size)))) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    throw ReadError(kind: .notRegularFile, reason: "it would block (a special file that only looks regular); name a file")
                }
                throw error(errno)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limit {
                throw ReadError(kind: .tooLarge, reason: "it is larger than \(limit / (1024 * 1024)) MiB")
            }
        }
        return bytes
    }

    /// Opens `path` for appending (made 0600 when missing), only when it is a regular file: a log or queue
    /// path that is a FIFO would block the open until a reader came, and a device is not ours to write.
    /// The descriptor is returned blocking, as appends expect.
    public static func openForAppending(_ path: String) throws(ReadError) -> Int32 {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0o600)
        if descriptor < 0 {
            // A FIFO with no reader answers ENXIO to a non-blocking open for writing.
            throw errno == ENXIO ? ReadError(kind: .notRegularFile, reason: "it is a pipe or socket, not a regular file; name a file") : error(errno)
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw ReadError(kind: .notRegularFile, reason: "it is not a regular file (a device, pipe or socket); name a file")
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        return descriptor
    }

    static func error(_ code: Int32) -> ReadError {
        switch code {
        case ENOENT: ReadError(kind: .missing, reason: "no such file")
        case ENOTDIR: ReadError(kind: .missing, reason: "a part of the path is not a folder")
        case EACCES, EPERM: ReadError(kind: .permission, reason: "permission denied; check the file's permissions")
        case EISDIR: ReadError(kind: .directory, reason: "it is a folder; name a file")
        case ENXIO: ReadError(kind: .notRegularFile, reason: "it is a socket or a device with nothing behind it, not a regular file; name a file")
        case ELOOP: ReadError(kind: .missing, reason: "it is a symbolic link that loops; name a file")
        default: ReadError(kind: .other, reason: String(cString: strerror(code)).lowercased())
        }
    }

    /// A sentence for a POSIX error code, for messages about writing.
    public static func reason(_ code: Int32) -> String {
        switch code {
        case ENOENT: "the folder does not exist; create it first"
        case ENOTDIR: "a part of the path is not a folder"
        case EACCES, EPERM: "permission denied; check the folder's permissions"
        case EISDIR: "it is a folder; name a file"
        case ENOSPC: "the disk is full"
        case EROFS: "the file system is read-only"
        case EDQUOT: "the disk quota is exceeded"
        default: String(cString: strerror(code)).lowercased()
        }
    }
}

import Foundation

/// A path with its symbolic links and `..` resolved, so that two spellings of one file compare equal, and
/// a write can go through a link to the file it names instead of replacing the link.
public enum ResolvedPath {
    /// Links followed before giving up (Linux's own limit is 40).
    static let maximumLinks = 40

    /// `path` made absolute against `directory`, with every symbolic link resolved, the last component's
    /// too, even when it names a file that does not exist yet (a dangling link resolves to where it points).
    /// A folder that does not exist is left as written, `..` resolved lexically.
    public static func resolve(_ path: String, from directory: String = FileManager.default.currentDirectoryPath) -> String {
        var current = absolute(path, from: directory)
        for _ in 0..<maximumLinks {
            let name = (current as NSString).lastPathComponent
            if name == "." || name == ".." || current == "/" { return canonicalFolder(current) }
            current = (canonicalFolder((current as NSString).deletingLastPathComponent) as NSString).appendingPathComponent(name)
            guard let target = linkTarget(current) else { return current }
            current = absolute(target, from: (current as NSString).deletingLastPathComponent)
        }
        return current
    }

    /// What kind of thing is at `path` itself, without following a final link; nil when nothing is.
    /// The permission bits of what `path` names (following links), or nil when it cannot be read.
    public static func mode(_ path: String) -> mode_t? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return status.st_mode & 0o7777
    }

    public static func fileType(_ path: String) -> mode_t? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return info.st_mode & S_IFMT
    }

    /// A sentence for a file type that is not a regular file, as the end of "cannot write 'X': …".
    public static func describe(_ type: mode_t) -> String {
        switch type {
        case S_IFDIR: "it is a folder; name a file"
        case S_IFLNK: "it is a symbolic link that does not end at a file (a loop, or too many links); name a file"
        case S_IFIFO: "it is a pipe (FIFO), not a regular file; name a file"
        case S_IFSOCK: "it is a socket, not a regular file; name a file"
        case S_IFCHR, S_IFBLK: "it is a device, not a regular file; name a file"
        default: "it is not a regular file; name a file"
        }
    }

    private static func absolute(_ path: String, from directory: String) -> String {
        path.hasPrefix("/") ? path : (directory.hasSuffix("/") ? directory : directory + "/") + path
    }

    /// `.` and `..` removed without touching the file system (`standardizingPath` also strips `/private`).
    private static func lexical(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The folder with its links resolved by the system when it exists, else its nearest existing ancestor's.
    private static func canonicalFolder(_ folder: String) -> String {
        if let real = realpath(folder, nil) {
            defer { free(real) }
            return String(cString: real)
        }
        let parent = (folder as NSString).deletingLastPathComponent
        guard parent != folder, !parent.isEmpty else { return lexical(folder) }
        return lexical((canonicalFolder(parent) as NSString).appendingPathComponent((folder as NSString).lastPathComponent))
    }

    private static func linkTarget(_ path: String) -> String? {
        guard fileType(path) == S_IFLNK else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

import Foundation

/// Reads whole files with POSIX calls, so that errors say exactly what went wrong
/// ("no such file", "is a directory", "permission denied") instead of a generic Cocoa error.
enum FileReader {
    struct ReadError: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "cannot read '\(path)': \(reason)" }
    }

    static func read(_ path: String, displayPath: String, limit: Int = 64 * 1024 * 1024) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 { throw ReadError(path: displayPath, reason: reason(errno)) }
        defer { close(descriptor) }
        var info = stat()
        if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw ReadError(path: displayPath, reason: "it is a directory; name a file")
        }
        var bytes: [UInt8] = []
        if info.st_size > 0 { bytes.reserveCapacity(Int(info.st_size)) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ReadError(path: displayPath, reason: reason(errno))
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limit {
                throw ReadError(path: displayPath, reason: "it is larger than \(limit / (1024 * 1024)) MiB")
            }
        }
        return bytes
    }

    static func reason(_ code: Int32) -> String {
        switch code {
        case ENOENT: "no such file"
        case EACCES: "permission denied"
        case EISDIR: "it is a directory; name a file"
        default: String(cString: strerror(code)).lowercased()
        }
    }
}

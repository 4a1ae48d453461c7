import Foundation

/// An exclusive advisory lock (flock) on `<state>.lock`, holding the owner's pid so that a second
/// apply can say who is holding it. The kernel releases it if the process dies, so it never goes stale.
public final class FileLock: @unchecked Sendable {
    private var descriptor: Int32
    public let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    /// Waits up to `timeout` seconds (0: try once) for the lock.
    static func acquire(_ path: String, timeout: Double, what: String) async throws -> FileLock {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ProviderError(.fatal, code: "lock-failed", "cannot open the lock file '\(path)': \(String(cString: strerror(errno)))")
        }
        let deadline = Date().addingTimeInterval(max(0, timeout))
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw ProviderError(.fatal, code: "lock-failed", "cannot lock '\(path)': \(reason)")
            }
            if Date() >= deadline {
                let holder = FileLock.holder(descriptor)
                close(descriptor)
                let waited = timeout > 0 ? " after waiting \(Int(timeout.rounded()))s" : ""
                throw ProviderError(.fatal, code: "locked",
                                    "\(what) is locked by another hookapply apply (\(holder))\(waited); wait for it to finish, or pass --lock-timeout SECONDS to wait")
            }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        ftruncate(descriptor, 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        return FileLock(descriptor: descriptor, path: path)
    }

    private static func holder(_ descriptor: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        let text = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
        return Int(text).map { "pid \($0)" } ?? "pid unknown"
    }

    public func release() {
        guard descriptor >= 0 else { return }
        ftruncate(descriptor, 0)
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}

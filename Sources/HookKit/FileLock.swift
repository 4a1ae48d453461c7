import Foundation

/// An exclusive advisory lock (flock) on a file, holding the owner's pid so that a second process can
/// say who is holding it. The kernel releases it if the process dies, so it never goes stale.
public final class FileLock: Sendable {
    /// Why a lock could not be taken.
    public struct Failure: MessageError, Hashable, Sendable, CustomStringConvertible {
        public enum Code: String, Hashable, Sendable {
            /// The lock file could not be opened or locked (permissions, a missing folder).
            case unavailable
            /// Another process holds it.
            case held
        }

        public var code: Code
        /// Names the holder's pid when ``code`` is `.held`.
        public var message: String

        static func unavailable(_ message: String) -> Failure { Failure(code: .unavailable, message: message) }
        static func held(_ message: String) -> Failure { Failure(code: .held, message: message) }
        public var description: String { message }
    }

    /// -1 once released.
    private let descriptor: Locked<Int32>
    public let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = Locked(descriptor)
        self.path = path
    }

    /// Waits up to `timeout` seconds (0: try once) for the lock. `what` names the locked thing in
    /// messages, `holderVerb` what the holder is doing (`another hookapply apply`).
    public static func acquire(_ path: String, timeout: Double, what: String, holderVerb: String) async throws(Failure) -> FileLock {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? PrivateFolder.create(directory) }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw .unavailable("cannot open the lock file '\(path)': \(String(cString: strerror(errno)))")
        }
        let deadline = Date().addingTimeInterval(max(0, timeout))
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw .unavailable("cannot lock '\(path)': \(reason)")
            }
            if Date() >= deadline {
                let holder = FileLock.holder(descriptor)
                close(descriptor)
                let waited = timeout > 0 ? " after waiting \(Int(Seconds.clamped(timeout).rounded()))s" : ""
                throw .held("\(what) is locked by \(holderVerb) (\(holder.map { "pid \($0)" } ?? "pid unknown"))\(waited)")
            }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        ftruncate(descriptor, 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        return FileLock(descriptor: descriptor, path: path)
    }

    private static func holder(_ descriptor: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        let text = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
        return Int32(text)
    }

    public func release() {
        descriptor.withLock { descriptor in
            guard descriptor >= 0 else { return }
            ftruncate(descriptor, 0)
            flock(descriptor, LOCK_UN)
            close(descriptor)
            descriptor = -1
        }
    }

    deinit { release() }
}

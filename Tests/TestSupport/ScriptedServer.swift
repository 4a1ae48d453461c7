import Foundation
import HTTP1
import HookKit

#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP server that answers each HTTP request with raw bytes chosen by a script, for fault
/// injection into HTTP clients: malformed answers, answers in pieces, connections closed mid-answer or
/// without one, answers that never come. It counts connections, so tests can prove keep-alive reuse.
public final class ScriptedServer: @unchecked Sendable {
    /// What to do with one request.
    public enum Action: Sendable {
        /// Send these bytes and keep reading the connection.
        case reply([UInt8])
        /// Send these bytes, then close.
        case replyAndClose([UInt8])
        /// Send the pieces with a pause between them, then keep reading.
        case pieces([[UInt8]], pauseMilliseconds: Int)
        /// Close without answering.
        case close
        /// Never answer (until the server stops).
        case hang
    }

    /// One request as received: the head as text, and the body.
    public struct Request: Sendable {
        public var head: String
        public var body: [UInt8]
        /// The 0-based number of the connection it arrived on.
        public var connection: Int
    }

    public let port: UInt16
    private let listener: Int32
    private let script: @Sendable (Int, Request) -> Action
    private let lock = NSLock()
    private var received: [Request] = []
    private var connections = 0
    private var stopped = false
    private var open: Set<Int32> = []

    /// `script` gets the request's overall index (0-based) and the request.
    public init(script: @escaping @Sendable (Int, Request) -> Action) throws {
        let (descriptor, port) = try listenOnLoopback()
        self.port = port
        self.listener = descriptor
        self.script = script
        Thread { [self] in acceptLoop() }.start()
    }

    public var url: String { "http://127.0.0.1:\(port)" }
    public var requests: [Request] { lock.withLock { received } }
    public var connectionCount: Int { lock.withLock { connections } }

    /// Stops listening and closes every connection (unblocking hanging ones).
    public func stop() {
        // Under the lock: a connection thread closes its descriptor under the same lock, so a number
        // shut down here is never one the kernel already handed to another test's socket.
        lock.withLock {
            if stopped { return }
            stopped = true
            // Shut down, not closed: the accept loop closes it when it sees the shutdown. Closing here would
            // let the number be reused by another socket while the loop is about to call accept on it.
            shutdown(listener, Int32(SHUT_RDWR))
            for descriptor in open { shutdown(descriptor, Int32(SHUT_RDWR)) }
        }
    }

    deinit { stop() }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if lock.withLock({ stopped }) || errno == EBADF || errno == EINVAL {
                    close(listener)
                    return
                }
                continue
            }
            let number = lock.withLock { () -> Int in
                defer { connections += 1 }
                open.insert(client)
                return connections
            }
            let descriptor = client
            Thread { [self] in
                handle(descriptor, number: number)
                lock.withLock {
                    open.remove(descriptor)
                    close(descriptor)
                }
            }.start()
        }
    }

    private func handle(_ client: Int32, number: Int) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            var headerEnd = buffer.firstIndex(of: [13, 10, 13, 10], from: 0)
            while headerEnd == nil {
                let count = recv(client, &chunk, chunk.count, 0)
                if count <= 0 { return }
                buffer += chunk[0..<count]
                headerEnd = buffer.firstIndex(of: [13, 10, 13, 10], from: 0)
            }
            guard let end = headerEnd else { return }
            let head = String(decoding: buffer[0..<end], as: UTF8.self)
            var length = 0
            for line in head.components(separatedBy: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
            }
            buffer.removeSubrange(0..<(end + 4))
            while buffer.count < length {
                let count = recv(client, &chunk, chunk.count, 0)
                if count <= 0 { return }
                buffer += chunk[0..<count]
            }
            let request = Request(head: head, body: Array(buffer.prefix(length)), connection: number)
            buffer.removeSubrange(0..<length)
            let index = lock.withLock { () -> Int in
                received.append(request)
                return received.count - 1
            }
            switch script(index, request) {
            case .reply(let bytes):
                guard Socket.sendAll(client, bytes) else { return }
            case .replyAndClose(let bytes):
                _ = Socket.sendAll(client, bytes)
                return
            case .pieces(let pieces, let pause):
                for piece in pieces {
                    guard Socket.sendAll(client, piece) else { return }
                    usleep(useconds_t(pause * 1000))
                }
            case .close:
                return
            case .hang:
                while recv(client, &chunk, chunk.count, 0) > 0 {}
                return
            }
        }
    }


}

import Foundation
import HTTP1
import HookKit

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway HTTP/1.1 receiver on 127.0.0.1 for tests: records each request and answers with a fixed
/// status. It can echo request headers back in the body, to prove that secrets echoed by a receiver are
/// scrubbed from logs. One request per connection (it answers `Connection: close`).
public final class LoopbackReceiver: @unchecked Sendable {
    public struct Request: Sendable {
        public var method: String
        public var target: String
        /// Header names lowercased.
        public var headers: [String: String]
        public var body: [UInt8]

        public var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    /// A canned answer from a handler.
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: [UInt8]

        public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    public let port: UInt16
    private let listener: Int32
    private let handler: (@Sendable (Request) -> Response)?
    private let lock = NSLock()
    private var received: [Request] = []
    private let status: Int
    private let echoHeaders: Bool
    private let thread: Thread?
    private var stopped = false

    /// - Parameters:
    ///   - status: the status every request gets.
    ///   - echoHeaders: answer with the request's headers in the body (as a careless receiver might).
    public init(status: Int = 200, echoHeaders: Bool = false, handler: (@Sendable (Request) -> Response)? = nil) throws {
        let (descriptor, port) = try listenOnLoopback()
        self.port = port
        self.listener = descriptor
        self.status = status
        self.echoHeaders = echoHeaders
        self.handler = handler
        let box = WeakBox()
        let thread = Thread { box.receiver?.acceptLoop() }
        self.thread = thread
        box.receiver = self
        thread.start()
    }

    private final class WeakBox: @unchecked Sendable {
        weak var receiver: LoopbackReceiver?
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    public var requests: [Request] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// Stops listening; safe to call twice.
    public func stop() {
        lock.lock()
        let wasStopped = stopped
        stopped = true
        lock.unlock()
        if wasStopped { return }
        // Shut down, not closed: the accept loop closes it. Closing here would let the number be reused
        // by another test's socket while the loop is about to call accept on it.
        shutdown(listener, Int32(SHUT_RDWR))
    }

    deinit { stop() }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                lock.lock()
                let done = stopped
                lock.unlock()
                if done || errno == EBADF || errno == EINVAL {
                    close(listener)
                    return
                }
                continue
            }
            // One thread per connection, so a slow handler (injected latency) does not serialise clients.
            let connection = Connection(descriptor: client)
            Thread { [weak self] in self?.handle(connection.descriptor) }.start()
        }
    }

    private struct Connection: Sendable {
        var descriptor: Int32
    }

    private func handle(_ client: Int32) {
        defer { close(client) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        // Handler mode keeps connections alive (as ARM does); the fixed-answer mode closes after one request.
        while true {
            var headerEnd: Int? = buffer.firstIndex(of: [13, 10, 13, 10], from: 0)
            while headerEnd == nil {
                let count = recv(client, &chunk, chunk.count, 0)
                if count <= 0 { return }
                buffer += chunk[0..<count]
                headerEnd = buffer.firstIndex(of: [13, 10, 13, 10], from: 0)
            }
            guard let end = headerEnd else { return }
            let head = String(decoding: buffer[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
            let requestLine = head.first?.split(separator: " ") ?? []
            var headers: [String: String] = [:]
            for line in head.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            buffer.removeSubrange(0..<(end + 4))
            while buffer.count < length {
                let count = recv(client, &chunk, chunk.count, 0)
                if count <= 0 { return }
                buffer += chunk[0..<count]
            }
            let body = Array(buffer.prefix(length))
            buffer.removeSubrange(0..<length)
            let request = Request(method: requestLine.first.map(String.init) ?? "", target: requestLine.count > 1 ? String(requestLine[1]) : "",
                                  headers: headers, body: body)
            lock.lock()
            received.append(request)
            lock.unlock()
            if let handler {
                let answer = handler(request)
                var head = "HTTP/1.1 \(answer.status) Status\r\nContent-Length: \(answer.body.count)\r\nConnection: keep-alive\r\n"
                for (name, value) in answer.headers { head += "\(name): \(value)\r\n" }
                let bytes = Array((head + "\r\n").utf8) + answer.body
                if !Socket.sendAll(client, bytes) || headers["connection"]?.lowercased() == "close" { return }
                continue
            }
            var responseBody = "received"
            if echoHeaders {
                responseBody = "target=\(request.target)\n" + headers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n")
            }
            let response = "HTTP/1.1 \(status) Status\r\nContent-Type: text/plain\r\nContent-Length: \(responseBody.utf8.count)\r\nConnection: close\r\n\r\n\(responseBody)"
            let bytes = Array(response.utf8)
            Socket.sendAll(client, bytes)
            return
        }
    }

}

public struct ReceiverError: Error {
    public var message: String
}

/// A listening TCP socket on 127.0.0.1 at a free port (HTTP1's socket layer, shared with the product).
func listenOnLoopback() throws -> (descriptor: Int32, port: UInt16) {
    do {
        return try Socket.listen(host: "127.0.0.1", port: 0, backlog: 64)
    } catch {
        throw ReceiverError(message: error.message)
    }
}

/// A fresh temporary folder.
public func makeTemporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "hookapply-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

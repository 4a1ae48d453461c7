import Foundation
import HookKit

#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server on POSIX sockets for `serve`: a thread per connection, keep-alive, the strict
/// ``HTTPRequestParser`` with its limits, and a clear 4xx (then close) for anything malformed. Handlers
/// are synchronous and return whole responses.
///
/// Slow or idle clients cannot hold it: a connection idle between requests is closed after
/// ``Timeouts/idle`` seconds; a request's head must arrive within ``Timeouts/header`` seconds of its first
/// byte and the whole request within ``Timeouts/request`` (else 408), however it trickles in; beyond
/// ``Timeouts/maxConnections`` open connections, or ``Timeouts/maxConnectionsPerClient`` from one
/// address, a new one gets 503 at once, so one misbehaving client cannot take every slot.
///
/// A head is shown to `headCheck` before any of the body is read: a request it refuses (a wrong token,
/// method, path, type or size) costs its headers and nothing more. `Expect: 100-continue` is answered
/// once the head passes.
public final class HTTPServer: Sendable {
    public struct Response: Sendable {
        public var status: HTTPStatus
        public var headers: [String: String]
        public var body: [UInt8]

        public init(status: HTTPStatus, headers: [String: String] = [:], body: [UInt8] = []) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        public static func text(_ status: HTTPStatus, _ text: String) -> Response {
            Response(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array((text + "\n").utf8))
        }
    }

    public let port: UInt16
    private let listener: Int32
    private let handler: @Sendable (HTTPRequest) -> Response
    private let headCheck: @Sendable (HTTPRequest) -> Response?
    private let limits: HTTPLimits
    private let timeouts: Timeouts
    /// What the accept loop and the connection threads share.
    private struct State {
        var connections = 0
        /// Open connections per client address.
        var perClient: [String: Int] = [:]
        var stopped = false
        /// Requests being handled now.
        var active = 0
        var started = false
    }
    private let state = Locked(State())

    public struct Timeouts: Hashable, Sendable {
        /// Seconds a kept-alive connection may wait for its next request.
        public var idle: Double = 10
        /// Seconds from a request's first byte to the end of its head.
        public var header: Double = 10
        /// Seconds from a request's first byte to its last.
        public var request: Double = 30
        /// Open connections beyond which new ones are refused with 503 (each holds a thread).
        public var maxConnections = 256
        /// Open connections from one client address beyond which its new ones are refused with 503.
        public var maxConnectionsPerClient = 32

        public init(idle: Double = 10, header: Double = 10, request: Double = 30, maxConnections: Int = 256, maxConnectionsPerClient: Int = 32) {
            self.idle = idle
            self.header = header
            self.request = request
            self.maxConnections = maxConnections
            self.maxConnectionsPerClient = maxConnectionsPerClient
        }
    }

    /// Binds `host:port` (port 0 picks a free one); does not accept until ``start()``.
    /// - Parameter headCheck: sees each request's head before its body is read; a response it returns is
    ///   sent at once and the connection closed.
    public init(host: String, port: UInt16, limits: HTTPLimits = HTTPLimits(), timeouts: Timeouts = Timeouts(),
                headCheck: @escaping @Sendable (HTTPRequest) -> Response? = { _ in nil },
                handler: @escaping @Sendable (HTTPRequest) -> Response) throws(HTTPError) {
        (self.listener, self.port) = try Socket.listen(host: host, port: port)
        self.handler = handler
        self.headCheck = headCheck
        self.limits = limits
        self.timeouts = timeouts
    }

    /// Starts accepting on a background thread.
    public func start() {
        state.withLock { $0.started = true }
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Stops accepting and waits (up to `timeout` seconds) for requests in flight to finish.
    public func stop(timeout: Double = 10) {
        let first = state.withLock { state -> Bool in
            defer { state.stopped = true }
            return !state.stopped
        }
        if first {
            // Shut down, not closed: the accept loop closes it on its way out. Closing here would free the
            // descriptor number for reuse while the loop may be about to call accept on it.
            shutdown(listener, Int32(SHUT_RDWR))
            if !state.withLock({ $0.started }) { close(listener) }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while state.withLock({ $0.active }) > 0 && Date() < deadline { usleep(10_000) }
    }

    private func acceptLoop() {
        while true {
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let client = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listener, $0, &length) }
            }
            if client < 0 {
                let reason = errno
                if !state.withLock({ $0.stopped }) {
                    if reason == EINTR || reason == ECONNABORTED { continue }
                    if reason == EMFILE || reason == ENFILE || reason == ENOBUFS || reason == ENOMEM {
                        usleep(10_000)  // out of descriptors or memory: wait for connections to finish, keep serving
                        continue
                    }
                }
                close(listener)
                return
            }
            let limit = timeouts.maxConnections
            let perClientLimit = timeouts.maxConnectionsPerClient
            let peer = Self.peerAddress(address)
            let refusal = state.withLock { state -> String? in
                guard state.connections < limit else { return "too many connections; try again" }
                guard state.perClient[peer, default: 0] < perClientLimit else {
                    return "too many connections from your address (at most \(perClientLimit)); try again"
                }
                state.connections += 1
                state.perClient[peer, default: 0] += 1
                return nil
            }
            if let refusal {
                // Answered from the accept thread without reading: a short write to a fresh socket does not block.
                Socket.setSendTimeout(client, seconds: 1)
                write(client, Response.text(.serviceUnavailable, refusal), keepAlive: false)
                close(client)
                continue
            }
            let connection = client
            Thread { [self] in
                serve(connection)
                state.withLock { state in
                    state.connections -= 1
                    let left = state.perClient[peer, default: 1] - 1
                    state.perClient[peer] = left > 0 ? left : nil
                }
            }.start()
        }
    }

    /// The client's address, as the key of the per-client connection count.
    static func peerAddress(_ address: sockaddr_storage) -> String {
        var copy = address
        switch Int32(address.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &copy) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                    let raw = UInt32(bigEndian: pointer.pointee.sin_addr.s_addr)
                    return "\(raw >> 24).\((raw >> 16) & 0xFF).\((raw >> 8) & 0xFF).\(raw & 0xFF)"
                }
            }
        case AF_INET6:
            return withUnsafePointer(to: &copy) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                    withUnsafeBytes(of: pointer.pointee.sin6_addr) { bytes in bytes.map { String($0, radix: 16) }.joined(separator: ":") }
                }
            }
        default:
            return "other"
        }
    }

    private func serve(_ client: Int32) {
        // Set when a final answer went out: the close then lingers so the client can read it.
        var answered = false
        defer {
            if answered { Socket.lingeringClose(client) } else { close(client) }
        }
        // Bounded sends too: a client that stops reading cannot hold the thread in send().
        Socket.setSendTimeout(client, seconds: max(1, timeouts.idle.rounded(.down)))
        var parser = HTTPRequestParser(limits: limits)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var requestStarted: UInt64? = nil
        var idleSince = DispatchTime.now().uptimeNanoseconds
        while !state.withLock({ $0.stopped }) {
            let request: HTTPRequest
            do {
                let event = try parser.nextEvent()
                if case .head(let head)? = event {
                    // Before any of the body: refuse what would be refused anyway, at the cost of its headers.
                    if let refusal = headCheck(head) {
                        answered = write(client, refusal, keepAlive: false)
                        return
                    }
                    if head.header("Expect")?.lowercased() == "100-continue", parser.isReadingBody {
                        guard Socket.sendAll(client, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) else { return }
                    }
                    continue
                }
                guard case .request(let next)? = event else {
                    if parser.pendingCount > 0 && requestStarted == nil { requestStarted = DispatchTime.now().uptimeNanoseconds }
                    let now = DispatchTime.now().uptimeNanoseconds
                    // A head has its own, shorter deadline: a client trickling headers is cut off early.
                    let limit = parser.isReadingBody ? timeouts.request : min(timeouts.header, timeouts.request)
                    let deadline = requestStarted.map { $0 + Seconds.nanoseconds(limit) } ?? idleSince + Seconds.nanoseconds(timeouts.idle)
                    if now >= deadline {
                        // Mid-request: say why; idle between requests: just close, as servers do.
                        if requestStarted != nil {
                            let what = parser.isReadingBody ? "the request" : "the request's headers"
                            answered = write(client, Response.text(.requestTimeout, "\(what) did not arrive within \(Int(Seconds.clamped(limit))) seconds"), keepAlive: false)
                        }
                        return
                    }
                    // Wake at least once a second to notice a stop.
                    let wait = Int32(min(1000, (deadline - now) / 1_000_000 + 1))
                    switch Socket.wait(client, milliseconds: wait) {
                    case .ready: break
                    case .timedOut: continue
                    case .failed: return
                    }
                    let count = Socket.receive(client, into: &chunk)
                    if count <= 0 { return }  // closed or reset
                    parser.append(chunk[0..<count])
                    continue
                }
                request = next
            } catch {
                answered = write(client, Response.text(error.status, error.message), keepAlive: false)
                return
            }
            state.withLock { $0.active += 1 }
            let response = handler(request)
            state.withLock { $0.active -= 1 }
            let keepAlive = request.keepsAlive && !state.withLock({ $0.stopped })
            guard write(client, response, keepAlive: keepAlive) else { return }
            if !keepAlive {
                answered = true
                return
            }
            // The next request's clock starts with its first byte (already buffered ones start it now).
            requestStarted = nil
            idleSince = DispatchTime.now().uptimeNanoseconds
        }
    }

    @discardableResult
    private func write(_ client: Int32, _ response: Response, keepAlive: Bool) -> Bool {
        var head = "HTTP/1.1 \(response.status.rawValue) \(response.status.reasonPhrase)\r\nContent-Length: \(response.body.count)\r\n"
        head += "Connection: \(keepAlive ? "keep-alive" : "close")\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        return Socket.sendAll(client, Array((head + "\r\n").utf8) + response.body)
    }
}

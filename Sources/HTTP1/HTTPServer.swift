import Foundation
import HookKit

#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server on POSIX sockets for `serve` and `reconcile`: one event loop (poll, non-blocking
/// sockets) on a thread of its own, keep-alive and pipelining, the strict ``HTTPRequestParser`` with its
/// limits, and a clear 4xx (then close) for anything malformed. Handlers are synchronous and return whole
/// responses; they run on the loop's thread, so they must be short (serve's longest is one fsync).
///
/// One loop, not a thread per connection: on two cores, threads handing requests to each other cost more
/// than the requests (a quarter of serve's CPU went to the scheduler), and the loop hands every request
/// that arrived together to the handler at once. ``batching(host:port:limits:timeouts:headCheck:handler:)``
/// exposes that batch: serve stores a batch's events with one fsync before answering any of them.
///
/// Slow or idle clients cannot hold it: a connection idle between requests is closed after
/// ``Timeouts/idle`` seconds; a request's head must arrive within ``Timeouts/header`` seconds of its first
/// byte and the whole request within ``Timeouts/request`` (else 408), however it trickles in; an answer
/// the client does not read within ``Timeouts/idle`` seconds closes the connection; beyond
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

    public struct Timeouts: Hashable, Sendable {
        /// Seconds a kept-alive connection may wait for its next request (and an answer for the client to read it).
        public var idle: Double = 10
        /// Seconds from a request's first byte to the end of its head.
        public var header: Double = 10
        /// Seconds from a request's first byte to its last.
        public var request: Double = 30
        /// Open connections beyond which new ones are refused with 503.
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

    /// Answers every request that arrived together, in order: one response per request.
    public typealias BatchHandler = @Sendable ([HTTPRequest]) -> [Response]

    public let port: UInt16
    private let listeners: [Int32]
    /// A pipe whose write end wakes the loop for ``stop(timeout:)``.
    private let waker: (read: Int32, write: Int32)
    private let handler: BatchHandler
    private let headCheck: @Sendable (HTTPRequest) -> Response?
    private let limits: HTTPLimits
    private let timeouts: Timeouts
    private struct State {
        var started = false
        var stopped = false
        /// The loop's thread is running.
        var running = false
    }
    private let state = Locked(State())

    /// Binds `host:port` (port 0 picks a free one); does not accept until ``start()``.
    /// - Parameter headCheck: sees each request's head before its body is read; a response it returns is
    ///   sent at once and the connection closed.
    public convenience init(host: String, port: UInt16, limits: HTTPLimits = HTTPLimits(), timeouts: Timeouts = Timeouts(),
                            headCheck: @escaping @Sendable (HTTPRequest) -> Response? = { _ in nil },
                            handler: @escaping @Sendable (HTTPRequest) -> Response) throws(HTTPError) {
        try self.init(hosts: [host], port: port, limits: limits, timeouts: timeouts, headCheck: headCheck, batch: { $0.map(handler) })
    }

    /// One server on several addresses at one port (`localhost` is 127.0.0.1 and ::1): the first picks
    /// the port when `port` is 0, the others take the same.
    public convenience init(hosts: [String], port: UInt16, limits: HTTPLimits = HTTPLimits(), timeouts: Timeouts = Timeouts(),
                            headCheck: @escaping @Sendable (HTTPRequest) -> Response? = { _ in nil },
                            handler: @escaping @Sendable (HTTPRequest) -> Response) throws(HTTPError) {
        try self.init(hosts: hosts, port: port, limits: limits, timeouts: timeouts, headCheck: headCheck, batch: { $0.map(handler) })
    }

    /// A server whose handler gets every request that arrived together (at least one), and answers each.
    public static func batching(host: String, port: UInt16, limits: HTTPLimits = HTTPLimits(), timeouts: Timeouts = Timeouts(),
                                headCheck: @escaping @Sendable (HTTPRequest) -> Response? = { _ in nil },
                                handler: @escaping BatchHandler) throws(HTTPError) -> HTTPServer {
        try batching(hosts: [host], port: port, limits: limits, timeouts: timeouts, headCheck: headCheck, handler: handler)
    }

    /// ``batching(host:port:limits:timeouts:headCheck:handler:)`` on several addresses at one port.
    public static func batching(hosts: [String], port: UInt16, limits: HTTPLimits = HTTPLimits(), timeouts: Timeouts = Timeouts(),
                                headCheck: @escaping @Sendable (HTTPRequest) -> Response? = { _ in nil },
                                handler: @escaping BatchHandler) throws(HTTPError) -> HTTPServer {
        try HTTPServer(hosts: hosts, port: port, limits: limits, timeouts: timeouts, headCheck: headCheck, batch: handler)
    }

    private init(hosts: [String], port: UInt16, limits: HTTPLimits, timeouts: Timeouts,
                 headCheck: @escaping @Sendable (HTTPRequest) -> Response?, batch: @escaping BatchHandler) throws(HTTPError) {
        var listeners: [Int32] = []
        var chosen = port
        for host in hosts {
            do {
                let (listener, got) = try Socket.listen(host: host, port: chosen)
                listeners.append(listener)
                chosen = got
            } catch {
                for listener in listeners { close(listener) }
                throw error
            }
        }
        guard !listeners.isEmpty else { throw .address("no address") }
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            let reason = String(cString: strerror(errno))
            for listener in listeners { close(listener) }
            throw .socket(reason)
        }
        for descriptor in listeners + ends { Self.makeNonBlocking(descriptor) }
        self.listeners = listeners
        self.port = chosen
        self.waker = (ends[0], ends[1])
        self.handler = batch
        self.headCheck = headCheck
        self.limits = limits
        self.timeouts = timeouts
    }

    /// Starts the loop on a thread of its own.
    public func start() {
        let first = state.withLock { state -> Bool in
            guard !state.started, !state.stopped else { return false }
            state.started = true
            state.running = true
            return true
        }
        guard first else { return }
        Thread { [self] in
            var loop = EventLoop(server: self)
            loop.run()
            // Under the lock that stop() writes to the wake pipe under: it never writes to a closed (and
            // perhaps reused) descriptor.
            state.withLock { state in
                state.running = false
                closeDescriptors()
            }
        }.start()
    }

    /// Stops accepting, answers nothing more, and waits (up to `timeout` seconds) for the loop to finish
    /// the requests it is handling and close every connection.
    public func stop(timeout: Double = 10) {
        let (first, started) = state.withLock { state -> (Bool, Bool) in
            defer { state.stopped = true }
            return (!state.stopped, state.started)
        }
        guard first else { return waitForLoop(timeout) }
        if started {
            state.withLock { state in
                guard state.running else { return }
                var one: UInt8 = 1
                _ = write(waker.write, &one, 1)
            }
            waitForLoop(timeout)
        } else {
            closeDescriptors()
        }
    }

    private func closeDescriptors() {
        for listener in listeners { close(listener) }
        close(waker.read)
        close(waker.write)
    }

    private func waitForLoop(_ timeout: Double) {
        let deadline = Date().addingTimeInterval(timeout)
        while state.withLock({ $0.running }) && Date() < deadline { usleep(2_000) }
    }

    /// Non-blocking and closed on exec (accept4 and pipe2 are not in Glibc's module).
    static func makeNonBlocking(_ descriptor: Int32) {
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
    }

    fileprivate var isStopped: Bool { state.withLock { $0.stopped } }

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

    /// - Parameter omitsBody: the answer to a HEAD: GET's headers, Content-Length included, and no body
    ///   (RFC 9110 §9.3.2).
    static func serialize(_ response: Response, keepAlive: Bool, omitsBody: Bool = false) -> [UInt8] {
        var head = "HTTP/1.1 \(response.status.rawValue) \(response.status.reasonPhrase)\r\nContent-Length: \(response.body.count)\r\n"
        head += "Connection: \(keepAlive ? "keep-alive" : "close")\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        return Array((head + "\r\n").utf8) + (omitsBody ? [] : response.body)
    }

    /// One connection, owned by the loop's thread alone.
    private final class Connection {
        enum Pending {
            /// The answer to the batch's request at this index.
            /// `omitsBody`: a HEAD, answered with the headers (Content-Length included) of what GET would get.
            case request(Int, keepAlive: Bool, omitsBody: Bool)
            /// An answer that ends the connection (a refused head, a malformed request, a timeout).
            case final(Response)
            /// Bytes to send as they are (100 Continue).
            case raw([UInt8])
        }

        let descriptor: Int32
        let peer: String
        var parser: HTTPRequestParser
        var output: [UInt8] = []
        var sent = 0
        /// Answers owed, in request order, until the batch is handled.
        var pending: [Pending] = []
        /// No more requests are read: an answer that closes is queued or on its way.
        var doneReading = false
        var closeAfterWrite = false
        var peerClosed = false
        var lingerUntil: UInt64? = nil
        var discarded = 0
        var requestStarted: UInt64? = nil
        var idleSince: UInt64
        var writingSince: UInt64? = nil

        init(descriptor: Int32, peer: String, limits: HTTPLimits, now: UInt64) {
            self.descriptor = descriptor
            self.peer = peer
            self.parser = HTTPRequestParser(limits: limits)
            self.idleSince = now
        }

        var hasOutput: Bool { sent < output.count }
    }

    /// The loop's state, on its thread only.
    private struct EventLoop {
        let server: HTTPServer
        var connections: [Int32: Connection] = [:]
        var perClient: [String: Int] = [:]
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var nextSweep: UInt64 = 0
        /// Accepting paused (out of descriptors) until then.
        var acceptPausedUntil: UInt64? = nil

        init(server: HTTPServer) { self.server = server }

        static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }

        mutating func run() {
            var watched: [pollfd] = []
            var order: [Connection] = []
            var scratch = [UInt8](repeating: 0, count: 64)
            while !server.isStopped {
                var batch: [HTTPRequest] = []
                var touched: [Connection] = []
                // A request that arrived while the last batch was handled is read first, then the socket is
                // polled once more without waiting, up to a few times while new requests keep coming: the
                // batch grows to what arrived together, and shares one fsync in serve.
                var passes = 0
                var failed = false
                while passes < 4 {
                    let before = batch.count
                    // poll, not epoll (which Glibc's module does not export): at most a few hundred
                    // connections, so one array rebuilt per wake-up costs next to nothing.
                    watched.removeAll(keepingCapacity: true)
                    order.removeAll(keepingCapacity: true)
                    watched.append(pollfd(fd: server.waker.read, events: Int16(POLLIN), revents: 0))
                    for listener in server.listeners {
                        watched.append(pollfd(fd: acceptPausedUntil == nil ? listener : -1, events: Int16(POLLIN), revents: 0))
                    }
                    for connection in connections.values {
                        // After the client's end of stream, reading again would report it again at once, for
                        // as long as an answer is still going out: only room to write is waited for then.
                        let events = (connection.peerClosed ? 0 : Int16(POLLIN)) | (connection.hasOutput ? Int16(POLLOUT) : 0)
                        watched.append(pollfd(fd: connection.descriptor, events: events, revents: 0))
                        order.append(connection)
                    }
                    // Deadlines are checked ten times a second: finer than any timeout a user can set.
                    let wait: Int32 = passes > 0 ? 0 : connections.isEmpty && acceptPausedUntil == nil ? 1000 : 100
                    let count = poll(&watched, nfds_t(watched.count), wait)
                    if count < 0 && errno != EINTR {
                        failed = true
                        break
                    }
                    if count > 0 {
                        if watched[0].revents != 0 { _ = scratch.withUnsafeMutableBytes { read(server.waker.read, $0.baseAddress, $0.count) } }
                        let first = 1 + server.listeners.count
                        for (index, listener) in server.listeners.enumerated() where watched[1 + index].revents != 0 { accept(listener) }
                        for (offset, connection) in order.enumerated() {
                            let flags = watched[offset + first].revents
                            guard flags != 0, connections[connection.descriptor] === connection else { continue }
                            // An error or hang-up with an answer pending: the send says which, and drops it.
                            if flags & Int16(POLLOUT | POLLERR | POLLHUP) != 0, connection.hasOutput { flush(connection) }
                            if flags & Int16(POLLIN | POLLHUP | POLLERR) != 0, connections[connection.descriptor] === connection {
                                if receive(connection, into: &batch) { touched.append(connection) }
                            }
                        }
                    }
                    passes += 1
                    if batch.isEmpty || batch.count == before { break }
                }
                if failed { break }
                let now = Self.now
                if now >= nextSweep {
                    sweep(now, touched: &touched)
                    nextSweep = now + 100_000_000
                }
                guard !touched.isEmpty else { continue }
                let responses = batch.isEmpty ? [] : server.handler(batch)
                for connection in touched where connections[connection.descriptor] === connection {
                    answer(connection, responses)
                }
            }
            for connection in connections.values { close(connection.descriptor) }
            connections = [:]
        }

        mutating func accept(_ listener: Int32) {
            while true {
                var address = sockaddr_storage()
                var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let client = withUnsafeMutablePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Glibc.accept(listener, $0, &length)
                    }
                }
                if client < 0 {
                    let reason = errno
                    if reason == EINTR || reason == ECONNABORTED { continue }
                    if reason == EMFILE || reason == ENFILE || reason == ENOBUFS || reason == ENOMEM {
                        // Out of descriptors or memory: stop watching the listener for a moment (it would
                        // report ready at once, forever) and keep serving the connections there are.
                        acceptPausedUntil = Self.now + 50_000_000
                    }
                    return
                }
                HTTPServer.makeNonBlocking(client)
                let peer = HTTPServer.peerAddress(address)
                let limits = server.timeouts
                var refusal: String? = nil
                if connections.count >= limits.maxConnections {
                    refusal = "too many connections; try again"
                } else if perClient[peer, default: 0] >= limits.maxConnectionsPerClient {
                    refusal = "too many connections from your address (at most \(limits.maxConnectionsPerClient)); try again"
                }
                if let refusal {
                    // A fresh socket's send buffer takes a short answer whole, without blocking.
                    _ = Socket.sendAll(client, HTTPServer.serialize(.text(.serviceUnavailable, refusal), keepAlive: false))
                    close(client)
                    continue
                }
                var yes: Int32 = 1
                setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
                perClient[peer, default: 0] += 1
                connections[client] = Connection(descriptor: client, peer: peer, limits: server.limits, now: Self.now)
            }
        }

        /// Reads what arrived and parses it; true when the connection owes answers.
        mutating func receive(_ connection: Connection, into batch: inout [HTTPRequest]) -> Bool {
            let count = chunk.withUnsafeMutableBytes { recv(connection.descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { return false }
            if count <= 0 {
                // Closed or reset. Answers already on their way are still sent; a half request is dropped.
                connection.peerClosed = true
                if connection.lingerUntil != nil || (!connection.hasOutput && connection.pending.isEmpty) { drop(connection) }
                return false
            }
            if connection.lingerUntil != nil || connection.doneReading {
                // After a final answer: what the client still sends is read and dropped, boundedly.
                connection.discarded += count
                if connection.discarded > 1024 * 1024 { drop(connection) }
                return false
            }
            connection.parser.append(chunk[0..<count])
            let before = connection.pending.count
            parse(connection, into: &batch)
            return connection.pending.count > before
        }

        func parse(_ connection: Connection, into batch: inout [HTTPRequest]) {
            while !connection.doneReading {
                let event: HTTPParseEvent?
                do {
                    event = try connection.parser.nextEvent()
                } catch {
                    connection.pending.append(.final(.text(error.status, error.message)))
                    connection.doneReading = true
                    return
                }
                switch event {
                case .head(let head)?:
                    // Before any of the body: refuse what would be refused anyway, at the cost of its headers.
                    if let refusal = server.headCheck(head) {
                        connection.pending.append(.final(refusal))
                        connection.doneReading = true
                        return
                    }
                    if head.header("Expect")?.lowercased() == "100-continue", connection.parser.isReadingBody {
                        connection.pending.append(.raw(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)))
                    }
                case .request(let request)?:
                    let keepAlive = request.keepsAlive && !server.isStopped
                    connection.pending.append(.request(batch.count, keepAlive: keepAlive, omitsBody: request.method == .head))
                    batch.append(request)
                    // The next request's clock starts with its first byte (already buffered ones start it now).
                    connection.requestStarted = nil
                    if !keepAlive { connection.doneReading = true }
                case nil:
                    if connection.parser.pendingCount > 0 && connection.requestStarted == nil { connection.requestStarted = Self.now }
                    return
                }
            }
        }

        /// Turns the owed answers into bytes, in order, and sends what the socket takes.
        mutating func answer(_ connection: Connection, _ responses: [Response]) {
            guard !connection.pending.isEmpty else { return }
            for item in connection.pending {
                switch item {
                case .request(let index, let keepAlive, let omitsBody):
                    let response = index < responses.count ? responses[index] : .text(500, "no answer for this request")
                    connection.output += HTTPServer.serialize(response, keepAlive: keepAlive, omitsBody: omitsBody)
                    if !keepAlive { connection.closeAfterWrite = true }
                case .final(let response):
                    connection.output += HTTPServer.serialize(response, keepAlive: false)
                    connection.closeAfterWrite = true
                case .raw(let bytes):
                    connection.output += bytes
                }
            }
            connection.pending = []
            flush(connection)
        }

        mutating func flush(_ connection: Connection) {
            while connection.hasOutput {
                let sent = connection.output.withUnsafeBytes {
                    send(connection.descriptor, $0.baseAddress.map { $0 + connection.sent }, $0.count - connection.sent, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                }
                if sent > 0 {
                    connection.sent += sent
                    continue
                }
                if sent < 0 && errno == EINTR { continue }
                if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    if connection.writingSince == nil { connection.writingSince = Self.now }
                    return  // the next poll waits for room (POLLOUT)
                }
                drop(connection)  // the client is gone
                return
            }
            connection.output.removeAll(keepingCapacity: connection.output.count <= 64 * 1024)
            connection.sent = 0
            connection.writingSince = nil
            connection.idleSince = Self.now
            // The client has ended its side and has every answer: nothing more can come.
            if connection.peerClosed && connection.pending.isEmpty { return drop(connection) }
            guard connection.closeAfterWrite else { return }
            // A lingering close: closing with unread input makes the kernel send a reset, which can discard
            // the answer before the client reads it. So end our side, and read and drop for a moment.
            shutdown(connection.descriptor, Int32(SHUT_WR))
            connection.lingerUntil = Self.now + 500_000_000
        }

        /// Deadlines: lingering closes end, unread answers and idle connections are closed, and requests
        /// that trickle in past their deadline get 408.
        mutating func sweep(_ now: UInt64, touched: inout [Connection]) {
            if let paused = acceptPausedUntil, now >= paused { acceptPausedUntil = nil }
            let timeouts = server.timeouts
            for connection in Array(connections.values) {
                if let until = connection.lingerUntil {
                    if now >= until { drop(connection) }
                } else if let since = connection.writingSince {
                    if now >= since + Seconds.nanoseconds(max(1, timeouts.idle)) { drop(connection) }
                } else if connection.doneReading || !connection.pending.isEmpty {
                    continue  // answers are on their way
                } else if let started = connection.requestStarted {
                    let limit = connection.parser.isReadingBody ? timeouts.request : min(timeouts.header, timeouts.request)
                    guard now >= started + Seconds.nanoseconds(limit) else { continue }
                    let what = connection.parser.isReadingBody ? "the request" : "the request's headers"
                    connection.pending.append(.final(.text(.requestTimeout, "\(what) did not arrive within \(Int(Seconds.clamped(limit))) seconds")))
                    connection.doneReading = true
                    touched.append(connection)
                } else if now >= connection.idleSince + Seconds.nanoseconds(timeouts.idle) {
                    drop(connection)  // idle between requests: just close, as servers do
                }
            }
        }

        mutating func drop(_ connection: Connection) {
            guard connections.removeValue(forKey: connection.descriptor) != nil else { return }
            close(connection.descriptor)
            let left = perClient[connection.peer, default: 1] - 1
            perClient[connection.peer] = left > 0 ? left : nil
        }
    }
}

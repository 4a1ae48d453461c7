import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server on POSIX sockets for `serve`: a thread per connection, keep-alive, the strict
/// ``HTTPRequestParser`` with its limits, and a clear 4xx (then close) for anything malformed. Handlers
/// are synchronous and return whole responses.
///
/// Slow or idle clients cannot hold it: a connection idle between requests is closed after
/// ``Timeouts/idle`` seconds; a request must arrive whole within ``Timeouts/request`` seconds of its
/// first byte (else 408), however it trickles in, so sending a byte every few seconds does not keep a
/// thread forever; and beyond ``Timeouts/maxConnections`` open connections a new one gets 503 at once.
public final class HTTPServer: @unchecked Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: [UInt8]

        public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        public static func text(_ status: Int, _ text: String) -> Response {
            Response(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array((text + "\n").utf8))
        }
    }

    public let port: UInt16
    private let listener: Int32
    private let handler: @Sendable (HTTPRequest) -> Response
    private let limits: HTTPLimits
    private let timeouts: Timeouts
    private var connections = 0
    private let lock = NSLock()
    private var stopped = false
    private var active = 0
    private var started = false

    public struct Timeouts: Hashable, Sendable {
        /// Seconds a kept-alive connection may wait for its next request.
        public var idle: Double = 10
        /// Seconds from a request's first byte to its last.
        public var request: Double = 30
        /// Open connections beyond which new ones are refused with 503 (each holds a thread).
        public var maxConnections = 256

        public init(idle: Double = 10, request: Double = 30, maxConnections: Int = 256) {
            self.idle = idle
            self.request = request
            self.maxConnections = maxConnections
        }
    }

    /// Binds `host:port` (port 0 picks a free one); does not accept until ``start()``.
    public init(host: String, port: UInt16, limits: HTTPLimits = HTTPLimits(), timeouts: Timeouts = Timeouts(),
                handler: @escaping @Sendable (HTTPRequest) -> Response) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ProviderError(.fatal, code: "listen", "cannot create a socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(descriptor)
            throw ProviderError(.fatal, code: "listen", "'\(host)' is not an IPv4 address; use for example 127.0.0.1")
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 128) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw ProviderError(.fatal, code: "listen", "cannot listen on \(host):\(port): \(reason)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        self.port = UInt16(bigEndian: actual.sin_port)
        self.listener = descriptor
        self.handler = handler
        self.limits = limits
        self.timeouts = timeouts
    }

    /// Starts accepting on a background thread.
    public func start() {
        lock.withLock { started = true }
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Stops accepting and waits (up to `timeout` seconds) for requests in flight to finish.
    public func stop(timeout: Double = 10) {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        if first {
            // Shut down, not closed: the accept loop closes it on its way out. Closing here would free the
            // descriptor number for reuse while the loop may be about to call accept on it.
            shutdown(listener, Int32(SHUT_RDWR))
            if !lock.withLock({ started }) { close(listener) }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while lock.withLock({ active }) > 0 && Date() < deadline { usleep(10_000) }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                let reason = errno
                if !lock.withLock({ stopped }) {
                    if reason == EINTR || reason == ECONNABORTED { continue }
                    if reason == EMFILE || reason == ENFILE || reason == ENOBUFS || reason == ENOMEM {
                        usleep(10_000)  // out of descriptors or memory: wait for connections to finish, keep serving
                        continue
                    }
                }
                close(listener)
                return
            }
            let admitted = lock.withLock { () -> Bool in
                guard connections < timeouts.maxConnections else { return false }
                connections += 1
                return true
            }
            guard admitted else {
                // Answered from the accept thread without reading: a short write to a fresh socket does not block.
                var quick = timeval(tv_sec: 1, tv_usec: 0)
                setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &quick, socklen_t(MemoryLayout<timeval>.size))
                write(client, Response.text(503, "too many connections; try again"), keepAlive: false)
                close(client)
                continue
            }
            let connection = client
            Thread { [self] in
                serve(connection)
                lock.withLock { connections -= 1 }
            }.start()
        }
    }

    private func serve(_ client: Int32) {
        // Set when a final answer went out: the close then lingers so the client can read it.
        var answered = false
        defer {
            if answered { Self.lingeringClose(client) } else { close(client) }
        }
        // Bounded sends too: a client that stops reading cannot hold the thread in send().
        var sendTimeout = timeval(tv_sec: Int(max(1, timeouts.idle)), tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
        var parser = HTTPRequestParser(limits: limits)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var requestStarted: UInt64? = nil
        var idleSince = DispatchTime.now().uptimeNanoseconds
        while !lock.withLock({ stopped }) {
            let request: HTTPRequest
            do {
                guard let next = try parser.next() else {
                    if parser.pendingCount > 0 && requestStarted == nil { requestStarted = DispatchTime.now().uptimeNanoseconds }
                    let now = DispatchTime.now().uptimeNanoseconds
                    let deadline = requestStarted.map { $0 + UInt64(timeouts.request * 1e9) } ?? idleSince + UInt64(timeouts.idle * 1e9)
                    if now >= deadline {
                        // Mid-request: say why; idle between requests: just close, as servers do.
                        if requestStarted != nil {
                            answered = write(client, Response.text(408, "the request did not arrive within \(Int(timeouts.request)) seconds"), keepAlive: false)
                        }
                        return
                    }
                    // Wake at least once a second to notice a stop.
                    let wait = Int32(min(1000, (deadline - now) / 1_000_000 + 1))
                    var entry = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
                    let ready = poll(&entry, 1, wait)
                    if ready < 0 && errno != EINTR { return }
                    if ready <= 0 { continue }
                    let count = recv(client, &chunk, chunk.count, 0)
                    if count <= 0 { return }  // closed or reset
                    parser.append(chunk[0..<count])
                    continue
                }
                request = next
            } catch {
                answered = write(client, Response.text(error.status, error.message), keepAlive: false)
                return
            }
            lock.withLock { active += 1 }
            let response = handler(request)
            lock.withLock { active -= 1 }
            let keepAlive = request.keepsAlive && !lock.withLock({ stopped })
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

    /// Closes after a final answer without losing it. Closing a socket with unread input (the rest of a
    /// refused request) makes the kernel send a reset, and a reset can discard the answer before the
    /// client reads it. So: end our side, read and drop what the client still sends (briefly, boundedly),
    /// then close, as HTTP servers do for error responses.
    static func lingeringClose(_ client: Int32) {
        shutdown(client, Int32(SHUT_WR))
        let deadline = DispatchTime.now().uptimeNanoseconds + 500_000_000
        var discarded = 0
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while discarded < 1024 * 1024 {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { break }
            var entry = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, Int32((deadline - now) / 1_000_000 + 1)) > 0 else { break }
            let count = recv(client, &chunk, chunk.count, 0)
            if count <= 0 { break }
            discarded += count
        }
        close(client)
    }

    @discardableResult
    private func write(_ client: Int32, _ response: Response, keepAlive: Bool) -> Bool {
        var head = "HTTP/1.1 \(response.status) \(HTTPServer.reason(response.status))\r\nContent-Length: \(response.body.count)\r\n"
        head += "Connection: \(keepAlive ? "keep-alive" : "close")\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        let bytes = Array((head + "\r\n").utf8) + response.body
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { send(client, $0.baseAddress.map { $0 + offset }, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 202: "Accepted"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 431: "Request Header Fields Too Large"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: "Status"
        }
    }
}

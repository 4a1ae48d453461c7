import Foundation
import HookKit

#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 client on POSIX sockets for webhook deliveries to `http://` receivers, with a pool of
/// kept-alive connections.
///
/// Why not URLSession: on Linux each of its requests costs about a millisecond of CPU, and a webhook's
/// deliveries are strictly ordered, so that cost bounds `serve`'s throughput. This client does one
/// `send` and usually one `recv` per delivery on a reused connection. It speaks plain HTTP only (TLS
/// needs a library this project does not take), so `https://` deliveries still go through URLSession.
///
/// Calls block the calling thread until the answer or the deadline; ``WebhookDelivery`` makes them from
/// a delivery lane's thread or through ``BlockingBridge``, never on the cooperative pool.
public final class PlainHTTPClient: Sendable {
    public enum Failure: Error, Hashable, Sendable {
        case refused
        case timedOut
        case hostNotFound
        case connectionLost
        case invalidResponse(String)
        case invalidRequest(String)
        case system(String)

        /// A short reason, never quoting the URL (its query may be a secret).
        public func message(timeout: Double) -> String {
            switch self {
            case .refused: "connection refused"
            case .timedOut: "no answer within \(Self.seconds(timeout)) seconds (timed out)"
            case .hostNotFound: "the host name did not resolve"
            case .connectionLost: "the connection was closed before a response arrived"
            case .invalidResponse(let reason): "the receiver's answer is not valid HTTP: \(reason)"
            case .invalidRequest(let reason): reason
            case .system(let reason): "the request failed: \(reason)"
            }
        }

        private static func seconds(_ value: Double) -> String {
            value == value.rounded() ? String(Int(value)) : String(value)
        }
    }

    /// An idle connection waiting for its next request.
    private struct Idle: Sendable {
        var descriptor: Int32
        var since: UInt64
    }

    /// Idle connections older than this are closed instead of reused (receivers commonly drop idle
    /// connections after 5 to 60 seconds; reusing one they already dropped costs a retry).
    public let maxIdleSeconds: Double
    public let maxIdlePerHost: Int
    /// Idle connections by `host:port`.
    private let idle = Locked<[String: [Idle]]>([:])

    public init(maxIdleSeconds: Double = 4, maxIdlePerHost: Int = 16) {
        self.maxIdleSeconds = maxIdleSeconds
        self.maxIdlePerHost = maxIdlePerHost
    }

    deinit {
        idle.withLock { pools in
            for connections in pools.values { for connection in connections { close(connection.descriptor) } }
        }
    }

    /// A host the resolver takes as written (ASCII name, IPv4 or bracketed IPv6);
    /// anything else (percent-encoded or international names) needs another client.
    public static func canSend(toHost host: String) -> Bool {
        !host.isEmpty
            && host.utf8.allSatisfy { ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x3A) || $0 == 0x2D || $0 == 0x2E || $0 == 0x5B || $0 == 0x5D }
    }

    /// POSTs `body` to a plain-HTTP endpoint and reads the answer, within `timeout` seconds in all.
    ///
    /// A request on a reused connection that fails before any answer byte arrives is sent once more on a
    /// fresh connection: the receiver most likely closed the idle connection as the request was sent.
    public func post(_ endpoint: HTTPEndpoint, headers: [(name: String, value: String)], body: [UInt8], timeout: Double,
                     keptBody: Int = 4096) -> Result<HTTPClientResponse, Failure> {
        let deadline = DispatchTime.now().uptimeNanoseconds + Seconds.nanoseconds(max(0.001, timeout))
        let request: [UInt8]
        switch Self.encode(endpoint, headers: headers, body: body) {
        case .success(let bytes): request = bytes
        case .failure(let failure): return .failure(failure)
        }
        let key = "\(endpoint.host.lowercased()):\(endpoint.port ?? 80)"
        while let reused = takeIdle(key) {
            let result = exchange(reused, request: request, deadline: deadline, keptBody: keptBody)
            switch result {
            case .success(let response):
                finish(reused, key: key, reusable: response.reusable)
                return .success(response)
            case .failure(let failure) where failure.retryable:
                close(reused)
                continue  // the next idle one, or a fresh connection
            case .failure(let failure):
                close(reused)
                return .failure(failure.failure)
            }
        }
        let descriptor: Int32
        switch Socket.connect(host: endpoint.host, port: endpoint.port ?? 80, deadline: deadline) {
        case .success(let connected): descriptor = connected
        case .failure(.hostNotFound): return .failure(.hostNotFound)
        case .failure(.refused): return .failure(.refused)
        case .failure(.timedOut): return .failure(.timedOut)
        case .failure(.system(let reason)): return .failure(.system(reason))
        }
        switch exchange(descriptor, request: request, deadline: deadline, keptBody: keptBody) {
        case .success(let response):
            finish(descriptor, key: key, reusable: response.reusable)
            return .success(response)
        case .failure(let failure):
            close(descriptor)
            return .failure(failure.failure)
        }
    }

    /// The request bytes; header names and values with line breaks or control characters are refused,
    /// so a header value can never inject another header or a second request.
    static func encode(_ endpoint: HTTPEndpoint, headers: [(name: String, value: String)], body: [UInt8]) -> Result<[UInt8], Failure> {
        let target = endpoint.target.isEmpty ? "/" : endpoint.target
        var head = "POST \(target) HTTP/1.1\r\nHost: \(endpoint.hostHeader)\r\n"
        var hasAuthorization = false
        var hasUserAgent = false
        for header in headers {
            guard !header.name.isEmpty, header.name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }),
                header.value.utf8.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) })
            else { return .failure(.invalidRequest("a custom header has a name or value that cannot be sent (control characters)")) }
            let lowered = header.name.lowercased()
            if ["host", "content-length", "transfer-encoding", "connection"].contains(lowered) { continue }  // framing is ours
            if lowered == "authorization" { hasAuthorization = true }
            if lowered == "user-agent" { hasUserAgent = true }
            head += "\(header.name): \(header.value)\r\n"
        }
        if let userinfo = endpoint.userinfo, !hasAuthorization {
            let decoded = userinfo.removingPercentEncoding ?? userinfo
            head += "Authorization: Basic \(Data(decoded.utf8).base64EncodedString())\r\n"
        }
        if !hasUserAgent { head += "User-Agent: \(Product.userAgent)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        return .success(Array(head.utf8) + body)
    }

    private struct ExchangeFailure: Error {
        var failure: Failure
        /// Nothing was answered on a reused connection: safe to send again on a fresh one.
        var retryable: Bool
    }

    private func exchange(_ descriptor: Int32, request: [UInt8], deadline: UInt64, keptBody: Int) -> Result<HTTPClientResponse, ExchangeFailure> {
        var sent = 0
        while sent < request.count {
            let count = request.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress.map { $0 + sent }, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if count > 0 {
                sent += count
                continue
            }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                switch Socket.wait(descriptor, for: Int16(POLLOUT), deadline: deadline) {
                case .ready: continue
                case .timedOut: return .failure(ExchangeFailure(failure: .timedOut, retryable: false))
                case .failed(let reason): return .failure(ExchangeFailure(failure: .system(reason), retryable: false))
                }
            }
            return .failure(ExchangeFailure(failure: .connectionLost, retryable: true))
        }
        // Receivers written the common way (Python's http.server, many frameworks) send the headers and the
        // body in two writes with Nagle on: the second waits until the first is acknowledged, and Linux
        // delays that ACK by up to 40 ms. Quick ACKs answer the first segment at once: a delivery to such a
        // receiver took 43 ms, now well under one. The kernel drops the mode after a while, so it is set
        // again after every read.
        Self.acknowledgeQuickly(descriptor)
        var parser = HTTPResponseParser(keptBody: keptBody)
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        // The answer cannot be there the instant the request went out: wait first, instead of a recv that
        // would only say EAGAIN (one system call fewer per delivery).
        var mustWait = true
        while true {
            do {
                if let response = try parser.next() { return .success(response) }
            } catch {
                return .failure(ExchangeFailure(failure: .invalidResponse(error.message), retryable: false))
            }
            // The deadline bounds the whole exchange: a receiver that keeps sending (a trickle, or interim
            // responses) must not keep a delivery past its timeout just because bytes keep arriving.
            if DispatchTime.now().uptimeNanoseconds >= deadline {
                return .failure(ExchangeFailure(failure: .timedOut, retryable: false))
            }
            if mustWait {
                switch Socket.wait(descriptor, for: Int16(POLLIN), deadline: deadline) {
                case .ready: mustWait = false
                case .timedOut: return .failure(ExchangeFailure(failure: .timedOut, retryable: false))
                case .failed(let reason): return .failure(ExchangeFailure(failure: .system(reason), retryable: false))
                }
            }
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                parser.append(chunk[0..<count])
                Self.acknowledgeQuickly(descriptor)
                continue
            }
            if count == 0 {
                do {
                    return .success(try parser.finishAtClose())
                } catch {
                    if !parser.receivedAny { return .failure(ExchangeFailure(failure: .connectionLost, retryable: true)) }
                    return .failure(ExchangeFailure(failure: .invalidResponse(error.message), retryable: false))
                }
            }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                mustWait = errno != EINTR
                continue
            }
            return .failure(ExchangeFailure(failure: .connectionLost, retryable: !parser.receivedAny))
        }
    }

    /// TCP_QUICKACK (Linux, `<netinet/tcp.h>`): acknowledge every segment at once until the kernel
    /// leaves quick-ack mode again.
    static let quickAcknowledgement: Int32 = 12

    static func acknowledgeQuickly(_ descriptor: Int32) {
        var yes: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), quickAcknowledgement, &yes, socklen_t(MemoryLayout<Int32>.size))
    }

    /// A pooled connection still open and quiet (a readable idle connection is closed or out of step).
    private func takeIdle(_ key: String) -> Int32? {
        while true {
            // Read the clock per candidate: another thread may have pooled a connection after any earlier reading.
            let now = DispatchTime.now().uptimeNanoseconds
            let candidate = idle.withLock { $0[key]?.popLast() }
            guard let connection = candidate else { return nil }
            var entry = pollfd(fd: connection.descriptor, events: Int16(POLLIN), revents: 0)
            let stale = now > connection.since && now - connection.since > Seconds.nanoseconds(maxIdleSeconds)
            if stale || poll(&entry, 1, 0) != 0 {
                close(connection.descriptor)
                continue
            }
            return connection.descriptor
        }
    }

    private func finish(_ descriptor: Int32, key: String, reusable: Bool) {
        guard reusable else {
            close(descriptor)
            return
        }
        let limit = maxIdlePerHost
        let kept = idle.withLock { pools -> Bool in
            guard pools[key, default: []].count < limit else { return false }
            pools[key, default: []].append(Idle(descriptor: descriptor, since: DispatchTime.now().uptimeNanoseconds))
            return true
        }
        if !kept { close(descriptor) }
    }
}

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A raw client socket with a receive timeout, for tests that speak (or mangle) HTTP by hand.
public struct RawConnection {
    public struct Failure: Error {}

    public let descriptor: Int32

    /// An IPv6 connection to `host6` (`::1`).
    public init(port: UInt16, timeout: Int = 5, source: String? = nil, ipv6 host6: String) throws {
        descriptor = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure() }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        guard inet_pton(AF_INET6, host6, &address.sin6_addr) == 1 else {
            Glibc.close(descriptor)
            throw Failure()
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(descriptor)
            throw Failure()
        }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    /// - Parameter source: the local address to connect from: another loopback address (127.0.0.2) is
    ///   another client as far as per-client limits go.
    public init(port: UInt16, timeout: Int = 5, source: String? = nil) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure() }
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                Glibc.close(descriptor)
                throw Failure()
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(descriptor)
            throw Failure()
        }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    public func finishSending() { shutdown(descriptor, Int32(SHUT_WR)) }

    /// True when an answer (or the close) is waiting to be read.
    public var readable: Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) > 0
    }

    /// Everything until the server closes; `timedOut` when it neither answered nor closed in time,
    /// and a reset counts as a failure too (it can discard an answer).
    public func readAll() -> (text: String, timedOut: Bool) {
        var all: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(descriptor, &chunk, chunk.count, 0)
            if count > 0 {
                all += chunk[0..<count]
                continue
            }
            return (String(decoding: all, as: UTF8.self), count < 0)
        }
    }

    public func close() { Glibc.close(descriptor) }

    /// The length of the first response in `bytes` (head through Content-Length body; the server always sends one).
    public static func length(of bytes: [UInt8]) -> Int {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let headEnd = text.range(of: "\r\n\r\n") else { return 0 }
        let head = text[..<headEnd.lowerBound]
        let length = head.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        return min(bytes.count, text[..<headEnd.upperBound].utf8.count + length)
    }
}

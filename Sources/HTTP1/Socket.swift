import HookKit
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The POSIX socket calls every server and client here shares: the product's server and client, and
/// the test servers in TestSupport, so there is one copy of the fiddly parts (binding, partial sends,
/// SIGPIPE, waiting with a deadline).
public enum Socket {
    /// A listening TCP socket on `host:port` (port 0 picks a free one), and the port it got. `host` is an
    /// IPv4 literal, or an IPv6 literal with or without brackets (`::1`, `[::]`); names are resolved by
    /// the caller (`localhost` is two listeners, 127.0.0.1 and ::1). An IPv6 socket is IPv6 only, so that
    /// `[::]` and `0.0.0.0` can be bound side by side.
    public static func listen(host: String, port: UInt16, backlog: Int32 = 128) throws(HTTPError) -> (descriptor: Int32, port: UInt16) {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let isIPv6 = bare.contains(":")
        let descriptor = socket(isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw .socket(String(cString: strerror(errno))) }
        var yes: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        let bound: Int32
        if isIPv6 {
            setsockopt(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &yes, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, bare, &address.sin6_addr) == 1 else {
                close(descriptor)
                throw .address(host)
            }
            bound = bindAddress(descriptor, &address)
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            guard inet_pton(AF_INET, bare, &address.sin_addr) == 1 else {
                close(descriptor)
                throw .address(host)
            }
            bound = bindAddress(descriptor, &address)
        }
        guard bound == 0, Glibc.listen(descriptor, backlog) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw .listen(isIPv6 ? "[\(bare)]" : bare, port, reason)
        }
        var actual = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        let got: UInt16 = withUnsafePointer(to: &actual) { pointer in
            isIPv6
                ? pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
                : pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
        return (descriptor, got)
    }

    /// `bind` for a `sockaddr_in` or `sockaddr_in6`, its size taken from its type.
    private static func bindAddress<Address>(_ descriptor: Int32, _ address: inout Address) -> Int32 {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<Address>.size)) }
        }
    }

    /// Sends every byte (looping over partial sends, never raising SIGPIPE); false when the peer is gone
    /// or the send timeout set on the socket ran out.
    @discardableResult
    public static func sendAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress.map { $0 + offset }, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    /// Bounds how long a send may block on a peer that stops reading.
    public static func setSendTimeout(_ descriptor: Int32, seconds: Double) {
        let parts = Seconds.parts(seconds)
        var timeout = timeval(tv_sec: parts.seconds, tv_usec: parts.microseconds)
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    public enum Readiness: Equatable, Sendable {
        case ready
        /// Nothing within the time (or a signal interrupted the wait): check the deadline and wait again.
        case timedOut
        case failed(String)
    }

    /// Waits up to `milliseconds` for `events` (POLLIN, POLLOUT; a hang-up counts as ready).
    public static func wait(_ descriptor: Int32, for events: Int16 = Int16(POLLIN), milliseconds: Int32) -> Readiness {
        var entry = pollfd(fd: descriptor, events: events, revents: 0)
        let ready = poll(&entry, 1, milliseconds)
        if ready > 0 { return .ready }
        if ready == 0 || errno == EINTR { return .timedOut }
        return .failed(String(cString: strerror(errno)))
    }

    /// Reads what is there (up to `buffer.count` bytes); 0 at end of stream, negative on an error.
    public static func receive(_ descriptor: Int32, into buffer: inout [UInt8]) -> Int {
        buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
    }

    /// Closes after a final answer without losing it. Closing a socket with unread input (the rest of a
    /// refused request) makes the kernel send a reset, and a reset can discard the answer before the
    /// client reads it. So: end our side, read and drop what the client still sends (briefly, boundedly),
    /// then close, as HTTP servers do for error responses.
    public static func lingeringClose(_ descriptor: Int32) {
        shutdown(descriptor, Int32(SHUT_WR))
        let deadline = DispatchTime.now().uptimeNanoseconds + 500_000_000
        var discarded = 0
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while discarded < 1024 * 1024 {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline, wait(descriptor, milliseconds: Int32((deadline - now) / 1_000_000 + 1)) == .ready else { break }
            let count = receive(descriptor, into: &chunk)
            if count <= 0 { break }
            discarded += count
        }
        close(descriptor)
    }

    /// Waits for `events` until `deadline` (uptime nanoseconds). Errors and hang-ups count as ready: they
    /// surface in the next send or recv.
    public static func wait(_ descriptor: Int32, for events: Int16, deadline: UInt64) -> Readiness {
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { return .timedOut }
            let milliseconds = Int32(min(UInt64(Int32.max), (deadline - now + 999_999) / 1_000_000))
            switch wait(descriptor, for: events, milliseconds: milliseconds) {
            case .ready: return .ready
            case .timedOut: continue  // re-check the deadline
            case .failed(let reason): return .failed(reason)
            }
        }
    }

    /// Why a connection could not be opened.
    public enum ConnectFailure: Error, Hashable, Sendable {
        case hostNotFound
        case refused
        case timedOut
        case system(String)
    }

    /// A non-blocking TCP connection to `host:port` (a name, an IPv4 literal or a bracketed IPv6 literal),
    /// trying each resolved address until `deadline`, with Nagle's algorithm off.
    public static func connect(host: String, port: Int, deadline: UInt64) -> Result<Int32, ConnectFailure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>? = nil
        let name = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        guard getaddrinfo(name, String(port), &hints, &list) == 0, let first = list else { return .failure(.hostNotFound) }
        defer { freeaddrinfo(list) }
        var failure = ConnectFailure.refused
        var current: UnsafeMutablePointer<addrinfo>? = first
        while let address = current {
            current = address.pointee.ai_next
            let descriptor = socket(address.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard descriptor >= 0 else {
                failure = .system(String(cString: strerror(errno)))
                continue
            }
            var yes: Int32 = 1
            // Header and body go out in one send, but the answer must not wait on Nagle's algorithm.
            setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.connect(descriptor, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 { return .success(descriptor) }
            guard errno == EINPROGRESS else {
                failure = errno == ECONNREFUSED ? .refused : .system(String(cString: strerror(errno)))
                close(descriptor)
                continue
            }
            switch wait(descriptor, for: Int16(POLLOUT), deadline: deadline) {
            case .ready:
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
                if error == 0 { return .success(descriptor) }
                failure = error == ECONNREFUSED ? .refused : .system(String(cString: strerror(error)))
                close(descriptor)
            case .timedOut:
                close(descriptor)
                return .failure(.timedOut)
            case .failed(let reason):
                close(descriptor)
                failure = .system(reason)
            }
        }
        return .failure(failure)
    }
}

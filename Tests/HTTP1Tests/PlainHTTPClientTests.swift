import Foundation
import HookKit
import TestSupport
import Testing

@testable import HTTP1

/// The socket client for `http://` deliveries, against a scripted server that misbehaves on purpose:
/// keep-alive reuse, a receiver that drops idle connections, answers in pieces, malformed answers,
/// closes, hangs, refusals; and what it sends (headers, Basic auth from userinfo, no header injection).
@Suite struct PlainHTTPClientTests {
    static let ok = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8)

    static func uri(_ server: ScriptedServer, _ rest: String = "/hook") throws -> HTTPEndpoint {
        HTTPEndpoint(host: "127.0.0.1", port: Int(server.port), target: rest)
    }

    @Test("consecutive requests reuse one kept-alive connection")
    func reuse() throws {
        let server = try ScriptedServer { _, _ in .reply(Self.ok) }
        defer { server.stop() }
        let client = PlainHTTPClient()
        for _ in 0..<20 {
            let response = try client.post(try Self.uri(server), headers: [], body: Array("{}".utf8), timeout: 5).get()
            #expect(response.status == 200 && response.body == Array("ok".utf8))
        }
        #expect(server.requests.count == 20)
        #expect(server.connectionCount == 1)
    }

    @Test("a receiver that closes idle connections costs a silent resend on a fresh one, not a failure")
    func staleConnection() throws {
        // Every answer says keep-alive, but the server closes right after it: the next request finds the
        // pooled connection dead, either at once (seen as readable) or after sending into it.
        let server = try ScriptedServer { _, _ in .replyAndClose(Self.ok) }
        defer { server.stop() }
        let client = PlainHTTPClient()
        for _ in 0..<10 {
            #expect(try client.post(try Self.uri(server), headers: [], body: [], timeout: 5).get().status == 200)
        }
        #expect(server.requests.count == 10, "each request is delivered exactly once")
    }

    @Test("what is sent: the request line with the query, Host, custom headers, Basic auth from userinfo, the body")
    func sent() throws {
        let server = try ScriptedServer { _, _ in .reply(Self.ok) }
        defer { server.stop() }
        let uri = HTTPEndpoint(host: "127.0.0.1", port: Int(server.port), target: "/hooks/acr?code=abc", userinfo: "us%40er:pa%3Ass")
        _ = try PlainHTTPClient().post(uri, headers: [("Content-Type", "application/json"), ("X-Custom", "v1")], body: Array("{\"a\":1}".utf8), timeout: 5).get()
        let request = try #require(server.requests.first)
        let lines = request.head.components(separatedBy: "\r\n")
        #expect(lines.first == "POST /hooks/acr?code=abc HTTP/1.1")
        #expect(lines.contains("Host: 127.0.0.1:\(server.port)"))
        #expect(lines.contains("X-Custom: v1") && lines.contains("Content-Type: application/json"))
        #expect(lines.contains("Authorization: Basic \(Data("us@er:pa:ss".utf8).base64EncodedString())"))
        #expect(lines.contains("Content-Length: 7"))
        #expect(request.body == Array("{\"a\":1}".utf8))
    }

    @Test("a header value with a line break is refused before anything is sent")
    func headerInjection() throws {
        let server = try ScriptedServer { _, _ in .reply(Self.ok) }
        defer { server.stop() }
        let result = PlainHTTPClient().post(try Self.uri(server), headers: [("X-A", "v\r\nX-Injected: 1")], body: [], timeout: 5)
        guard case .failure(.invalidRequest) = result else {
            Issue.record("expected a refusal, got \(result)")
            return
        }
        #expect(server.requests.isEmpty)
    }

    @Test("an answer arriving in small pieces is assembled")
    func pieces() throws {
        let bytes = Array("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".utf8)
        let pieces = stride(from: 0, to: bytes.count, by: 7).map { Array(bytes[$0..<min(bytes.count, $0 + 7)]) }
        let server = try ScriptedServer { _, _ in .pieces(pieces, pauseMilliseconds: 2) }
        defer { server.stop() }
        let response = try PlainHTTPClient().post(try Self.uri(server), headers: [], body: [], timeout: 5).get()
        #expect(response.status == 201 && response.body == Array("hello".utf8) && response.reusable)
    }

    struct Fault: Sendable, CustomTestStringConvertible {
        var id: String
        var action: ScriptedServer.Action
        var expected: String
        var testDescription: String { id }
    }

    @Test("faults become a clear failure, within the timeout", .timeLimit(.minutes(1)), arguments: [
        Fault(id: "closed without an answer", action: .close, expected: "closed before a response"),
        Fault(id: "not HTTP", action: .replyAndClose(Array("hello there\r\n\r\n".utf8)), expected: "not valid HTTP"),
        Fault(id: "closed mid-body", action: .replyAndClose(Array("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort".utf8)), expected: "not valid HTTP"),
        Fault(id: "never answers", action: .hang, expected: "timed out"),
        Fault(id: "answers the head, then stalls", action: .pieces([Array("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc".utf8)], pauseMilliseconds: 3000), expected: "timed out"),
    ])
    func faults(_ fault: Fault) throws {
        let server = try ScriptedServer { _, _ in fault.action }
        defer { server.stop() }
        let started = Date()
        let result = PlainHTTPClient().post(try Self.uri(server), headers: [], body: [], timeout: 1)
        guard case .failure(let failure) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(failure.message(timeout: 1).contains(fault.expected), "\(failure.message(timeout: 1))")
        #expect(Date().timeIntervalSince(started) < 4, "a fault must not hold the caller past its timeout")
    }

    @Test("a receiver that never reads a large body: the blocked send ends at the timeout", .timeLimit(.minutes(1)))
    func receiverNeverReads() throws {
        let (listener, port) = try Socket.listen(host: "127.0.0.1", port: 0)
        let accepted = Locked<Int32>(-1)
        // Accepts and holds the connection without ever reading from it.
        let thread = Thread { accepted.set(accept(listener, nil, nil)) }
        thread.start()
        defer {
            let descriptor = accepted.value
            if descriptor >= 0 { close(descriptor) }
            close(listener)
        }
        let started = Date()
        let body = [UInt8](repeating: 0x61, count: 32 * 1024 * 1024)  // far beyond both socket buffers
        let result = PlainHTTPClient().post(HTTPEndpoint(host: "127.0.0.1", port: Int(port)), headers: [], body: body, timeout: 2)
        let elapsed = Date().timeIntervalSince(started)
        guard case .failure(.timedOut) = result else {
            Issue.record("expected a timeout, got \(result)")
            return
        }
        // A send timeout that each partial send restarts would take at least 4 s here (measured: a blocked
        // send returns what it got out after the full timeout, and the next one waits the timeout again).
        #expect(elapsed < 3.5, "the send blocked \(elapsed) s with a 2 s timeout")
    }

    @Test("a closed port is refused and an unknown host does not resolve")
    func unreachable() throws {
        let server = try ScriptedServer { _, _ in .close }
        let port = server.port
        server.stop()
        let refused = PlainHTTPClient().post(HTTPEndpoint(host: "127.0.0.1", port: Int(port)), headers: [], body: [], timeout: 2)
        guard case .failure(.refused) = refused else {
            Issue.record("expected refused, got \(refused)")
            return
        }
        let unknown = PlainHTTPClient().post(HTTPEndpoint(host: "no-such-host.invalid"), headers: [], body: [], timeout: 2)
        guard case .failure(.hostNotFound) = unknown else {
            Issue.record("expected host not found, got \(unknown)")
            return
        }
    }

    @Test("which URIs the socket client takes; the rest go through URLSession")
    func eligibility() throws {
        #expect(PlainHTTPClient.canSend(toHost: "127.0.0.1"))
        #expect(PlainHTTPClient.canSend(toHost: "hooks.example.com"))
        #expect(PlainHTTPClient.canSend(toHost: "[::1]"))
        #expect(!PlainHTTPClient.canSend(toHost: ""))
        #expect(!PlainHTTPClient.canSend(toHost: "b%C3%BCcher.example"))
    }

    @Test("concurrent requests each get their own connection and their own answer")
    func concurrent() async throws {
        let server = try ScriptedServer { _, request in
            .reply(Array("HTTP/1.1 200 OK\r\nContent-Length: \(request.body.count)\r\n\r\n".utf8) + request.body)
        }
        defer { server.stop() }
        let client = PlainHTTPClient()
        let uri = try Self.uri(server)
        let mismatches = Counter()
        await concurrentForEach(8) { worker in
            for round in 0..<25 {
                let body = Array("w\(worker)r\(round)".utf8)
                if (try? client.post(uri, headers: [], body: body, timeout: 5).get().body) != body { mismatches.add() }
            }
        }
        #expect(mismatches.value == 0)
        #expect(server.requests.count == 200)
        #expect(server.connectionCount <= 8 + 1)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func add() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }
}

/// A receiver that streams interim responses forever: the timeout bounds the whole exchange, and too
/// many interim responses are refused outright.
@Suite struct InterimFloodTests {
    static let interim = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    @Test("a slow stream of 100 Continue is cut off at the delivery's timeout, not when the receiver stops")
    func slowFlood() throws {
        let server = try ScriptedServer { _, _ in .pieces(Array(repeating: Self.interim, count: 9), pauseMilliseconds: 400) }
        defer { server.stop() }
        let started = Date()
        let result = PlainHTTPClient().post(HTTPEndpoint(host: "127.0.0.1", port: Int(server.port), target: "/"), headers: [], body: [], timeout: 1)
        let elapsed = Date().timeIntervalSince(started)
        guard case .failure(.timedOut) = result else {
            Issue.record("expected a timeout, got \(result)")
            return
        }
        #expect(elapsed < 2.5, "the exchange ran \(elapsed) s with a 1 s timeout")
    }

    @Test("more than ten interim responses are refused as an invalid response")
    func fastFlood() throws {
        let server = try ScriptedServer { _, _ in .pieces(Array(repeating: Self.interim, count: 200), pauseMilliseconds: 1) }
        defer { server.stop() }
        let result = PlainHTTPClient().post(HTTPEndpoint(host: "127.0.0.1", port: Int(server.port), target: "/"), headers: [], body: [], timeout: 10)
        guard case .failure(.invalidResponse(let message)) = result else {
            Issue.record("expected an invalid response, got \(result)")
            return
        }
        #expect(message.contains("interim (1xx)"))
    }
}

/// Quick ACKs: set on the client's socket after the request goes out and after every read, so a
/// receiver that writes its headers and body in two sends (Nagle on) is not held up by a delayed ACK.
/// The effect is latency, measured in hookapply-bench (--only lane-stock), not asserted here; this
/// checks that the option takes on this kernel.
@Suite struct QuickAckTests {
    @Test("TCP_QUICKACK is accepted and reads back as set on a connected socket")
    func quickAck() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        listen(listener, 1)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) } }
        #expect(connected == 0)
        PlainHTTPClient.acknowledgeQuickly(client)
        var value: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        #expect(getsockopt(client, Int32(IPPROTO_TCP), PlainHTTPClient.quickAcknowledgement, &value, &size) == 0)
        #expect(value == 1)
    }
}

import Foundation
import HookKit
import TestSupport
import Testing

@testable import HTTP1

#if canImport(Glibc)
import Glibc
#endif

/// The listener itself, over real sockets: a slow client is cut off, an idle one closed, connections are
/// capped, and thousands of mutated requests sent through the socket never crash, hang or wedge it.
@Suite struct HTTPServerTests {
    struct Failure: Error {}

    static func server(timeouts: HTTPServer.Timeouts = .init()) throws -> HTTPServer {
        let server = try HTTPServer(host: "127.0.0.1", port: 0, timeouts: timeouts) { request in
            .text(200, "\(request.method) \(request.target) \(request.body.count)")
        }
        server.start()
        return server
    }

    @Test("a request trickling in a byte at a time is cut off with 408 at the request deadline", .timeLimit(.minutes(1)))
    func slowClient() throws {
        let server = try Self.server(timeouts: .init(idle: 1, request: 1.5))
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        defer { connection.close() }
        let started = Date()
        let request = Array("POST /events HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n".utf8)
        var closedEarly = false
        for byte in request + Array(repeating: UInt8(ascii: "x"), count: 20) {
            if connection.readable || !connection.send([byte]) {
                closedEarly = true
                break
            }
            usleep(200_000)  // each byte within the idle timeout: only the request deadline can stop it
            if Date().timeIntervalSince(started) > 4 { break }
        }
        let answer = connection.readAll()
        #expect(answer.text.hasPrefix("HTTP/1.1 408 "), "\(answer.text)")
        #expect(Date().timeIntervalSince(started) < 4.5, "cut off at about 1.5 s, not when the client finished (closed early: \(closedEarly))")
    }

    @Test("an idle connection is closed after the idle timeout, without an answer")
    func idle() throws {
        let server = try Self.server(timeouts: .init(idle: 0.5, request: 5))
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        defer { connection.close() }
        let started = Date()
        let answer = connection.readAll()
        #expect(answer.text.isEmpty && !answer.timedOut)
        #expect(Date().timeIntervalSince(started) < 3)
    }

    @Test("kept-alive and pipelined requests are answered in order on one connection")
    func keepAlive() throws {
        let server = try Self.server()
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        defer { connection.close() }
        connection.send(Array("GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".utf8))
        let text = connection.readAll().text
        let bodies = text.components(separatedBy: "\r\n\r\n").dropFirst().map { $0.prefix { $0 != "\n" } }
        #expect(bodies == ["GET /a 0", "POST /b 3", "GET /c 0"], "\(text)")
    }

    /// What a batching server with `handler` answers to `requests`, sent at once on one connection.
    static func batchingAnswers(_ requests: String, handler: @escaping HTTPServer.BatchHandler) throws -> String {
        let server = try HTTPServer.batching(host: "127.0.0.1", port: 0, handler: handler)
        server.start()
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        defer { connection.close() }
        #expect(connection.send(Array(requests.utf8)))
        return connection.readAll().text
    }

    @Test("a batching server gets the requests that arrived together in one call, and answers each in order")
    func batching() throws {
        let sizes = Locked<[Int]>([])
        let text = try Self.batchingAnswers("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nGET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n") { requests in
            sizes.withLock { $0.append(requests.count) }
            return requests.map { .text(200, "\($0.target) of \(requests.count)") }
        }
        let bodies = text.components(separatedBy: "\r\n\r\n").dropFirst().map { $0.prefix { $0 != "\n" } }
        #expect(bodies == ["/a of 3", "/b of 3", "/c of 3"], "\(text)")
        #expect(sizes.value == [3])
    }

    @Test("a batch handler answering too few gets 500 for the rest, not a hang")
    func shortBatch() throws {
        let text = try Self.batchingAnswers("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n") { _ in [.text(200, "first")] }
        #expect(text.hasPrefix("HTTP/1.1 200 ") && text.contains("HTTP/1.1 500 "), "\(text)")
    }

    @Test("a client that stops reading a large answer is dropped after the idle timeout; others are served meanwhile", .timeLimit(.minutes(1)))
    func unreadAnswer() async throws {
        let large = [UInt8](repeating: 0x78, count: 16 * 1024 * 1024)
        let server = try HTTPServer(host: "127.0.0.1", port: 0, timeouts: .init(idle: 1, request: 5)) { request in
            request.target == "/large" ? HTTPServer.Response(status: 200, body: large) : .text(200, "small")
        }
        server.start()
        defer { server.stop() }
        let stalled = try RawConnection(port: server.port, timeout: 10)
        defer { stalled.close() }
        #expect(stalled.send(Array("GET /large HTTP/1.1\r\nHost: h\r\n\r\n".utf8)))
        // While that answer waits for room in the socket, the one loop still serves everyone else.
        let other = try RawConnection(port: server.port)
        defer { other.close() }
        #expect(other.send(Array("GET /small HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".utf8)))
        #expect(other.readAll().text.hasPrefix("HTTP/1.1 200 "))
        try await Task.sleep(nanoseconds: 3_000_000_000)  // past the idle timeout with the answer unread: the server gives up on it
        let received = stalled.readAll()
        #expect(!received.timedOut, "the server closed the connection")
        #expect(received.text.utf8.count < large.count, "the answer was cut off, not held forever")
    }

    @Test("a client that ends its side after asking still gets the whole large answer, then the close")
    func halfClosed() throws {
        let large = [UInt8](repeating: 0x79, count: 8 * 1024 * 1024)
        let server = try HTTPServer(host: "127.0.0.1", port: 0) { _ in HTTPServer.Response(status: 200, body: large) }
        server.start()
        defer { server.stop() }
        let connection = try RawConnection(port: server.port, timeout: 10)
        defer { connection.close() }
        #expect(connection.send(Array("GET /large HTTP/1.1\r\nHost: h\r\n\r\n".utf8)))
        connection.finishSending()
        usleep(300_000)  // the end of stream is there long before the answer has gone out
        let started = Date()
        let received = connection.readAll()
        #expect(!received.timedOut)
        #expect(Date().timeIntervalSince(started) < 5, "closed once the answer was out, not at the idle timeout")
        let body = received.text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        #expect(body.utf8.count == large.count)
    }

    @Test("header names are compared case-insensitively, byte by byte")
    func headerLookup() {
        let request = HTTPRequest(method: .get, target: "/", headers: [ResolvedHeaderLine(name: "X-ToKeN", value: "one"), ResolvedHeaderLine(name: "x-token", value: "two")])
        #expect(request.header("x-token") == "one")
        #expect(request.header("X-TOKEN") == "one")
        #expect(request.header("x-toke") == nil)
        #expect(request.header("x-tokens") == nil)
        #expect(request.header("x_token") == nil)
    }

    @Test("beyond the connection cap a new connection gets 503 at once; the held ones still work")
    func connectionCap() throws {
        let server = try Self.server(timeouts: .init(idle: 5, request: 5, maxConnections: 2))
        defer { server.stop() }
        let held = try (0..<2).map { _ in try RawConnection(port: server.port) }
        defer { held.forEach { $0.close() } }
        usleep(100_000)  // let the server admit both
        let extra = try RawConnection(port: server.port)
        defer { extra.close() }
        #expect(extra.readAll().text.hasPrefix("HTTP/1.1 503 "))
        held[0].send(Array("GET /ok HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".utf8))
        #expect(held[0].readAll().text.hasPrefix("HTTP/1.1 200 "))
    }
}

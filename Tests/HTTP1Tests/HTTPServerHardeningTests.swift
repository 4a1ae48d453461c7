import Foundation
import HookKit
import TestSupport
import Testing

@testable import HTTP1

#if canImport(Glibc)
import Glibc
#endif

/// What a hostile client can cost before it is refused: bounded memory and time for every part of a
/// request, heads checked before bodies, and no way for one address to take every connection.
@Suite(.serialized) struct HTTPServerHardeningTests {
    /// A server whose head check refuses `POST /secret` without `Authorization: Bearer right`.
    static func server(timeouts: HTTPServer.Timeouts = .init()) throws -> HTTPServer {
        let server = try HTTPServer(host: "127.0.0.1", port: 0, timeouts: timeouts, headCheck: { head in
            if head.target == "/secret", head.header("Authorization") != "Bearer right" { return .text(401, "no") }
            return nil
        }) { request in
            .text(200, "\(request.method) \(request.target) \(request.body.count)")
        }
        server.start()
        return server
    }

    /// Resident memory of this process, in MiB.
    static func residentMiB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1024
    }

    /// Sends `head`, then `filler` over and over until the server answers or closes, or `seconds` pass;
    /// returns the answer and how many bytes went out.
    static func flood(port: UInt16, head: String, filler: [UInt8], seconds: Double = 5) throws -> (answer: String, sent: Int) {
        let connection = try RawConnection(port: port)
        defer { connection.close() }
        var sent = 0
        guard connection.send(Array(head.utf8)) else { return ("", 0) }
        let started = Date()
        while Date().timeIntervalSince(started) < seconds, !connection.readable {
            guard connection.send(filler) else { break }
            sent += filler.count
        }
        return (connection.readAll().text, sent)
    }

    @Test("a chunked request whose trailer never ends is refused after its bounded framing; 8 at once stay small", .timeLimit(.minutes(1)))
    func trailerFlood() throws {
        let server = try Self.server()
        defer { server.stop() }
        let before = Self.residentMiB()
        let results = Locked<[(String, Int)]>([])
        let head = "POST /events HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let result = (try? Self.flood(port: server.port, head: head, filler: Array(repeating: UInt8(ascii: "a"), count: 16 * 1024))) ?? ("", 0)
            results.withLock { $0.append(result) }
        }
        for (answer, sent) in results.value {
            #expect(answer.hasPrefix("HTTP/1.1 431 ") || answer.hasPrefix("HTTP/1.1 400 "), "\(answer.prefix(80))")
            // What went out includes the kernel's socket buffers (megabytes on loopback); the server itself
            // stops after its 64 KiB of framing. Without the bound it read until the 5 s flood ended.
            #expect(sent < 32 * 1024 * 1024, "\(sent) bytes went out before the server refused")
        }
        let growth = Self.residentMiB() - before
        #expect(growth < 100, "resident memory grew by \(growth) MiB")
    }

    struct FramingCase: CustomTestStringConvertible, Sendable {
        var id: String
        var body: String
        var message: String
        var testDescription: String { id }
    }

    @Test("chunk framing is bounded: a long extension, and many lines of extensions around a tiny body", arguments: [
        FramingCase(id: "one 4 KiB extension", body: "1;" + String(repeating: "e", count: 4096) + "\r\n", message: "longer than"),
        FramingCase(id: "80 lines of 1 KB extensions", body: String(repeating: "1;" + String(repeating: "x", count: 1000) + "\r\na\r\n", count: 80),
                    message: "chunk size lines and trailers are larger"),
    ])
    func chunkFraming(_ testCase: FramingCase) throws {
        let body = testCase.body
        let message = testCase.message
        let server = try Self.server()
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        defer { connection.close() }
        connection.send(Array("POST /events HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\(body)".utf8))
        let answer = connection.readAll().text
        #expect(answer.hasPrefix("HTTP/1.1 4"), "\(answer.prefix(120))")
        #expect(answer.contains(message), "\(answer)")
    }

    @Test("a chunk size line ending in a bare LF gets 400 at once, not a close at end of input")
    func bareLFChunkLine() throws {
        let server = try Self.server()
        defer { server.stop() }
        let connection = try RawConnection(port: server.port, timeout: 3)
        defer { connection.close() }
        connection.send(Array("POST /events HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n".utf8))
        let answer = connection.readAll()
        #expect(!answer.timedOut)
        #expect(answer.text.hasPrefix("HTTP/1.1 400 "), "\(answer.text)")
        #expect(answer.text.contains("CRLF"))
    }

    @Test("a head the check refuses is answered at once, before any of its declared body arrives", arguments: [
        ("POST /secret HTTP/1.1\r\nHost: h\r\nContent-Length: 900000\r\n\r\n", "HTTP/1.1 401 "),
        ("POST /secret HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.1 401 "),
        ("POST /any HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n", "HTTP/1.1 413 "),
    ])
    func headFirst(_ head: String, _ status: String) throws {
        let server = try Self.server()
        defer { server.stop() }
        let connection = try RawConnection(port: server.port, timeout: 3)
        defer { connection.close() }
        let started = Date()
        connection.send(Array(head.utf8))  // and no body at all
        let answer = connection.readAll()
        #expect(!answer.timedOut, "the server waited for a body it was going to refuse")
        #expect(answer.text.hasPrefix(status), "\(answer.text)")
        #expect(Date().timeIntervalSince(started) < 2)
    }

    @Test("Expect: 100-continue is answered once the head passes, then the request completes")
    func expectContinue() throws {
        let server = try Self.server()
        defer { server.stop() }
        let connection = try RawConnection(port: server.port, timeout: 3)
        defer { connection.close() }
        connection.send(Array("POST /secret HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer right\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n".utf8))
        usleep(200_000)
        connection.send(Array("ok".utf8))
        let answer = connection.readAll().text
        #expect(answer.hasPrefix("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 "), "\(answer)")
    }

    @Test("headers trickling in are cut off at the header deadline with 408", .timeLimit(.minutes(1)))
    func headerDeadline() throws {
        let server = try Self.server(timeouts: .init(idle: 5, header: 1, request: 30))
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        defer { connection.close() }
        let started = Date()
        for byte in Array("POST /events HTTP/1.1\r\nHost: h\r\nX-Slow: ".utf8) + Array(repeating: UInt8(ascii: "z"), count: 40) {
            if connection.readable || !connection.send([byte]) { break }
            usleep(100_000)
        }
        let answer = connection.readAll().text
        #expect(answer.hasPrefix("HTTP/1.1 408 "), "\(answer)")
        #expect(answer.contains("headers"))
        #expect(Date().timeIntervalSince(started) < 3)
    }

    @Test("one address cannot take every connection: its extra ones get 503, another client still gets through", .timeLimit(.minutes(1)))
    func perClientCap() throws {
        let server = try Self.server(timeouts: .init(idle: 10, header: 10, request: 30, maxConnections: 64, maxConnectionsPerClient: 8))
        defer { server.stop() }
        // The misbehaving client, from 127.0.0.2: connections that start a request and never finish it.
        var hostile: [RawConnection] = []
        defer { hostile.forEach { $0.close() } }
        var refused = 0
        for _ in 0..<20 {
            let connection = try RawConnection(port: server.port, timeout: 2, source: "127.0.0.2")
            connection.send(Array("POST /events HTTP/1.1\r\nHost: h\r\n".utf8))
            hostile.append(connection)
        }
        usleep(200_000)
        for connection in hostile where connection.readable {
            let answer = connection.readAll().text
            if answer.hasPrefix("HTTP/1.1 503 ") && answer.contains("from your address") { refused += 1 }
        }
        #expect(refused == 12, "20 connections with a cap of 8 from one address: 12 refused, saw \(refused)")
        // A real client, from 127.0.0.1, is served.
        let connection = try RawConnection(port: server.port, timeout: 3)
        defer { connection.close() }
        connection.send(Array("POST /events HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".utf8))
        #expect(connection.readAll().text.hasPrefix("HTTP/1.1 200 "))
    }
}

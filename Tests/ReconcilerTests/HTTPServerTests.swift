import Foundation
import HookSpec
import TestSupport
import Testing

@testable import Reconciler

#if canImport(Glibc)
import Glibc
#endif

/// The listener itself, over real sockets: a slow client is cut off, an idle one closed, connections are
/// capped, and thousands of mutated requests sent through the socket never crash, hang or wedge it.
@Suite struct HTTPServerTests {
    struct Failure: Error {}

    /// A raw client socket with a receive timeout.
    struct RawConnection {
        let descriptor: Int32

        init(port: UInt16, timeout: Int = 5) throws {
            descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw Failure() }
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
        func send(_ bytes: [UInt8]) -> Bool {
            bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
        }

        func finishSending() { shutdown(descriptor, Int32(SHUT_WR)) }

        /// True when an answer (or the close) is waiting to be read.
        var readable: Bool {
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            return poll(&entry, 1, 0) > 0
        }

        /// Everything until the server closes; `timedOut` when it neither answered nor closed in time,
        /// and a reset counts as a failure too (it can discard an answer).
        func readAll() -> (text: String, timedOut: Bool) {
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

        func close() { Glibc.close(descriptor) }
    }

    /// The length of the first response in `bytes` (head through Content-Length body; the server always sends one).
    static func length(of bytes: [UInt8]) -> Int {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let headEnd = text.range(of: "\r\n\r\n") else { return 0 }
        let head = text[..<headEnd.lowerBound]
        let length = head.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        return min(bytes.count, text[..<headEnd.upperBound].utf8.count + length)
    }

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

    @Test("mutated requests through the socket: every answer is well-formed HTTP or a close, and the server keeps serving", .timeLimit(.minutes(2)))
    func socketFuzz() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let queue = try DeliveryQueue(path: directory + "/q.jsonl")
        let engine = DeliveryEngine(queue: queue, webhooks: { [] }, log: EventLog(path: directory + "/events.jsonl"))
        let service = ServeService(engine: engine, token: "fuzz-token")
        let server = try HTTPServer(host: "127.0.0.1", port: 0, timeouts: .init(idle: 2, request: 2), handler: service.handle)
        server.start()
        defer { server.stop() }
        let body = #"{"events":[{"id":"f1","timestamp":"t","action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","repository":"r","tag":"t","digest":"sha256:1"}}]}"#
        let corpus = [
            "POST /events HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer fuzz-token\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)",
            "POST /events HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer fuzz-token\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\(String(body.utf8.count, radix: 16))\r\n\(body)\r\n0\r\n\r\n",
            "GET /metrics HTTP/1.1\r\nHost: h\r\n\r\nGET /healthz HTTP/1.0\r\n\r\n",
        ]
        let pieces = ["\r\n", "\n", ":", " ", "Content-Length: 99999999\r\n", "Transfer-Encoding: chunked\r\n", "0\r\n\r\n", "\u{0}", "HTTP/1.1", "{", "\""]
        var random = SeededRandom(state: 31337)
        var answered = 0
        for iteration in 0..<600 {
            let bytes = random.mutate(Array(corpus[iteration % corpus.count].utf8), pieces: pieces)
            let connection = try RawConnection(port: server.port, timeout: 10)
            connection.send(bytes)
            connection.finishSending()  // the server sees the end instead of waiting for more
            let answer = connection.readAll()
            connection.close()
            #expect(!answer.timedOut, "iteration \(iteration): no answer and no close")
            if answer.text.isEmpty { continue }
            answered += 1
            // The answers, parsed one after another by the client's strict parser: each must be whole and valid.
            var remaining = Array(answer.text.utf8)
            while !remaining.isEmpty {
                var parser = HTTPResponseParser()
                parser.append(remaining)
                do {
                    let response = try parser.finishAtClose()
                    #expect([200, 400, 401, 404, 405, 408, 413, 414, 415, 431, 501, 505].contains(response.status), "iteration \(iteration)")
                    let consumed = Self.length(of: remaining)
                    guard consumed > 0 else { break }
                    remaining.removeFirst(consumed)
                } catch {
                    Issue.record("iteration \(iteration): \(error.message) in \(answer.text.prefix(200))")
                    break
                }
            }
        }
        #expect(answered > 300)
        let check = try RawConnection(port: server.port)
        defer { check.close() }
        check.send(Array("GET /healthz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".utf8))
        #expect(check.readAll().text.hasPrefix("HTTP/1.1 200 "))
        service.stop()
    }
}

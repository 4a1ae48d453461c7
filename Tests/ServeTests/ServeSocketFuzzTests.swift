import Delivery
import Foundation
import HTTP1
import TestSupport
import Testing

@testable import Serve

/// serve's routes behind the product's HTTP server, through real sockets, with mutated requests.
@Suite struct ServeSocketFuzzTests {
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
                    let consumed = RawConnection.length(of: remaining)
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

import TestSupport
import Testing

@testable import HTTP1

/// The response parser behind webhook deliveries over plain HTTP: framing cases, refusals, limits,
/// split-invariance, and fuzzing.
@Suite struct HTTPResponseParserTests {
    /// Parses `text` as a whole; `closed` feeds the end of the connection after it.
    static func parse(_ text: String, closed: Bool = false, keptBody: Int = 4096) -> Result<HTTPClientResponse?, HTTPResponseError> {
        var parser = HTTPResponseParser(keptBody: keptBody)
        parser.append(Array(text.utf8))
        do {
            if let response = try parser.next() { return .success(response) }
            return closed ? .success(try parser.finishAtClose()) : .success(nil)
        } catch {
            return .failure(error)
        }
    }

    struct Framed: Sendable, CustomTestStringConvertible {
        var id: String
        var text: String
        var closed = false
        var status: Int
        var body: String
        var reusable: Bool
        var testDescription: String { id }
    }

    @Test("framing: Content-Length, chunked, close-delimited, no body, interim answers", arguments: [
        Framed(id: "Content-Length", text: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok", reusable: true),
        Framed(id: "Content-Length 0", text: "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n", status: 202, body: "", reusable: true),
        Framed(id: "chunked with extension and trailer", text: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nX-T: 1\r\n\r\n", status: 200, body: "Wikipedia", reusable: true),
        Framed(id: "Connection: close", text: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok", reusable: false),
        Framed(id: "HTTP/1.0 without keep-alive", text: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok", reusable: false),
        Framed(id: "HTTP/1.0 with keep-alive", text: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok", reusable: true),
        Framed(id: "Connection options as tokens, any case, among others", text: "HTTP/1.1 200 OK\r\nConnection: Upgrade ,\tCLOSE\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok", reusable: false),
        Framed(id: "close in a second Connection field", text: "HTTP/1.1 200 OK\r\nconnection: keep-alive\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok", reusable: false),
        Framed(id: "a token that only contains close is not close", text: "HTTP/1.1 200 OK\r\nConnection: x-closed\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok", reusable: true),
        Framed(id: "HTTP/1.0 keep-alive in capitals", text: "HTTP/1.0 200 OK\r\nCONNECTION: Keep-Alive\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok", reusable: true),
        Framed(id: "HTTP/1.0 keep-alive and close: closed", text: "HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok", reusable: false),
        Framed(id: "no framing: body until close", text: "HTTP/1.1 200 OK\r\n\r\nuntil the end", closed: true, status: 200, body: "until the end", reusable: false),
        Framed(id: "204 has no body", text: "HTTP/1.1 204 No Content\r\n\r\n", status: 204, body: "", reusable: true),
        Framed(id: "100 Continue, then the answer", text: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nboom", status: 500, body: "boom", reusable: true),
        Framed(id: "bare LF line ends", text: "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", status: 200, body: "ok", reusable: true),
        Framed(id: "no reason phrase", text: "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", status: 404, body: "", reusable: true),
        Framed(id: "bytes after the answer: not reused", text: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", status: 200, body: "ok", reusable: false),
    ])
    func framed(_ testCase: Framed) throws {
        let response = try #require(try Self.parse(testCase.text, closed: testCase.closed).get())
        #expect(response.status.rawValue == testCase.status)
        #expect(String(decoding: response.body, as: UTF8.self) == testCase.body)
        #expect(response.reusable == testCase.reusable)
    }

    struct Refused: Sendable, CustomTestStringConvertible {
        var id: String
        var text: String
        var closed = false
        var testDescription: String { id }
    }

    @Test("answers that could desynchronise a connection, or are not HTTP, are refused", arguments: [
        Refused(id: "both Content-Length and Transfer-Encoding", text: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
        Refused(id: "conflicting Content-Length", text: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"),
        Refused(id: "signed Content-Length", text: "HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc"),
        Refused(id: "gzip transfer coding", text: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"),
        Refused(id: "not HTTP", text: "SSH-2.0-OpenSSH_9.2\r\n\r\n"),
        Refused(id: "HTTP/2", text: "HTTP/2 200\r\n\r\n"),
        Refused(id: "two-digit status", text: "HTTP/1.1 20 OK\r\n\r\n"),
        Refused(id: "status below 100", text: "HTTP/1.1 099 Odd\r\n\r\n"),
        Refused(id: "101 Switching Protocols", text: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"),
        Refused(id: "obsolete folding", text: "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n"),
        Refused(id: "header without a name", text: "HTTP/1.1 200 OK\r\n: v\r\nContent-Length: 0\r\n\r\n"),
        Refused(id: "bad chunk size", text: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        Refused(id: "chunk without its line end", text: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n0\r\n\r\n"),
        Refused(id: "head over 64 KiB", text: "HTTP/1.1 200 OK\r\n" + String(repeating: "X-Pad: " + String(repeating: "p", count: 1000) + "\r\n", count: 70)),
        Refused(id: "more than 100 headers", text: "HTTP/1.1 200 OK\r\n" + String(repeating: "X: y\r\n", count: 101) + "Content-Length: 0\r\n\r\n"),
        Refused(id: "closed before any answer", text: "", closed: true),
        Refused(id: "closed mid-head", text: "HTTP/1.1 200 OK\r\nContent-Len", closed: true),
        Refused(id: "closed mid-body", text: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", closed: true),
        Refused(id: "closed mid-chunk", text: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", closed: true),
    ])
    func refused(_ testCase: Refused) {
        switch Self.parse(testCase.text, closed: testCase.closed) {
        case .success(let response): Issue.record("accepted: \(String(describing: response))")
        case .failure(let error): #expect(!error.message.isEmpty)
        }
    }

    @Test("a long body keeps only its start, reads to the end when framed, and stops at 1 MiB")
    func longBodies() throws {
        let body = String(repeating: "x", count: 10_000)
        let framed = try #require(try Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n" + body, keptBody: 100).get())
        #expect(framed.body.count == 100 && framed.bodyTruncated && framed.reusable)
        var parser = HTTPResponseParser(keptBody: 100)
        parser.append(Array("HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n".utf8))
        var answer: HTTPClientResponse? = nil
        var fed = 0
        while answer == nil && fed < 5_000_000 {
            parser.append([UInt8](repeating: 0x61, count: 65536))
            fed += 65536
            answer = try parser.next()
        }
        let stopped = try #require(answer)
        #expect(fed <= HTTPResponseParser.maxBodyRead + 65536, "read \(fed) bytes of an endless body")
        #expect(stopped.bodyTruncated && !stopped.reusable && stopped.status == 200)
    }

    static let corpus = [
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        "HTTP/1.0 500 Boom\r\n\r\nclose-delimited body",
    ]

    static func outcome(_ chunks: [[UInt8]]) -> String {
        var parser = HTTPResponseParser(keptBody: 8)
        do {
            for chunk in chunks {
                parser.append(chunk)
                if let response = try parser.next() { return "\(response.status) \(response.body) \(response.bodyTruncated) \(response.reusable)" }
            }
            let response = try parser.finishAtClose()
            return "closed \(response.status) \(response.body) \(response.bodyTruncated)"
        } catch {
            return "error \(error.message)"
        }
    }

    @Test("any split of the input gives the same result as the whole")
    func splitInvariance() {
        var random = SeededRandom(state: 7)
        for text in Self.corpus {
            let bytes = Array(text.utf8)
            let whole = Self.outcome([bytes])
            #expect(!whole.hasPrefix("error"), "\(whole)")
            for _ in 0..<300 {
                #expect(Self.outcome(random.split(bytes, maxChunk: 9)) == whole)
            }
        }
    }

    @Test("thousands of mutated answers: never a crash or a hang, always a response, a wait or an error", .timeLimit(.minutes(1)))
    func fuzz() {
        var random = SeededRandom(state: 4242)
        let pieces = ["\r\n", "\n", ":", " ", "Content-Length: 99999999999999\r\n", "Transfer-Encoding: chunked\r\n", "0\r\n\r\n", "ffffffff\r\n",
                      "HTTP/1.1 100 Continue\r\n\r\n", "\u{0}", "Connection: close\r\n"]
        var outcomes = 0
        for iteration in 0..<8_000 {
            let bytes = random.mutate(Array(Self.corpus[iteration % Self.corpus.count].utf8), pieces: pieces)
            var parser = HTTPResponseParser(keptBody: 16)
            parser.append(bytes)
            let closes = random.chance(50)
            do throws(HTTPResponseError) {
                var response = try parser.next()
                if response == nil && closes { response = try parser.finishAtClose() }
                if let response { #expect(response.body.count <= 16 && (100...999).contains(response.status.rawValue)) }
            } catch {
                #expect(!error.message.isEmpty)
            }
            outcomes += 1
        }
        #expect(outcomes == 8_000)
    }
}

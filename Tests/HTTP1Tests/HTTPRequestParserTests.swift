import TestSupport
import Testing

@testable import HTTP1

/// The strict HTTP/1.1 request parser for `serve`: table cases, chunked bodies, pipelining, limits,
/// split-invariance, and fuzzing.
@Suite struct HTTPRequestParserTests {
    static func parse(_ text: String, limits: HTTPLimits = HTTPLimits()) -> Result<[HTTPRequest], HTTPParseError> {
        var parser = HTTPRequestParser(limits: limits)
        parser.append(Array(text.utf8))
        var requests: [HTTPRequest] = []
        do {
            while let request = try parser.next() { requests.append(request) }
            return .success(requests)
        } catch {
            return .failure(error)
        }
    }

    @Test("a POST with a Content-Length body")
    func contentLength() throws {
        let requests = try Self.parse("POST /events?src=registry HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 4\r\n\r\n{\"a\"").get()
        let request = try #require(requests.first)
        #expect(request.method == "POST" && request.target == "/events?src=registry")
        #expect(request.header("content-type") == "application/json")
        #expect(request.body == Array("{\"a\"".utf8))
        #expect(request.keepsAlive)
    }

    @Test("chunked bodies, with extensions and trailers")
    func chunked() throws {
        let text = "POST /events HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\n"
        let request = try #require(try Self.parse(text).get().first)
        #expect(String(decoding: request.body, as: UTF8.self) == "Wikipedia")
    }

    @Test("pipelined requests on one connection come out one by one")
    func pipelined() throws {
        let one = "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n"
        let two = "POST /events HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        let requests = try Self.parse(one + two).get()
        #expect(requests.map(\.target) == ["/healthz", "/events"])
        #expect(requests[1].keepsAlive == false)
    }

    struct Refused: Sendable, CustomTestStringConvertible {
        var id: String
        var text: String
        var status: Int
        var testDescription: String { id }
    }

    @Test("malformed, ambiguous and oversized requests get a clear status", arguments: [
        Refused(id: "missing Host in HTTP/1.1", text: "GET / HTTP/1.1\r\n\r\n", status: 400),
        Refused(id: "both Content-Length and Transfer-Encoding", text: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400),
        Refused(id: "conflicting Content-Length", text: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", status: 400),
        Refused(id: "negative Content-Length", text: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", status: 400),
        Refused(id: "Content-Length with a sign", text: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\nabc", status: 400),
        Refused(id: "gzip transfer coding", text: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", status: 501),
        Refused(id: "space before the colon", text: "GET / HTTP/1.1\r\nHost : h\r\n\r\n", status: 400),
        Refused(id: "obsolete line folding", text: "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n", status: 400),
        Refused(id: "bare LF", text: "GET / HTTP/1.1\nHost: h\n\n", status: 400),
        Refused(id: "HTTP/2 preface", text: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", status: 505),
        Refused(id: "two spaces in the request line", text: "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400),
        Refused(id: "control byte in a header value", text: "GET / HTTP/1.1\r\nHost: h\r\nX: a\u{1}b\r\n\r\n", status: 400),
        Refused(id: "bad chunk size", text: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", status: 400),
        Refused(id: "chunk without CRLF", text: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n0\r\n\r\n", status: 400),
        Refused(id: "body over the limit (declared)", text: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n", status: 413),
        Refused(id: "request line over the limit", text: "GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\nHost: h\r\n\r\n", status: 414),
        Refused(id: "headers over the limit", text: "GET / HTTP/1.1\r\nHost: h\r\n" + String(repeating: "X-Pad: " + String(repeating: "p", count: 1000) + "\r\n", count: 40) + "\r\n", status: 431),
    ])
    func refused(_ testCase: Refused) {
        switch Self.parse(testCase.text) {
        case .success(let requests): Issue.record("accepted \(requests.count) requests")
        case .failure(let error): #expect(error.status.rawValue == testCase.status, "\(error.message)")
        }
    }

    @Test("a chunked body over the limit is refused as it arrives")
    func chunkedLimit() {
        var limits = HTTPLimits()
        limits.maxBody = 10
        let result = Self.parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n", limits: limits)
        #expect((try? result.get()) == nil)
        if case .failure(let error) = result { #expect(error.status == 413) }
    }

    @Test("an incomplete request waits for more bytes instead of failing")
    func incomplete() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("POST /events HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab".utf8))
        #expect(try parser.next() == nil)
        parser.append(Array("cde".utf8))
        #expect(try parser.next()?.body == Array("abcde".utf8))
        #expect(parser.pendingCount == 0)
    }

    static let corpus = [
        "POST /events HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\nAuthorization: Bearer t\r\n\r\n{\"events\":}",
        "POST /events HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /metrics HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /healthz HTTP/1.0\r\n\r\n",
    ]

    /// The outcome as comparable text.
    static func outcome(_ chunks: [[UInt8]]) -> String {
        var parser = HTTPRequestParser()
        var seen: [String] = []
        do {
            for chunk in chunks {
                parser.append(chunk)
                while let request = try parser.next() { seen.append("\(request.method) \(request.target) \(request.body.count)") }
            }
            return seen.joined(separator: "|") + " pending \(parser.pendingCount)"
        } catch {
            return seen.joined(separator: "|") + " error \(error.status)"
        }
    }

    @Test("any split of the input gives the same result as the whole")
    func splitInvariance() {
        var random = SeededRandom(state: 11)
        for text in Self.corpus {
            let bytes = Array(text.utf8)
            let whole = Self.outcome([bytes])
            for _ in 0..<300 {
                #expect(Self.outcome(random.split(bytes, maxChunk: 12)) == whole)
            }
        }
    }

    @Test("thousands of mutated requests: never a crash or a hang, always a request, a wait or a 4xx/5xx", .timeLimit(.minutes(1)))
    func fuzz() {
        var random = SeededRandom(state: 2026)
        let pieces = ["\r\n", "\r", "\n", ":", " ", "Content-Length: 9999999999999\r\n", "Transfer-Encoding: chunked\r\n", "0\r\n\r\n", "ffffffff\r\n", ";", "\u{0}", "HTTP/1.1"]
        var outcomes = 0
        for iteration in 0..<8_000 {
            let bytes = random.mutate(Array(Self.corpus[iteration % Self.corpus.count].utf8), pieces: pieces)
            var parser = HTTPRequestParser()
            parser.append(bytes)
            do {
                var count = 0
                while let request = try parser.next() {
                    #expect(request.body.count <= HTTPLimits().maxBody)
                    count += 1
                    if count > 10 { break }
                }
            } catch {
                #expect([400, 413, 414, 431, 501, 505].contains(error.status))
            }
            outcomes += 1
        }
        #expect(outcomes == 8_000)
    }
}

import HookKit

/// Why a response could not be read. The connection is closed after one.
public struct HTTPResponseError: Error, Hashable, Sendable {
    public var message: String
}

/// An incremental HTTP/1.x response parser: bytes in as they arrive, one whole response out.
///
/// It parses a receiver's answer to a webhook POST, so it is built for a peer hookapply does not
/// control: every size is bounded (head, header count, body read), the body is streamed and only its
/// start kept, `1xx` interim responses are skipped, and framing that could desynchronise a reused
/// connection (both `Content-Length` and `Transfer-Encoding`, conflicting lengths, a coding other than
/// `chunked`) is refused. Lines may end in CRLF or a bare LF, as RFC 9112 §2.2 lets a recipient accept.
public struct HTTPResponseParser: Sendable {
    public static let maxHead = 64 * 1024
    public static let maxHeaderCount = 100
    /// Interim (1xx) responses accepted before the final one: a receiver that streams `100 Continue`
    /// forever is broken or hostile, and is refused rather than read until the deadline.
    public static let maxInterimResponses = 10
    private var interimResponses = 0
    /// A body longer than this is not read to its end: the response is returned and the connection closed.
    public static let maxBodyRead = 1024 * 1024

    /// How much of the body is kept.
    public let keptBody: Int

    private enum State: Sendable {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkEnd
        case trailers
        case untilClose
        case done
    }

    private var buffer: [UInt8] = []
    /// Where unparsed bytes start in `buffer` (consumed bytes are dropped in batches, not one by one).
    private var offset = 0
    private var state = State.head
    private var response = HTTPClientResponse(status: 0, version: "", headers: [], body: [], bodyTruncated: false, reusable: false)
    private var bodyRead = 0
    private var trailerBytes = 0

    public init(keptBody: Int = 4096) {
        self.keptBody = keptBody
    }

    /// True once any byte of a response arrived (a reused connection that fails before this is retried).
    public private(set) var receivedAny = false

    public mutating func append(_ bytes: some Collection<UInt8>) {
        if !bytes.isEmpty { receivedAny = true }
        if offset > 0 && offset == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            offset = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The response once complete, nil while more bytes are needed.
    public mutating func next() throws(HTTPResponseError) -> HTTPClientResponse? {
        while true {
            switch state {
            case .done:
                return response
            case .head:
                guard try parseHead() else { return nil }
            case .fixed(let remaining):
                let take = min(remaining, buffer.count - offset)
                consumeBody(take)
                let left = remaining - take
                if left == 0 {
                    return finish(reusable: response.reusable)
                }
                state = .fixed(remaining: left)
                if bodyRead >= HTTPResponseParser.maxBodyRead { return finish(reusable: false) }
                return nil
            case .chunkSize:
                guard let line = try takeLine(limit: 1024, what: "a chunk size line") else { return nil }
                let sizeText = line.prefix { $0 != UInt8(ascii: ";") }.filter { $0 != 0x20 && $0 != 0x09 }
                guard !sizeText.isEmpty, sizeText.count <= 8, sizeText.allSatisfy(Self.isHexDigit),
                    let size = Int(String(decoding: sizeText, as: UTF8.self), radix: 16)
                else { throw HTTPResponseError(message: "the response has an invalid chunk size") }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let take = min(remaining, buffer.count - offset)
                consumeBody(take)
                let left = remaining - take
                state = left == 0 ? .chunkEnd : .chunkData(remaining: left)
                if bodyRead >= HTTPResponseParser.maxBodyRead { return finish(reusable: false) }
                if left > 0 { return nil }
            case .chunkEnd:
                guard let line = try takeLine(limit: 2, what: "a chunk end") else { return nil }
                guard line.isEmpty else { throw HTTPResponseError(message: "a chunk is not followed by a line end") }
                state = .chunkSize
            case .trailers:
                guard let line = try takeLine(limit: HTTPResponseParser.maxHead, what: "a trailer") else { return nil }
                trailerBytes += line.count
                if trailerBytes > HTTPResponseParser.maxHead { throw HTTPResponseError(message: "the response trailers are too large") }
                if line.isEmpty { return finish(reusable: response.reusable) }
            case .untilClose:
                consumeBody(buffer.count - offset)
                if bodyRead >= HTTPResponseParser.maxBodyRead { return finish(reusable: false) }
                return nil
            }
        }
    }

    /// The connection closed: the response if its body ends at the close, else an error.
    public mutating func finishAtClose() throws(HTTPResponseError) -> HTTPClientResponse {
        if let complete = try next() { return complete }
        switch state {
        case .untilClose:
            return finish(reusable: false)
        case .head:
            throw HTTPResponseError(message: receivedAny ? "the connection closed in the middle of the response headers" : "the connection closed before a response arrived")
        default:
            throw HTTPResponseError(message: "the connection closed before the response body was complete")
        }
    }

    private mutating func finish(reusable: Bool) -> HTTPClientResponse {
        response.reusable = reusable && offset == buffer.count  // bytes after the response: the peer is out of step
        state = .done
        return response
    }

    private mutating func consumeBody(_ count: Int) {
        guard count > 0 else { return }
        let room = max(0, keptBody - response.body.count)
        if room > 0 { response.body.append(contentsOf: buffer[offset..<(offset + min(room, count))]) }
        if count > room { response.bodyTruncated = true }
        bodyRead += count
        offset += count
    }

    /// One line without its end; nil when incomplete. Longer than `limit` without an end is an error.
    private mutating func takeLine(limit: Int, what: String) throws(HTTPResponseError) -> ArraySlice<UInt8>? {
        var index = offset
        while index < buffer.count {
            if buffer[index] == 0x0A {
                var end = index
                if end > offset && buffer[end - 1] == 0x0D { end -= 1 }
                let line = buffer[offset..<end]
                offset = index + 1
                guard line.count <= limit else { throw HTTPResponseError(message: "\(what) in the response is too long") }
                return line
            }
            index += 1
        }
        if buffer.count - offset > limit + 1 { throw HTTPResponseError(message: "\(what) in the response is too long") }
        return nil
    }

    /// Parses the status line and headers once all of them are buffered; false when more are needed.
    private mutating func parseHead() throws(HTTPResponseError) -> Bool {
        // Find the empty line that ends the head, without consuming anything until it is all here.
        var index = offset
        var lineStart = offset
        var end: Int? = nil
        while index < buffer.count {
            if buffer[index] == 0x0A {
                let length = index - lineStart - (index > lineStart && buffer[index - 1] == 0x0D ? 1 : 0)
                if length == 0 && lineStart > offset {
                    end = index + 1
                    break
                }
                lineStart = index + 1
            }
            index += 1
        }
        guard let headEnd = end else {
            if buffer.count - offset > HTTPResponseParser.maxHead {
                throw HTTPResponseError(message: "the response headers are larger than \(HTTPResponseParser.maxHead) bytes")
            }
            return false
        }
        if headEnd - offset > HTTPResponseParser.maxHead {
            throw HTTPResponseError(message: "the response headers are larger than \(HTTPResponseParser.maxHead) bytes")
        }
        var lines: [ArraySlice<UInt8>] = []
        while offset < headEnd, let line = try takeLine(limit: HTTPResponseParser.maxHead, what: "a header line") {
            if line.isEmpty { break }
            lines.append(line)
        }
        guard let statusLine = lines.first else { throw HTTPResponseError(message: "the response has no status line") }
        let (version, status) = try Self.parseStatusLine(statusLine)
        guard lines.count - 1 <= HTTPResponseParser.maxHeaderCount else {
            throw HTTPResponseError(message: "the response has more than \(HTTPResponseParser.maxHeaderCount) header fields")
        }
        var headers: [ResolvedHeaderLine] = []
        for line in lines.dropFirst() { headers.append(try Self.parseHeader(line)) }
        if status == 101 { throw HTTPResponseError(message: "the receiver switched protocols (101), which a webhook POST never asks for") }
        if (100...199).contains(status) {  // an interim response: the real one follows
            interimResponses += 1
            if interimResponses > HTTPResponseParser.maxInterimResponses {
                throw HTTPResponseError(message: "the receiver sent more than \(HTTPResponseParser.maxInterimResponses) interim (1xx) responses and no final one")
            }
            return true
        }
        response = HTTPClientResponse(status: HTTPStatus(status), version: version, headers: headers, body: [], bodyTruncated: false, reusable: false)
        // One pass, on bytes: this runs for every delivery, and lowercased copies with Foundation's
        // substring search were a tenth of a delivery lane's CPU. Connection options are tokens
        // (RFC 9110 §7.6.1), compared whole and without case.
        var closes = false
        var keepsAlive = false
        var lengths: [String] = []
        var codings: [String] = []
        for header in headers {
            let name = header.name.utf8
            if ASCII.equalIgnoringCase(name, "connection".utf8) {
                for option in header.value.utf8.split(separator: UInt8(ascii: ",")) {
                    let token = option.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed()
                    if ASCII.equalIgnoringCase(token, "close".utf8) { closes = true }
                    if ASCII.equalIgnoringCase(token, "keep-alive".utf8) { keepsAlive = true }
                }
            } else if ASCII.equalIgnoringCase(name, "content-length".utf8) {
                lengths.append(header.value)
            } else if ASCII.equalIgnoringCase(name, "transfer-encoding".utf8) {
                codings.append(header.value.lowercased())
            }
        }
        let keepAlive = version == "HTTP/1.1" ? !closes : keepsAlive && !closes
        if !lengths.isEmpty && !codings.isEmpty {
            throw HTTPResponseError(message: "the response has both Content-Length and Transfer-Encoding")
        }
        if status == 204 || status == 304 {
            response.reusable = keepAlive
            state = .done
            return true
        }
        if !codings.isEmpty {
            guard codings.count == 1, codings[0].trimmingSpaces == "chunked" else {
                throw HTTPResponseError(message: "the response uses a transfer coding other than chunked")
            }
            response.reusable = keepAlive
            state = .chunkSize
            return true
        }
        if let first = lengths.first {
            guard lengths.allSatisfy({ $0 == first }), !first.isEmpty, first.utf8.count <= 15,
                first.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let length = Int(first)
            else { throw HTTPResponseError(message: "the response has an invalid or conflicting Content-Length") }
            response.reusable = keepAlive
            state = .fixed(remaining: length)
            return true
        }
        state = .untilClose  // no framing: the body ends when the connection closes
        return true
    }

    private static func parseStatusLine(_ line: ArraySlice<UInt8>) throws(HTTPResponseError) -> (String, Int) {
        let parts = line.split(separator: 0x20, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2 else { throw HTTPResponseError(message: "the response has a malformed status line") }
        let version = String(decoding: parts[0], as: UTF8.self)
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            throw HTTPResponseError(message: "the response is not HTTP/1.x")
        }
        guard parts[1].count == 3, parts[1].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let status = Int(String(decoding: parts[1], as: UTF8.self)),
            status >= 100
        else { throw HTTPResponseError(message: "the response has an invalid status code") }
        return (version, status)
    }

    private static func parseHeader(_ line: ArraySlice<UInt8>) throws(HTTPResponseError) -> ResolvedHeaderLine {
        if let first = line.first, first == 0x20 || first == 0x09 {
            throw HTTPResponseError(message: "the response uses obsolete header line folding")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
            throw HTTPResponseError(message: "the response has a header line without a name")
        }
        let name = line[line.startIndex..<colon]
        guard name.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }) else {
            throw HTTPResponseError(message: "the response has an invalid header name")
        }
        var value = line[(colon + 1)...]
        while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
        while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
        return ResolvedHeaderLine(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x66)
    }
}

extension String {
    fileprivate var trimmingSpaces: Substring {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return text
    }
}

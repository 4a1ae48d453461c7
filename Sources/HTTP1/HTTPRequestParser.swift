/// Bounds that keep a slow or hostile client from exhausting memory or CPU.
public struct HTTPLimits: Hashable, Sendable {
    public var maxRequestLine = 8 * 1024
    public var maxHeaderBytes = 32 * 1024
    public var maxHeaderCount = 100
    public var maxBody = 1024 * 1024
    /// Chunk-size lines (extensions included) and trailers of one request, all together: framing that is
    /// not body is bounded too, or a client could send megabytes of it around a tiny body.
    public var maxChunkFraming = 64 * 1024
    /// One chunk-size line, extensions included.
    public var maxChunkLine = 1024

    public init() {}
}

/// Why a request is refused, with the status to answer. The connection is closed after one.
public struct HTTPParseError: Error, Hashable, Sendable {
    public var status: HTTPStatus
    public var message: String
}

/// What the parser has for the caller.
public enum HTTPParseEvent: Hashable, Sendable {
    /// A request's head is in (its body is empty here, and follows): the caller can refuse it now
    /// (wrong token, method, path, type or declared length) without reading a byte of the body.
    case head(HTTPRequest)
    /// A whole request.
    case request(HTTPRequest)
}

/// A strict, incremental HTTP/1.1 request parser: bytes in as they arrive, a head and then the whole
/// request out.
///
/// Strict where leniency enables request smuggling or resource exhaustion: CRLF line endings only (a bare
/// LF anywhere, chunk lines and trailers included, is 400), no whitespace before a header colon, no obsolete
/// line folding, `Host` required for HTTP/1.1, no request with both `Content-Length` and
/// `Transfer-Encoding`, conflicting lengths refused, only `chunked` as a transfer coding, and every part
/// bounded: request line (414), headers (431), body (413, checked against a declared length as soon as the
/// head is in), chunk lines and trailers (``HTTPLimits/maxChunkFraming``).
///
/// Linear: every byte is examined a bounded number of times however it is split across reads (a scan
/// resumes where the last one stopped), and consumed bytes are dropped in amortised constant time.
public struct HTTPRequestParser: Sendable {
    private var buffer: [UInt8] = []
    /// The first byte not yet consumed.
    private var position = 0
    /// Where a scan for a line end resumes (bytes before it, from `position`, hold no line end).
    private var scanned = 0
    /// In the head: where the request line ended, once it did.
    private var requestLineEnd: Int? = nil

    private enum Phase: Sendable {
        case head
        case fixedBody(remaining: Int)
        case chunkLine
        case chunkData(remaining: Int)
        case chunkEnd
        case trailers
    }
    private var phase = Phase.head
    /// The request whose head is in and whose body is arriving.
    private var current: HTTPRequest? = nil
    private var framing = 0

    public let limits: HTTPLimits

    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
    }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        // Drop what was consumed once it is most of the buffer: amortised O(1) per byte.
        if position > 0 && position >= buffer.count / 2 {
            buffer.removeSubrange(0..<position)
            scanned = max(0, scanned - position)
            if let end = requestLineEnd { requestLineEnd = end - position }
            position = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Bytes received but not yet part of a returned request (a request under way counts as pending).
    public var pendingCount: Int { buffer.count - position + (current == nil ? 0 : 1) }

    /// True while a request's head is in and its body is still arriving.
    public var isReadingBody: Bool { current != nil }

    /// The next complete request, nil when more bytes are needed (heads are passed over).
    public mutating func next() throws(HTTPParseError) -> HTTPRequest? {
        while let event = try nextEvent() {
            if case .request(let request) = event { return request }
        }
        return nil
    }

    /// The next head or whole request, nil when more bytes are needed.
    public mutating func nextEvent() throws(HTTPParseError) -> HTTPParseEvent? {
        while true {
            switch phase {
            case .head:
                guard let head = try takeHead() else { return nil }
                return .head(head)
            case .fixedBody(let remaining):
                let left = takeBody(remaining)
                if left > 0 {
                    phase = .fixedBody(remaining: left)
                    return nil
                }
                return .request(finish())
            case .chunkLine:
                guard let line = try takeLine(limit: limits.maxChunkLine, what: "a chunk size line") else { return nil }
                try countFraming(line.count + 2)
                let sizeText = line.prefix { $0 != UInt8(ascii: ";") }
                guard !sizeText.isEmpty, sizeText.count <= 8,
                    sizeText.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }),
                    let size = Int(String(decoding: sizeText, as: UTF8.self), radix: 16)
                else { throw bad("an invalid chunk size") }
                guard line.dropFirst(sizeText.count).allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                    throw bad("a chunk extension with control characters")
                }
                if size == 0 {
                    phase = .trailers
                } else {
                    if (current?.body.count ?? 0) + size > limits.maxBody {
                        throw HTTPParseError(status: 413, message: "the body is larger than \(limits.maxBody) bytes")
                    }
                    phase = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let left = takeBody(remaining)
                if left > 0 {
                    phase = .chunkData(remaining: left)
                    return nil
                }
                phase = .chunkEnd
            case .chunkEnd:
                guard buffer.count - position >= 2 else { return nil }
                guard buffer[position] == 13, buffer[position + 1] == 10 else { throw bad("a chunk not followed by CRLF") }
                position += 2
                scanned = position
                phase = .chunkLine
            case .trailers:
                // Trailer fields are read and ignored, bounded with the rest of the chunk framing.
                guard let line = try takeLine(limit: limits.maxHeaderBytes, what: "a trailer line") else { return nil }
                try countFraming(line.count + 2)
                if line.isEmpty { return .request(finish()) }
            }
        }
    }

    /// Moves up to `remaining` buffered body bytes into the current request; returns how many are still to come.
    private mutating func takeBody(_ remaining: Int) -> Int {
        let count = min(remaining, buffer.count - position)
        if count > 0 {
            current?.body.append(contentsOf: buffer[position..<(position + count)])
            position += count
        }
        return remaining - count
    }

    private mutating func countFraming(_ bytes: Int) throws(HTTPParseError) {
        framing += bytes
        if framing > limits.maxChunkFraming {
            throw HTTPParseError(status: 431, message: "the chunk size lines and trailers are larger than \(limits.maxChunkFraming) bytes")
        }
    }

    private mutating func finish() -> HTTPRequest {
        let request = current ?? HTTPRequest(method: .other(""), target: "", headers: [])
        current = nil
        phase = .head
        framing = 0
        scanned = position
        return request
    }

    /// The next CRLF-terminated line from `position` (without the CRLF), consumed; nil when incomplete.
    /// A bare LF is refused, and a line still unfinished past `limit` bytes too.
    private mutating func takeLine(limit: Int, what: String) throws(HTTPParseError) -> ArraySlice<UInt8>? {
        var index = max(scanned, position)
        while index < buffer.count {
            if buffer[index] == 10 {
                guard index > position, buffer[index - 1] == 13 else { throw bad("\(what) must end with CRLF") }
                if index - 1 - position > limit {
                    throw HTTPParseError(status: what == "a trailer line" ? 431 : 400, message: "\(what) is longer than \(limit) bytes")
                }
                let line = buffer[position..<(index - 1)]
                position = index + 1
                scanned = position
                return line
            }
            index += 1
        }
        scanned = index
        if buffer.count - position > limit + 1 {
            throw HTTPParseError(status: what == "a trailer line" ? 431 : 400, message: "\(what) is longer than \(limit) bytes")
        }
        return nil
    }

    /// Scans for the end of the head (resuming where the last scan stopped), then parses it.
    private mutating func takeHead() throws(HTTPParseError) -> HTTPRequest? {
        var index = max(scanned, position)
        var headEnd: Int? = nil
        while index < buffer.count {
            if buffer[index] == 10 {
                guard index > position, buffer[index - 1] == 13 else { throw bad("lines must end with CRLF") }
                if requestLineEnd == nil { requestLineEnd = index - 1 }
                if index - 3 >= position, buffer[index - 2] == 10, buffer[index - 3] == 13 {
                    headEnd = index + 1
                    break
                }
            }
            index += 1
        }
        scanned = index
        let lineLength = (requestLineEnd ?? index) - position
        if lineLength > limits.maxRequestLine {
            throw HTTPParseError(status: 414, message: "the request line is longer than \(limits.maxRequestLine) bytes")
        }
        guard let end = headEnd else {
            if buffer.count - position > limits.maxRequestLine + limits.maxHeaderBytes {
                throw HTTPParseError(status: 431, message: "the request headers are larger than \(limits.maxHeaderBytes) bytes")
            }
            return nil
        }
        let head = buffer[position..<(end - 4)]
        let lines = split(head)
        guard let requestLine = lines.first, !requestLine.isEmpty else { throw bad("an empty request") }
        if head.count - requestLine.count > limits.maxHeaderBytes {
            throw HTTPParseError(status: 431, message: "the request headers are larger than \(limits.maxHeaderBytes) bytes")
        }
        let (method, target, version) = try parseRequestLine(requestLine)
        var headers: [ResolvedHeaderLine] = []
        for line in lines.dropFirst() {
            if headers.count >= limits.maxHeaderCount {
                throw HTTPParseError(status: 431, message: "more than \(limits.maxHeaderCount) header fields")
            }
            headers.append(try parseHeader(line))
        }
        position = end
        scanned = end
        requestLineEnd = nil
        let request = HTTPRequest(method: HTTPMethod(method), target: target, version: version, headers: headers, body: [])
        if version == "HTTP/1.1", request.header("Host") == nil { throw bad("HTTP/1.1 requests need a Host header") }
        let lengths = headers.filter { $0.name.lowercased() == "content-length" }.map(\.value)
        let codings = headers.filter { $0.name.lowercased() == "transfer-encoding" }.map(\.value)
        if !lengths.isEmpty && !codings.isEmpty { throw bad("a request cannot have both Content-Length and Transfer-Encoding") }
        current = request
        if !codings.isEmpty {
            guard codings.count == 1, codings[0].lowercased() == "chunked" else {
                throw HTTPParseError(status: 501, message: "only the chunked transfer coding is supported")
            }
            phase = .chunkLine
            return request
        }
        var length = 0
        if let first = lengths.first {
            guard lengths.allSatisfy({ $0 == first }), !first.isEmpty, first.utf8.count <= 12,
                first.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(first)
            else { throw bad("invalid or conflicting Content-Length") }
            length = value
        }
        // Refused on the declared length, before a byte of the body is read.
        if length > limits.maxBody {
            throw HTTPParseError(status: 413, message: "the body is larger than \(limits.maxBody) bytes")
        }
        current?.body.reserveCapacity(length)
        phase = .fixedBody(remaining: length)
        return request
    }

    private func bad(_ message: String) -> HTTPParseError { HTTPParseError(status: 400, message: message) }

    private func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    private func parseRequestLine(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> (String, String, String) {
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, parts[0].allSatisfy(isTokenByte) else {
            throw bad("a malformed request line")
        }
        guard parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw bad("the request target has invalid characters") }
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            throw HTTPParseError(status: 505, message: "only HTTP/1.1 and HTTP/1.0 are supported")
        }
        return (String(decoding: parts[0], as: UTF8.self), String(decoding: parts[1], as: UTF8.self), version)
    }

    private func parseHeader(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> ResolvedHeaderLine {
        if let first = line.first, first == 0x20 || first == 0x09 { throw bad("obsolete header line folding is not accepted") }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else { throw bad("a header line without a name") }
        let name = line[line.startIndex..<colon]
        guard name.allSatisfy(isTokenByte) else { throw bad("an invalid header name (no spaces before the colon)") }
        var value = line[(colon + 1)...]
        while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
        while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
        guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else { throw bad("a header value with control characters") }
        return ResolvedHeaderLine(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
    }

    /// Lines of a header section, split at CRLF (the scan has already refused any bare LF).
    private func split(_ head: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = head.startIndex
        var index = head.startIndex
        while index < head.endIndex {
            if head[index] == 13, index + 1 < head.endIndex, head[index + 1] == 10 {
                lines.append(head[start..<index])
                index += 2
                start = index
                continue
            }
            index += 1
        }
        lines.append(head[start..<head.endIndex])
        return lines
    }
}

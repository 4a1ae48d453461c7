/// Bounds that keep a slow or hostile client from exhausting memory.
public struct HTTPLimits: Hashable, Sendable {
    public var maxRequestLine = 8 * 1024
    public var maxHeaderBytes = 32 * 1024
    public var maxHeaderCount = 100
    public var maxBody = 1024 * 1024

    public init() {}
}

/// Why a request is refused, with the status to answer. The connection is closed after one.
public struct HTTPParseError: Error, Hashable, Sendable {
    public var status: HTTPStatus
    public var message: String
}

/// A strict, incremental HTTP/1.1 request parser: bytes in as they arrive, whole requests out.
///
/// Strict where leniency enables request smuggling or resource exhaustion: CRLF line endings only, no
/// whitespace before a header colon, no obsolete line folding, `Host` required for HTTP/1.1, no request
/// with both `Content-Length` and `Transfer-Encoding`, conflicting lengths refused, only `chunked` as a
/// transfer coding, and every size bounded (414, 431, 413).
public struct HTTPRequestParser: Sendable {
    private var buffer: [UInt8] = []
    public let limits: HTTPLimits

    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
    }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// Bytes received but not yet part of a returned request.
    public var pendingCount: Int { buffer.count }

    /// The next complete request, nil when more bytes are needed.
    public mutating func next() throws(HTTPParseError) -> HTTPRequest? {
        guard let headerEnd = find([13, 10, 13, 10]) else {
            // A bare LF would otherwise leave the request waiting for a CRLF that never comes.
            for index in buffer.indices where buffer[index] == 10 && (index == 0 || buffer[index - 1] != 13) {
                throw bad("lines must end with CRLF")
            }
            if let lineEnd = find([13, 10]), lineEnd > limits.maxRequestLine {
                throw HTTPParseError(status: 414, message: "the request line is longer than \(limits.maxRequestLine) bytes")
            }
            if find([13, 10]) == nil, buffer.count > limits.maxRequestLine {
                throw HTTPParseError(status: 414, message: "the request line is longer than \(limits.maxRequestLine) bytes")
            }
            if buffer.count > limits.maxRequestLine + limits.maxHeaderBytes {
                throw HTTPParseError(status: 431, message: "the request headers are larger than \(limits.maxHeaderBytes) bytes")
            }
            return nil
        }
        let head = Array(buffer[0..<headerEnd])
        let lines = split(head)
        guard let requestLine = lines.first else { throw bad("an empty request") }
        if requestLine.count > limits.maxRequestLine {
            throw HTTPParseError(status: 414, message: "the request line is longer than \(limits.maxRequestLine) bytes")
        }
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
        var request = HTTPRequest(method: HTTPMethod(method), target: target, version: version, headers: headers, body: [])
        if version == "HTTP/1.1", request.header("Host") == nil { throw bad("HTTP/1.1 requests need a Host header") }
        let lengths = headers.filter { $0.name.lowercased() == "content-length" }.map(\.value)
        let codings = headers.filter { $0.name.lowercased() == "transfer-encoding" }.map(\.value)
        if !lengths.isEmpty && !codings.isEmpty { throw bad("a request cannot have both Content-Length and Transfer-Encoding") }
        let bodyStart = headerEnd + 4
        if !codings.isEmpty {
            guard codings.count == 1, codings[0].lowercased() == "chunked" else {
                throw HTTPParseError(status: 501, message: "only the chunked transfer coding is supported")
            }
            guard let (body, consumed) = try parseChunked(from: bodyStart) else { return nil }
            request.body = body
            buffer.removeSubrange(0..<consumed)
            return request
        }
        var length = 0
        if let first = lengths.first {
            guard lengths.allSatisfy({ $0 == first }), !first.isEmpty, first.utf8.count <= 12,
                first.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(first)
            else { throw bad("invalid or conflicting Content-Length") }
            length = value
        }
        if length > limits.maxBody {
            throw HTTPParseError(status: 413, message: "the body is larger than \(limits.maxBody) bytes")
        }
        guard buffer.count - bodyStart >= length else { return nil }
        request.body = Array(buffer[bodyStart..<(bodyStart + length)])
        buffer.removeSubrange(0..<(bodyStart + length))
        return request
    }

    private func bad(_ message: String) -> HTTPParseError { HTTPParseError(status: 400, message: message) }

    private func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    private func parseRequestLine(_ line: [UInt8]) throws(HTTPParseError) -> (String, String, String) {
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

    private func parseHeader(_ line: [UInt8]) throws(HTTPParseError) -> ResolvedHeaderLine {
        if let first = line.first, first == 0x20 || first == 0x09 { throw bad("obsolete header line folding is not accepted") }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { throw bad("a header line without a name") }
        let name = line[0..<colon]
        guard name.allSatisfy(isTokenByte) else { throw bad("an invalid header name (no spaces before the colon)") }
        var value = line[(colon + 1)...]
        while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
        while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
        guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else { throw bad("a header value with control characters") }
        return ResolvedHeaderLine(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
    }

    /// `size[;ext] CRLF data CRLF … 0 CRLF [trailers] CRLF`; nil when incomplete.
    private func parseChunked(from start: Int) throws(HTTPParseError) -> ([UInt8], Int)? {
        var body: [UInt8] = []
        var index = start
        while true {
            guard let lineEnd = find([13, 10], from: index) else {
                if buffer.count - index > 1024 { throw bad("a chunk size line is too long") }
                return nil
            }
            let sizeLine = buffer[index..<lineEnd]
            let sizeText = sizeLine.prefix { $0 != UInt8(ascii: ";") }
            guard !sizeText.isEmpty, sizeText.count <= 8,
                sizeText.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }),
                let size = Int(String(decoding: sizeText, as: UTF8.self), radix: 16)
            else { throw bad("an invalid chunk size") }
            index = lineEnd + 2
            if size == 0 {
                // Trailers (ignored) until an empty line.
                while true {
                    guard let end = find([13, 10], from: index) else { return nil }
                    if end == index { return (body, end + 2) }
                    if end - index > limits.maxHeaderBytes { throw HTTPParseError(status: 431, message: "trailers too large") }
                    index = end + 2
                }
            }
            if body.count + size > limits.maxBody {
                throw HTTPParseError(status: 413, message: "the body is larger than \(limits.maxBody) bytes")
            }
            guard buffer.count >= index + size + 2 else { return nil }
            body.append(contentsOf: buffer[index..<(index + size)])
            guard buffer[index + size] == 13, buffer[index + size + 1] == 10 else { throw bad("a chunk not followed by CRLF") }
            index += size + 2
        }
    }

    private func find(_ needle: [UInt8], from start: Int = 0) -> Int? { buffer.firstIndex(of: needle, from: start) }

    /// Lines of a header section: CRLF only; a bare LF is refused.
    private func split(_ head: [UInt8]) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        var index = 0
        while index < head.count {
            if head[index] == 13, index + 1 < head.count, head[index + 1] == 10 {
                lines.append(current)
                current = []
                index += 2
                continue
            }
            current.append(head[index] == 10 ? 0 : head[index])  // a bare LF becomes a control byte, refused later
            index += 1
        }
        lines.append(current)
        return lines
    }
}

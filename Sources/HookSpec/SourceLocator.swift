/// A 1-based line and column in a source file. Columns count Unicode scalars, not bytes,
/// so that a position after non-ASCII text still lands where an editor shows it.
public struct SourcePosition: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }

    public static func < (lhs: SourcePosition, rhs: SourcePosition) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }
}

/// Turns byte offsets into line:column positions in time independent of the file's shape.
///
/// Line starts are found once (binary-searched per lookup), and so is how many UTF-8 continuation
/// bytes precede every ``stride``-th byte, so a column is the bytes since the line start minus the
/// continuation bytes among them, with at most ``stride`` bytes scanned. A one-line minified spec with
/// thousands of diagnostics would otherwise be rescanned from its start for each one.
public struct SourceLocator: Sendable {
    private let bytes: [UInt8]
    private let lineStarts: [Int]
    /// `continuations[k]`: how many continuation bytes (10xxxxxx) are in `bytes[0 ..< k * stride]`.
    private let continuations: [Int]
    static let stride = 256

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        var starts = [0]
        var counts = [0]
        counts.reserveCapacity(bytes.count / Self.stride + 2)
        var running = 0
        for (index, byte) in bytes.enumerated() {
            if index > 0 && index % Self.stride == 0 { counts.append(running) }
            if byte == UInt8(ascii: "\n") { starts.append(index + 1) }
            if byte & 0xC0 == 0x80 { running += 1 }
        }
        if bytes.count > 0 && bytes.count % Self.stride == 0 { counts.append(running) }
        self.lineStarts = starts
        self.continuations = counts
    }

    /// Continuation bytes in `bytes[0 ..< offset]`.
    private func continuationsBefore(_ offset: Int) -> Int {
        let block = offset / Self.stride
        var count = continuations[min(block, continuations.count - 1)]
        var index = min(block, continuations.count - 1) * Self.stride
        while index < offset {
            if bytes[index] & 0xC0 == 0x80 { count += 1 }
            index += 1
        }
        return count
    }

    public func position(of offset: Int) -> SourcePosition {
        let offset = max(0, min(offset, bytes.count))
        // Binary search for the last line start <= offset.
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        var start = lineStarts[low]
        // A byte-order mark is invisible in editors: do not count it as a column.
        if low == 0, bytes.starts(with: [0xEF, 0xBB, 0xBF]), offset >= 3 { start = 3 }
        // Columns count scalars: the bytes since the line start, less the continuation bytes among them.
        let scalars = (offset - start) - (continuationsBefore(offset) - continuationsBefore(start))
        return SourcePosition(line: low + 1, column: scalars + 1)
    }
}

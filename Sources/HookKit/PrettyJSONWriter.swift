/// Writes JSON text byte by byte in exactly the layout of Foundation's JSONEncoder with
/// `[.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]` (two-space indent, `"key" : value`, an empty
/// array or object as a blank line), without building the document first. Callers write keys in sorted
/// order themselves (``sortedKeys(_:)`` for dictionaries), and ``take()`` hands over what is written so
/// far, so a large document can go to a file a piece at a time.
public struct PrettyJSONWriter {
    public private(set) var bytes: [UInt8] = []
    /// Members or elements written so far in each open container, innermost last.
    private var counts: [Int] = []
    /// A key was just written: the next value follows it on the same line.
    private var afterKey = false
    /// Applied to every string value and key before it is quoted (hiding secrets); nil writes them as they are.
    private let transform: ((String) -> String)?

    public init(transform: ((String) -> String)? = nil) {
        self.transform = transform
        bytes.reserveCapacity(64 * 1024)
    }

    /// What was written since the last call, handed over and forgotten; the open containers stay open.
    public mutating func take() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }

    /// Keys in the order JSONEncoder's sortedKeys writes them.
    public static func sortedKeys<Value>(_ dictionary: [String: Value]) -> [String] { dictionary.keys.sorted() }

    private mutating func newline(depth: Int) {
        bytes.append(0x0A)
        for _ in 0..<(depth * 2) { bytes.append(0x20) }
    }

    /// Before a value: nothing after a key; in an array, the separator and the element's line.
    private mutating func beginValue() {
        if afterKey {
            afterKey = false
            return
        }
        guard let last = counts.indices.last else { return }
        if counts[last] > 0 { bytes.append(0x2C) }
        counts[last] += 1
        newline(depth: counts.count)
    }

    public mutating func key(_ name: String) {
        let last = counts.count - 1
        if counts[last] > 0 { bytes.append(0x2C) }
        counts[last] += 1
        newline(depth: counts.count)
        JSONText.appendQuoted(transform?(name) ?? name, to: &bytes)
        // Byte by byte: an array literal here would be allocated for every key.
        bytes.append(0x20)
        bytes.append(0x3A)
        bytes.append(0x20)
        afterKey = true
    }

    public mutating func beginObject() { open(0x7B) }
    public mutating func endObject() { close(0x7D) }
    public mutating func beginArray() { open(0x5B) }
    public mutating func endArray() { close(0x5D) }

    private mutating func open(_ bracket: UInt8) {
        beginValue()
        bytes.append(bracket)
        counts.append(0)
    }

    private mutating func close(_ bracket: UInt8) {
        let written = counts.removeLast()
        // JSONEncoder writes an empty container as its brackets around a blank line.
        if written == 0 { bytes.append(0x0A) }
        newline(depth: counts.count)
        bytes.append(bracket)
    }

    public mutating func string(_ value: String) {
        beginValue()
        JSONText.appendQuoted(transform?(value) ?? value, to: &bytes)
    }

    public mutating func string(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    public mutating func int(_ value: Int) {
        beginValue()
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func bool(_ value: Bool) {
        beginValue()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    public mutating func null() {
        beginValue()
        bytes.append(contentsOf: "null".utf8)
    }

    /// A list of strings.
    public mutating func strings(_ values: [String]) {
        beginArray()
        for value in values { string(value) }
        endArray()
    }

    /// A dictionary of strings, keys sorted.
    public mutating func stringDictionary(_ dictionary: [String: String]) {
        beginObject()
        for name in Self.sortedKeys(dictionary) {
            key(name)
            string(dictionary[name] ?? "")
        }
        endObject()
    }
}

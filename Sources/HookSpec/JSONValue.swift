/// A JSON value read by ``JSONReader``, with the byte offset where it starts in the source.
///
/// Offsets rather than line:column pairs are stored because computing lines for every value of a
/// 20 MB file costs time that is only worth spending for the few values a diagnostic points at;
/// ``SourceLocator`` turns an offset into a position on demand.
public struct JSONNode: Sendable, Hashable {
    /// The value itself.
    public var value: JSONValue
    /// Byte offset of the value's first byte (the `{`, `[`, `"`, digit or letter).
    public var offset: Int

    public init(_ value: JSONValue, offset: Int) {
        self.value = value
        self.offset = offset
    }
}

/// One member of a JSON object, in source order, with the offset of its key.
public struct JSONMember: Sendable, Hashable {
    public var key: String
    public var keyOffset: Int
    public var value: JSONNode

    public init(key: String, keyOffset: Int, value: JSONNode) {
        self.key = key
        self.keyOffset = keyOffset
        self.value = value
    }
}

/// The kinds of JSON value (RFC 8259).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number kept as its source text, so that no precision is lost before a consumer decides what it needs.
    case number(String)
    case string(String)
    case array([JSONNode])
    /// Members in source order; keys are unique (the reader refuses duplicates).
    case object([JSONMember])

    /// The name used in "expected X, found Y" messages.
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

extension JSONNode {
    /// The node reached by following `pointer` from this node, or nil when a token does not match.
    public func node(at pointer: JSONPointer) -> JSONNode? {
        var current = self
        for token in pointer.tokens {
            switch current.value {
            case .object(let members):
                guard let member = members.first(where: { $0.key == token }) else { return nil }
                current = member.value
            case .array(let elements):
                guard let index = Int(token), index >= 0, index < elements.count else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }

    /// The offset of the key that names the value at `pointer` (for "unknown key" style diagnostics),
    /// or the value's own offset when the last token is an array index.
    public func keyOffset(at pointer: JSONPointer) -> Int? {
        guard let last = pointer.tokens.last else { return offset }
        guard let parent = node(at: pointer.removingLast()) else { return nil }
        if case .object(let members) = parent.value, let member = members.first(where: { $0.key == last }) {
            return member.keyOffset
        }
        return node(at: pointer)?.offset
    }
}

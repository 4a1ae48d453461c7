/// An RFC 6901 JSON Pointer into a spec document, such as `/registries/0/webhooks/2/serviceUri`.
///
/// Stored as a persistent chain (each pointer shares its parent's tokens), so ``appending(_:)-(String)``
/// costs one small allocation however deep the pointer is: decoding and validating build a pointer for
/// every field of every webhook, and copying token arrays dominated that work on large specs.
/// ``description`` escapes `~` as `~0` and `/` as `~1`.
public struct JSONPointer: Hashable, Sendable, Codable, Comparable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    private final class Node: Sendable {
        let parent: Node?
        let token: String
        let depth: Int

        init(parent: Node?, token: String) {
            self.parent = parent
            self.token = token
            self.depth = (parent?.depth ?? 0) + 1
        }
    }

    private var node: Node?

    private init(node: Node?) {
        self.node = node
    }

    /// The pointer to the whole document (`""`).
    public static let root = JSONPointer(node: nil)

    public init(tokens: [String]) {
        var node: Node? = nil
        for token in tokens { node = Node(parent: node, token: token) }
        self.node = node
    }

    /// Parses the escaped form; a string that does not start with `/` (other than `""`) yields the root.
    public init(_ string: String) {
        guard string.hasPrefix("/") else {
            self.init(node: nil)
            return
        }
        self.init(tokens: string.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            // Order matters (RFC 6901 §4): ~1 first, then ~0, so that "~01" becomes "~1" and not "/".
            String($0).replacing("~1", with: "/").replacing("~0", with: "~")
        })
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    /// The unescaped tokens, from the root down.
    public var tokens: [String] {
        var result: [String] = []
        result.reserveCapacity(node?.depth ?? 0)
        var current = node
        while let step = current {
            result.append(step.token)
            current = step.parent
        }
        return result.reversed()
    }

    public var isRoot: Bool { node == nil }

    public func appending(_ key: String) -> JSONPointer {
        JSONPointer(node: Node(parent: node, token: key))
    }

    public func appending(_ index: Int) -> JSONPointer {
        JSONPointer(node: Node(parent: node, token: String(index)))
    }

    public func removingLast() -> JSONPointer {
        JSONPointer(node: node?.parent)
    }

    public var description: String {
        tokens.map { "/" + $0.replacing("~", with: "~0").replacing("/", with: "~1") }.joined()
    }

    public static func == (lhs: JSONPointer, rhs: JSONPointer) -> Bool {
        var left = lhs.node
        var right = rhs.node
        while true {
            if left === right { return true }
            guard let l = left, let r = right, l.depth == r.depth, l.token == r.token else { return false }
            left = l.parent
            right = r.parent
        }
    }

    public func hash(into hasher: inout Hasher) {
        var current = node
        hasher.combine(node?.depth ?? 0)
        while let step = current {
            hasher.combine(step.token)
            current = step.parent
        }
    }

    public static func < (lhs: JSONPointer, rhs: JSONPointer) -> Bool {
        // Numeric tokens compare as numbers so that /webhooks/10 sorts after /webhooks/9.
        let left = lhs.tokens
        let right = rhs.tokens
        for (a, b) in zip(left, right) where a != b {
            if let x = Int(a), let y = Int(b) { return x < y }
            return a < b
        }
        return left.count < right.count
    }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

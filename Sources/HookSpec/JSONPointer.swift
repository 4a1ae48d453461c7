/// An RFC 6901 JSON Pointer into a spec document, such as `/registries/0/webhooks/2/serviceUri`.
///
/// Tokens are stored unescaped; ``description`` escapes `~` as `~0` and `/` as `~1`.
public struct JSONPointer: Hashable, Sendable, Codable, Comparable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public private(set) var tokens: [String]

    /// The pointer to the whole document (`""`).
    public static let root = JSONPointer(tokens: [])

    public init(tokens: [String]) {
        self.tokens = tokens
    }

    /// Parses the escaped form; a string that does not start with `/` (other than `""`) yields the root.
    public init(_ string: String) {
        guard string.hasPrefix("/") else {
            self.tokens = []
            return
        }
        self.tokens = string.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            // Order matters (RFC 6901 §4): ~1 first, then ~0, so that "~01" becomes "~1" and not "/".
            String($0).replacing("~1", with: "/").replacing("~0", with: "~")
        }
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    public func appending(_ key: String) -> JSONPointer {
        JSONPointer(tokens: tokens + [key])
    }

    public func appending(_ index: Int) -> JSONPointer {
        JSONPointer(tokens: tokens + [String(index)])
    }

    public func removingLast() -> JSONPointer {
        JSONPointer(tokens: Array(tokens.dropLast()))
    }

    public var description: String {
        tokens.map { "/" + $0.replacing("~", with: "~0").replacing("/", with: "~1") }.joined()
    }

    public static func < (lhs: JSONPointer, rhs: JSONPointer) -> Bool {
        // Numeric tokens compare as numbers so that /webhooks/10 sorts after /webhooks/9.
        for (a, b) in zip(lhs.tokens, rhs.tokens) where a != b {
            if let x = Int(a), let y = Int(b) { return x < y }
            return a < b
        }
        return lhs.tokens.count < rhs.tokens.count
    }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

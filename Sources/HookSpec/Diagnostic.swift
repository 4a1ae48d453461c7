/// One problem found in a spec: a severity, a stable kebab-case code, where it is and what to do.
///
/// The one diagnostic type of the project. Libraries return these; only the CLI renders them.
public struct Diagnostic: Hashable, Sendable, Codable {
    public enum Severity: String, Hashable, Sendable, Codable, Comparable {
        case error
        case warning

        public static func < (lhs: Severity, rhs: Severity) -> Bool {
            lhs == .error && rhs == .warning
        }
    }

    public var severity: Severity
    /// Stable identifier that tests, JSON output and CI annotations key on, e.g. `duplicate-webhook-name`.
    public var code: String
    /// Where in the document the problem is (RFC 6901).
    public var pointer: JSONPointer
    /// Lowercase, no trailing period, user values in single quotes, the fix after `;`. Never a secret value.
    public var message: String
    /// Line and column of the offending key or value, when the spec came from a file.
    public var position: SourcePosition?

    public init(
        _ severity: Severity, code: String, pointer: JSONPointer, message: String, position: SourcePosition? = nil
    ) {
        self.severity = severity
        self.code = code
        self.pointer = pointer
        self.message = message
        self.position = position
    }

    public static func error(_ code: String, at pointer: JSONPointer, _ message: String) -> Diagnostic {
        Diagnostic(.error, code: code, pointer: pointer, message: message)
    }

    public static func warning(_ code: String, at pointer: JSONPointer, _ message: String) -> Diagnostic {
        Diagnostic(.warning, code: code, pointer: pointer, message: message)
    }

    /// Orders diagnostics by position (unpositioned last), then pointer, then code: the order they are shown in.
    public static func presentationOrder(_ lhs: Diagnostic, _ rhs: Diagnostic) -> Bool {
        switch (lhs.position, rhs.position) {
        case let (left?, right?) where left != right: return left < right
        case (.some, nil): return true
        case (nil, .some): return false
        default: break
        }
        if lhs.pointer != rhs.pointer { return lhs.pointer < rhs.pointer }
        if lhs.code != rhs.code { return lhs.code < rhs.code }
        return lhs.message < rhs.message
    }
}

extension Array where Element == Diagnostic {
    /// True when any diagnostic is an error (warnings alone leave a spec valid).
    public var hasErrors: Bool { contains { $0.severity == .error } }
}

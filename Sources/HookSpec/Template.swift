/// A string that may hold `${env:NAME}` references, resolved from the environment at run time so
/// that secrets stay out of committed files.
///
/// Syntax: `${env:NAME}` or `${env:NAME:-fallback}` (the fallback is used when NAME is unset or
/// empty, as in a POSIX shell); `$${` writes a literal `${`. NAME is `[A-Za-z_][A-Za-z0-9_]*`.
public struct Template: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Part: Hashable, Sendable {
        case literal(String)
        case environment(name: String, fallback: String?)
    }

    /// The text as written in the spec.
    public var raw: String
    public var parts: [Part]

    /// A template without references (every `$` is literal).
    public init(literal: String) {
        self.raw = literal.replacing("${", with: "$${")
        self.parts = literal.isEmpty ? [] : [.literal(literal)]
    }

    /// Parses `raw`.
    /// - Throws: ``TemplateError`` describing the first malformed reference.
    public init(parsing raw: String) throws(TemplateError) {
        self.raw = raw
        self.parts = try Template.parse(raw)
    }

    public var description: String { raw }

    /// The names of the variables referenced, in order of first use.
    public var variableNames: [String] {
        var names: [String] = []
        for case .environment(let name, _) in parts where !names.contains(name) { names.append(name) }
        return names
    }

    public var hasReferences: Bool { !variableNames.isEmpty }

    /// The text with each reference replaced by `substitute(name, fallback)`.
    public func rendered(_ substitute: (String, String?) -> String) -> String {
        parts.map { part in
            switch part {
            case .literal(let text): text
            case .environment(let name, let fallback): substitute(name, fallback)
            }
        }.joined()
    }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(parsing: raw)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(raw)
    }

    private static func parse(_ raw: String) throws(TemplateError) -> [Part] {
        var parts: [Part] = []
        var literal = ""
        var rest = Substring(raw)
        while let dollar = rest.firstIndex(of: "$") {
            literal += rest[..<dollar]
            let after = rest[dollar...].dropFirst()
            if after.hasPrefix("${") {  // "$${" is an escaped literal "${"
                literal += "${"
                rest = after.dropFirst(2)
                continue
            }
            guard after.hasPrefix("{") else {
                literal += "$"
                rest = after
                continue
            }
            guard let close = after.firstIndex(of: "}") else {
                throw TemplateError(message: "'${' is not closed; write ${env:NAME}, or $${ for a literal '${'")
            }
            let body = after[after.index(after: after.startIndex)..<close]
            guard body.hasPrefix("env:") else {
                throw TemplateError(
                    message: "unsupported reference '${\(body)}'; only ${env:NAME} is supported (write $${ for a literal '${')")
            }
            let reference = body.dropFirst(4)
            let name: Substring
            var fallback: String? = nil
            if let separator = reference.firstRange(of: ":-") {
                name = reference[..<separator.lowerBound]
                fallback = String(reference[separator.upperBound...])
            } else {
                name = reference
            }
            guard Template.isValidName(name) else {
                throw TemplateError(
                    message: "'\(name)' is not a valid environment variable name; use letters, digits and '_', not starting with a digit")
            }
            if !literal.isEmpty {
                parts.append(.literal(literal))
                literal = ""
            }
            parts.append(.environment(name: String(name), fallback: fallback))
            rest = after[after.index(after: close)...]
        }
        literal += rest
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return parts
    }

    static func isValidName(_ name: Substring) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || first.isASCIILetter else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || $0.isASCIILetter || $0.isASCIIDigit }
    }
}

/// A malformed `${...}` reference.
public struct TemplateError: Error, Hashable, Sendable {
    public var message: String
}

extension Unicode.Scalar {
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    var isASCIILowercaseLetterOrDigit: Bool { ("a"..."z").contains(self) || ("0"..."9").contains(self) }
}

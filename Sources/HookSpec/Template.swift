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
        var result = ""
        for part in parts {
            switch part {
            case .literal(let text): result += text
            case .environment(let name, let fallback): result += substitute(name, fallback)
            }
        }
        return result
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
        let bytes = Array(raw.utf8)
        let dollar = UInt8(ascii: "$")
        let open = UInt8(ascii: "{")
        if !bytes.contains(dollar) { return raw.isEmpty ? [] : [.literal(raw)] }
        // Scans UTF-8 bytes: every delimiter is ASCII, so slicing at them never splits a character.
        var parts: [Part] = []
        var literal: [UInt8] = []
        var index = 0
        func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == dollar else {
                literal.append(byte)
                index += 1
                continue
            }
            if index + 2 < bytes.count, bytes[index + 1] == dollar, bytes[index + 2] == open {  // "$${" is a literal "${"
                literal += [dollar, open]
                index += 3
                continue
            }
            guard index + 1 < bytes.count, bytes[index + 1] == open else {
                literal.append(byte)
                index += 1
                continue
            }
            guard let close = bytes[(index + 2)...].firstIndex(of: UInt8(ascii: "}")) else {
                throw TemplateError(message: "'${' is not closed; write ${env:NAME}, or $${ for a literal '${'")
            }
            let bodyStart = index + 2
            let body = bytes[bodyStart..<close]
            guard body.starts(with: Array("env:".utf8)) else {
                throw TemplateError(
                    message: "unsupported reference '${\(text(bodyStart..<close))}'; only ${env:NAME} is supported (write $${ for a literal '${')")
            }
            let nameStart = bodyStart + 4
            var nameEnd = close
            var fallback: String? = nil
            if let separator = (nameStart..<close).first(where: { bytes[$0] == UInt8(ascii: ":") && $0 + 1 < close && bytes[$0 + 1] == UInt8(ascii: "-") }) {
                nameEnd = separator
                fallback = text((separator + 2)..<close)
            }
            let name = text(nameStart..<nameEnd)
            guard Template.isValidName(Substring(name)) else {
                throw TemplateError(
                    message: "'\(name)' is not a valid environment variable name; use letters, digits and '_', not starting with a digit")
            }
            if !literal.isEmpty {
                parts.append(.literal(String(decoding: literal, as: UTF8.self)))
                literal.removeAll()
            }
            parts.append(.environment(name: name, fallback: fallback))
            index = close + 1
        }
        if !literal.isEmpty { parts.append(.literal(String(decoding: literal, as: UTF8.self))) }
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

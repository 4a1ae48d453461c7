import Foundation

/// One line of a long-running command's log (`serve`, `reconcile`): a level, a stable event name, a sentence, and fields for machines.
public struct LogEntry: Sendable {
    public enum Level: String, Sendable {
        case info, warning, error
    }

    public var level: Level
    /// A stable name for log shippers: `batch.received`, `delivery.attempt`, `delivery.gave_up`, …
    public var event: String
    /// The sentence people read.
    public var message: String
    /// In order; values are already free of secrets. Numbers and booleans stay numbers and booleans in JSON.
    public var fields: [(String, any LogFieldValue)]

    public init(_ level: Level = .info, _ event: String, _ message: String, _ fields: [(String, any LogFieldValue)] = []) {
        self.level = level
        self.event = event
        self.message = message
        self.fields = fields
    }
}

/// A log field's value: text is quoted in JSON, numbers and booleans are written as JSON numbers and
/// booleans, so a log shipper can sum `duration_ms` or filter on `apply` without parsing strings.
public protocol LogFieldValue: Sendable {
    /// The value as JSON: a number or boolean literal, or nil for text (quoted by the writer).
    var jsonLiteral: String? { get }
    /// The value as text.
    var text: String { get }
}

extension String: LogFieldValue {
    public var jsonLiteral: String? { nil }
    public var text: String { self }
}

extension Int: LogFieldValue {
    public var jsonLiteral: String? { String(self) }
    public var text: String { String(self) }
}

extension Bool: LogFieldValue {
    public var jsonLiteral: String? { self ? "true" : "false" }
    public var text: String { self ? "true" : "false" }
}

extension Double: LogFieldValue {
    /// At most three decimals, no exponent (JSON numbers; infinity and NaN, which JSON lacks, are text).
    public var jsonLiteral: String? {
        guard isFinite else { return nil }
        if self == rounded(), abs(self) < 1e15 { return String(Int(self)) }
        var text = String(format: "%.3f", self)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }
    public var text: String { jsonLiteral ?? String(describing: self) }
}

/// How `serve` and `reconcile` write their logs: every line starts with an RFC 3339 timestamp; `json` writes one object
/// per line with stable field names (`time`, `level`, `event`, `msg`, then the entry's fields).
public struct LogWriter: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case text, json
    }

    public var format: Format
    private let write: @Sendable (String) -> Void
    private let clock: @Sendable () -> String

    public init(format: Format = .text, clock: @escaping @Sendable () -> String = { Timestamp.now() }, write: @escaping @Sendable (String) -> Void) {
        self.format = format
        self.write = write
        self.clock = clock
    }

    public func callAsFunction(_ entry: LogEntry) {
        write(line(entry))
    }

    /// A JSON string in which nothing can act on a terminal either: what JSON escapes anyway (C0), and
    /// DEL, C1 and bidirectional controls as `\uXXXX`, so the line stays valid JSON and stays inert.
    private func quote(_ text: String) -> String {
        let quoted = JSONText.quote(text)
        guard quoted.unicodeScalars.contains(where: TerminalText.isUnsafe) else { return quoted }
        var result = String.UnicodeScalarView()
        for scalar in quoted.unicodeScalars {
            guard TerminalText.isUnsafe(scalar) else {
                result.append(scalar)
                continue
            }
            let hex = String(scalar.value, radix: 16, uppercase: true)
            result.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
        }
        return String(result)
    }

    /// The line, without a line break.
    public func line(_ entry: LogEntry) -> String {
        let time = clock()
        switch format {
        case .text:
            let level = entry.level == .info ? "" : "\(entry.level.rawValue): "
            return "\(time) \(level)\(TerminalText.line(entry.message))"
        case .json:
            var text = "{\"time\":\(quote(time)),\"level\":\(quote(entry.level.rawValue)),"
            text += "\"event\":\(quote(entry.event)),\"msg\":\(quote(entry.message))"
            for (name, value) in entry.fields { text += ",\(quote(name)):\(value.jsonLiteral ?? quote(value.text))" }
            return text + "}"
        }
    }
}

import HookKit

/// One line of `serve`'s log: a level, a stable event name, a sentence, and fields for machines.
public struct LogEntry: Sendable {
    public enum Level: String, Sendable {
        case info, warning, error
    }

    public var level: Level
    /// A stable name for log shippers: `batch.received`, `delivery.attempt`, `delivery.gave_up`, …
    public var event: String
    /// The sentence people read.
    public var message: String
    /// In order; values are already free of secrets.
    public var fields: [(String, String)]

    public init(_ level: Level = .info, _ event: String, _ message: String, _ fields: [(String, String)] = []) {
        self.level = level
        self.event = event
        self.message = message
        self.fields = fields
    }
}

/// How `serve` writes its log: every line starts with an RFC 3339 timestamp; `json` writes one object
/// per line with stable field names (`time`, `level`, `event`, `msg`, then the entry's fields).
public struct ServeLog: Sendable {
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

    /// The line, without a line break.
    public func line(_ entry: LogEntry) -> String {
        let time = clock()
        switch format {
        case .text:
            let level = entry.level == .info ? "" : "\(entry.level.rawValue): "
            return "\(time) \(level)\(TerminalText.line(entry.message))"
        case .json:
            var text = "{\"time\":\(JSONText.quote(time)),\"level\":\(JSONText.quote(entry.level.rawValue)),"
            text += "\"event\":\(JSONText.quote(entry.event)),\"msg\":\(JSONText.quote(entry.message))"
            for (name, value) in entry.fields { text += ",\(JSONText.quote(name)):\(JSONText.quote(value))" }
            return text + "}"
        }
    }
}

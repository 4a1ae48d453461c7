/// How a command prints its result. Each command accepts the subset it can render (`allowed` in its
/// option table comes from here), and the argument parser refuses the rest before the command runs.
enum OutputFormat: String, CaseIterable, Sendable {
    /// For people: aligned, coloured on a terminal.
    case text
    /// For programs: one documented, versioned JSON document.
    case json
    /// For pull-request comments.
    case markdown

    /// The formats a plan renders in (`plan`, `show`).
    static let plan: [OutputFormat] = [.text, .json, .markdown]
    /// The formats of commands that print records (`validate`, `ping`, `events`).
    static let records: [OutputFormat] = [.text, .json]

    /// The `--format` value, or text when none was given.
    static func from(_ arguments: ParsedArguments) -> OutputFormat {
        arguments.value("format").flatMap(OutputFormat.init(rawValue:)) ?? .text
    }
}

extension Array where Element == OutputFormat {
    /// The option table's allowed values.
    var names: [String] { map(\.rawValue) }
}

import HookKit
import Foundation
import HookSpec

/// Renders diagnostics for people (`FILE:LINE:COL: error: [code] message`) and for CI (a JSON array).
enum DiagnosticRenderer {
    static func text(_ diagnostics: [Diagnostic], file: String, style: Style) -> String {
        var output = ""
        for diagnostic in diagnostics {
            let location = diagnostic.position.map { "\(file):\($0.line):\($0.column)" } ?? file
            let severity = diagnostic.severity == .error
                ? style.bold(style.red("error")) : style.bold(style.yellow("warning"))
            let pointer = diagnostic.pointer.isRoot ? "" : style.dim(" (at \(diagnostic.pointer))")
            output += "\(style.bold(location + ":")) \(severity): [\(diagnostic.code)] \(TerminalText.line(diagnostic.message))\(TerminalText.line(pointer))\n"
        }
        return output
    }

    /// One diagnostic as a log line, `FILE:LINE:COL: [code] message (at /pointer)`: the log line carries
    /// the severity as its level, and the log writer escapes what it writes.
    static func logLine(_ diagnostic: Diagnostic, file: String) -> String {
        let location = diagnostic.position.map { "\(file):\($0.line):\($0.column)" } ?? file
        return "\(location): [\(diagnostic.code)] \(diagnostic.message)" + (diagnostic.pointer.isRoot ? "" : " (at \(diagnostic.pointer))")
    }

    static func countLine(_ diagnostics: [Diagnostic]) -> String {
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.count - errors
        return "\(plural(errors, "error")) and \(plural(warnings, "warning"))"
    }

    static func plural(_ count: Int, _ word: String) -> String {
        "\(count) \(word)\(count == 1 ? "" : "s")"
    }

    /// One object per diagnostic with the file, so CI can turn each into an annotation.
    /// A failure that is not about a place in the spec (an unreachable registry, a refused path) has
    /// no file, line, column or pointer.
    struct Record: Codable, Sendable {
        var file: String?
        var line: Int?
        var column: Int?
        var severity: String
        var code: String
        var pointer: String?
        var message: String

        init(_ diagnostic: Diagnostic, file: String) {
            self.file = file
            line = diagnostic.position?.line
            column = diagnostic.position?.column
            severity = diagnostic.severity.rawValue
            code = diagnostic.code
            pointer = diagnostic.pointer.description
            message = diagnostic.message
        }

        init(severity: String, code: String, message: String) {
            self.severity = severity
            self.code = code
            self.message = message
        }

        /// An `error:` line of a command, as a record.
        static func failure(_ message: String) -> Record { Record(severity: "error", code: "command-failed", message: message) }
    }

    /// `{"diagnostics": [...]}`: what every command prints on stdout when it fails with `--format json`
    /// (as `terraform validate -json` does), and `validate` adds `valid`.
    struct Document: Encodable {
        var valid: Bool?
        var diagnostics: [Record]
    }

    static func json(_ diagnostics: [Diagnostic], file: String, valid: Bool) -> String {
        JSONOutput.encode(Document(valid: valid, diagnostics: diagnostics.map { Record($0, file: file) }))
    }
}

enum JSONOutput {
    static func encode<Value: Encodable>(_ value: Value) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value), let text = String(data: data, encoding: .utf8) else {
            return "[]\n"  // encoding plain records cannot fail; keep the output valid JSON regardless
        }
        return text + "\n"
    }
}

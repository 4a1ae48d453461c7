import Foundation
import HookKit
import HookSpec

/// `hookapply fmt`: rewrites a spec in the canonical layout (``SpecFormatter``); `--check` only says
/// whether it would, and where, for CI (as `terraform fmt -check` does).
enum FmtCommand {
    static let spec = CommandSpec(
        name: "fmt",
        abstract: "Rewrite a spec in the canonical layout (key order, indent), or check that it is.",
        discussion: """
            Keys go in the schema's order (unknown keys after them, as written), indented by two spaces, one
            webhook per block, lists of actions on one line. Strings are copied as written: ${env:...}
            references, escapes and descriptions are untouched, so the spec means exactly what it meant.
            Rewrites the file in place (through a symbolic link, keeping its mode) and names it when it
            changed. '-f -' reads standard input and writes the result to standard output. With --check,
            nothing is written: exits 1 and shows the lines that would change. A file that is not JSON, or
            not a spec, is refused with its diagnostics and left as it is.
            """,
        options: [
            .specFileOrStandardInput,
            OptionSpec(long: "check", help: "Write nothing; exit 1 if the file is not formatted, showing the lines that would change."),
        ])

    static func run(_ arguments: ParsedArguments, _ context: Context) -> ExitCode {
        let input: (displayName: String, path: String?, bytes: [UInt8])
        switch SpecInput.read(arguments.value("file"), context) {
        case .success(let value): input = value
        case .failure(let error):
            context.standardError.line("error: \(error.message)")
            return .failure
        }
        let formatted: [UInt8]
        switch SpecFormatter.format(input.bytes) {
        case .success(let bytes): formatted = bytes
        case .failure(.notASpec(let diagnostics)):
            let style = Style(isEnabled: context.usesColor(terminal: context.isStandardErrorTerminal))
            context.standardError.write(DiagnosticRenderer.text(diagnostics, file: input.displayName, style: style))
            context.standardError.report(diagnostics, file: input.displayName)
            context.standardError.line("error: \(input.displayName) cannot be formatted: \(DiagnosticRenderer.countLine(diagnostics)); it was left as it is")
            return .failure
        }
        let changed = formatted != input.bytes
        if arguments.has("check") {
            guard changed else { return .success }
            context.standardOutput.write(LineChange.describe(old: input.bytes, new: formatted, file: input.displayName))
            context.standardError.line("\(input.displayName): not formatted; run 'hookapply fmt\(arguments.value("file").map { " -f \($0)" } ?? "")'")
            return .failure
        }
        guard let path = input.path else {
            context.standardOutput.write(String(decoding: formatted, as: UTF8.self))
            return .success
        }
        guard changed else { return .success }
        let mode = ResolvedPath.mode(path) ?? 0o644
        do {
            try AtomicFile.write(formatted, to: path, permissions: mode, keepsExactMode: true)
        } catch {
            context.standardError.line("error: \(error); \(input.displayName) was left as it is")
            return .failure
        }
        context.standardOutput.line(input.displayName)
        return .success
    }
}

/// Which lines a rewrite changes, as hunks of `-N: old` and `+N: new` lines (Myers' diff on lines), so
/// a CI log says exactly where the layout is off. Past ``maximumEdits`` differences the rest is summed up.
enum LineChange {
    static let maximumEdits = 1_000
    static let shownLines = 200

    enum Edit: Equatable {
        case keep(old: Int, new: Int)
        case remove(old: Int)
        case insert(new: Int)
    }

    /// The shortest edit script from `old` to `new` (Myers 1986), or nil past `maximumEdits` differences.
    static func edits<Line: Equatable>(_ old: [Line], _ new: [Line]) -> [Edit]? {
        let n = old.count, m = new.count, limit = min(n + m, maximumEdits)
        let offset = limit + 1
        var frontier = [Int](repeating: 0, count: 2 * limit + 3)
        var trace: [[Int]] = []
        for depth in 0...limit {
            trace.append(frontier)
            for diagonal in stride(from: -depth, through: depth, by: 2) {
                var x = diagonal == -depth || (diagonal != depth && frontier[offset + diagonal - 1] < frontier[offset + diagonal + 1])
                    ? frontier[offset + diagonal + 1] : frontier[offset + diagonal - 1] + 1
                var y = x - diagonal
                while x < n, y < m, old[x] == new[y] { x += 1; y += 1 }
                frontier[offset + diagonal] = x
                if x >= n && y >= m { return backtrack(trace, depth: depth, offset: offset, n: n, m: m) }
            }
        }
        return nil
    }

    private static func backtrack(_ trace: [[Int]], depth final: Int, offset: Int, n: Int, m: Int) -> [Edit] {
        var edits: [Edit] = []
        var x = n, y = m
        for depth in stride(from: final, through: 0, by: -1) {
            let frontier = trace[depth]
            let diagonal = x - y
            let down = diagonal == -depth || (diagonal != depth && frontier[offset + diagonal - 1] < frontier[offset + diagonal + 1])
            let previousDiagonal = down ? diagonal + 1 : diagonal - 1
            let previousX = depth == 0 ? 0 : frontier[offset + previousDiagonal]
            let previousY = previousX - previousDiagonal
            while x > previousX && y > previousY {
                x -= 1; y -= 1
                edits.append(.keep(old: x, new: y))
            }
            if depth > 0 {
                if down { y -= 1; edits.append(.insert(new: y)) } else { x -= 1; edits.append(.remove(old: x)) }
            }
        }
        return edits.reversed()
    }

    static func describe(old: [UInt8], new: [UInt8], file: String) -> String {
        let before = String(decoding: old, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let after = String(decoding: new, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard let edits = edits(before, after) else {
            return "\(file): more than \(maximumEdits) lines would change (\(before.count) lines now, \(after.count) after)\n"
        }
        var text = "\(file): would change:\n"
        var shown = 0
        var previousWasKeep = true
        for edit in edits {
            switch edit {
            case .keep:
                previousWasKeep = true
                continue
            case .remove(let line):
                if shown < shownLines {
                    if previousWasKeep { text += "@@ line \(line + 1)\n" }
                    text += "-\(line + 1): \(TerminalText.line(String(before[line])))\n"
                }
            case .insert(let line):
                if shown < shownLines {
                    if previousWasKeep { text += "@@ line \(line + 1) after formatting\n" }
                    text += "+\(line + 1): \(TerminalText.line(String(after[line])))\n"
                }
            }
            previousWasKeep = false
            shown += 1
        }
        if shown > shownLines { text += "… and \(shown - shownLines) more changed lines\n" }
        return text
    }
}

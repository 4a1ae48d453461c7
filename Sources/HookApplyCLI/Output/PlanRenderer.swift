import HookKit
import HookSpec
import Reconciler

/// Renders a ``Plan`` for people (text), for bots (JSON) and for pull-request comments (markdown).
/// Everything it shows is already masked in the plan; it adds no values of its own.
enum PlanRenderer {
    // MARK: - Text

    /// One rendered line with the marker that says what it is, so text and markdown share the layout.
    struct Line {
        enum Kind { case create, update, delete, replace, plain, comment }
        var kind: Kind
        var indent: Int
        var text: String
    }

    static func lines(_ plan: Plan) -> [Line] {
        var lines: [Line] = []
        for registry in plan.registries {
            let header = "registry \"\(registry.name)\" (\(registry.target))"
            if registry.changes.isEmpty {
                lines.append(Line(kind: .plain, indent: 0, text: header + ": no changes"))
            } else {
                lines.append(Line(kind: .plain, indent: 0, text: header))
            }
            for change in registry.changes {
                lines.append(Line(kind: .plain, indent: 0, text: ""))
                lines += changeLines(change)
            }
            if !registry.unmanaged.isEmpty {
                lines.append(Line(kind: .plain, indent: 0, text: ""))
                lines.append(Line(kind: .comment, indent: 2, text: "Not managed, left alone:"))
                for webhook in registry.unmanaged {
                    lines.append(Line(kind: .comment, indent: 4, text: "\(webhook.name) (\(webhook.reason))"))
                }
            }
            lines.append(Line(kind: .plain, indent: 0, text: ""))
        }
        // Names, tags, scopes and reasons come from the registry too: no value may break a line, start
        // a terminal escape, or close the markdown fence. Escaped here, once, before any styling.
        return lines.map { Line(kind: $0.kind, indent: $0.indent, text: TerminalText.line($0.text)) }
    }

    static func changeLines(_ change: Change) -> [Line] {
        var lines: [Line] = []
        let kind: Line.Kind
        let verb: String
        let symbol: String
        switch change.action {
        case .create: (kind, verb, symbol) = (.create, "will be created", "+")
        case .update: (kind, verb, symbol) = (.update, "will be updated in place", "~")
        case .delete: (kind, verb, symbol) = (.delete, "will be deleted", "-")
        case .replace: (kind, verb, symbol) = (.replace, "must be replaced", "-/+")
        }
        lines.append(Line(kind: .comment, indent: 2, text: "# \(change.webhook) \(verb)"))
        for reason in change.reasons { lines.append(Line(kind: .comment, indent: 2, text: "# (\(reason))")) }
        if change.action == .delete {
            lines.append(Line(kind: kind, indent: 2, text: "\(symbol) webhook \"\(change.webhook)\""))
            return lines
        }
        lines.append(Line(kind: kind, indent: 2, text: "\(symbol) webhook \"\(change.webhook)\" {"))
        let names = change.fields.map(fieldName)
        // Aligned on the longest field name (a long header name included), up to a sane bound.
        let width = min(64, names.map(\.count).max() ?? 0)
        for (field, name) in zip(change.fields, names) {
            // An empty scope reads as list and get show it, not as a bare "".
            func shown(_ value: FieldValue) -> String {
                field.field == .scope && value == .text("") ? WebhookState.everyRepository : value.display
            }
            let padded = name.count < width ? name + String(repeating: " ", count: width - name.count) : name
            let fieldKind: Line.Kind
            let marker: String
            var text: String
            switch (field.old, field.new) {
            case (nil, let new?):
                (fieldKind, marker, text) = (.create, "+", "\(padded) = \(shown(new))")
            case (let old?, nil):
                (fieldKind, marker, text) = (.delete, "-", "\(padded) = \(shown(old))")
            case (let old?, let new?):
                fieldKind = .update
                marker = "~"
                if field.isSensitive && field.field == .customHeaders {
                    text = "\(padded) = (sensitive value changed)"
                } else if field.isHiddenChange {
                    text = "\(padded) = \(new.display) (sensitive value changed)"
                } else {
                    text = "\(padded) = \(shown(old)) -> \(shown(new))"
                }
            case (nil, nil):
                (fieldKind, marker, text) = (.update, "~", "\(padded) = null")
            }
            if field.forcesReplacement { text += " # forces replacement" }
            lines.append(Line(kind: fieldKind, indent: 6, text: "\(marker) \(text)"))
        }
        if change.unchangedCount > 0 {
            lines.append(Line(kind: .comment, indent: 6, text: "# (\(change.unchangedCount) unchanged \(change.unchangedCount == 1 ? "attribute" : "attributes") hidden)"))
        }
        lines.append(Line(kind: .plain, indent: 4, text: "}"))
        return lines
    }

    static func fieldName(_ field: FieldChange) -> String {
        if let key = field.key { return "\(field.field.rawValue)[\"\(key)\"]" }
        return field.field.rawValue
    }

    static func summaryLine(_ plan: Plan) -> String {
        if plan.isEmpty, plan.targets != nil { return "No changes to the targeted webhooks." }
        if plan.isEmpty { return "No changes. The registries match the spec." }
        let summary = plan.summary
        return "Plan: \(summary.create) to create, \(summary.update) to update, \(summary.delete) to delete."
    }

    static func legend(_ plan: Plan) -> String {
        let actions = Set(plan.changes.map(\.action))
        var symbols: [String] = []
        if actions.contains(.create) { symbols.append("+ create") }
        if actions.contains(.update) { symbols.append("~ update in place") }
        if actions.contains(.delete) { symbols.append("- delete") }
        if actions.contains(.replace) { symbols.append("-/+ delete, then create (replace)") }
        return "Symbols: " + symbols.joined(separator: ", ")
    }

    static func text(_ plan: Plan, style: Style) -> String {
        var output = ""
        if !plan.isEmpty {
            output += "hookapply will make these changes to make the registries match the spec.\n"
            output += legend(plan) + "\n\n"
        }
        for line in lines(plan) {
            let indented = String(repeating: " ", count: line.indent) + line.text
            switch line.kind {
            case .create: output += style.green(indented)
            case .delete: output += style.red(indented)
            case .update, .replace: output += style.yellow(indented)
            case .comment: output += style.dim(indented)
            case .plain: output += line.indent == 0 && !line.text.isEmpty ? style.bold(indented) : indented
            }
            output += "\n"
        }
        output += style.bold(summaryLine(plan)) + "\n"
        if let note = targetNote(plan) { output += style.yellow(note) + "\n" }
        return output
    }

    /// What a targeted plan leaves out, said under its summary (terraform warns the same way).
    static func targetNote(_ plan: Plan) -> String? {
        guard let targets = plan.targets else { return nil }
        let names = targets.map(TerminalText.line).joined(separator: ", ")
        return "Targeted: \(names). Other webhooks were not planned; the registries may still differ from the spec."
    }

    // MARK: - JSON

    /// The plan document, as `plan --out` saves it but without `spec_file` (the output goes wherever the
    /// shell sends it, so a path relative to it cannot be known): `apply -f SPEC FILE` applies it.
    static func json(_ plan: Plan) -> String {
        // The output stream hides the spec's values itself; the writer only has to stream.
        (try? PlanDocumentWriter(hiding: []).document(SavedPlan(spec_file: nil, plan: plan))) ?? JSONOutput.encode(SavedPlan(spec_file: nil, plan: plan))
    }

    // MARK: - Markdown

    /// Forges reject comments over 65,536 characters; stay clear of it.
    static let markdownLimit = 65_000

    static func markdown(_ plan: Plan) -> String {
        let summary = summaryLine(plan)
        var head = "### hookapply plan\n\n**\(summary)**\n\n"
        if let note = targetNote(plan) { head += "> \(note)\n\n" }
        let deletes = plan.summary.delete
        if deletes > 0 {
            head += "> :warning: This plan **deletes \(deletes) webhook\(deletes == 1 ? "" : "s")**. Check the plan carefully.\n\n"
        }
        if plan.isEmpty { return head }
        // GitHub's diff highlighting colours only '+' and '-' in column 0, and never '~': move the marker
        // to column 0 and write updates as '!' (as Atlantis does).
        var body: [String] = []
        for line in lines(plan) {
            let indented = String(repeating: " ", count: line.indent) + line.text
            let marker: String
            switch line.kind {
            case .create: marker = "+"
            case .delete: marker = "-"
            case .update, .replace: marker = "!"
            case .comment: marker = "#"
            case .plain: marker = " "
            }
            body.append(marker + indented)
        }
        // Every line starts with its marker, and a fence longer than any run of backticks in the plan
        // cannot be closed by a value (CommonMark closes a fence only with one at least as long).
        let fence = String(repeating: "`", count: max(3, longestBacktickRun(body) + 1))
        let open = "<details><summary>Show the plan</summary>\n\n\(fence)diff\n"
        let close = "\(fence)\n\n</details>\n"
        var kept: [String] = []
        var size = head.count + open.count + close.count
        var omitted = 0
        for (index, line) in body.enumerated() {
            if size + line.count + 1 > markdownLimit - 200 {
                omitted = body.count - index
                break
            }
            kept.append(line)
            size += line.count + 1
        }
        var text = head + open + kept.joined(separator: "\n") + "\n" + close
        if omitted > 0 {
            text += "\n_The plan was truncated: \(omitted) more lines were left out to stay under the comment size limit. Run `hookapply plan` to see all of it._\n"
        }
        return text
    }
}

extension PlanRenderer {
    static func longestBacktickRun(_ lines: [String]) -> Int {
        var longest = 0
        for line in lines where line.contains("`") {
            var run = 0
            for character in line {
                run = character == "`" ? run + 1 : 0
                longest = max(longest, run)
            }
        }
        return longest
    }
}

/// The text plan without colour, for callers outside the CLI (the benchmark).
public func renderPlanText(_ plan: Plan) -> String {
    PlanRenderer.text(plan, style: Style(isEnabled: false))
}

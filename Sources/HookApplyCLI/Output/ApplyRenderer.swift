import HookKit
import Reconciler

/// Lines and the summary of an apply, as people read them.
enum ApplyRenderer {
    static func resultLine(_ result: ChangeResult, style: Style) -> String {
        let name = TerminalText.line("\(result.change.registry)/\(result.change.webhook)")
        let verb: String
        switch result.change.action {
        case .create: verb = "created"
        case .update: verb = "updated"
        case .delete: verb = "deleted"
        case .replace: verb = "replaced"
        }
        let retries = result.retries > 0 ? " after \(result.retries) \(result.retries == 1 ? "retry" : "retries")" : ""
        switch result.outcome {
        case .succeeded: return "\(name): \(style.green(verb))\(retries)"
        case .failed(let code, let message):
            return "\(name): \(style.red("failed to \(result.change.action.rawValue)"))\(retries): \(TerminalText.line(code)): \(TerminalText.line(message))"
        case .skipped(let reason): return "\(name): \(style.yellow("skipped")): \(TerminalText.line(reason))"
        }
    }

    static func summary(_ report: ApplyReport, style: Style) -> String {
        let done = report.done
        let notStarted = report.results.filter { if case .skipped = $0.outcome { true } else { false } }
        if !notStarted.isEmpty {
            // Interrupted: say exactly what happened to each change, so that nobody has to guess.
            let failed = report.failures.count - notStarted.count
            var text = style.bold(style.yellow("Apply interrupted: \(report.results.count - report.failures.count) done, \(failed) failed, \(notStarted.count) not started.")) + "\n"
            for failure in report.failures { text += "  " + resultLine(failure, style: style) + "\n" }
            text += "Done: \(done.create) created, \(done.update) updated, \(done.delete) deleted. Run plan to see what is left, and apply again to converge.\n"
            return text
        }
        if report.isSuccess {
            return style.bold(style.green("Apply complete: \(done.create) created, \(done.update) updated, \(done.delete) deleted.")) + "\n"
        }
        var text = style.bold(style.red("Apply failed: \(report.failures.count) of \(report.results.count) changes failed")) + "\n"
        for failure in report.failures { text += "  " + resultLine(failure, style: style) + "\n" }
        text += "Done before the failure: \(done.create) created, \(done.update) updated, \(done.delete) deleted. Run apply again to converge.\n"
        return text
    }
}

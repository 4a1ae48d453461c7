import Foundation
import Reconciler

/// `hookapply show PLANFILE`: renders a saved plan.
enum ShowCommand {
    static let spec = CommandSpec(
        name: "show",
        abstract: "Render a plan saved with 'plan --out'.",
        positionals: [PositionalSpec(name: "planfile", help: "The saved plan.", isOptional: false)],
        options: [OptionSpec(long: "format", short: "o", valueName: "format", help: "Output format.", allowedValues: OutputFormat.plan.names)])

    static func run(_ arguments: ParsedArguments, _ context: Context) -> ExitCode {
        guard let path = arguments.positionals.first else { return .usage }
        switch SavedPlanFile.read(path, context) {
        case .success(let saved):
            PlanCommand.render(saved.plan, format: OutputFormat.from(arguments), context)
            return .success
        case .failure(let error):
            var message = "error: \(error.message)"
            // `show NAME` is what az users type for a webhook: point them at `get`.
            if !path.contains("/"), !path.contains("."), !FileManager.default.fileExists(atPath: context.absolutePath(path)) {
                message += ". 'show' renders a plan saved with 'plan --out'; to see a live webhook, run: hookapply get \(path)"
            }
            context.standardError.line(message)
            return .failure
        }
    }
}

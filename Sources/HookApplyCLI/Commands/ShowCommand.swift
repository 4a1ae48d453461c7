import Reconciler

/// `hookapply show PLANFILE`: renders a saved plan.
enum ShowCommand {
    static let spec = CommandSpec(
        name: "show",
        abstract: "Render a plan saved with 'plan --out'.",
        positionals: [PositionalSpec(name: "planfile", help: "The saved plan.", isOptional: false)],
        options: [OptionSpec(long: "format", valueName: "format", help: "Output format.", allowedValues: OutputFormat.plan.names)])

    static func run(_ arguments: ParsedArguments, _ context: Context) -> ExitCode {
        guard let path = arguments.positionals.first else { return .usage }
        switch SavedPlanFile.read(path, context) {
        case .success(let saved):
            PlanCommand.render(saved.plan, format: OutputFormat.from(arguments), context)
            return .success
        case .failure(let error):
            context.standardError.line("error: \(error.message)")
            return .failure
        }
    }
}

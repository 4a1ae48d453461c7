import HookSpec

/// `hookapply validate`: checks a spec and points at file:line:col for every problem.
enum ValidateCommand {
    static let spec = CommandSpec(
        name: "validate",
        abstract: "Check a webhook spec and report every problem with its position.",
        discussion: """
            Exits 0 when the spec is valid (warnings allowed), 1 when it is invalid or unreadable.
            ${env:NAME} references are checked for syntax and listed; --resolve also requires each to be set
            and checks the values they resolve to (never printing them).
            """,
        options: [
            .specFileOrStandardInput,
            OptionSpec(long: "format", short: "o", valueName: "format", help: "How to print diagnostics.", allowedValues: OutputFormat.records.names),
            OptionSpec(long: "resolve", help: "Also check that every ${env:NAME} the spec uses is set and non-empty."),
        ])

    static func run(_ arguments: ParsedArguments, _ context: Context) -> ExitCode {
        let isJSON = OutputFormat.from(arguments) == .json
        let loaded: LoadedSpec
        switch SpecInput.load(arguments.value("file"), context) {
        case .success(let value): loaded = value
        case .failure(let error):
            if isJSON {
                let diagnostic = Diagnostic.error("unreadable-file", at: .root, error.message)
                context.standardOutput.write(DiagnosticRenderer.json([diagnostic], file: error.file, valid: false))
            }
            context.standardError.line("error: \(error.message)")
            return .failure
        }
        var diagnostics = loaded.document.diagnostics
        if arguments.has("resolve") {
            // Resolve for real: a variable can be set and still hold a bad URI or a header-injecting line break.
            let resolved = loaded.document.resolve(environment: context.environment).diagnostics
            diagnostics = (diagnostics + resolved.filter { !diagnostics.contains($0) }).sorted(by: Diagnostic.presentationOrder)
        }
        let style = Style(isEnabled: context.usesColor(terminal: context.isStandardErrorTerminal))
        if isJSON {
            context.standardOutput.write(DiagnosticRenderer.json(diagnostics, file: loaded.displayName, valid: !diagnostics.hasErrors))
        } else {
            context.standardError.write(DiagnosticRenderer.text(diagnostics, file: loaded.displayName, style: style))
        }
        if diagnostics.hasErrors {
            if !isJSON {
                context.standardError.line("\(loaded.displayName): invalid: \(DiagnosticRenderer.countLine(diagnostics))")
            }
            return .failure
        }
        guard !isJSON, let spec = loaded.document.spec else { return .success }
        if !diagnostics.isEmpty {
            context.standardError.line("\(loaded.displayName): \(DiagnosticRenderer.countLine(diagnostics))")
        }
        let webhooks = spec.registries.reduce(0) { $0 + $1.webhooks.count }
        context.standardOutput.line(
            "\(loaded.displayName): valid: \(DiagnosticRenderer.plural(spec.registries.count, "registry").replacing("registrys", with: "registries")), \(DiagnosticRenderer.plural(webhooks, "webhook"))")
        let references = spec.environmentReferences
        if !references.isEmpty {
            context.standardOutput.line("environment variables it reads:")
            for reference in references {
                let fallback = spec.hasFallbackEverywhere(reference.name) ? " (has a fallback)" : ""
                let set = context.environment[reference.name].map { $0.isEmpty ? " [empty]" : " [set]" } ?? " [not set]"
                context.standardOutput.line(
                    "  \(reference.name)\(fallback)\(set): \(reference.pointers.map(\.description).joined(separator: ", "))")
            }
        }
        return .success
    }
}

extension Spec {
    /// True when every use of the variable has a `:-fallback`.
    func hasFallbackEverywhere(_ name: String) -> Bool {
        var templates: [Template] = []
        for registry in registries {
            if case .azure(let azure) = registry.target { templates.append(azure.subscriptionId) }
            for webhook in registry.webhooks { templates += webhook.templates }
        }
        var uses = 0
        for template in templates {
            for case .environment(let used, let fallback) in template.parts where used == name {
                if fallback == nil { return false }
                uses += 1
            }
        }
        return uses > 0
    }
}

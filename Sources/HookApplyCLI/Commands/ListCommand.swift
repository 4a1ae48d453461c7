import Foundation
import HookKit
import HookSpec
import Reconciler

/// `hookapply list` and `hookapply get`: the live webhooks of the spec's registries, masked, like
/// `az acr webhook list` and `az acr webhook show`.
enum ListCommand {
    static let spec = CommandSpec(
        name: "list",
        abstract: "List the live webhooks of the spec's registries, secrets masked.",
        discussion: "Reads each registry as plan does and shows what it holds now, declared in the spec or not.",
        options: [
            .specFile,
            OptionSpec(long: "registry", short: "r", valueName: "name", help: "List only this registry (repeatable).", isRepeatable: true),
            .armEndpoint,
            .verbose,
            OptionSpec(long: "format", short: "o", valueName: "format", help: "Output format.", allowedValues: OutputFormat.records.names),
        ])

    /// A live webhook as `list` and `get` print it in JSON.
    struct Entry: Encodable {
        var registry: String
        var webhook: MaskedWebhook
        /// The owner tag, or null when no hookapply spec owns it.
        var owner: String?
        /// Whether this spec declares it.
        var declared: Bool
    }

    static func run(_ arguments: ParsedArguments, _ context: Context) async -> ExitCode {
        do {
            let reconciliation = try Reconciliation.prepare(arguments, context, readOnly: true, needsSecrets: false)
            let entries = try await Self.entries(reconciliation, context)
            render(entries, arguments, context)
            reconciliation.reportStatistics(arguments, context)
            return .success
        } catch {
            return (error as? Reconciliation.Failure)?.code ?? .failure
        }
    }

    static func entries(_ reconciliation: Reconciliation, _ context: Context) async throws -> [Entry] {
        let observed = try await reconciliation.observe(context)
        var entries: [Entry] = []
        for registry in reconciliation.registries {
            let declared = Set(registry.webhooks.map { $0.name.lowercased() })
            for webhook in (observed[registry.name]?.webhooks ?? []).sorted(by: { $0.name.lowercased() < $1.name.lowercased() }) {
                entries.append(Entry(registry: registry.name, webhook: MaskedWebhook(webhook), owner: webhook.owner,
                                     declared: declared.contains(webhook.name.lowercased())))
            }
        }
        return entries
    }

    static func render(_ entries: [Entry], _ arguments: ParsedArguments, _ context: Context) {
        if OutputFormat.from(arguments) == .json {
            context.standardOutput.write(JSONOutput.encode(entries))
            return
        }
        if entries.isEmpty {
            context.standardOutput.line("No webhooks.")
            return
        }
        // Every cell comes from the registry: a line break in a scope or a tag must not forge a row.
        let rows = entries.map { entry -> [String] in
            [entry.registry, entry.webhook.name, entry.webhook.status.rawValue, entry.webhook.actions.map(\.rawValue).joined(separator: ","),
             WebhookState.describeScope(entry.webhook.scope), entry.owner ?? "-", entry.declared ? "yes" : "no", entry.webhook.serviceUri]
        }
        let header = ["REGISTRY", "NAME", "STATUS", "ACTIONS", "SCOPE", "OWNER", "DECLARED", "SERVICE URI"]
        for cells in TextTable.padded(header: header, rows: rows) { context.standardOutput.line(TextTable.line(cells)) }
    }
}

enum GetCommand {
    static let spec = CommandSpec(
        name: "get",
        abstract: "Show one live webhook, secrets masked.",
        positionals: [PositionalSpec(name: "webhook", help: "The webhook's name.", isOptional: false)],
        options: [
            .specFile,
            OptionSpec(long: "registry", short: "r", valueName: "name", help: "The registry to look in (default: every registry of the spec)."),
            .armEndpoint,
            .verbose,
            OptionSpec(long: "format", short: "o", valueName: "format", help: "Output format.", allowedValues: OutputFormat.records.names),
        ])

    static func run(_ arguments: ParsedArguments, _ context: Context) async -> ExitCode {
        guard let name = arguments.positionals.first else { return .usage }
        do {
            let reconciliation = try Reconciliation.prepare(arguments, context, readOnly: true, needsSecrets: false)
            let all = try await ListCommand.entries(reconciliation, context)
            defer { reconciliation.reportStatistics(arguments, context) }
            let found = all.filter { $0.webhook.name.lowercased() == name.lowercased() }
            guard !found.isEmpty else {
                var message = "error: no live webhook '\(name)' in \(reconciliation.registries.map { "'\($0.name)'" }.joined(separator: ", "))"
                if let match = Suggestion.closest(to: name, among: all.map(\.webhook.name)) { message += "; did you mean '\(match)'?" }
                context.standardError.line(message)
                return .failure
            }
            if OutputFormat.from(arguments) == .json {
                // One webhook is one object (as `az acr webhook show` prints); a name several registries hold
                // is refused with the registries named, so the JSON output is always one object.
                if found.count == 1 {
                    context.standardOutput.write(JSONOutput.encode(found[0]))
                    return .success
                }
                context.standardError.line("error: '\(TerminalText.line(name))' is in \(found.map { "'\($0.registry)'" }.joined(separator: ", ")); choose one with --registry")
                return .usage
            }
            for entry in found {
                let webhook = entry.webhook
                var lines = ["registry: \(entry.registry)", "name: \(webhook.name)", "status: \(webhook.status.rawValue)",
                             "actions: \(webhook.actions.map(\.rawValue).joined(separator: ", "))", "scope: \(WebhookState.describeScope(webhook.scope))",
                             "serviceUri: \(webhook.serviceUri)"]
                for (header, value) in webhook.customHeaders.sorted(by: { $0.key.lowercased() < $1.key.lowercased() }) { lines.append("header \(header): \(value)") }
                if let location = webhook.location { lines.append("location: \(location)") }
                if let signingSecret = webhook.signingSecret { lines.append("signingSecret: \(signingSecret)") }
                if let payloadFormat = webhook.payloadFormat { lines.append("payloadFormat: \(payloadFormat.rawValue)") }
                for (key, value) in webhook.tags.sorted(by: { $0.key < $1.key }) { lines.append("tag \(key): \(value)") }
                lines.append("declared in the spec: \(entry.declared ? "yes" : "no")")
                // One value, one line: a line break from the registry is shown escaped, never as a new line.
                for line in lines { context.standardOutput.line(TerminalText.line(line)) }
                if entry.registry != found.last?.registry { context.standardOutput.line("") }
            }
            return .success
        } catch {
            return (error as? Reconciliation.Failure)?.code ?? .failure
        }
    }
}

import HookKit
import Foundation
import HookSpec
import Reconciler

/// Finds the registry that holds a webhook: the one named with --registry, or the only one declaring it.
enum WebhookLocator {
    static func registry(for webhook: String, in reconciliation: Reconciliation, _ context: Context) -> ResolvedRegistry? {
        func declares(_ registry: ResolvedRegistry) -> Bool { registry.webhooks.contains { $0.name.lowercased() == webhook.lowercased() } }
        if reconciliation.registries.count == 1, let only = reconciliation.registries.first {
            // Named with --registry, but declared in another registry only: name the one it is in.
            let elsewhere = reconciliation.spec.registries.filter { $0.name != only.name && declares($0) }
            if !declares(only), let other = elsewhere.first, reconciliation.spec.registries.count > 1 {
                context.standardError.line("error: registry '\(only.name)' does not declare a webhook '\(webhook)'; it is declared in registry '\(other.name)': use --registry \(other.name)")
                return nil
            }
            return only
        }
        let declaring = reconciliation.registries.filter { $0.webhooks.contains { $0.name.lowercased() == webhook.lowercased() } }
        if declaring.count == 1 { return declaring.first }
        let names = reconciliation.registries.map { "'\($0.name)'" }.joined(separator: ", ")
        if declaring.isEmpty {
            context.standardError.line("error: no registry in the spec declares a webhook '\(webhook)'; name the registry with --registry (one of \(names))")
        } else {
            context.standardError.line("error: '\(webhook)' is declared in \(declaring.map { "'\($0.name)'" }.joined(separator: ", ")); choose one with --registry")
        }
        return nil
    }

    /// Prepares the spec, finds the registry holding `webhook`, and runs `body` with its provider; a
    /// provider error is reported with the registry's name and exits 1.
    static func run(
        _ webhook: String, _ arguments: ParsedArguments, _ context: Context,
        _ body: (ResolvedRegistry, any WebhookProvider) async throws -> ExitCode
    ) async -> ExitCode {
        let reconciliation: Reconciliation
        do {
            // ping and events read the registry's live webhooks: none of the spec's secrets is sent.
            reconciliation = try Reconciliation.prepare(arguments, context, needsSecrets: false)
        } catch {
            return error.code  // already explained on stderr
        }
        guard let registry = Self.registry(for: webhook, in: reconciliation, context),
            let provider = reconciliation.providers[registry.name]
        else { return .failure }
        defer { reconciliation.reportStatistics(arguments, context) }
        do {
            return try await body(registry, provider)
        } catch {
            context.standardError.line("error: registry '\(registry.name)': \(ProviderError.from(error).message)")
            return .failure
        }
    }
}

enum PingCommand {
    static let spec = CommandSpec(
        name: "ping",
        abstract: "Send a ping event to a webhook and show the logged request and response.",
        discussion: "Exits 1 when the endpoint does not answer 2xx. Secrets are masked in the output and in the event log.",
        positionals: [PositionalSpec(name: "webhook", help: "The webhook's name.", isOptional: false)],
        options: [
            .specFile,
            .armEndpoint,
            .verbose,
            OptionSpec(long: "registry", short: "r", valueName: "name", help: "The registry that holds the webhook (needed when several declare it)."),
            OptionSpec(long: "format", short: "o", valueName: "format", help: "Output format: json prints the logged delivery as one object.",
                       allowedValues: OutputFormat.records.names),
        ])

    static func run(_ arguments: ParsedArguments, _ context: Context) async -> ExitCode {
        guard let name = arguments.positionals.first else { return .usage }
        return await WebhookLocator.run(name, arguments, context) { registry, provider in
            let record = try await provider.ping(name: name)
            if OutputFormat.from(arguments) == .json {
                struct Ping: Encodable {
                    var registry: String
                    var success: Bool
                    var delivery: DeliveryRecord
                }
                context.standardOutput.write(JSONOutput.encode(Ping(registry: registry.name, success: record.isSuccess, delivery: record)))
                return record.isSuccess ? .success : .failure
            }
            let style = Style(isEnabled: context.usesColor(terminal: context.isStandardOutputTerminal))
            context.standardOutput.write("Ping \(registry.name)/\(TerminalText.line(record.webhook)) (event \(TerminalText.line(record.id)))\n\n")
            context.standardOutput.write(DeliveryRenderer.detail(record, style: style))
            if !record.isSuccess {
                context.standardError.line("error: the endpoint did not answer with 2xx")
                return .failure
            }
            return .success
        }
    }
}

enum EventsCommand {
    static let spec = CommandSpec(
        name: "events",
        abstract: "Show a webhook's delivery log, newest first.",
        positionals: [PositionalSpec(name: "webhook", help: "The webhook's name.", isOptional: false)],
        options: [
            .specFile,
            .armEndpoint,
            .verbose,
            OptionSpec(long: "registry", short: "r", valueName: "name", help: "The registry that holds the webhook (needed when several declare it)."),
            OptionSpec(long: "limit", valueName: "n", help: "How many deliveries to show (default 20).", number: .integer(1...10_000)),
            OptionSpec(long: "format", short: "o", valueName: "format", help: "Output format.", allowedValues: OutputFormat.records.names),
        ])

    static func run(_ arguments: ParsedArguments, _ context: Context) async -> ExitCode {
        guard let name = arguments.positionals.first else { return .usage }
        let limit = arguments.integer("limit") ?? 20
        return await WebhookLocator.run(name, arguments, context) { registry, provider in
            let records = try await provider.events(name: name, limit: limit)
            // A name the spec does not declare, with nothing logged, is most likely a typo: say so, and
            // fail, in every format (an empty JSON array would hide the typo from a script).
            if records.isEmpty && !registry.webhooks.contains(where: { $0.name.lowercased() == name.lowercased() }) {
                var message = "error: registry '\(registry.name)' declares no webhook '\(name)', and none by that name has logged a delivery"
                let names = registry.webhooks.map(\.name)
                if let match = Suggestion.closest(to: name, among: names) { message += "; did you mean '\(match)'?" }
                else if !names.isEmpty { message += "; it declares \(names.prefix(10).map { "'\($0)'" }.joined(separator: ", "))" }
                context.standardError.line(message)
                return .failure
            }
            if OutputFormat.from(arguments) == .json {
                context.standardOutput.write(JSONOutput.encode(records))
                return .success
            }
            if records.isEmpty {
                context.standardOutput.line("No deliveries logged for \(registry.name)/\(name) yet. Send one with: hookapply ping \(name)\(CommandHint.options(arguments))")
                return .success
            }
            let style = Style(isEnabled: context.usesColor(terminal: context.isStandardOutputTerminal))
            for record in records { context.standardOutput.write(DeliveryRenderer.summaryLine(record, style: style) + "\n") }
            return .success
        }
    }
}

/// Renders logged deliveries (already masked when logged). Every value came from a receiver or a
/// registry, so each is escaped (``TerminalText``) before it is styled.
enum DeliveryRenderer {
    private static func safe(_ text: String) -> String { TerminalText.line(text) }
    static func summaryLine(_ record: DeliveryRecord, style: Style) -> String {
        let outcome: String
        if let response = record.response {
            let text = "\(response.status)"
            outcome = (200..<300).contains(response.status) ? style.green(text) : style.red(text)
        } else {
            outcome = style.red("error: \(safe(record.error ?? "no response"))")
        }
        let attempt = record.attempt > 1 ? " attempt \(record.attempt)" : ""
        let subject = record.subject.map { " " + safe($0) } ?? ""
        let gaveUp = record.gaveUp == true ? "  " + style.red("gave up") : ""
        return "\(safe(record.timestamp))  \(safe(record.action))\(subject)  \(outcome)  \(record.durationMilliseconds) ms  \(safe(record.id))\(attempt)\(gaveUp)"
    }

    static func detail(_ record: DeliveryRecord, style: Style) -> String {
        var text = style.bold("Request") + "\n"
        text += "  \(safe(record.request.method)) \(safe(record.request.uri))\n"
        for (name, value) in record.request.headers.sorted(by: { $0.key.lowercased() < $1.key.lowercased() }) {
            text += "  \(safe(name)): \(safe(value))\n"
        }
        text += "\n  \(safe(record.request.body))\n\n"
        if let response = record.response {
            let status = "\(response.status)"
            text += style.bold("Response") + " \((200..<300).contains(response.status) ? style.green(status) : style.red(status)) in \(record.durationMilliseconds) ms\n"
            for (name, value) in response.headers.sorted(by: { $0.key.lowercased() < $1.key.lowercased() }) {
                text += "  \(safe(name)): \(safe(value))\n"
            }
            if !response.body.isEmpty {
                // Line by line, each escaped: the body keeps its shape, but no line can carry a control sequence.
                text += "\n" + response.body.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + safe(String($0)) }.joined(separator: "\n") + "\n"
            }
            if response.bodyTruncated { text += "  (body truncated to \(DeliveryRecord.maxResponseBody) bytes)\n" }
        } else {
            text += style.bold("No response") + " after \(record.durationMilliseconds) ms: \(safe(record.error ?? "unknown error"))\n"
        }
        return text
    }
}

/// The options a follow-up command suggested in a hint needs to find the same spec and registry.
enum CommandHint {
    static func options(_ arguments: ParsedArguments) -> String {
        var text = ""
        if let file = arguments.value("file") { text += " -f \(quoted(file))" }
        if let registry = arguments.value("registry") { text += " --registry \(quoted(registry))" }
        return text
    }

    /// Quoted for a POSIX shell when it holds anything but plain characters.
    static func quoted(_ text: String) -> String {
        let plain = !text.isEmpty && text.utf8.allSatisfy { byte in
            (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || "-_./:@".utf8.contains(byte)
        }
        return plain ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

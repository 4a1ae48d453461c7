import Foundation
import HookKit
import HookSpec
import Reconciler

/// `hookapply auth`: which credential of the chain signs in, who its token says it is, and whether that
/// identity can read each Azure registry of the spec and list its webhooks (as `az account show` and
/// `az acr show` would tell, without the CLI).
enum AuthCommand {
    static let spec = CommandSpec(
        name: "auth",
        abstract: "Show which Azure credential signs in, and whether it can read each Azure registry of the spec.",
        discussion: """
            Signs in the way plan and apply would, shows the way that worked with the tenant, client and
            object ids from the token (an opaque token is said to be one; the token is never shown), then
            reads each Azure registry and lists its webhooks. Exits 1 naming every registry it cannot read.
            """,
        options: [
            .specFile,
            OptionSpec(long: "registry", short: "r", valueName: "name", help: "Check only this registry (repeatable).", isRepeatable: true),
            .armEndpoint,
            .verbose,
            OptionSpec(long: "format", short: "o", valueName: "format", help: "Output format.", allowedValues: OutputFormat.records.names),
        ])

    struct RegistryAccess: Encodable {
        var name: String
        var target: String
        var readable: Bool
        /// Webhooks on the first page, when readable.
        var webhooks: Int?
        var error: String?
    }

    struct Report: Encodable {
        var signed_in: Bool
        var source: String?
        var token: String?
        var tenant_id: String?
        var client_id: String?
        var object_id: String?
        var error: String?
        var registries: [RegistryAccess]
    }

    static func run(_ arguments: ParsedArguments, _ context: Context) async -> ExitCode {
        let reconciliation: Reconciliation
        do {
            reconciliation = try Reconciliation.prepare(arguments, context, readOnly: true, needsSecrets: false)
        } catch {
            return error.code
        }
        let checkers = reconciliation.registries.compactMap { registry -> (ResolvedRegistry, any AccessChecking)? in
            (reconciliation.providers[registry.name] as? any AccessChecking).map { (registry, $0) }
        }
        let json = OutputFormat.from(arguments) == .json
        guard let first = checkers.first else {
            let message = "the spec has no Azure registry\(arguments.allValues("registry").isEmpty ? "" : " among those named"): there is nothing to sign in to"
            if json {
                context.standardOutput.write(JSONOutput.encode(Report(signed_in: false, error: message, registries: [])))
            } else {
                context.standardError.line("error: \(message)")
            }
            return .failure
        }
        var report = Report(signed_in: false, registries: [])
        do {
            let identity = try await first.1.identity()
            report.signed_in = true
            report.source = identity.source
            report.token = identity.isJWT ? "jwt" : "opaque"
            report.tenant_id = identity.tenantId
            report.client_id = identity.clientId
            report.object_id = identity.objectId
        } catch {
            report.error = ProviderError.from(error).message
        }
        if report.signed_in {
            for (registry, checker) in checkers {
                var access = RegistryAccess(name: registry.name, target: checker.displayName, readable: false)
                do {
                    access.webhooks = try await checker.checkAccess()
                    access.readable = true
                } catch {
                    access.error = ProviderError.from(error).message
                }
                report.registries.append(access)
            }
        }
        if json {
            context.standardOutput.write(JSONOutput.encode(report))
        } else {
            render(report, context)
        }
        reconciliation.reportStatistics(arguments, context)
        return report.signed_in && report.registries.allSatisfy(\.readable) ? .success : .failure
    }

    static func render(_ report: Report, _ context: Context) {
        guard report.signed_in, let source = report.source else {
            context.standardError.line("error: could not sign in: \(report.error ?? "no credential worked")")
            return
        }
        context.standardOutput.line("Signed in with \(source).")
        if report.token == "jwt" {
            context.standardOutput.line("  tenant: \(report.tenant_id ?? "(not in the token)")")
            context.standardOutput.line("  client: \(report.client_id ?? "(not in the token)")")
            context.standardOutput.line("  object: \(report.object_id ?? "(not in the token)")")
        } else {
            context.standardOutput.line("  an opaque token: its tenant, client and object ids cannot be read from it")
        }
        for access in report.registries {
            if access.readable {
                context.standardOutput.line(TerminalText.line("registry '\(access.name)' (\(access.target)): can read the registry and list its webhooks (\(access.webhooks ?? 0) on the first page)"))
            } else {
                context.standardOutput.line(TerminalText.line("registry '\(access.name)' (\(access.target)): cannot read it: \(access.error ?? "refused")"))
            }
        }
        let refused = report.registries.filter { !$0.readable }
        if !refused.isEmpty {
            context.standardError.line("error: this identity cannot read \(refused.map { "'\($0.name)'" }.joined(separator: ", ")); see docs/azure.md for the permissions it needs")
        }
    }
}

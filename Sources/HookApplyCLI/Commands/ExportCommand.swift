import Foundation
import HookSpec
import Reconciler

/// `hookapply export`: a spec describing a registry's live webhooks, to adopt an existing registry.
enum ExportCommand {
    static let spec = CommandSpec(
        name: "export",
        abstract: "Print a spec describing a registry's live webhooks, to adopt an existing registry.",
        discussion: """
            Secret values (header values, the query and userinfo of service URIs) are written as ${env:NAME}
            references with deterministic names, and the variables to set are listed on stderr (names only).
            --include-secrets writes the values themselves: do not commit that output.
            """,
        options: [
            OptionSpec(long: "registry", short: "r", valueName: "name", help: "The registry to export (required when the spec has several)."),
            OptionSpec(long: "file", short: "f", valueName: "file", help: "The spec that names the registry. Default: webhooks.json."),
            OptionSpec(long: "arm-endpoint", valueName: "url", help: "Azure Resource Manager endpoint (overrides the spec and HOOKAPPLY_ARM_ENDPOINT)."),
            OptionSpec(long: "include-secrets", help: "Write secret values literally instead of ${env:...} references."),
        ])

    static func run(_ arguments: ParsedArguments, _ context: Context) async -> ExitCode {
        do {
            let reconciliation = try Reconciliation.prepare(arguments, context, requireSelection: true,
                                                                showsSecrets: arguments.has("include-secrets"), readOnly: true)
            guard let registry = reconciliation.registries.first else { return .failure }
            let observed = try await reconciliation.observe(context)
            guard let state = observed[registry.name] else { return .failure }
            let exported = export(state, registry: registry, owner: reconciliation.spec.owner,
                                  includeSecrets: arguments.has("include-secrets"),
                                  target: reconciliation.loaded.document.spec?.registries.first { $0.name == registry.name }?.target)
            context.standardOutput.write(exported.json)
            if !exported.variables.isEmpty {
                context.standardError.line("The exported spec reads these environment variables; set them before plan or apply:")
                for variable in exported.variables { context.standardError.line("  \(variable)") }
            }
            return .success
        } catch {
            return (error as? Reconciliation.Failure)?.code ?? .failure
        }
    }

    struct Exported {
        var json: String
        var variables: [String]
    }

    static func export(_ state: ObservedRegistry, registry: ResolvedRegistry, owner: String, includeSecrets: Bool, target: Target?) -> Exported {
        var variables: [String] = []
        var used: Set<String> = []
        // Names are derived (`X-Key` and `X_Key` both give X_KEY; a header `URI-Query` gives what the query
        // gets), so a taken name gets a numbered suffix: two secrets must never share one variable.
        func reference(_ base: String) -> String {
            var name = base
            var number = 2
            while used.contains(name) {
                name = "\(base)_\(number)"
                number += 1
            }
            used.insert(name)
            variables.append(name)
            return "${env:\(name)}"
        }
        // Literal text must not be mistaken for a reference when read back.
        func literal(_ text: String) -> String { text.replacing("${", with: "$${") }
        var webhooks: [JSONWriter.Value] = []
        for webhook in state.webhooks.sorted(by: { $0.name.lowercased() < $1.name.lowercased() }) {
            let prefix = variableName(webhook.name)
            var uri = literal(webhook.serviceUri)
            if !includeSecrets, let parsed = try? ServiceURI(parsing: webhook.serviceUri) {
                uri = "\(parsed.scheme)://"
                if parsed.userinfo != nil { uri += reference("\(prefix)_URI_USERINFO") + "@" }
                uri += literal(parsed.host) + (parsed.port.map { ":\($0)" } ?? "") + literal(parsed.path)
                if parsed.query != nil { uri += "?" + reference("\(prefix)_URI_QUERY") }
            } else if !includeSecrets {
                uri = reference("\(prefix)_URI")
            }
            var headers: [(String, JSONWriter.Value)] = []
            for header in webhook.customHeaders {
                let isSecret = header.name.lowercased() != "content-type"
                let value = includeSecrets || !isSecret ? literal(header.value) : reference("\(prefix)_\(variableName(header.name))")
                headers.append((header.name, .string(value)))
            }
            var members: [(String, JSONWriter.Value)] = [
                ("name", .string(webhook.name)),
                ("serviceUri", .string(uri)),
            ]
            if !headers.isEmpty { members.append(("customHeaders", .object(headers))) }
            members.append(("actions", .array(webhook.normalisedActions.map { .string($0.rawValue) })))
            members.append(("status", .string(webhook.status.rawValue)))
            members.append(("scope", .string(webhook.scope)))
            if case .azure? = target, let location = webhook.location, location != state.facts.location {
                members.append(("location", .string(location)))
            }
            webhooks.append(.object(members))
        }
        var registryMembers: [(String, JSONWriter.Value)] = [("name", .string(registry.name))]
        switch target {
        case .local(let path)?:
            registryMembers.append(("local", .object(path.map { [("path", .string($0))] } ?? [])))
        case .azure(let azure)?:
            var members: [(String, JSONWriter.Value)] = [
                ("subscriptionId", .string(azure.subscriptionId.raw)),
                ("resourceGroup", .string(azure.resourceGroup)),
                ("registry", .string(azure.registry)),
            ]
            if let endpoint = azure.endpoint { members.append(("endpoint", .string(endpoint))) }
            registryMembers.append(("azure", .object(members)))
        case nil:
            registryMembers.append(("local", .object([])))
        }
        registryMembers.append(("prune", .string(registry.prune.rawValue)))
        registryMembers.append(("webhooks", .array(webhooks)))
        let document: JSONWriter.Value = .object([
            ("version", .number("1")),
            ("owner", .string(owner)),
            ("registries", .array([.object(registryMembers)])),
        ])
        return Exported(json: JSONWriter.write(document) + "\n", variables: variables)
    }

    /// `deploy-bot` + `X-Api-Key` → `DEPLOY_BOT`, `X_API_KEY`: uppercase letters, digits and underscores.
    static func variableName(_ text: String) -> String {
        var name = String(text.uppercased().unicodeScalars.map { scalar -> Character in
            (("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)) ? Character(scalar) : "_"
        })
        if let first = name.unicodeScalars.first, ("0"..."9").contains(first) { name = "_" + name }
        return name
    }
}

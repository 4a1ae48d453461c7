import AzureRegistry
import Foundation
import HookKit
import HookSpec
import Reconciler

/// `hookapply export`: a spec describing a registry's live webhooks, to adopt an existing registry.
enum ExportCommand {
    static let spec = CommandSpec(
        name: "export",
        abstract: "Print a spec describing a registry's live webhooks, to adopt an existing registry.",
        discussion: """
            Secret values (header values, signing secrets, the query and userinfo of service URIs) are written as ${env:NAME}
            references with deterministic names, and the variables to set are listed on stderr (names only).
            --include-secrets writes the values themselves: do not commit that output.
            """,
        options: [
            OptionSpec(long: "registry", short: "r", valueName: "name", help: "The registry to export (required when the spec has several)."),
            OptionSpec(long: "file", short: "f", valueName: "file", help: "The spec that names the registry. Default: webhooks.json."),
            OptionSpec(long: "azure", valueName: "sub/group/registry", help: "Export an Azure registry without a spec: SUBSCRIPTION/RESOURCEGROUP/REGISTRY."),
            OptionSpec(long: "local", valueName: "path", help: "Export a local registry's state file without a spec."),
            OptionSpec(long: "out", valueName: "file", help: "Write the spec to this file instead of standard output ('-'); never the spec being read or a registry's file. Mode 0600 with --include-secrets."),
            OptionSpec(long: "owner", valueName: "name", help: "Keep only webhooks tagged for this owner, or untagged; the spec's owner becomes it."),
            OptionSpec(long: "secrets-env", valueName: "file", help: "Write the secret values to this dotenv file (mode 0600); never standard output, the spec or a registry's file."),
            .armEndpoint,
            .verbose,
            OptionSpec(long: "include-secrets", help: "Write secret values literally instead of ${env:...} references."),
        ])

    static func run(_ arguments: ParsedArguments, _ context: Context) async -> ExitCode {
        let direct = ["azure", "local"].filter { arguments.value($0) != nil }
        if direct.count > 1 || (!direct.isEmpty && (arguments.value("file") != nil || arguments.value("registry") != nil)) {
            return HookApply.usageError("name the registry either with a spec (-f, --registry) or with one of --azure and --local", usage: spec.usage, context, helpFor: "export")
        }
        do {
            let source: Source = direct.isEmpty ? try fromSpec(arguments, context) : try standalone(arguments, context)
            // Both outputs are checked before the registry is read, so a refusal writes nothing at all.
            let includeSecrets = arguments.has("include-secrets")
            var outputs: [(option: String, path: OutputPath)] = []
            for (option, secrets) in [("out", includeSecrets), ("secrets-env", true)] {
                guard let value = arguments.value(option) else { continue }
                switch OutputPath.check(value, option: "--" + option, secrets: secrets, protected: source.protected, others: outputs, context) {
                case .success(let path): outputs.append(("--" + option, path))
                case .failure(let error):
                    context.standardError.line("error: \(error.message)")
                    return .usage
                }
            }
            var state = try await observe(source.registry, provider: source.provider, context)
            if arguments.has("verbose"), let counting = source.provider as? any CallCounting {
                let statistics = counting.callStatistics
                context.standardError.line("registry '\(source.registry.name)': \(statistics.calls) \(statistics.unit), \(statistics.retries) retried")
            }
            let owner = arguments.value("owner") ?? source.owner
            if arguments.value("owner") != nil {
                // Another owner's webhooks are theirs to export: left out, and said so.
                let others = state.webhooks.filter { $0.owner != nil && $0.owner != owner }
                state.webhooks.removeAll { $0.owner != nil && $0.owner != owner }
                for webhook in others { context.standardError.line(TerminalText.line("left out '\(webhook.name)': owned by '\(webhook.owner ?? "")'")) }
            }
            let exported = export(state, registry: source.registry, owner: owner, includeSecrets: includeSecrets,
                                  target: source.target, descriptions: source.descriptions)
            if case .file(let path)? = outputs.first(where: { $0.option == "--out" })?.path, let out = arguments.value("out") {
                do {
                    // Literal secrets make the export as private as the dotenv file.
                    try AtomicFile.write(Array(exported.json.utf8), to: path, permissions: includeSecrets ? 0o600 : 0o644)
                } catch {
                    context.standardError.line("error: the export was not saved: \(error)")
                    return .failure
                }
                context.standardError.line("wrote \(out)" + (includeSecrets ? " (mode 0600: it holds secret values; do not commit it)" : ""))
                if includeSecrets { OutputPath.warnIfCommittable(path, what: out, context) }
            } else {
                context.standardOutput.write(exported.json)
            }
            if case .file(let path)? = outputs.first(where: { $0.option == "--secrets-env" })?.path, let file = arguments.value("secrets-env") {
                if let problem = exported.dotenvProblem {
                    context.standardError.line("error: the secrets were not saved: \(problem)")
                    return .failure
                }
                do {
                    try AtomicFile.write(Array(exported.dotenv.utf8), to: path, permissions: 0o600)
                } catch {
                    context.standardError.line("error: the secrets were not saved: \(error)")
                    return .failure
                }
                context.standardError.line("wrote the values of \(exported.variables.count) variables to \(file) (mode 0600; do not commit it)")
                OutputPath.warnIfCommittable(path, what: file, context)
            } else if !exported.variables.isEmpty {
                context.standardError.line("The exported spec reads these environment variables; set them before plan or apply:")
                for variable in exported.variables { context.standardError.line("  \(variable)") }
            }
            return .success
        } catch {
            return error.code
        }
    }

    /// The registry to export and how to reach it.
    struct Source {
        var registry: ResolvedRegistry
        var provider: any WebhookProvider
        var owner: String
        var target: Target?
        var specPath: String?
        /// Descriptions the spec gives its webhooks (kept in the export: the registry has none).
        var descriptions: [String: String] = [:]
        /// Files no output may replace: the spec and its registries' files, or the `--local` registry's.
        var protected: [OutputPath.Protected] = []
    }

    static func fromSpec(_ arguments: ParsedArguments, _ context: Context) throws(Reconciliation.Failure) -> Source {
        let reconciliation = try Reconciliation.prepare(arguments, context, requireSelection: true,
                                                        showsSecrets: arguments.has("include-secrets") || arguments.value("secrets-env") != nil, readOnly: true,
                                                        needsSecrets: false)
        guard let registry = reconciliation.registries.first, let provider = reconciliation.providers[registry.name] else {
            throw Reconciliation.Failure(code: .failure)
        }
        let declared = reconciliation.loaded.document.spec?.registries.first { $0.name == registry.name }
        var descriptions: [String: String] = [:]
        for webhook in declared?.webhooks ?? [] { if let description = webhook.description { descriptions[webhook.name.lowercased()] = description } }
        return Source(registry: registry, provider: provider, owner: reconciliation.spec.owner, target: declared?.target,
                      specPath: reconciliation.loaded.path, descriptions: descriptions, protected: reconciliation.protectedFiles(context))
    }

    /// `--azure SUB/GROUP/REGISTRY` or `--local PATH`: no spec needed.
    static func standalone(_ arguments: ParsedArguments, _ context: Context) throws(Reconciliation.Failure) -> Source {
        let registry: ResolvedRegistry
        let target: Target
        if let coordinates = arguments.value("azure") {
            let parts = coordinates.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, SpecValidator.isUUID(parts[0]), !parts[1].isEmpty, !parts[2].isEmpty else {
                context.standardError.line("error: --azure needs SUBSCRIPTION/RESOURCEGROUP/REGISTRY, the subscription a UUID")
                throw Reconciliation.Failure(code: .usage)
            }
            let name = parts[2].lowercased()
            registry = ResolvedRegistry(name: name, target: .azure(subscriptionId: parts[0], resourceGroup: parts[1], registry: parts[2], endpoint: nil),
                                        prune: .owned, webhooks: [])
            let subscription: Template
            do { subscription = try Template(parsing: parts[0]) } catch { throw Reconciliation.Failure(code: .usage) }
            target = .azure(AzureTarget(subscriptionId: subscription, resourceGroup: parts[1], registry: parts[2]))
        } else {
            let path = context.absolutePath(arguments.value("local") ?? "")
            let base = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            let name = base.isEmpty ? "local" : base
            registry = ResolvedRegistry(name: name, target: .local(path: path), prune: .owned, webhooks: [])
            target = .local(path: arguments.value("local"))
        }
        let azure = try Reconciliation.azureSettings(arguments, context)
        switch ProviderFactory.make(registry, specDirectory: context.currentDirectory, workingDirectory: context.currentDirectory, azure: azure) {
        case .success(let provider):
            return Source(registry: registry, provider: provider, owner: "hookapply", target: target, specPath: nil,
                          protected: ProviderFactory.files(of: [registry], specDirectory: context.currentDirectory))
        case .failure(let error):
            context.standardError.line("error: \(error.message)")
            throw Reconciliation.Failure(code: .failure)
        }
    }

    static func observe(_ registry: ResolvedRegistry, provider: any WebhookProvider, _ context: Context) async throws(Reconciliation.Failure) -> ObservedRegistry {
        let progress = ObservationProgress([registry.name], context)
        defer { progress.stop() }
        do {
            return try await provider.observe()
        } catch {
            context.standardError.line("error: registry '\(registry.name)': \(ProviderError.from(error).message)")
            throw Reconciliation.Failure(code: .failure)
        }
    }

    struct Exported {
        var json: String
        var variables: [String]
        /// `NAME=value` lines for `--secrets-env`.
        var dotenv: String
        /// Why the dotenv file cannot be written: a value a line-based loader would misread.
        var dotenvProblem: String? = nil
    }

    /// A dotenv value, as it is: `docker --env-file`, `kubectl create secret --from-env-file` and
    /// systemd's `EnvironmentFile=` take everything after the first `=` literally, and quotes would end
    /// up in the secret. What a literal loader would misread (a line break) is refused instead.
    static func dotenvValue(_ value: String) -> String { value }

    static func export(
        _ state: ObservedRegistry, registry: ResolvedRegistry, owner: String, includeSecrets: Bool, target: Target?, descriptions: [String: String] = [:]
    ) -> Exported {
        var variables: [String] = []
        var dotenv = ""
        var dotenvProblem: String?
        var used: Set<String> = []
        // Names are derived (`X-Key` and `X_Key` both give X_KEY; a header `URI-Query` gives what the query
        // gets), so a taken name gets a numbered suffix: two secrets must never share one variable.
        func reference(_ base: String, value: String) -> String {
            var name = base
            var number = 2
            while used.contains(name) {
                name = "\(base)_\(number)"
                number += 1
            }
            used.insert(name)
            variables.append(name)
            dotenv += "\(name)=\(dotenvValue(value))\n"
            // Line-based loaders (docker --env-file, kubectl create secret --from-env-file) would read a
            // line break inside the value as the start of another variable, one the registry chose.
            if dotenvProblem == nil, value.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\u{0}" || $0 == "\u{2028}" || $0 == "\u{2029}" || $0 == "\u{85}" }) {
                dotenvProblem = "the value of \(name) holds a line break, which a line-based loader (docker --env-file, kubectl create secret --from-env-file) would read as a second variable. Fix the value in the registry, or export with --include-secrets --out FILE instead"
            }
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
                if let userinfo = parsed.userinfo { uri += reference("\(prefix)_URI_USERINFO", value: userinfo) + "@" }
                uri += literal(parsed.host) + (parsed.port.map { ":\($0)" } ?? "") + literal(parsed.path)
                if let query = parsed.query { uri += "?" + reference("\(prefix)_URI_QUERY", value: query) }
            } else if !includeSecrets {
                uri = reference("\(prefix)_URI", value: webhook.serviceUri)
            }
            var headers: [(String, JSONWriter.Value)] = []
            for header in webhook.customHeaders {
                let isSecret = Redaction.isSecretHeader(header.name)
                let value = includeSecrets || !isSecret ? literal(header.value) : reference("\(prefix)_\(variableName(header.name))", value: header.value)
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
            if !webhook.signingSecrets.isEmpty {
                let secrets = webhook.signingSecrets.enumerated().map { index, secret -> JSONWriter.Value in
                    let suffix = webhook.signingSecrets.count == 1 ? "" : "_\(index + 1)"
                    return .string(includeSecrets ? literal(secret) : reference("\(prefix)_SIGNING_SECRET\(suffix)", value: secret))
                }
                members.append(("signingSecret", secrets.count == 1 ? secrets[0] : .array(secrets)))
            }
            if webhook.payloadFormat != .acr { members.append(("payloadFormat", .string(webhook.payloadFormat.rawValue))) }
            if let description = descriptions[webhook.name.lowercased()] { members.append(("description", .string(description))) }
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
        return Exported(json: JSONWriter.write(document) + "\n", variables: variables, dotenv: dotenv, dotenvProblem: dotenvProblem)
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

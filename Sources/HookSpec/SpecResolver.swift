import Dispatch
import HookKit

/// Which part of a spec a command needs resolved: a command needs only the secrets it uses. `plan -r dev`
/// needs dev's variables and not prod's; `list`, `get`, `events`, `ping` and `export` send none of the
/// spec's secrets and need none of them (a registry's own coordinates, such as an Azure subscription
/// from `${env:…}`, are still needed for the registries they read).
public struct ResolutionScope: Sendable, Equatable {
    /// The registries whose variables must be set, by lowercased name; nil for every registry.
    public var registries: Set<String>?
    /// Whether the webhooks' service URIs and header values must resolve (plan and apply send them).
    public var secrets: Bool
    /// `--target`: the only webhooks whose secrets must resolve, as lowercased `registry/webhook`; nil for all.
    public var webhooks: Set<String>?

    public init(registries: Set<String>? = nil, secrets: Bool = true, webhooks: Set<String>? = nil) {
        self.registries = registries.map { Set($0.map { $0.lowercased() }) }
        self.secrets = secrets
        self.webhooks = webhooks.map { Set($0.map { $0.lowercased() }) }
    }

    /// Every variable of every registry: `validate --resolve`, and plan and apply of the whole spec.
    public static let all = ResolutionScope()

    public func includes(_ registry: String) -> Bool { registries?.contains(registry.lowercased()) ?? true }

    /// Whether this webhook's service URI and header values must resolve.
    public func needsSecrets(of webhook: String, in registry: String) -> Bool {
        secrets && includes(registry) && (webhooks?.contains("\(registry.lowercased())/\(webhook.lowercased())") ?? true)
    }
}

/// Replaces `${env:...}` references with values from an environment passed in (never read here,
/// which keeps HookSpec pure and tests free of the real environment).
public enum SpecResolver {
    /// Checks that every referenced variable is set and non-empty (or has a fallback), without resolving.
    public static func checkEnvironment(_ spec: Spec, environment: [String: String], scope: ResolutionScope = .all) -> [Diagnostic] {
        // A variable is satisfied when every use of it has a value: set and non-empty, or a fallback.
        var needsValue: Set<String> = []
        func note(_ template: Template) {
            for case .environment(let name, let fallback) in template.parts where fallback == nil {
                needsValue.insert(name)
            }
        }
        for registry in spec.registries where scope.includes(registry.name) {
            if case .azure(let azure) = registry.target { note(azure.subscriptionId) }
            guard scope.secrets else { continue }
            for webhook in registry.webhooks where scope.needsSecrets(of: webhook.name, in: registry.name) {
                for template in webhook.templates { note(template) }
            }
        }
        let unsatisfied = needsValue.filter { environment[$0].map(\.isEmpty) ?? true }
        if unsatisfied.isEmpty { return [] }
        // Only now find every place each missing variable is used, for the message.
        var diagnostics: [Diagnostic] = []
        for reference in spec.environmentReferences where unsatisfied.contains(reference.name) {
            // Only the places this command needs (the same variable may also serve a registry it leaves alone).
            let needed = scope == .all ? reference.pointers : reference.pointers.filter { pointer in
                let tokens = pointer.description.split(separator: "/")
                guard tokens.count >= 2, tokens[0] == "registries", let index = Int(tokens[1]), index < spec.registries.count else { return true }
                guard tokens.count >= 4, tokens[2] == "webhooks", let webhook = Int(tokens[3]), webhook < spec.registries[index].webhooks.count
                else { return scope.includes(spec.registries[index].name) }
                return scope.needsSecrets(of: spec.registries[index].webhooks[webhook].name, in: spec.registries[index].name)
            }
            let places = (needed.isEmpty ? reference.pointers : needed).map(\.description).joined(separator: ", ")
            let first = reference.pointers.first ?? .root
            if environment[reference.name] == nil {
                // A secret's fallback would be committed with the spec: for secrets, say only to set it.
                let isSecret = reference.pointers.contains { $0.description.contains("/serviceUri") || $0.description.contains("/customHeaders") || $0.description.contains("/signingSecret") }
                let fix = isSecret ? "set it before running hookapply (a secret belongs in the environment, not in a fallback committed with the spec)"
                    : "set it, or give a fallback as ${env:\(reference.name):-value}"
                diagnostics.append(.error("missing-env-variable", at: first,
                                          "environment variable '\(reference.name)' is not set; it is used at \(places); \(fix)"))
            } else {
                diagnostics.append(.error("empty-env-variable", at: first,
                                          "environment variable '\(reference.name)' is empty; it is used at \(places); give it a value"))
            }
        }
        return diagnostics
    }

    /// Resolves a valid spec. Values are re-checked after substitution (a variable can hold a bad URI or a
    /// line break); messages name the variables involved but never their values.
    /// - Parameter scope: what must resolve; the rest resolves leniently (an unset variable without a
    ///   fallback becomes empty, and is not checked), so that a command can run without secrets it
    ///   does not use.
    public static func resolve(_ spec: Spec, environment: [String: String], scope: ResolutionScope = .all) -> (spec: ResolvedSpec?, diagnostics: [Diagnostic]) {
        var diagnostics = checkEnvironment(spec, environment: environment, scope: scope)
        if diagnostics.hasErrors { return (nil, diagnostics) }
        @Sendable func value(_ template: Template) -> String {
            template.rendered { name, fallback in
                if let value = environment[name], !value.isEmpty { return value }
                return fallback ?? ""
            }
        }
        @Sendable func origin(_ template: Template) -> String {
            let names = template.variableNames
            return names.isEmpty ? "" : " (after resolving " + names.map { "${env:\($0)}" }.joined(separator: ", ") + ")"
        }
        // Registries resolve independently: spread them over every core.
        let resolvedParts = ParallelCollector<ResolvedRegistry?>(count: spec.registries.count, empty: nil)
        let problemParts = ParallelCollector<[Diagnostic]>(count: spec.registries.count, empty: [])
        let valueParts = ParallelCollector<[String]>(count: spec.registries.count, empty: [])
        @Sendable func referencedValues(_ template: Template) -> [String] {
            template.parts.compactMap { part in
                guard case .environment(let name, let fallback) = part else { return nil }
                if let value = environment[name], !value.isEmpty { return value }
                return fallback
            }
        }
        DispatchQueue.concurrentPerform(iterations: spec.registries.count) { registryIndex in
            let registry = spec.registries[registryIndex]
            let inScope = scope.includes(registry.name)
            let needsSecrets = inScope && scope.secrets
            var diagnostics: [Diagnostic] = []
            let registryPointer = JSONPointer.root.appending("registries").appending(registryIndex)
            let target: ResolvedTarget
            switch registry.target {
            case .local(let path):
                target = .local(path: path ?? Target.defaultLocalPath(registry: registry.name))
            case .azure(let azure):
                let subscription = value(azure.subscriptionId)
                if inScope, azure.subscriptionId.hasReferences, !SpecValidator.isUUID(subscription) {
                    diagnostics.append(.error("invalid-subscription-id",
                                              at: registryPointer.appending("azure").appending("subscriptionId"),
                                              "'subscriptionId'\(origin(azure.subscriptionId)) is not a UUID"))
                }
                target = .azure(subscriptionId: subscription, resourceGroup: azure.resourceGroup,
                                registry: azure.registry, endpoint: azure.endpoint)
            }
            var webhooks: [WebhookState] = []
            var secrets: Set<String> = []
            for (webhookIndex, webhook) in registry.webhooks.enumerated() {
                let needsSecrets = needsSecrets && scope.needsSecrets(of: webhook.name, in: registry.name)
                let pointer = registryPointer.appending("webhooks").appending(webhookIndex)
                let uri = value(webhook.serviceUri)
                for found in referencedValues(webhook.serviceUri) { secrets.insert(found) }
                for header in webhook.customHeaders where Redaction.isSecretHeader(header.name) {
                    for found in referencedValues(header.value) {
                        if found.count < Redaction.minimumScrubbableLength, secrets.insert(found).inserted {
                            diagnostics.append(.warning("short-secret", at: pointer.appending("customHeaders").appending(header.name),
                                                        "the value of header '\(header.name)'\(origin(header.value)) is shorter than \(Redaction.minimumScrubbableLength) characters; values that short cannot be hidden where a receiver or an error echoes them. Use a longer secret"))
                        }
                        secrets.insert(found)
                    }
                }
                if needsSecrets, webhook.serviceUri.hasReferences {
                    var found = SpecValidator.validateServiceURIText(
                        uri, at: pointer.appending("serviceUri"), context: "serviceUri" + origin(webhook.serviceUri),
                        hasHeaders: !webhook.customHeaders.isEmpty)
                    // When the scheme and host are literal, validation already warned about them; repeat only errors.
                    if let first = webhook.serviceUri.parts.first, case .literal = first {
                        found = found.filter { $0.severity == .error }
                    }
                    diagnostics += found
                }
                var headers: [ResolvedHeader] = []
                for header in webhook.customHeaders {
                    let headerValue = value(header.value)
                    if needsSecrets, header.value.hasReferences, let problem = SpecValidator.headerValueProblem(headerValue) {
                        diagnostics.append(.error("invalid-header-value",
                                                  at: pointer.appending("customHeaders").appending(header.name),
                                                  "the value of header '\(header.name)'\(origin(header.value)) \(problem)"))
                    }
                    headers.append(ResolvedHeader(name: header.name, value: headerValue))
                }
                var signingSecrets: [String] = []
                for (index, secret) in webhook.signingSecrets.enumerated() {
                    let text = value(secret)
                    for found in referencedValues(secret) { secrets.insert(found) }
                    if needsSecrets, secret.hasReferences, let problem = SigningSecret.problem(text) {
                        diagnostics.append(.error("invalid-signing-secret", at: webhook.signingSecretPointer(pointer, index),
                                                  "the signing secret\(origin(secret)) \(problem)"))
                    }
                    signingSecrets.append(text)
                }
                webhooks.append(WebhookState(
                    name: webhook.name, serviceUri: uri, customHeaders: headers, actions: webhook.actions,
                    status: webhook.status, scope: webhook.scope, location: webhook.location,
                    signingSecrets: signingSecrets, payloadFormat: webhook.payloadFormat ?? .acr))
            }
            resolvedParts.set(registryIndex, ResolvedRegistry(name: registry.name, target: target, prune: registry.prune, webhooks: webhooks))
            problemParts.set(registryIndex, diagnostics)
            valueParts.set(registryIndex, Array(secrets))
        }
        let registries = resolvedParts.values.compactMap { $0 }
        // One short-secret warning per variable and header, not one per registry that uses it.
        var warned: Set<String> = []
        for found in problemParts.values {
            diagnostics += found.filter { $0.code != "short-secret" || warned.insert($0.message).inserted }
        }
        if diagnostics.hasErrors { return (nil, diagnostics) }
        let values = Array(Set(valueParts.values.flatMap { $0 })).sorted()
        return (ResolvedSpec(owner: spec.owner, registries: registries, environmentValues: values), diagnostics)
    }
}

import Dispatch
import HookKit

/// Turns a JSON tree into a ``Spec``: types, required and unknown keys, enumerated values and
/// `${env:...}` syntax. It never stops at the first problem.
///
/// Where a value is wrong it substitutes a placeholder, so that the rest of the document still
/// reaches ``SpecValidator`` with array indexes intact (pointers depend on them), and records the
/// pointer in ``reported`` so the validator does not report the same place twice.
struct SpecDecoder: Sendable {
    private(set) var diagnostics: [Diagnostic] = []
    /// Explicit byte offsets for diagnostics that point at a key rather than a value.
    private(set) var offsets: [Int: Int] = [:]
    private(set) var reported: Set<JSONPointer> = []

    static let topKeys = ["$schema", "version", "owner", "registries"]
    static let registryKeys = ["name", "local", "azure", "prune", "webhooks"]
    static let localKeys = ["path"]
    static let azureKeys = ["subscriptionId", "resourceGroup", "registry", "endpoint"]
    static let webhookKeys = [
        "name", "serviceUri", "customHeaders", "actions", "status", "scope", "location", "description",
        "signingSecret", "payloadFormat",
    ]

    /// Decodes the document; nil only when the version is unsupported (nothing else can be trusted then).
    mutating func decode(_ root: JSONNode) -> Spec? {
        let pointer = JSONPointer.root
        // Version first: a newer spec may use keys this build does not know, and listing them would bury the one
        // message that matters.
        if case .object(let list) = root.value, let node = list.first(where: { $0.key == "version" })?.value,
            case .number(let text) = node.value, let version = Int(text), version > Spec.currentVersion
        {
            _ = decodeVersion(node)
            return nil
        }
        // A file that is not a spec at all (a link that points at some other file, a pushed commit that
        // swapped it) is said to be one thing, with no part of its content quoted: it may be a secret.
        guard case .object(let top) = root.value else {
            report(.error("not-a-spec", at: pointer, "this is not a hookapply spec: the document is \(root.value.kindName), not an object with 'version' and 'registries'"),
                   offset: root.offset)
            return nil
        }
        if !top.contains(where: { $0.key == "version" || $0.key == "registries" }) {
            report(.error("not-a-spec", at: pointer, "this is not a hookapply spec: it has neither 'version' nor 'registries'"), offset: root.offset)
            return nil
        }
        guard let members = members(of: root, at: pointer, what: "the spec", allowed: Self.topKeys,
                                     required: ["version", "registries"]) else { return nil }
        var version = Spec.currentVersion
        if let node = members["version"] {
            guard let decoded = decodeVersion(node) else { return nil }
            version = decoded
        }
        if let node = members["$schema"] { _ = string(node, at: pointer.appending("$schema"), name: "$schema") }
        var owner = Spec.defaultOwner
        if let node = members["owner"], let value = plainString(node, at: pointer.appending("owner"), name: "owner") {
            owner = value
        }
        var registries: [Registry] = []
        if let node = members["registries"] {
            let listPointer = pointer.appending("registries")
            if let elements = array(node, at: listPointer, name: "registries") {
                if elements.isEmpty {
                    report(.error("no-registries", at: listPointer,
                                  "'registries' is empty; declare at least one registry"), offset: node.offset)
                }
                // Registries decode independently: one decoder each, on every core, merged in order.
                let parts = ParallelCollector<RegistryPart?>(count: elements.count, empty: nil)
                DispatchQueue.concurrentPerform(iterations: elements.count) { index in
                    var decoder = SpecDecoder()
                    let registry = decoder.decodeRegistry(elements[index], at: listPointer.appending(index))
                    parts.set(index, RegistryPart(registry: registry, decoder: decoder))
                }
                for part in parts.values {
                    guard let part else { continue }
                    registries.append(part.registry)
                    merge(part.decoder)
                }
            }
        }
        return Spec(version: version, owner: owner, registries: registries)
    }

    private mutating func decodeVersion(_ node: JSONNode) -> Int? {
        let pointer = JSONPointer.root.appending("version")
        guard case .number(let text) = node.value, let version = Int(text) else {
            report(.error("invalid-version", at: pointer,
                          "'version' must be the integer \(Spec.currentVersion), found \(describe(node))"), offset: node.offset)
            return Spec.currentVersion
        }
        if version > Spec.currentVersion {
            report(.error("unsupported-version", at: pointer,
                          "spec version \(version) is newer than this hookapply understands (version \(Spec.currentVersion)); upgrade hookapply or write \"version\": \(Spec.currentVersion)"),
                   offset: node.offset)
            return nil
        }
        if version < 1 {
            report(.error("invalid-version", at: pointer,
                          "'version' must be \(Spec.currentVersion), found \(version)"), offset: node.offset)
        }
        return version
    }

    /// One registry decoded on its own, with the diagnostics its decoder found.
    struct RegistryPart: Sendable {
        var registry: Registry
        var decoder: SpecDecoder
    }

    /// Appends another decoder's findings, keeping their explicit offsets.
    private mutating func merge(_ other: SpecDecoder) {
        for (index, diagnostic) in other.diagnostics.enumerated() {
            if let offset = other.offsets[index] { offsets[diagnostics.count] = offset }
            diagnostics.append(diagnostic)
        }
        reported.formUnion(other.reported)
    }

    fileprivate mutating func decodeRegistry(_ node: JSONNode, at pointer: JSONPointer) -> Registry {
        var registry = Registry(name: "", target: .local(path: nil), webhooks: [])
        guard let members = members(of: node, at: pointer, what: "a registry", allowed: Self.registryKeys,
                                    required: ["name", "webhooks"]) else {
            reported.insert(pointer)
            return registry
        }
        if let node = members["name"], let name = plainString(node, at: pointer.appending("name"), name: "name") {
            registry.name = name
        }
        let local = members["local"]
        let azure = members["azure"]
        switch (local, azure) {
        case (nil, nil):
            report(.error("missing-target", at: pointer,
                          "registry '\(registry.name)' has no target; add \"local\": {} for the embedded local registry or an \"azure\" block"),
                   offset: node.offset)
        case (let local?, let azure?):
            let first = local.offset < azure.offset ? "local" : "azure"
            let second = first == "local" ? "azure" : "local"
            report(.error("conflicting-targets", at: pointer.appending(second),
                          "a registry has exactly one target, but this one has both 'local' and 'azure'; remove one"),
                   offset: keyOffset(in: node, key: second))
            registry.target = decodeTarget(azure, named: "azure", at: pointer)
        case (let local?, nil):
            registry.target = decodeTarget(local, named: "local", at: pointer)
        case (nil, let azure?):
            registry.target = decodeTarget(azure, named: "azure", at: pointer)
        }
        if let node = members["prune"], let value = plainString(node, at: pointer.appending("prune"), name: "prune") {
            if let prune = PruneMode(rawValue: value) {
                registry.prune = prune
            } else {
                report(.error("invalid-prune", at: pointer.appending("prune"),
                              "unknown prune mode '\(value)'\(suggestionSuffix(value, PruneMode.allCases.map(\.rawValue)))"),
                       offset: node.offset)
            }
        }
        if let node = members["webhooks"] {
            let listPointer = pointer.appending("webhooks")
            if let elements = array(node, at: listPointer, name: "webhooks") {
                for (index, element) in elements.enumerated() {
                    registry.webhooks.append(decodeWebhook(element, at: listPointer.appending(index)))
                }
            }
        }
        return registry
    }

    private mutating func decodeTarget(_ node: JSONNode, named name: String, at registryPointer: JSONPointer) -> Target {
        let pointer = registryPointer.appending(name)
        if name == "local" {
            guard let members = members(of: node, at: pointer, what: "a local target", allowed: Self.localKeys,
                                        required: []) else { return .local(path: nil) }
            var path: String? = nil
            if let node = members["path"] {
                path = plainString(node, at: pointer.appending("path"), name: "path")
            }
            return .local(path: path)
        }
        var azure = AzureTarget(subscriptionId: Template(literal: ""), resourceGroup: "", registry: "")
        guard let members = members(of: node, at: pointer, what: "an azure target", allowed: Self.azureKeys,
                                    required: ["subscriptionId", "resourceGroup", "registry"]) else {
            return .azure(azure)
        }
        if let node = members["subscriptionId"],
           let value = template(node, at: pointer.appending("subscriptionId"), name: "subscriptionId") {
            azure.subscriptionId = value
        }
        if let node = members["resourceGroup"],
           let value = plainString(node, at: pointer.appending("resourceGroup"), name: "resourceGroup") {
            azure.resourceGroup = value
        }
        if let node = members["registry"], let value = plainString(node, at: pointer.appending("registry"), name: "registry") {
            azure.registry = value
        }
        if let node = members["endpoint"] {
            azure.endpoint = plainString(node, at: pointer.appending("endpoint"), name: "endpoint")
        }
        return .azure(azure)
    }

    private mutating func decodeWebhook(_ node: JSONNode, at pointer: JSONPointer) -> Webhook {
        var webhook = Webhook(name: "", serviceUri: Template(literal: ""), actions: [])
        guard let members = members(of: node, at: pointer, what: "a webhook", allowed: Self.webhookKeys,
                                    required: ["name", "serviceUri", "actions"]) else {
            reported.insert(pointer)
            return webhook
        }
        if let node = members["name"], let value = plainString(node, at: pointer.appending("name"), name: "name") {
            webhook.name = value
        }
        if let node = members["serviceUri"],
           let value = template(node, at: pointer.appending("serviceUri"), name: "serviceUri") {
            webhook.serviceUri = value
        }
        if let node = members["customHeaders"] {
            let headersPointer = pointer.appending("customHeaders")
            if case .object(let headers) = node.value {
                for header in headers {
                    let headerPointer = headersPointer.appending(header.key)
                    let value = template(header.value, at: headerPointer, name: "the value of header '\(header.key)'")
                    webhook.customHeaders.append(Header(name: header.key, value: value ?? Template(literal: "")))
                }
            } else {
                wrongType(node, at: headersPointer, name: "customHeaders", expected: "an object of header names to values")
            }
        }
        if let node = members["actions"] { webhook.actions = decodeActions(node, at: pointer.appending("actions")) }
        if let node = members["status"], let value = plainString(node, at: pointer.appending("status"), name: "status") {
            if let status = WebhookStatus(rawValue: value) {
                webhook.status = status
            } else {
                report(.error("invalid-status", at: pointer.appending("status"),
                              "unknown status '\(value)'\(suggestionSuffix(value, WebhookStatus.allCases.map(\.rawValue)))"),
                       offset: node.offset)
            }
        }
        if let node = members["scope"], let value = plainString(node, at: pointer.appending("scope"), name: "scope") {
            webhook.scope = value
        }
        if let node = members["location"] {
            webhook.location = plainString(node, at: pointer.appending("location"), name: "location")
        }
        if let node = members["description"] {
            webhook.description = string(node, at: pointer.appending("description"), name: "description")
        }
        if let node = members["signingSecret"] {
            let secretPointer = pointer.appending("signingSecret")
            switch node.value {
            case .array(let elements):
                webhook.signingSecretIsList = true
                if elements.isEmpty {
                    report(.error("empty-signing-secret", at: secretPointer,
                                  "'signingSecret' is an empty list; give one secret, or two while rotating, or remove the property"),
                           offset: node.offset)
                } else if elements.count > SigningSecret.maximumCount {
                    report(.error("too-many-signing-secrets", at: secretPointer,
                                  "'signingSecret' lists \(elements.count) secrets; at most \(SigningSecret.maximumCount) (a rotation needs two: the new one and the old)"),
                           offset: node.offset)
                }
                for (index, element) in elements.enumerated() {
                    let value = template(element, at: secretPointer.appending(index), name: "a signing secret")
                    webhook.signingSecrets.append(value ?? Template(literal: ""))
                }
            case .string:
                if let value = template(node, at: secretPointer, name: "signingSecret") { webhook.signingSecrets = [value] }
            default:
                wrongType(node, at: secretPointer, name: "'signingSecret'", expected: "a 'whsec_…' string or a list of them")
            }
        }
        if let node = members["payloadFormat"], let value = plainString(node, at: pointer.appending("payloadFormat"), name: "payloadFormat") {
            if let format = PayloadFormat(rawValue: value) {
                webhook.payloadFormat = format
            } else {
                report(.error("invalid-payload-format", at: pointer.appending("payloadFormat"),
                              "unknown payloadFormat '\(value)'; use \(quotedList(PayloadFormat.allCases.map(\.rawValue)))\(suggestionSuffix(value, PayloadFormat.allCases.map(\.rawValue)))"),
                       offset: node.offset)
            }
        }
        return webhook
    }

    private mutating func decodeActions(_ node: JSONNode, at pointer: JSONPointer) -> [WebhookAction] {
        guard let elements = array(node, at: pointer, name: "actions") else { return [] }
        let valid = WebhookAction.allCases.map(\.rawValue)
        if elements.isEmpty {
            report(.error("empty-actions", at: pointer,
                          "'actions' is empty, so the webhook would never fire; list at least one of \(quotedList(valid))"),
                   offset: node.offset)
        }
        var actions: [WebhookAction] = []
        for (index, element) in elements.enumerated() {
            let elementPointer = pointer.appending(index)
            guard let value = string(element, at: elementPointer, name: "an action") else { continue }
            guard let action = WebhookAction(rawValue: value) else {
                report(.error("unknown-action", at: elementPointer,
                              "unknown action '\(value)'\(suggestionSuffix(value, valid))"), offset: element.offset)
                continue
            }
            if actions.contains(action) {
                report(.error("duplicate-action", at: elementPointer, "action '\(value)' is listed twice; remove one"),
                       offset: element.offset)
                continue
            }
            actions.append(action)
        }
        return actions
    }

    // MARK: - Helpers

    private mutating func report(_ diagnostic: Diagnostic, offset: Int?) {
        if let offset { offsets[diagnostics.count] = offset }
        diagnostics.append(diagnostic)
        reported.insert(diagnostic.pointer)
    }

    private mutating func members(
        of node: JSONNode, at pointer: JSONPointer, what: String, allowed: [String], required: [String]
    ) -> Members? {
        guard case .object(let list) = node.value else {
            wrongType(node, at: pointer, name: pointer.tokens.last.map { "'\($0)'" } ?? "the spec", expected: "an object")
            return nil
        }
        let result = Members(list: list)
        for member in list {
            if allowed.contains(member.key) {
                continue
            }
            let suffix: String
            if let match = Suggestion.closest(to: member.key, among: allowed.filter { $0 != "$schema" }) {
                suffix = "; did you mean '\(match)'?"
            } else {
                suffix = "; valid keys are \(quotedList(allowed.filter { $0 != "$schema" }))"
            }
            report(.error("unknown-key", at: pointer.appending(member.key), "unknown key '\(member.key)' in \(what)\(suffix)"),
                   offset: member.keyOffset)
        }
        for key in required where result[key] == nil {
            report(.error("missing-key", at: pointer.appending(key), "\(what) is missing the required key '\(key)'"),
                   offset: node.offset)
        }
        return result
    }

    private mutating func array(_ node: JSONNode, at pointer: @autoclosure () -> JSONPointer, name: String) -> [JSONNode]? {
        guard case .array(let elements) = node.value else {
            wrongType(node, at: pointer(), name: "'\(name)'", expected: "an array")
            return nil
        }
        return elements
    }

    private mutating func string(_ node: JSONNode, at pointer: @autoclosure () -> JSONPointer, name: String) -> String? {
        guard case .string(let value) = node.value else {
            wrongType(node, at: pointer(), name: name.hasPrefix("'") || name.contains(" ") ? name : "'\(name)'", expected: "a string")
            return nil
        }
        return value
    }

    /// A string in which `${env:...}` is not allowed (only service URIs, header values and subscription ids take it).
    private mutating func plainString(_ node: JSONNode, at pointer: @autoclosure () -> JSONPointer, name: String) -> String? {
        guard let value = string(node, at: pointer(), name: name) else { return nil }
        if value.utf8.contains(UInt8(ascii: "$")), value.contains("${env:") {
            report(.error("env-reference-not-allowed", at: pointer(),
                          "'\(name)' cannot use ${env:...}; references are allowed only in serviceUri, header values, signingSecret and azure.subscriptionId"),
                   offset: node.offset)
            return nil
        }
        return value
    }

    private mutating func template(_ node: JSONNode, at pointer: @autoclosure () -> JSONPointer, name: String) -> Template? {
        guard let value = string(node, at: pointer(), name: name) else { return nil }
        do {
            return try Template(parsing: value)
        } catch {
            report(.error("invalid-env-reference", at: pointer(), error.message), offset: node.offset)
            return nil
        }
    }

    private mutating func wrongType(_ node: JSONNode, at pointer: @autoclosure () -> JSONPointer, name: String, expected: String) {
        report(.error("wrong-type", at: pointer(), "\(name) must be \(expected), found \(describe(node))"), offset: node.offset)
    }

    private func describe(_ node: JSONNode) -> String {
        switch node.value {
        case .number(let text): "the number \(text)"
        case .bool(let value): "\(value)"
        case .string(let value) where value.count <= 40: "the string '\(value)'"
        default: node.value.kindName
        }
    }

    private func keyOffset(in node: JSONNode, key: String) -> Int {
        guard case .object(let members) = node.value else { return node.offset }
        return members.first { $0.key == key }?.keyOffset ?? node.offset
    }

    private func suggestionSuffix(_ value: String, _ valid: [String]) -> String {
        if let match = Suggestion.closest(to: value, among: valid) {
            return "; did you mean '\(match)'?"
        }
        return "; valid values are \(quotedList(valid))"
    }
}

/// The members of one JSON object, looked up by a linear scan: spec objects have a handful of keys, and
/// hashing every key into a dictionary cost more than the scan.
struct Members {
    var list: [JSONMember]

    subscript(key: String) -> JSONNode? {
        for member in list where member.key == key { return member.value }
        return nil
    }
}

func quotedList(_ values: [String]) -> String {
    values.map { "'\($0)'" }.joined(separator: ", ")
}

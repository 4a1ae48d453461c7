/// A webhook spec, version 1: the registries a team manages and the webhooks each should hold.
///
/// Values are as written (``Template``s keep their `${env:...}` references); ``SpecResolver``
/// turns a spec into a ``ResolvedSpec`` with the environment's values.
public struct Spec: Hashable, Sendable, Codable {
    /// The newest spec version this build understands.
    public static let currentVersion = 1
    /// The owner written on webhooks when the spec names none.
    public static let defaultOwner = "hookapply"

    public var version: Int
    /// Marks the webhooks this spec owns, so that pruning deletes only its own.
    public var owner: String
    public var registries: [Registry]

    public init(version: Int = Spec.currentVersion, owner: String = Spec.defaultOwner, registries: [Registry]) {
        self.version = version
        self.owner = owner
        self.registries = registries
    }

    /// Every `${env:...}` reference in the spec with each place that uses it, in document order.
    public var environmentReferences: [EnvironmentReference] {
        var order: [String] = []
        var places: [String: [JSONPointer]] = [:]
        func note(_ template: Template, _ pointer: JSONPointer) {
            for name in template.variableNames {
                if places[name] == nil { order.append(name) }
                places[name, default: []].append(pointer)
            }
        }
        for (registryIndex, registry) in registries.enumerated() {
            let registryPointer = JSONPointer.root.appending("registries").appending(registryIndex)
            if case .azure(let azure) = registry.target {
                note(azure.subscriptionId, registryPointer.appending("azure").appending("subscriptionId"))
            }
            for (webhookIndex, webhook) in registry.webhooks.enumerated() {
                let webhookPointer = registryPointer.appending("webhooks").appending(webhookIndex)
                note(webhook.serviceUri, webhookPointer.appending("serviceUri"))
                for header in webhook.customHeaders {
                    note(header.value, webhookPointer.appending("customHeaders").appending(header.name))
                }
                for (index, secret) in webhook.signingSecrets.enumerated() {
                    note(secret, webhook.signingSecretPointer(webhookPointer, index))
                }
            }
        }
        return order.map { EnvironmentReference(name: $0, pointers: places[$0] ?? []) }
    }
}

/// One environment variable a spec needs, and where it is used.
public struct EnvironmentReference: Hashable, Sendable, Codable {
    public var name: String
    public var pointers: [JSONPointer]

    public init(name: String, pointers: [JSONPointer]) {
        self.name = name
        self.pointers = pointers
    }
}

/// One registry and the webhooks it should hold.
public struct Registry: Hashable, Sendable, Codable {
    public var name: String
    public var target: Target
    public var prune: PruneMode
    public var webhooks: [Webhook]

    public init(name: String, target: Target, prune: PruneMode = .owned, webhooks: [Webhook]) {
        self.name = name
        self.target = target
        self.prune = prune
        self.webhooks = webhooks
    }
}

/// Where a registry lives.
public enum Target: Hashable, Sendable, Codable {
    /// The embedded local registry: a JSON state file. `path` is relative to the spec file;
    /// nil means the default `.hookapply/<registry>.json`.
    case local(path: String?)
    /// An Azure Container Registry.
    case azure(AzureTarget)

    /// The state file of a local registry, relative to the spec file's folder.
    public static func defaultLocalPath(registry: String) -> String { ".hookapply/\(registry).json" }

    /// A path with `.` and empty components removed and `..` applied where it can be, without touching
    /// the file system: the same file written two ways compares equal.
    public static func normalisedPath(_ path: String) -> String {
        let isAbsolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..":
                if let last = parts.last, last != ".." { parts.removeLast() } else if !isAbsolute { parts.append(part) }
            default: parts.append(part)
            }
        }
        return (isAbsolute ? "/" : "") + parts.joined(separator: "/")
    }
}

/// The coordinates of an Azure Container Registry.
public struct AzureTarget: Hashable, Sendable, Codable {
    public var subscriptionId: Template
    public var resourceGroup: String
    public var registry: String
    /// The ARM endpoint; nil means the public cloud's.
    public var endpoint: String?

    public init(subscriptionId: Template, resourceGroup: String, registry: String, endpoint: String? = nil) {
        self.subscriptionId = subscriptionId
        self.resourceGroup = resourceGroup
        self.registry = registry
        self.endpoint = endpoint
    }
}

/// Which undeclared webhooks a plan deletes.
public enum PruneMode: String, Hashable, Sendable, Codable, CaseIterable {
    /// Only those carrying this spec's owner tag (the default: never delete what is not ours).
    case owned
    /// Every undeclared webhook.
    case all
    /// None.
    case none
}

/// A webhook as declared: templates, not values (``WebhookState`` is the resolved form).
///
/// No explicit initialiser: only the decoder (and tests) build one, with the memberwise initialiser.
public struct Webhook: Hashable, Sendable, Codable {
    public var name: String
    public var serviceUri: Template
    /// In declaration order; names are unique case-insensitively after validation.
    public var customHeaders: [Header] = []
    public var actions: [WebhookAction]
    public var status: WebhookStatus = .enabled
    /// `""` means every repository.
    public var scope: String = ""
    /// Azure only: the replica region; nil means the registry's.
    public var location: String? = nil
    /// Kept in the spec only, never sent to a registry.
    public var description: String? = nil
    /// Local registries only: Standard Webhooks secrets (`whsec_…`) that sign every delivery, several
    /// during a rotation. Secrets, like header values.
    public var signingSecrets: [Template] = []
    /// Local registries only: nil means ACR's JSON.
    public var payloadFormat: PayloadFormat? = nil
    /// Whether `signingSecret` was written as a list (pointers then carry an index).
    public var signingSecretIsList = false
}

extension Webhook {
    /// Every value of the webhook that may hold `${env:…}` references, in document order: the places a
    /// new templated property must be added to (resolution, environment checks, validate's listing).
    public var templates: [Template] { [serviceUri] + customHeaders.map(\.value) + signingSecrets }

    /// Where the `index`th signing secret sits: the property itself when it holds one string.
    func signingSecretPointer(_ webhook: JSONPointer, _ index: Int) -> JSONPointer {
        signingSecretIsList ? webhook.appending("signingSecret").appending(index) : webhook.appending("signingSecret")
    }
}

/// A custom HTTP header sent with every delivery. Values are secrets.
public struct Header: Hashable, Sendable, Codable {
    public var name: String
    public var value: Template

    public init(name: String, value: Template) {
        self.name = name
        self.value = value
    }
}

/// The registry events a webhook fires on.
public enum WebhookAction: String, Hashable, Sendable, Codable, CaseIterable, Comparable {
    case push
    case delete
    case quarantine
    case chartPush = "chart_push"
    case chartDelete = "chart_delete"

    public static func < (lhs: WebhookAction, rhs: WebhookAction) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Whether a webhook fires.
public enum WebhookStatus: String, Hashable, Sendable, Codable, CaseIterable {
    case enabled
    case disabled
}

import Foundation
import HookSpec

/// An Azure Container Registry's webhooks over the ARM REST API (api-version 2025-11-01).
///
/// Observing costs one registry GET, one GET per page of webhooks and one `getCallbackConfig` per
/// webhook: `serviceUri` and `customHeaders` are secrets that GET and LIST never return.
public final class AzureProvider: WebhookProvider, @unchecked Sendable {
    /// The most webhooks each tier allows.
    public static let tierLimits = ["basic": 2, "standard": 10, "premium": 500]

    private let client: ARMClient
    private let base: String
    public let displayName: String
    private let resourceID: String
    private let lock = NSLock()
    private var facts = RegistryFacts()

    public init(client: ARMClient, subscriptionId: String, resourceGroup: String, registry: String) {
        self.client = client
        let path = "/subscriptions/\(AzureProvider.escape(subscriptionId))/resourceGroups/\(AzureProvider.escape(resourceGroup))/providers/Microsoft.ContainerRegistry/registries/\(AzureProvider.escape(registry))"
        self.base = path
        self.resourceID = "/subscriptions/\(subscriptionId)/resourceGroups/\(resourceGroup)/providers/Microsoft.ContainerRegistry/registries/\(registry)"
        self.displayName = "azure: \(registry) in \(resourceGroup)"
    }

    static func escape(_ component: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~()")
        return component.addingPercentEncoding(withAllowedCharacters: allowed) ?? component
    }

    /// ARM calls and retries so far, for `--verbose`.
    public var statistics: (calls: Int, retries: Int) { client.statistics }

    private func webhookPath(_ name: String) -> String { "\(base)/webhooks/\(AzureProvider.escape(name))" }

    // MARK: - Observe

    public func observe() async throws -> ObservedRegistry {
        // The registry and the first page of its webhooks are independent: fetch them at the same time.
        let first = FirstCalls()
        let client = self.client
        let base = self.base
        let resourceID = self.resourceID
        await concurrentForEach(2) { index in
            do {
                if index == 0 {
                    first.registry = try await client.send("GET", base, what: "reading registry \(resourceID)")
                } else {
                    first.page = try await client.send("GET", "\(base)/webhooks", what: "listing webhooks of \(resourceID)")
                }
            } catch {
                first.error = ProviderError.from(error)
            }
        }
        if let error = first.error { throw error }
        guard let registry = first.registry, let firstPage = first.page else {
            throw ProviderError(.fatal, code: "internal", "observing \(resourceID) produced no answer")
        }
        guard registry.status == 200, let body = registry.json() else {
            let hint = registry.status == 404 ? "no registry at \(resourceID); check subscriptionId, resourceGroup and registry" : nil
            throw ARMClient.error(registry, what: "reading the registry", hint: hint)
        }
        let location = body["location"] as? String
        let sku = ((body["sku"] as? [String: Any])?["name"] as? String) ?? ""
        if sku.lowercased() == "classic" {
            throw ProviderError(.fatal, code: "ClassicRegistry", "registry \(resourceID) is a Classic registry, which has no managed webhooks; upgrade it to Basic, Standard or Premium")
        }
        let found = RegistryFacts(maxWebhooks: AzureProvider.tierLimits[sku.lowercased()], tier: sku.isEmpty ? nil : sku, location: location)
        lock.withLock { facts = found }

        var items: [[String: Any]] = []
        var page = firstPage
        var pages = 1
        while true {
            guard page.status == 200, let json = page.json() else { throw ARMClient.error(page, what: "listing webhooks") }
            items += (json["value"] as? [[String: Any]]) ?? []
            guard let link = (json["nextLink"] as? String).flatMap({ $0.isEmpty ? nil : $0 }) else { break }
            pages += 1
            if pages > 10_000 { throw ProviderError(.fatal, code: "paging", "listing webhooks did not end") }
            page = try await client.send("GET", link, what: "listing webhooks of \(resourceID)")
        }

        // Secrets come only from getCallbackConfig, one call per webhook, concurrently within the shared budget.
        let configs = CallbackConfigs(count: items.count)
        let paths = items.map { webhookPath(($0["name"] as? String) ?? "") + "/getCallbackConfig" }
        await concurrentForEach(items.count) { index in
            do {
                let response = try await client.send("POST", paths[index], what: "reading the callback config of a webhook")
                guard response.status == 200, let json = response.json() else {
                    configs.fail(index, ARMClient.error(response, what: "reading a webhook's callback config"))
                    return
                }
                configs.set(index, uri: json["serviceUri"] as? String ?? "", headers: json["customHeaders"] as? [String: String] ?? [:])
            } catch {
                configs.fail(index, ProviderError.from(error))
            }
        }
        if let error = configs.firstError { throw error }
        let webhooks = items.indices.map { index in
            let config = configs.value(index)
            return AzureProvider.webhookState(items[index], serviceUri: config.uri, customHeaders: config.headers)
        }
        return ObservedRegistry(webhooks: webhooks, facts: found)
    }

    /// A webhook from a LIST item (which has no secrets) and its callback config (which has them).
    public static func webhookState(_ item: [String: Any], serviceUri: String, customHeaders: [String: String]) -> WebhookState {
        let properties = item["properties"] as? [String: Any] ?? [:]
        return WebhookState(
            name: item["name"] as? String ?? "",
            serviceUri: serviceUri,
            customHeaders: customHeaders.sorted { $0.key < $1.key }.map { ResolvedHeader(name: $0.key, value: $0.value) },
            actions: ((properties["actions"] as? [String]) ?? []).compactMap(WebhookAction.init(rawValue:)),
            status: WebhookStatus(rawValue: (properties["status"] as? String ?? "enabled").lowercased()) ?? .enabled,
            scope: properties["scope"] as? String ?? "",
            location: item["location"] as? String,
            tags: item["tags"] as? [String: String] ?? [:])
    }

    // MARK: - Changes

    static func properties(_ webhook: WebhookState, fields: Set<WebhookField>?) -> [String: Any] {
        var properties: [String: Any] = [:]
        if fields?.contains(.serviceUri) ?? true { properties["serviceUri"] = webhook.serviceUri }
        if fields?.contains(.customHeaders) ?? true {
            properties["customHeaders"] = Dictionary(webhook.customHeaders.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
        }
        if fields?.contains(.actions) ?? true { properties["actions"] = webhook.normalisedActions.map(\.rawValue) }
        if fields?.contains(.status) ?? true { properties["status"] = webhook.status.rawValue }
        if fields?.contains(.scope) ?? true { properties["scope"] = webhook.scope }
        return properties
    }

    /// The PUT body of a create: location, tags and every property.
    public func createBody(_ webhook: WebhookState) -> [String: Any] {
        let location = webhook.location ?? lock.withLock { facts.location } ?? ""
        return ["location": location, "tags": webhook.tags, "properties": AzureProvider.properties(webhook, fields: nil)]
    }

    /// The PATCH body of an update: the tags and only the changed properties.
    public static func updateBody(_ webhook: WebhookState, changedFields: Set<WebhookField>) -> [String: Any] {
        ["tags": webhook.tags, "properties": properties(webhook, fields: changedFields)]
    }

    public func create(_ webhook: WebhookState) async throws {
        let what = "creating webhook '\(webhook.name)' in \(displayName)"
        let response = try await client.send("PUT", webhookPath(webhook.name), body: createBody(webhook), what: what)
        switch response.status {
        case 200: return
        case 201: try await client.waitForOperation(response, what: what)
        default: throw failure(response, what: what)
        }
    }

    public func update(_ webhook: WebhookState, changedFields: Set<WebhookField>) async throws {
        let what = "updating webhook '\(webhook.name)' in \(displayName)"
        let response = try await client.send("PATCH", webhookPath(webhook.name), body: AzureProvider.updateBody(webhook, changedFields: changedFields), what: what)
        switch response.status {
        case 200: return
        case 201, 202: try await client.waitForOperation(response, what: what)
        default: throw failure(response, what: what)
        }
    }

    public func delete(name: String) async throws {
        let what = "deleting webhook '\(name)' in \(displayName)"
        let response = try await client.send("DELETE", webhookPath(name), what: what)
        switch response.status {
        case 200, 204, 404: return  // 204 and 404: already gone, which is what was asked
        case 202: try await client.waitForOperation(response, what: what)
        default: throw failure(response, what: what)
        }
    }

    private func failure(_ response: ARMResponse, what: String) -> ProviderError {
        let code = ((response.json()?["error"] as? [String: Any])?["code"] as? String) ?? ""
        let tier = lock.withLock { facts.tier }
        switch code {
        case "QuotaExceeded":
            let limit = tier.flatMap { AzureProvider.tierLimits[$0.lowercased()] }.map { " allows \($0) webhooks" } ?? ""
            return ARMClient.error(response, what: what, hint: "the registry's \(tier ?? "current") tier\(limit); delete webhooks or upgrade the SKU")
        case "RegistryResourceNotFound":
            return ARMClient.error(response, what: what, hint: "a webhook's location must be the registry's own region or one of its replicas")
        default:
            return ARMClient.error(response, what: what, hint: response.status == 404 ? "not found: \(resourceID)" : nil)
        }
    }

    // MARK: - Ping and events

    public func ping(name: String) async throws -> DeliveryRecord {
        let what = "pinging webhook '\(name)' in \(displayName)"
        let response = try await client.send("POST", webhookPath(name) + "/ping", what: what)
        guard response.status == 200, let id = response.json()?["id"] as? String else { throw failure(response, what: what) }
        // The registry logs the delivery asynchronously: look for it for a little while.
        for attempt in 0..<10 {
            if let record = try await events(name: name, limit: 50).first(where: { $0.id == id }) { return record }
            try? await Task.sleep(nanoseconds: UInt64(min(2.0, 0.2 * Double(attempt + 1)) * 1_000_000_000))
        }
        throw ProviderError(.fatal, code: "PingNotLogged", "\(what): the registry accepted ping \(id) but has not logged its delivery yet; run 'hookapply events \(name)' in a moment")
    }

    public func events(name: String, limit: Int) async throws -> [DeliveryRecord] {
        var records: [DeliveryRecord] = []
        var next: String? = webhookPath(name) + "/listEvents"
        var method = "POST"
        while let link = next, records.count < limit {
            let page = try await client.send(method, link, what: "listing events of webhook '\(name)'")
            guard page.status == 200, let json = page.json() else { throw failure(page, what: "listing events of webhook '\(name)'") }
            for event in (json["value"] as? [[String: Any]]) ?? [] { records.append(AzureProvider.record(event, webhook: name)) }
            next = (json["nextLink"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            method = "GET"  // ARM pages onward with GET, even for POST list operations
        }
        return Array(records.prefix(limit))
    }

    /// An ARM event as a delivery record, with header values masked (they are the webhook's secrets)
    /// except the few that never are.
    static func record(_ event: [String: Any], webhook: String) -> DeliveryRecord {
        let request = event["eventRequestMessage"] as? [String: Any] ?? [:]
        let response = event["eventResponseMessage"] as? [String: Any]
        let content = request["content"] as? [String: Any] ?? [:]
        let visible: Set<String> = ["content-type", "content-length", "user-agent", "date"]
        func mask(_ headers: Any?) -> [String: String] {
            var result: [String: String] = [:]
            for (key, value) in (headers as? [String: String]) ?? [:] {
                result[key] = visible.contains(key.lowercased()) ? value : Redaction.sensitiveValue
            }
            return result
        }
        let body = (try? JSONSerialization.data(withJSONObject: content, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let recordRequest = DeliveryRecord.Request(method: request["method"] as? String ?? "POST",
                                                   uri: Redaction.maskURI(request["requestUri"] as? String ?? ""),
                                                   headers: mask(request["headers"]), body: body)
        var recordResponse: DeliveryRecord.Response? = nil
        if let response, let status = Int((response["statusCode"] as? String) ?? "") {
            let text = response["content"] as? String ?? ""
            recordResponse = DeliveryRecord.Response(status: status, headers: mask(response["headers"]),
                                                     body: String(text.prefix(WebhookDelivery.maxLoggedBody)), bodyTruncated: text.count > WebhookDelivery.maxLoggedBody)
        }
        return DeliveryRecord(id: event["id"] as? String ?? "", webhook: webhook, action: content["action"] as? String ?? "",
                              timestamp: content["timestamp"] as? String ?? "", request: recordRequest, response: recordResponse,
                              error: recordResponse == nil ? (response?["reasonPhrase"] as? String ?? "no response recorded") : nil,
                              durationMilliseconds: 0)
    }
}

/// Callback configs read concurrently (a concrete locked container: see concurrentForEach).
final class CallbackConfigs: @unchecked Sendable {
    private let lock = NSLock()
    private var uris: [String]
    private var headers: [[String: String]]
    private var errors: [ProviderError] = []

    init(count: Int) {
        uris = Array(repeating: "", count: count)
        headers = Array(repeating: [:], count: count)
    }

    func set(_ index: Int, uri: String, headers value: [String: String]) {
        lock.withLock {
            uris[index] = uri
            headers[index] = value
        }
    }

    func fail(_ index: Int, _ error: ProviderError) { lock.withLock { errors.append(error) } }

    var firstError: ProviderError? { lock.withLock { errors.first } }

    func value(_ index: Int) -> (uri: String, headers: [String: String]) { lock.withLock { (uris[index], headers[index]) } }
}

/// The two first calls of an observation, made at once (a concrete locked container: see concurrentForEach).
final class FirstCalls: @unchecked Sendable {
    private let lock = NSLock()
    private var storedRegistry: ARMResponse?
    private var storedPage: ARMResponse?
    private var storedError: ProviderError?

    var registry: ARMResponse? {
        get { lock.withLock { storedRegistry } }
        set { lock.withLock { storedRegistry = newValue } }
    }

    var page: ARMResponse? {
        get { lock.withLock { storedPage } }
        set { lock.withLock { storedPage = newValue } }
    }

    var error: ProviderError? {
        get { lock.withLock { storedError } }
        set { lock.withLock { if storedError == nil { storedError = newValue } } }
    }
}

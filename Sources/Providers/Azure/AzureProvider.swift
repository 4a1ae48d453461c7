import Foundation
import HookKit
import HookSpec
import Reconciler

/// An Azure Container Registry's webhooks over the ARM REST API (api-version 2025-11-01).
///
/// Observing costs one registry GET, one GET of its replications (the regions a webhook may be in), one
/// GET per page of webhooks and one `getCallbackConfig` per webhook: `serviceUri` and `customHeaders` are
/// secrets that GET and LIST never return. Webhooks still `Creating`, `Updating` or `Deleting` are waited
/// for (``settleAttempts``) before the observation is returned.
///
/// With an ``ObservationCache``, a webhook whose ARM id and `systemData.lastModifiedAt` are those the cache
/// recorded is not read: it comes back sealed (``SealedSecrets``), and the planner asks for the few it
/// needs (``hydrate(_:names:)``). A warm plan without drift makes no `getCallbackConfig` call at all.
public final class AzureProvider: PingWaiting, WebhookProvider, CallCounting, DeliveryOutcomeReading, SecretHydrating, ObservationRefreshing, AccessChecking, Sendable {
    /// The most webhooks each tier allows.
    public static let tierLimits = ["basic": 2, "standard": 10, "premium": 500]

    private let client: ARMClient
    private let base: String
    public let displayName: String
    private let resourceID: String
    /// What the last observation learnt (region, tier), for create bodies and quota messages.
    private let facts = Locked(RegistryFacts())
    private let cacheDirectory: String?
    private let cacheKeys: CacheKeyStore?
    /// The cache's entries as last loaded or written (nil: not loaded yet).
    private let entries = Locked<[String: ObservationCache.Entry]?>(nil)
    /// Set by ``refreshFully()``: the next observation reads every webhook's secrets.
    private let fullRefresh = Locked(false)

    /// - Parameters:
    ///   - cacheDirectory: where the observation cache lives; nil reads every webhook's secrets.
    ///   - cacheKeys: the key the cache is sealed with (one per run, shared by its registries).
    public init(client: ARMClient, subscriptionId: String, resourceGroup: String, registry: String, cacheDirectory: String? = nil,
                cacheKeys: CacheKeyStore? = nil) {
        self.client = client
        let path = "/subscriptions/\(AzureProvider.escape(subscriptionId))/resourceGroups/\(AzureProvider.escape(resourceGroup))/providers/Microsoft.ContainerRegistry/registries/\(AzureProvider.escape(registry))"
        self.base = path
        self.resourceID = "/subscriptions/\(subscriptionId)/resourceGroups/\(resourceGroup)/providers/Microsoft.ContainerRegistry/registries/\(registry)"
        self.displayName = "azure: \(registry) in \(resourceGroup)"
        self.cacheDirectory = cacheDirectory
        self.cacheKeys = cacheDirectory == nil ? nil : cacheKeys ?? CacheKeyStore(environment: [:])
    }

    /// The observation cache, when one is used: made on first use, when the key is found.
    private var cache: ObservationCache? {
        guard let cacheDirectory, let cacheKeys else { return nil }
        return ObservationCache(directory: cacheDirectory, resourceID: resourceID, key: cacheKeys.key)
    }

    /// Where this registry's observation cache is, when one is used.
    public var cachePath: String? { cache?.path }

    /// The next observation reads every webhook's secrets and rewrites the cache (`reconcile` does this
    /// at least hourly: a change that did not move `lastModifiedAt` is then seen too).
    public func refreshFully() { fullRefresh.set(true) }

    static func escape(_ component: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~()")
        return component.addingPercentEncoding(withAllowedCharacters: allowed) ?? component
    }

    /// ARM calls and retries so far, for `--verbose`.
    public var callStatistics: CallStatistics { client.statistics }

    private func webhookPath(_ name: String) -> String { "\(base)/webhooks/\(AzureProvider.escape(name))" }

    // MARK: - Observe

    /// How many times observing waits for webhooks whose operation is still running (`Creating`,
    /// `Updating`, `Deleting`) before reporting them as in progress, which the planner refuses.
    public static let settleAttempts = 10

    /// Who this provider signs in as: the credential's way, and the token's claims when it is a JWT.
    public func identity() async throws -> CredentialIdentity {
        let token = try await client.signIn()
        guard let claims = TokenClaims(token: token.token) else { return CredentialIdentity(source: token.source, isJWT: false) }
        return CredentialIdentity(source: token.source, isJWT: true, tenantId: claims.tenantId, clientId: claims.clientId, objectId: claims.objectId)
    }

    /// What `hookapply auth` asks: can this identity read the registry and list its webhooks? Returns how
    /// many webhooks the first page lists; throws the ARM error (401, 403, 404) as a ProviderError.
    public func checkAccess() async throws -> Int {
        let registry = try await client.send("GET", base, what: "reading registry \(resourceID)")
        guard registry.status == 200 else { throw ARMClient.error(registry, what: "reading the registry") }
        let page = try await client.send("GET", base + "/webhooks", what: "listing webhooks of \(resourceID)")
        guard page.status == 200, let list = page.decode(ARMWire.WebhookPage.self) else { throw ARMClient.error(page, what: "listing webhooks") }
        return list.value?.count ?? 0
    }

    public func observe() async throws -> ObservedRegistry {
        var attempt = 1
        while true {
            let observed = try await observeOnce()
            // A webhook another tool is changing right now is not settled: wait a little for it rather than
            // plan against fields that are about to change (or PATCH a webhook that is being deleted).
            guard observed.provisioning.values.contains(where: \.isInProgress), attempt < AzureProvider.settleAttempts else { return observed }
            await client.pause(client.defaultPollInterval)
            attempt += 1
        }
    }

    private func observeOnce() async throws -> ObservedRegistry {
        // The registry, the first page of its webhooks and its replications are independent: fetch them at the same time.
        let registryAnswer = Locked<ARMResponse?>(nil)
        let pageAnswer = Locked<ARMResponse?>(nil)
        let replicationAnswer = Locked<ARMResponse?>(nil)
        let firstError = Locked<ProviderError?>(nil)
        let client = self.client
        let base = self.base
        let resourceID = self.resourceID
        await concurrentForEach(3) { index in
            do {
                switch index {
                case 0: registryAnswer.set(try await client.send("GET", base, what: "reading registry \(resourceID)"))
                case 1: pageAnswer.set(try await client.send("GET", "\(base)/webhooks", what: "listing webhooks of \(resourceID)"))
                default: replicationAnswer.set(try await client.send("GET", "\(base)/replications", what: "listing replications of \(resourceID)"))
                }
            } catch {
                firstError.withLock { if $0 == nil { $0 = ProviderError.from(error) } }
            }
        }
        if let error = firstError.value { throw error }
        guard let registry = registryAnswer.value, let firstPage = pageAnswer.value, let replications = replicationAnswer.value else {
            throw ProviderError.fatal(.internal, "observing \(resourceID) produced no answer")
        }
        guard registry.status == 200, let body = registry.decode(ARMWire.Registry.self) else {
            let hint = registry.status == 404 ? "no registry at \(resourceID); check subscriptionId, resourceGroup and registry" : nil
            throw ARMClient.error(registry, what: "reading the registry", hint: hint)
        }
        let sku = body.sku?.name ?? ""
        if sku.lowercased() == "classic" {
            throw ProviderError.fatal(.classicRegistry, "registry \(resourceID) is a Classic registry, which has no managed webhooks; upgrade it to Basic, Standard or Premium")
        }
        let regions = try await locations(home: body.location, firstPage: replications, isPremium: sku.lowercased() == "premium")
        let found = RegistryFacts(maxWebhooks: AzureProvider.tierLimits[sku.lowercased()], tier: sku.isEmpty ? nil : sku,
                                  location: body.location, locations: regions)
        facts.set(found)

        var items: [ARMWire.Webhook] = []
        var page = firstPage
        var pages = 1
        while true {
            guard page.status == 200, let list = page.decode(ARMWire.WebhookPage.self) else { throw ARMClient.error(page, what: "listing webhooks") }
            items += list.value ?? []
            guard let link = list.nextLink.flatMap({ $0.isEmpty ? nil : $0 }) else { break }
            pages += 1
            if pages > 10_000 { throw ProviderError.fatal(.paging, "listing webhooks did not end") }
            page = try await client.send("GET", link, what: "listing webhooks of \(resourceID)")
        }

        // Secrets come only from getCallbackConfig: one call per webhook, concurrently within the shared
        // budget, except for webhooks the cache knows unchanged (same id, same lastModifiedAt).
        var notes: [String] = []
        var known: [String: ObservationCache.Entry] = [:]
        let cache = self.cache
        let full = fullRefresh.withLock { value -> Bool in
            defer { value = false }
            return value
        }
        if cache != nil, let note = cacheKeys?.takeNote() { notes.append(note) }
        if let cache, !full {
            if let loaded = entries.value {
                known = loaded
            } else {
                let (loaded, note) = cache.load()
                known = loaded
                if let note { notes.append(note) }
            }
        }
        var seen: [String: (id: String, modified: String)] = [:]
        var sealed: [String: SealedSecrets] = [:]
        var toRead: [Int] = []
        for (index, item) in items.enumerated() {
            let key = (item.name ?? "").lowercased()
            guard cache != nil, let id = item.id, let modified = item.systemData?.lastModifiedAt, !modified.isEmpty else {
                toRead.append(index)
                continue
            }
            seen[key] = (id, modified)
            if let entry = known[key], entry.id.lowercased() == id.lowercased(), entry.lastModifiedAt == modified {
                sealed[key] = entry.secrets
            } else {
                toRead.append(index)
            }
        }
        let read = try await readSecrets(toRead.map { items[$0].name ?? "" })
        let webhooks = items.map { item -> WebhookState in
            let key = (item.name ?? "").lowercased()
            if let secrets = read[key] { return AzureProvider.webhookState(item, serviceUri: secrets.serviceUri, customHeaders: secrets.headers) }
            // Sealed: the header names are known, the values are not (see SealedSecrets). The names come
            // from a file on disk, so one spelling listed twice is taken once rather than trapping.
            let names = sealed[key].map { Dictionary($0.headerNames.values.map { ($0, "") }, uniquingKeysWith: { first, _ in first }) } ?? [:]
            return AzureProvider.webhookState(item, serviceUri: "", customHeaders: names)
        }
        var provisioning: [String: ProvisioningState] = [:]
        for item in items {
            if let state = ProvisioningState(service: item.properties?.provisioningState) { provisioning[(item.name ?? "").lowercased()] = state }
        }
        if cache != nil {
            // The cache now holds exactly what was listed with a lastModifiedAt: kept entries and fresh reads.
            var fresh: [String: ObservationCache.Entry] = [:]
            for webhook in webhooks {
                let key = webhook.name.lowercased()
                guard let (id, modified) = seen[key] else { continue }
                if let secrets = sealed[key] {
                    fresh[key] = ObservationCache.Entry(id: id, lastModifiedAt: modified, secrets: secrets)
                } else if read[key] != nil {
                    fresh[key] = ObservationCache.Entry(id: id, lastModifiedAt: modified, secrets: SealedSecrets(of: webhook, sealer: cache?.key.hmac ?? HMAC(key: [])))
                }
            }
            if let note = store(fresh, previous: known) { notes.append(note) }
        }
        return ObservedRegistry(webhooks: webhooks, facts: found, provisioning: provisioning, sealed: sealed, notes: notes, sealer: cache?.key.hmac)
    }

    /// Writes the cache when its entries changed from what it held (a warm plan without drift writes nothing).
    private func store(_ fresh: [String: ObservationCache.Entry], previous: [String: ObservationCache.Entry]) -> String? {
        entries.set(fresh)
        guard fresh != previous, let cache = self.cache else { return nil }
        return cache.save(fresh)
    }

    /// Reads the secrets of `names` with getCallbackConfig, concurrently within the shared budget.
    private func readSecrets(_ names: [String]) async throws -> [String: (serviceUri: String, headers: [String: String])] {
        let found = Locked<[String: (serviceUri: String, headers: [String: String])]>([:])
        let configError = Locked<ProviderError?>(nil)
        let client = self.client
        let paths = names.map { webhookPath($0) + "/getCallbackConfig" }
        await concurrentForEach(names.count) { index in
            do {
                let response = try await client.send("POST", paths[index], what: "reading the callback config of a webhook")
                guard response.status == 200, let config = response.decode(ARMWire.CallbackConfig.self) else {
                    let error = ARMClient.error(response, what: "reading a webhook's callback config")
                    configError.withLock { if $0 == nil { $0 = error } }
                    return
                }
                found.withLock { $0[names[index].lowercased()] = (config.serviceUri ?? "", config.customHeaders ?? [:]) }
            } catch {
                configError.withLock { if $0 == nil { $0 = ProviderError.from(error) } }
            }
        }
        if let error = configError.value { throw error }
        return found.value
    }

    /// Reads the secrets of sealed webhooks the planner needs (lowercased `names`) and unseals them. The
    /// cache already holds their digests (that is why they were sealed), so it is not written.
    public func hydrate(_ observed: ObservedRegistry, names: Set<String>) async throws -> ObservedRegistry {
        let wanted = observed.webhooks.filter { names.contains($0.name.lowercased()) && observed.sealed[$0.name.lowercased()] != nil }
        let read = try await readSecrets(wanted.map(\.name))
        var result = observed
        for index in result.webhooks.indices {
            let key = result.webhooks[index].name.lowercased()
            guard let secrets = read[key] else { continue }
            result.webhooks[index].serviceUri = secrets.serviceUri
            result.webhooks[index].customHeaders = AzureProvider.resolvedHeaders(secrets.headers)
            result.sealed[key] = nil
        }
        return result
    }

    /// The regions a webhook may be placed in: the registry's own and every replica's (Replications - List),
    /// whether or not the list includes the home region. Only Premium registries replicate; for the others
    /// an answer other than 200 means "no replicas", for Premium it is an error (planning without the list
    /// could let a replacement delete a webhook that cannot be created again).
    func locations(home: String?, firstPage: ARMResponse, isPremium: Bool) async throws -> [String]? {
        guard let home, !home.isEmpty else { return nil }
        var regions = [home]
        func add(_ region: String?) {
            guard let region, !region.isEmpty,
                !regions.contains(where: { Planner.normaliseLocation($0) == Planner.normaliseLocation(region) }) else { return }
            regions.append(region)
        }
        var page = firstPage
        var pages = 1
        while true {
            guard page.status == 200, let list = page.decode(ARMWire.ReplicationPage.self) else {
                if !isPremium { return regions }
                throw ARMClient.error(page, what: "listing the registry's replications (needed to check webhook locations)")
            }
            for replication in list.value ?? [] { add(replication.location) }
            guard let link = list.nextLink.flatMap({ $0.isEmpty ? nil : $0 }) else { break }
            pages += 1
            if pages > 1_000 { throw ProviderError.fatal(.paging, "listing replications did not end") }
            page = try await client.send("GET", link, what: "listing replications of \(resourceID)")
        }
        return regions
    }

    /// A webhook from a LIST item (which has no secrets) and its callback config (which has them).
    /// ARM's header map as the model's list, in name order: one rule for observed and hydrated webhooks,
    /// so that both plan alike.
    static func resolvedHeaders(_ headers: [String: String]) -> [ResolvedHeader] {
        headers.sorted { $0.key < $1.key }.map { ResolvedHeader(name: $0.key, value: $0.value) }
    }

    static func webhookState(_ item: ARMWire.Webhook, serviceUri: String, customHeaders: [String: String]) -> WebhookState {
        WebhookState(
            name: item.name ?? "",
            serviceUri: serviceUri,
            customHeaders: resolvedHeaders(customHeaders),
            actions: (item.properties?.actions ?? []).compactMap(WebhookAction.init(rawValue:)),
            status: WebhookStatus(rawValue: (item.properties?.status ?? "enabled").lowercased()) ?? .enabled,
            scope: item.properties?.scope ?? "",
            location: item.location,
            tags: item.tags ?? [:])
    }

    // MARK: - Changes

    static func properties(_ webhook: WebhookState, fields: Set<WebhookField>?) -> ARMWire.WebhookProperties {
        // A webhook whose last operation failed is sent again in full: which part failed is unknown.
        let fields = fields?.contains(.provisioningState) == true ? nil : fields
        func wanted(_ field: WebhookField) -> Bool { fields?.contains(field) ?? true }
        return ARMWire.WebhookProperties(
            serviceUri: wanted(.serviceUri) ? webhook.serviceUri : nil,
            customHeaders: wanted(.customHeaders)
                ? Dictionary(webhook.customHeaders.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last }) : nil,
            actions: wanted(.actions) ? webhook.normalisedActions.map(\.rawValue) : nil,
            status: wanted(.status) ? webhook.status.rawValue : nil,
            scope: wanted(.scope) ? webhook.scope : nil)
    }

    /// The PUT body of a create: location, tags and every property.
    func createBody(_ webhook: WebhookState) -> ARMWire.CreateBody {
        ARMWire.CreateBody(location: webhook.location ?? facts.value.location ?? "", tags: webhook.tags,
                           properties: AzureProvider.properties(webhook, fields: nil))
    }

    /// The PATCH body of an update: the tags and only the changed properties.
    static func updateBody(_ webhook: WebhookState, changedFields: Set<WebhookField>) -> ARMWire.UpdateBody {
        ARMWire.UpdateBody(tags: webhook.tags, properties: properties(webhook, fields: changedFields))
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
        let code = response.decode(ARMWire.ErrorBody.self)?.error?.code ?? ""
        let tier = facts.value.tier
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
        try await ping(name: name, waitingUpTo: 11)
    }

    /// ARM's ping, then listEvents until the ping's event appears, for up to `seconds`.
    public func ping(name: String, waitingUpTo seconds: Double) async throws -> DeliveryRecord {
        let what = "pinging webhook '\(name)' in \(displayName)"
        let response = try await client.send("POST", webhookPath(name) + "/ping", what: what)
        guard response.status == 200, let id = response.decode(ARMWire.PingAnswer.self)?.id else { throw failure(response, what: what) }
        let scrubber = try await secretScrubber(name)
        // The registry logs the delivery asynchronously: look for it, more slowly as time goes on.
        let deadline = DispatchTime.now().uptimeNanoseconds + Seconds.nanoseconds(seconds)
        var attempt = 0
        while true {
            if let record = try await events(name: name, limit: 50, scrubber: scrubber).first(where: { $0.id == id }) { return record }
            attempt += 1
            let pause = Seconds.nanoseconds(min(2.0, 0.2 * Double(attempt)))
            guard DispatchTime.now().uptimeNanoseconds + pause < deadline else { break }
            try? await Task.sleep(nanoseconds: pause)
        }
        throw ProviderError.fatal(.pingNotLogged, "\(what): the registry accepted ping \(id) but has not logged its delivery within \(Seconds.describe(seconds)); run 'hookapply events \(name)' in a moment")
    }

    public func events(name: String, limit: Int) async throws -> [DeliveryRecord] {
        try await events(name: name, limit: limit, scrubber: try await secretScrubber(name))
    }

    /// What hides the webhook's secrets in its delivery log. The log holds what the receiver answered,
    /// and a receiver may echo the request (its Authorization header, the URI's key) back: the secrets
    /// are read with getCallbackConfig (GET never returns them) so that every echo of them is replaced.
    func secretScrubber(_ name: String) async throws -> SecretScrubber {
        let what = "reading the callback config of webhook '\(name)' (to hide its secrets in the delivery log)"
        let response = try await client.send("POST", webhookPath(name) + "/getCallbackConfig", what: what)
        guard response.status == 200, let config = response.decode(ARMWire.CallbackConfig.self) else { throw failure(response, what: what) }
        let webhook = AzureProvider.webhookState(ARMWire.Webhook(name: name), serviceUri: config.serviceUri ?? "",
                                                 customHeaders: config.customHeaders ?? [:])
        return SecretScrubber(webhook: webhook)
    }

    /// One listEvents page and no callback config: nothing secret is read, and nothing secret is kept.
    public func deliveryOutcomes(name: String, limit: Int) async throws -> [DeliveryRecord] {
        try await events(name: name, limit: limit, scrubber: SecretScrubber(secrets: []), pages: 1).map(\.outcomeOnly)
    }

    func events(name: String, limit: Int, scrubber: SecretScrubber, pages: Int = Int.max) async throws -> [DeliveryRecord] {
        var records: [DeliveryRecord] = []
        var pagesLeft = pages
        var next: String? = webhookPath(name) + "/listEvents"
        var method = "POST"
        while let link = next, records.count < limit, pagesLeft > 0 {
            pagesLeft -= 1
            let page = try await client.send(method, link, what: "listing events of webhook '\(name)'")
            guard page.status == 200, let list = page.decode(ARMWire.EventPage.self) else {
                throw failure(page, what: "listing events of webhook '\(name)'")
            }
            for event in list.value ?? [] { records.append(AzureProvider.record(event, webhook: name, scrubber: scrubber)) }
            next = list.nextLink.flatMap { $0.isEmpty ? nil : $0 }
            method = "GET"  // ARM pages onward with GET, even for POST list operations
        }
        return Array(records.prefix(limit))
    }

    /// An ARM event as a delivery record, with header values masked (they are the webhook's secrets)
    /// except the few that never are.
    static func record(_ event: ARMWire.Event, webhook: String, scrubber: SecretScrubber) -> DeliveryRecord {
        let request = event.eventRequestMessage
        let response = event.eventResponseMessage
        let content = request?.content
        let visible: Set<String> = ["content-type", "content-length", "user-agent", "date"]
        func mask(_ headers: [String: String]?) -> [String: String] {
            var result: [String: String] = [:]
            for (key, value) in headers ?? [:] {
                result[key] = visible.contains(key.lowercased()) ? scrubber.scrub(value) : Redaction.sensitiveValue
            }
            return result
        }
        let body = content.flatMap { document -> String? in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return (try? encoder.encode(document)).map { String(decoding: $0, as: UTF8.self) }
        } ?? ""
        let recordRequest = DeliveryRecord.Request(method: request?.method ?? "POST", uri: Redaction.maskURI(request?.requestUri ?? ""),
                                                   headers: mask(request?.headers), body: scrubber.scrub(body))
        var recordResponse: DeliveryRecord.Response? = nil
        if let response, let status = Int(response.statusCode ?? "") {
            // Scrubbed whole, then cut: a secret crossing the limit must not leave its first half behind.
            let kept = scrubber.scrub(response.content ?? "", keepingBytes: DeliveryRecord.maxResponseBody)
            recordResponse = DeliveryRecord.Response(status: status, headers: mask(response.headers), body: kept.text, bodyTruncated: kept.truncated)
        }
        return DeliveryRecord(id: scrubber.scrub(event.id ?? ""), webhook: webhook, action: scrubber.scrub(content?["action"] ?? ""),
                              timestamp: scrubber.scrub(content?["timestamp"] ?? ""), request: recordRequest, response: recordResponse,
                              error: recordResponse == nil ? scrubber.scrub(response?.reasonPhrase ?? "no response recorded") : nil,
                              durationMilliseconds: 0)
    }
}

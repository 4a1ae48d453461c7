import Foundation
import HTTP1
import HookSpec

/// An Azure Resource Manager emulator on loopback that behaves as the ACR webhook contract says:
/// secrets hidden on GET/LIST and returned by getCallbackConfig, nextLink paging with small pages,
/// tier quotas, optional long-running 201/202 paths, injected 429s, and request checks (api-version,
/// bearer token, body shape). Also an OAuth token endpoint for client-secret and workload-identity sign-in.
public final class ARMEmulator: @unchecked Sendable {
    public struct Hook: Sendable {
        public var name: String
        public var location: String
        public var tags: [String: String]
        public var status: String
        public var scope: String
        public var actions: [String]
        public var serviceUri: String
        public var customHeaders: [String: String]
        /// Which change this is (ARM's `systemData.lastModifiedAt` is derived from it): every PUT, PATCH
        /// and seed moves it, as ARM moves lastModifiedAt on any change made through it.
        public var modified = 0

        public init(
            name: String, location: String, tags: [String: String], status: String, scope: String, actions: [String], serviceUri: String,
            customHeaders: [String: String]
        ) {
            self.name = name
            self.location = location
            self.tags = tags
            self.status = status
            self.scope = scope
            self.actions = actions
            self.serviceUri = serviceUri
            self.customHeaders = customHeaders
        }
    }

    public struct Registry: Sendable {
        public var location: String
        public var sku: String
        public var replicas: [String] = []
        public var hooks: [String: Hook] = [:]
        /// Delivery events per webhook (lowercased), newest first, as listEvents returns them.
        public var events: [String: [[String: String]]] = [:]
    }

    private let lock = NSLock()
    private var registries: [String: Registry] = [:]  // key: lowercased resource path
    private var pendingOperations: [String: Int] = [:]
    private var provisioning: [String: (state: String, lists: Int)] = [:]
    private var requestCount = 0
    private var log: [String] = []
    private var violations: [String] = []
    private var receiver: LoopbackReceiver?

    /// What the emulator expects in `Authorization: Bearer …`.
    public let token: String
    public var pageSize = 2
    /// Creates and updates answer 201 with Azure-AsyncOperation; deletes answer 202 with Location.
    public var longRunning = false
    /// How many polls an operation reports InProgress before Succeeded.
    public var pollsBeforeDone = 1
    /// Every n-th request is answered 429 with `Retry-After: 0`.
    public var throttleEvery: Int? = nil
    /// The status injected failures get: 429 (throttled) or a 5xx.
    public var throttleStatus = 429
    /// The Retry-After injected failures carry (a hostile registry may ask for years).
    public var throttleRetryAfter = "0"
    /// Overrides the tier's webhook quota (to reach the service's QuotaExceeded past the planner's check).
    public var quotaOverride: Int? = nil
    /// This share of requests (0-100) is answered 429, at random.
    public var throttlePercent = 0
    /// Added to every answer, in seconds (served concurrently).
    public var latency: Double = 0
    /// Added to writes only (PUT, PATCH, DELETE), in seconds: a long-running change without slowing the reads.
    public var writeLatency: Double = 0
    /// Creates of these webhooks (lowercased) are refused with 400.
    public var refuseCreates: Set<String> = []
    /// The next this many creates (PUT) are refused with 400 InvalidRequest (2: a replacement's create and its restore).
    public var failNextCreates = 0
    /// The replications list names the registry's home region too, as the live service does.
    public var replicationsIncludeHome = true
    /// Error messages quote the request (the service URI and every header value), as some ARM errors do.
    public var errorsQuoteRequest = false
    /// How a quoting error re-encodes the request's values (as the service's stack might), each in turn.
    public var errorQuoteEncodings: [EchoEncoding] = [.raw]
    /// Logged deliveries show a receiver that echoed the request: its URI and headers in the response
    /// body, a response header and the reason phrase.
    public var deliveriesEcho = false
    /// Pings are delivered for real to http service URIs (as the service does, some time after
    /// answering the ping): the event is logged once the receiver answered, or with the reason when it
    /// did not within ``pingDeliveryTimeout``.
    public var deliversPings = false
    public var pingDeliveryTimeout: Double = 2
    /// Long-running operations end as Failed.
    public var failOperations = false
    /// The first PUT of each webhook is applied, then answered only after this many seconds (a timeout
    /// whose request went through).
    public var slowFirstPut: Double = 0
    private var slowed: Set<String> = []
    /// The client secret and federated assertion the token endpoint accepts.
    public var clientSecret = "s3cret"
    public var federatedAssertion = "federated-assertion"

    /// Webhooks carry no `systemData` (as Microsoft's examples show them): a client cannot tell whether
    /// one changed, and must read every webhook's secrets.
    public var omitsSystemData = false
    private var modifications = 0

    /// Seeds many webhooks at once (benchmarks).
    public func seed(subscription: String, group: String, name: String, hooks: [Hook]) {
        lock.withLock {
            for var hook in hooks {
                modifications += 1
                hook.modified = modifications
                registries[Self.key(subscription, group, name)]?.hooks[hook.name.lowercased()] = hook
            }
        }
    }

    /// Changes a webhook's service URI *without* moving its lastModifiedAt: what no change through ARM
    /// does, for showing what an observation cache trusts (and that `--refresh=full` sees past it).
    public func tamper(subscription: String, group: String, name: String, webhook: String, serviceUri: String) {
        lock.withLock { registries[Self.key(subscription, group, name)]?.hooks[webhook.lowercased()]?.serviceUri = serviceUri }
    }

    /// `systemData.lastModifiedAt` as listings show it for a change counter.
    static func lastModifiedAt(_ seconds: Int) -> String {
        String(format: "2026-11-30T%02d:%02d:%02d.%07dZ", seconds / 3600 % 24, seconds / 60 % 60, seconds % 60, seconds)
    }

    /// What a listing shows as a webhook's lastModifiedAt now (anyone with read access can learn it).
    public func lastModifiedAt(subscription: String, group: String, name: String, webhook: String) -> String? {
        lock.withLock { registries[Self.key(subscription, group, name)]?.hooks[webhook.lowercased()].map { Self.lastModifiedAt($0.modified) } }
    }

    /// How many getCallbackConfig POSTs were answered (the calls an observation cache saves).
    public var callbackConfigReads: Int { lock.withLock { log.filter { $0.hasPrefix("POST ") && $0.hasSuffix("/getCallbackConfig") }.count } }

    public init(token: String = "test-token") throws {
        self.token = token
        let box = Box()
        let receiver = try LoopbackReceiver(handler: { request in box.emulator?.handle(request) ?? LoopbackReceiver.Response(status: 500) })
        self.receiver = receiver
        box.emulator = self
    }

    private final class Box: @unchecked Sendable {
        weak var emulator: ARMEmulator?
    }

    public var endpoint: String { receiver?.url ?? "" }

    public func stop() { receiver?.stop() }

    /// - Parameter replicas: replica regions as the service spells them ("westeurope", or "West Europe").
    public func addRegistry(
        subscription: String, group: String, name: String, location: String = "westus", sku: String = "Premium", replicas: [String] = []
    ) {
        lock.withLock { registries[Self.key(subscription, group, name)] = Registry(location: location, sku: sku, replicas: replicas) }
    }

    /// Makes a webhook report `state` as its provisioningState for the next `lists` listings, then `Succeeded`.
    public func setProvisioning(_ state: String, webhook: String, lists: Int) {
        lock.withLock { provisioning[webhook.lowercased()] = (state, lists) }
    }

    public func hooks(subscription: String, group: String, name: String) -> [Hook] {
        lock.withLock { Array(registries[Self.key(subscription, group, name)]?.hooks.values ?? [:].values).sorted { $0.name < $1.name } }
    }

    public func seed(subscription: String, group: String, name: String, hook: Hook) {
        lock.withLock {
            modifications += 1
            var hook = hook
            hook.modified = modifications
            registries[Self.key(subscription, group, name)]?.hooks[hook.name.lowercased()] = hook
        }
    }

    /// "METHOD /path" of every request, in order.
    public var requests: [String] { lock.withLock { log } }
    /// Requests that broke the contract (missing api-version, wrong token, bad body).
    public var contractViolations: [String] { lock.withLock { violations } }

    static func key(_ subscription: String, _ group: String, _ name: String) -> String {
        "/subscriptions/\(subscription)/resourcegroups/\(group)/providers/microsoft.containerregistry/registries/\(name)".lowercased()
    }

    private func json(_ status: Int, _ object: Any, headers: [String: String] = [:]) -> LoopbackReceiver.Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        var all = headers
        all["Content-Type"] = "application/json"
        all["x-ms-correlation-request-id"] = "corr-\(requestCount)"
        return LoopbackReceiver.Response(status: status, headers: all, body: Array(data))
    }

    private func armError(_ status: Int, _ code: String, _ message: String) -> LoopbackReceiver.Response {
        json(status, ["error": ["code": code, "message": message]])
    }

    private func handle(_ request: LoopbackReceiver.Request) -> LoopbackReceiver.Response {
        if latency > 0 { usleep(useconds_t(latency * 1_000_000)) }
        if writeLatency > 0, ["PUT", "PATCH", "DELETE"].contains(request.method) { usleep(useconds_t(writeLatency * 1_000_000)) }
        lock.lock()
        defer { lock.unlock() }
        requestCount += 1
        let parts = request.target.split(separator: "?", maxSplits: 1)
        let path = String(parts.first ?? "")
        let query = parts.count > 1 ? String(parts[1]) : ""
        log.append("\(request.method) \(path)")
        if path.hasSuffix("/oauth2/v2.0/token") { return tokenEndpoint(request) }
        if path == "/msi/token" {  // App Service / Functions managed identity
            guard request.headers["x-identity-header"] == "identity-header-secret", query.contains("resource=") else {
                return json(401, ["error": "unauthorized"])
            }
            return json(200, ["access_token": token, "expires_on": String(Int(Date().timeIntervalSince1970) + 3600)])
        }
        if path == "/metadata/identity/oauth2/token" {  // the instance metadata service
            guard request.headers["metadata"] == "true", query.contains("resource=") else { return json(400, ["error": "bad_request"]) }
            return json(200, ["access_token": token, "expires_in": "3600"])
        }
        guard query.contains("api-version=2025-11-01") else {
            violations.append("no api-version: \(request.method) \(path)")
            return armError(400, "MissingApiVersionParameter", "The api-version query parameter is required")
        }
        guard request.headers["authorization"] == "Bearer \(token)" else {
            violations.append("bad token: \(request.method) \(path)")
            return armError(401, "InvalidAuthenticationToken", "The access token is invalid.")
        }
        if request.headers["x-ms-client-request-id"] == nil { violations.append("no client request id: \(path)") }
        if (throttleEvery.map { requestCount % $0 == 0 } ?? false) || Int.random(in: 0..<100) < throttlePercent {
            let code = throttleStatus == 429 ? "TooManyRequests" : "ServiceUnavailable"
            return json(throttleStatus, ["error": ["code": code, "message": "injected failure"]], headers: ["Retry-After": throttleRetryAfter])
        }
        if path.hasPrefix("/operations/") { return operation(path) }
        let lower = path.lowercased()
        guard let registryKey = registries.keys.first(where: { lower == $0 || lower.hasPrefix($0 + "/") }), var registry = registries[registryKey] else {
            return armError(404, "ResourceNotFound", "The Resource '\(path)' was not found.")
        }
        let rest = String(path.dropFirst(registryKey.count))
        let segments = rest.split(separator: "/").map(String.init)
        defer { registries[registryKey] = registry }
        switch (request.method, segments.count) {
        case ("GET", 0):
            return json(200, ["id": path, "name": "registry", "location": registry.location, "sku": ["name": registry.sku, "tier": registry.sku]])
        case ("GET", 1) where segments[0] == "replications":
            guard registry.sku.lowercased() == "premium" else {
                return armError(400, "OperationNotAllowed", "Replications are only supported for managed registries in Premium SKU.")
            }
            var regions = registry.replicas
            if replicationsIncludeHome { regions.insert(registry.location, at: 0) }
            let all = regions.map { region -> [String: Any] in
                ["id": "\(path)/\(region)", "name": region, "type": "Microsoft.ContainerRegistry/registries/replications", "location": region,
                 "properties": ["provisioningState": "Succeeded"]]
            }
            let skip = Int(query.split(separator: "&").first { $0.hasPrefix("$skiptoken=") }?.dropFirst(11) ?? "0") ?? 0
            var body: [String: Any] = ["value": Array(all.dropFirst(skip).prefix(pageSize))]
            if skip + pageSize < all.count { body["nextLink"] = "\(endpoint)\(path)?api-version=2025-11-01&$skiptoken=\(skip + pageSize)" }
            return json(200, body)
        case ("GET", 1) where segments[0] == "webhooks":
            let all = registry.hooks.values.sorted { $0.name < $1.name }
            let skip = Int(query.split(separator: "&").first { $0.hasPrefix("$skiptoken=") }?.dropFirst(11) ?? "0") ?? 0
            let page = all.dropFirst(skip).prefix(pageSize)
            var body: [String: Any] = ["value": page.map { hook -> [String: Any] in
                var item = listed(hook, path: path)
                if let pending = provisioning[hook.name.lowercased()], pending.lists > 0, var properties = item["properties"] as? [String: Any] {
                    properties["provisioningState"] = pending.state
                    item["properties"] = properties
                }
                return item
            }]
            if skip + pageSize >= all.count {  // a whole listing went by
                for (key, pending) in provisioning where pending.lists > 0 { provisioning[key] = (pending.state, pending.lists - 1) }
            }
            if skip + pageSize < all.count {
                body["nextLink"] = "\(endpoint)\(path)?api-version=2025-11-01&$skiptoken=\(skip + pageSize)"
            }
            return json(200, body)
        case (_, 2) where segments[0] == "webhooks":
            let name = segments[1]
            let key = name.lowercased()
            switch request.method {
            case "PUT":
                if refuseCreates.contains(key) {
                    return armError(400, "InvalidRequest", "The webhook '\(name)' was refused by the test." + quoted(request))
                }
                if failNextCreates > 0 {
                    failNextCreates -= 1
                    return armError(400, "InvalidRequest", "The service refused the create in the test." + quoted(request))
                }
                guard let body = object(request.body), let properties = body["properties"] as? [String: Any],
                    let location = body["location"] as? String, properties["serviceUri"] is String
                else {
                    violations.append("bad create body: \(path)")
                    return armError(400, "InvalidRequestContent", "The request content was invalid")
                }
                func region(_ text: String) -> String { text.lowercased().filter { !$0.isWhitespace } }
                if region(location) != region(registry.location) && !registry.replicas.contains(where: { region($0) == region(location) }) {
                    return armError(404, "RegistryResourceNotFound", "The registry resource could not be found." + quoted(request))
                }
                let limits = ["basic": 2, "standard": 10, "premium": 500]
                if registry.hooks[key] == nil, registry.hooks.count >= quotaOverride ?? limits[registry.sku.lowercased()] ?? 500 {
                    return armError(409, "QuotaExceeded", "Quota exceeded for resource type webhooks for the registry SKU \(registry.sku).")
                }
                var hook = Hook(name: registry.hooks[key]?.name ?? name, location: location, tags: body["tags"] as? [String: String] ?? [:],
                                status: properties["status"] as? String ?? "enabled", scope: properties["scope"] as? String ?? "",
                                actions: properties["actions"] as? [String] ?? [], serviceUri: properties["serviceUri"] as? String ?? "",
                                customHeaders: properties["customHeaders"] as? [String: String] ?? [:])
                modifications += 1
                hook.modified = modifications
                registry.hooks[key] = hook
                if slowFirstPut > 0, !slowed.contains(key) {
                    slowed.insert(key)
                    registries[registryKey] = registry
                    let wait = slowFirstPut
                    lock.unlock()
                    usleep(useconds_t(wait * 1_000_000))
                    lock.lock()
                    return json(200, listed(hook, path: path))
                }
                return finish(200, listed(hook, path: path), created: true)
            case "PATCH":
                guard var hook = registry.hooks[key] else { return armError(404, "ResourceNotFound", "not found") }
                guard let body = object(request.body) else {
                    violations.append("bad update body: \(path)")
                    return armError(400, "InvalidRequestContent", "invalid")
                }
                if body["location"] != nil { violations.append("update carries a location: \(path)") }
                if let tags = body["tags"] as? [String: String] { hook.tags = tags }
                let properties = body["properties"] as? [String: Any] ?? [:]
                if let value = properties["serviceUri"] as? String { hook.serviceUri = value }
                if let value = properties["customHeaders"] as? [String: String] { hook.customHeaders = value }
                if let value = properties["actions"] as? [String] { hook.actions = value }
                if let value = properties["status"] as? String { hook.status = value }
                if let value = properties["scope"] as? String { hook.scope = value }
                modifications += 1
                hook.modified = modifications
                registry.hooks[key] = hook
                return finish(200, listed(hook, path: path), created: true)
            case "DELETE":
                guard registry.hooks.removeValue(forKey: key) != nil else { return LoopbackReceiver.Response(status: 204) }
                if longRunning {
                    let id = UUID().uuidString
                    pendingOperations[id] = pollsBeforeDone
                    return LoopbackReceiver.Response(status: 202, headers: ["Location": "\(endpoint)/operations/\(id)?api-version=2025-11-01&kind=location", "Retry-After": "0"])
                }
                return LoopbackReceiver.Response(status: 200)
            default:
                return armError(405, "MethodNotAllowed", "not allowed")
            }
        case ("POST", 3) where segments[0] == "webhooks" && segments[2] == "ping":
            guard let hook = registry.hooks[segments[1].lowercased()] else { return armError(404, "ResourceNotFound", "not found") }
            let id = UUID().uuidString.lowercased()
            // Recorded as the live service records it: the real header values and the full URI.
            var event: [String: String] = ["id": id, "uri": hook.serviceUri, "action": "ping"]
            for (name, value) in hook.customHeaders { event["header:" + name] = value }
            guard deliversPings, let uri = try? ServiceURI(parsing: hook.serviceUri), uri.scheme == "http" else {
                registry.events[segments[1].lowercased(), default: []].insert(event, at: 0)
                return json(200, ["id": id])
            }
            // Delivered after the answer, and logged when done: a client must poll listEvents for it.
            let key = segments[1].lowercased(), registryName = registryKey, timeout = pingDeliveryTimeout
            let headers = [(name: "Content-Type", value: "application/json")] + hook.customHeaders.map { (name: $0.key, value: $0.value) }
            let body = Array(#"{"id":"\#(id)","action":"ping"}"#.utf8)
            let pending = event
            DispatchQueue.global().async { [weak self] in
                var delivered = pending
                let endpoint = HTTPEndpoint(host: uri.host, port: uri.port, target: uri.path + (uri.query.map { "?" + $0 } ?? ""))
                switch PlainHTTPClient().post(endpoint, headers: headers, body: body, timeout: timeout, keptBody: 1024) {
                case .success(let response): delivered["status"] = String(response.status.rawValue)
                case .failure(let problem): delivered["failure"] = problem.message(timeout: timeout)
                }
                self?.logDelivery(delivered, registry: registryName, webhook: key)
            }
            return json(200, ["id": id])
        case ("POST", 3) where segments[0] == "webhooks" && segments[2] == "listEvents",
            ("GET", 3) where segments[0] == "webhooks" && segments[2] == "listEvents":
            let all = registry.events[segments[1].lowercased()] ?? []
            let skip = Int(query.split(separator: "&").first { $0.hasPrefix("$skiptoken=") }?.dropFirst(11) ?? "0") ?? 0
            let page = all.dropFirst(skip).prefix(pageSize).map { event -> [String: Any] in
                var headers: [String: String] = ["Content-Type": "application/json", "Content-Length": "90"]
                for (key, value) in event where key.hasPrefix("header:") { headers[String(key.dropFirst(7))] = value }
                return ["id": event["id"] ?? "",
                        "eventRequestMessage": ["content": ["id": event["id"] ?? "", "timestamp": "2026-11-29T00:00:00Z", "action": event["action"] ?? ""],
                                                "headers": headers, "method": "POST", "requestUri": event["uri"] ?? "", "version": "1.1"],
                        "eventResponseMessage": echoedResponse(event)]
            }
            var body: [String: Any] = ["value": Array(page)]
            if skip + pageSize < all.count { body["nextLink"] = "\(endpoint)\(path)?api-version=2025-11-01&$skiptoken=\(skip + pageSize)" }
            return json(200, body)
        case ("POST", 3) where segments[0] == "webhooks" && segments[2] == "getCallbackConfig":
            guard let hook = registry.hooks[segments[1].lowercased()] else { return armError(404, "ResourceNotFound", "not found") }
            return json(200, ["serviceUri": hook.serviceUri, "customHeaders": hook.customHeaders])
        default:
            return armError(404, "ResourceNotFound", "The Resource '\(path)' was not found.")
        }
    }

    private func logDelivery(_ event: [String: String], registry name: String, webhook: String) {
        lock.withLock { registries[name]?.events[webhook, default: []].insert(event, at: 0) }
    }

    /// What the receiver answered a delivery: "ok", or with ``deliveriesEcho`` the request echoed back.
    private func echoedResponse(_ event: [String: String]) -> [String: Any] {
        if let status = event["status"] { return ["headers": ["Content-Length": "0"], "statusCode": status, "content": "", "version": "1.1"] }
        if let failure = event["failure"] { return ["headers": [String: String](), "reasonPhrase": failure] }
        guard deliveriesEcho else { return ["headers": ["Content-Length": "2"], "statusCode": "200", "content": "ok", "version": "1.1"] }
        let headers = event.filter { $0.key.hasPrefix("header:") }.sorted { $0.key < $1.key }.map { "\($0.key.dropFirst(7)): \($0.value)" }
        let echo = "POST \(event["uri"] ?? "")\n" + headers.joined(separator: "\n")
        let escaped = (try? JSONSerialization.data(withJSONObject: ["echo": echo])).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return ["headers": ["Content-Type": "text/plain", "X-Echo": headers.joined(separator: "; ")], "statusCode": "400",
                "reasonPhrase": "Bad \(event["uri"] ?? "")", "content": echo + "\n" + escaped, "version": "1.1"]
    }

    /// With ``errorsQuoteRequest``: the request's body and headers, as an error message may repeat them.
    private func quoted(_ request: LoopbackReceiver.Request) -> String {
        guard errorsQuoteRequest else { return "" }
        var quoted = ""
        for encoding in errorQuoteEncodings {
            let headers = request.headers.sorted { $0.key < $1.key }.map { "\($0.key): \(encoding.encode($0.value))" }.joined(separator: "; ")
            if encoding == .raw {
                quoted += " Request: \(request.bodyText) Headers: \(headers)"
                continue
            }
            // The body's values as the service decoded them, re-encoded this way.
            let properties = object(request.body)?["properties"] as? [String: Any]
            var values = [properties?["serviceUri"] as? String ?? ""]
            for (name, value) in (properties?["customHeaders"] as? [String: String] ?? [:]).sorted(by: { $0.key < $1.key }) { values.append("\(name)=\(value)") }
            quoted += " Request: " + values.map(encoding.encode).joined(separator: " ") + " Headers: \(headers)"
        }
        return quoted
    }

    /// GET/LIST shape: no serviceUri, no customHeaders (they are secrets).
    private func listed(_ hook: Hook, path: String) -> [String: Any] {
        let id = path.lowercased().hasSuffix("/webhooks") ? path + "/" + hook.name : path
        var item: [String: Any] = ["id": id, "name": hook.name, "type": "Microsoft.ContainerRegistry/registries/webhooks", "location": hook.location,
                                   "tags": hook.tags,
                                   "properties": ["status": hook.status, "scope": hook.scope, "actions": hook.actions, "provisioningState": "Succeeded"]]
        if !omitsSystemData {
            // ARM's form: an RFC 3339 time with fractional seconds; each change a distinct instant.
            let seconds = hook.modified
            item["systemData"] = ["createdBy": "tester@example.com", "createdByType": "User",
                                  "lastModifiedBy": "tester@example.com", "lastModifiedByType": "User",
                                  "lastModifiedAt": Self.lastModifiedAt(seconds)]
        }
        return item
    }

    private func finish(_ status: Int, _ body: [String: Any], created: Bool) -> LoopbackReceiver.Response {
        guard longRunning else { return json(status, body) }
        let id = UUID().uuidString
        pendingOperations[id] = pollsBeforeDone
        return json(201, body, headers: ["Azure-AsyncOperation": "\(endpoint)/operations/\(id)?api-version=2025-11-01", "Retry-After": "0"])
    }

    private func operation(_ path: String) -> LoopbackReceiver.Response {
        let id = String(path.dropFirst("/operations/".count))
        guard let remaining = pendingOperations[id] else { return armError(404, "NotFound", "no such operation") }
        if remaining > 0 {
            pendingOperations[id] = remaining - 1
            return json(200, ["status": "InProgress"], headers: ["Retry-After": "0"])
        }
        if failOperations { return json(200, ["status": "Failed", "error": ["code": "InternalServerError", "message": "the operation failed in the test"]]) }
        return json(200, ["status": "Succeeded"])
    }

    private func tokenEndpoint(_ request: LoopbackReceiver.Request) -> LoopbackReceiver.Response {
        var form: [String: String] = [:]
        for pair in request.bodyText.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            if kv.count == 2 { form[kv[0]] = kv[1] }
        }
        let valid = form["grant_type"] == "client_credentials" && form["scope"]?.hasSuffix("/.default") == true
            && (form["client_secret"] == clientSecret
                || (form["client_assertion"] == federatedAssertion && form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"))
        guard valid else { return json(401, ["error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."]) }
        return json(200, ["access_token": token, "expires_in": 3599, "token_type": "Bearer"])
    }

    private func object(_ body: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }
}

import Delivery
import Foundation
import HookKit
import HookSpec
import Reconciler
import TestSupport
import Testing

@testable import Serve

/// Receivers people already run for ACR must take serve's and ping's deliveries unchanged. These
/// receivers apply exactly the acceptance rules of four such projects (read from their sources; the
/// table is in docs/serve.md):
/// - Kargo (akuity/kargo, pkg/webhook/external/azure.go): the User-Agent must start with
///   `AzureContainerRegistry`, else 400; the body must decode (`action`, `target.mediaType`,
///   `target.repository`, `request.host`, all strings), else 400; `ping` is 200, `push` refreshes
///   `<request.host>/<target.repository>`, any other action is 400.
/// - Flux notification-controller (internal/server/receiver_handlers.go, `ACRReceiver`): the body must
///   decode into `action` and `target.repository`/`target.tag`, all strings, else 400.
/// - Argo CD Image Updater (argoproj-labs/argocd-image-updater, pkg/webhook/webhook.go and acr.go): the
///   type from `?type=acr` or `X-Registry-Type: acr`; POST; a `Content-Type` containing
///   `application/json`; with a secret configured, `Authorization` equal to it exactly; `action` must be
///   `push` and `target.repository` non-empty (`size`, `length` numbers); any failure is an error (400).
/// - Keel (keel-hq/keel, pkg/http/azure_webhook_trigger.go): `POST /v1/webhooks/azure`; the body must
///   decode (`target.repository`, `target.tag`, `target.digest`, `request.host`), and `target.tag` must
///   not be empty, else 400; no action check; Basic or Bearer auth only when authenticated webhooks are on.
@Suite struct ReceiverContractTests {
    /// Go's encoding/json into a struct of strings: the body is a JSON object, and each named member,
    /// where present, is a string (a number or object there fails the decode).
    static func decodes(_ body: [UInt8], strings paths: [[String]]) -> [String: Any]? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else { return nil }
        for path in paths {
            var node: Any? = object
            for (index, key) in path.enumerated() {
                guard let container = node as? [String: Any] else {
                    if node != nil && !(node is NSNull) { return nil }
                    break
                }
                node = container[key]
                if index == path.count - 1, let value = node, !(value is String) && !(value is NSNull) { return nil }
            }
        }
        return object
    }

    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [String] = []
        func add(_ value: String) { lock.withLock { values.append(value) } }
        var all: [String] { lock.withLock { values } }
    }

    static func kargo(_ seen: Seen) throws -> LoopbackReceiver {
        try LoopbackReceiver { request in
            guard (request.headers["user-agent"] ?? "").hasPrefix("AzureContainerRegistry") else {
                return LoopbackReceiver.Response(status: 400, body: Array("request does not appear to have originated from a supported service".utf8))
            }
            guard let event = decodes(request.body, strings: [["action"], ["target", "mediaType"], ["target", "repository"], ["request", "host"]]) else {
                return LoopbackReceiver.Response(status: 400, body: Array("invalid request body".utf8))
            }
            switch event["action"] as? String {
            case "ping": return LoopbackReceiver.Response(status: 200)
            case "push":
                let host = (event["request"] as? [String: Any])?["host"] as? String ?? ""
                let repository = (event["target"] as? [String: Any])?["repository"] as? String ?? ""
                seen.add("\(host)/\(repository)")
                return LoopbackReceiver.Response(status: 200)
            default:
                return LoopbackReceiver.Response(status: 400, body: Array("unsupported action".utf8))
            }
        }
    }

    static func flux(_ seen: Seen) throws -> LoopbackReceiver {
        try LoopbackReceiver { request in
            guard let event = decodes(request.body, strings: [["action"], ["target", "repository"], ["target", "tag"]]) else {
                return LoopbackReceiver.Response(status: 400)
            }
            let target = event["target"] as? [String: Any]
            seen.add("\(event["action"] as? String ?? "") \(target?["repository"] as? String ?? "")/\(target?["tag"] as? String ?? "")")
            return LoopbackReceiver.Response(status: 200)
        }
    }

    /// Argo CD Image Updater's ACR handler, with `secret` configured (or none).
    static func argoCD(_ seen: Seen, secret: String?) throws -> LoopbackReceiver {
        try LoopbackReceiver { request in
            func refuse(_ why: String) -> LoopbackReceiver.Response { LoopbackReceiver.Response(status: 400, body: Array(why.utf8)) }
            let query = request.target.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
            let type = query.split(separator: "&").compactMap { pair -> String? in
                let parts = pair.split(separator: "=", maxSplits: 1)
                return parts.count == 2 && parts[0] == "type" ? String(parts[1]) : nil
            }.first ?? request.headers["x-registry-type"] ?? ""
            guard type == "acr" else { return refuse("missing registry type parameter") }
            guard request.method == "POST" else { return refuse("invalid HTTP method") }
            guard (request.headers["content-type"] ?? "").contains("application/json") else { return refuse("invalid content type") }
            if let secret {
                guard let authorization = request.headers["authorization"] else { return refuse("missing Authorization header when secret is configured") }
                guard HMAC.constantTimeEqual(authorization, secret) else { return refuse("incorrect webhook secret") }
            }
            // Go's decode into the handler's struct: strings where it says string, numbers where it says int64.
            guard let event = decodes(request.body, strings: [["action"], ["target", "mediaType"], ["target", "digest"], ["target", "repository"],
                                                              ["target", "tag"], ["request", "id"], ["request", "host"], ["request", "method"]]),
                  (event["target"] as? [String: Any]).map({ target in ["size", "length"].allSatisfy { target[$0] == nil || target[$0] is NSNumber } }) ?? true
            else { return refuse("failed to parse webhook payload") }
            guard event["action"] as? String == "push" else { return refuse("ignoring action") }
            let target = event["target"] as? [String: Any] ?? [:]
            guard let repository = target["repository"] as? String, !repository.isEmpty else { return refuse("repository name not found") }
            let host = (event["request"] as? [String: Any])?["host"] as? String ?? ""
            seen.add("\(host)/\(repository):\(target["tag"] as? String ?? "")")
            return LoopbackReceiver.Response(status: 200)
        }
    }

    /// Keel's Azure trigger, with authenticated webhooks on (`credentials`: the Authorization value) or off.
    static func keel(_ seen: Seen, credentials: String?) throws -> LoopbackReceiver {
        try LoopbackReceiver { request in
            guard request.method == "POST", request.target.split(separator: "?").first == "/v1/webhooks/azure" else {
                return LoopbackReceiver.Response(status: 404)
            }
            if let credentials, request.headers["authorization"] != credentials { return LoopbackReceiver.Response(status: 401) }
            guard let event = decodes(request.body, strings: [["target", "repository"], ["target", "tag"], ["target", "digest"], ["request", "host"]]) else {
                return LoopbackReceiver.Response(status: 400)
            }
            let target = event["target"] as? [String: Any] ?? [:]
            guard let tag = target["tag"] as? String, !tag.isEmpty else {
                return LoopbackReceiver.Response(status: 400, body: Array("tag cannot be empty".utf8))
            }
            let host = (event["request"] as? [String: Any])?["host"] as? String ?? ""
            seen.add("\(host)/\(target["repository"] as? String ?? ""):\(tag)")
            return LoopbackReceiver.Response(status: 200)
        }
    }

    static let delete = Array(#"{"events":[{"id":"ev-2","timestamp":"2026-11-29T03:55:26Z","action":"delete","target":{"digest":"sha256:1f3e","repository":"demo/hello"},"request":{"id":"r2","host":"registry.example.com:5000","method":"DELETE","useragent":"skopeo"}}]}"#.utf8)

    static let push = Array(#"{"events":[{"id":"ev-1","timestamp":"2026-11-29T03:55:18Z","action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":418,"digest":"sha256:1f3e","length":418,"repository":"demo/hello","tag":"v2"},"request":{"id":"r1","host":"registry.example.com:5000","method":"PUT","useragent":"skopeo"}}]}"#.utf8)

    static func webhook(_ receiver: LoopbackReceiver, headers: [ResolvedHeader] = []) -> WebhookState {
        WebhookState(name: "receiver", serviceUri: receiver.url + "/hook", customHeaders: headers, actions: [.push, .delete])
    }

    @Test("Kargo's ACR receiver takes serve's push and ping's ping; it would refuse hookapply's own agent")
    func kargoAccepts() throws {
        let seen = Seen()
        let receiver = try Self.kargo(seen)
        defer { receiver.stop() }
        let delivery = WebhookDelivery()
        let target = delivery.target(Self.webhook(receiver))
        let ping = delivery.sendBlocking(RegistryEvent.ping(), to: target, eventID: "p1", action: "ping")
        #expect(ping.response?.status == 200, "\(ping)")
        let push = try #require(try DistributionTranslator.translate(Self.push).first)
        let pushed = delivery.sendBlocking(push.body, to: target, eventID: push.id, action: "push")
        #expect(pushed.response?.status == 200, "\(pushed)")
        #expect(seen.all == ["registry.example.com:5000/demo/hello"])
        #expect(receiver.requests.first?.headers["user-agent"] == Product.deliveryUserAgent)
        // The rule the agent is for: anything without AzureContainerRegistry is refused.
        let own = delivery.target(Self.webhook(receiver, headers: [ResolvedHeader(name: "User-Agent", value: Product.userAgent)]))
        #expect(delivery.sendBlocking(RegistryEvent.ping(), to: own, eventID: "p2", action: "ping").response?.status == 400)
    }

    @Test("Flux's ACR receiver takes serve's push")
    func fluxAccepts() throws {
        let seen = Seen()
        let receiver = try Self.flux(seen)
        defer { receiver.stop() }
        let delivery = WebhookDelivery()
        let push = try #require(try DistributionTranslator.translate(Self.push).first)
        let pushed = delivery.sendBlocking(push.body, to: delivery.target(Self.webhook(receiver)), eventID: push.id, action: "push")
        #expect(pushed.response?.status == 200, "\(pushed)")
        #expect(seen.all == ["push demo/hello/v2"])
    }

    @Test("Argo CD Image Updater takes serve's push at ?type=acr with its exact Authorization; refuses the rest as its source says")
    func argoCDAccepts() throws {
        let seen = Seen()
        let secret = "Basic c2VjcmV0LXZhbHVlLTEyMzQ="
        let receiver = try Self.argoCD(seen, secret: secret)
        defer { receiver.stop() }
        let delivery = WebhookDelivery()
        func webhook(_ path: String, _ headers: [ResolvedHeader], format: PayloadFormat = .acr) -> WebhookDelivery.Target {
            delivery.target(WebhookState(name: "argocd", serviceUri: receiver.url + path, customHeaders: headers, actions: [.push, .delete], payloadFormat: format))
        }
        let good = webhook("/webhook?type=acr", [ResolvedHeader(name: "Authorization", value: secret)])
        let push = try #require(try DistributionTranslator.translate(Self.push).first)
        #expect(delivery.sendBlocking(push.body, to: good, eventID: push.id, action: "push").response?.status == 200)
        #expect(seen.all == ["registry.example.com:5000/demo/hello:v2"])
        // The type may come as a header instead of the query.
        let byHeader = webhook("/webhook", [ResolvedHeader(name: "Authorization", value: secret), ResolvedHeader(name: "X-Registry-Type", value: "acr")])
        #expect(delivery.sendBlocking(push.body, to: byHeader, eventID: push.id, action: "push").response?.status == 200)
        // What it refuses: no type, a near-miss of the secret, a delete, a ping, a CloudEvent (its media type lacks application/json).
        #expect(delivery.sendBlocking(push.body, to: webhook("/webhook", [ResolvedHeader(name: "Authorization", value: secret)]), eventID: push.id, action: "push").response?.status == 400)
        #expect(delivery.sendBlocking(push.body, to: webhook("/webhook?type=acr", [ResolvedHeader(name: "Authorization", value: "Bearer " + secret)]), eventID: push.id, action: "push").response?.status == 400)
        let delete = try #require(try DistributionTranslator.translate(Self.delete).first)
        #expect(delivery.sendBlocking(delete.body, to: good, eventID: delete.id, action: "delete").response?.body == "ignoring action")
        #expect(delivery.sendBlocking(RegistryEvent.ping(), to: good, eventID: "p", action: "ping").response?.status == 400)
        let cloudEvents = webhook("/webhook?type=acr", [ResolvedHeader(name: "Authorization", value: secret)], format: .cloudevents)
        #expect(delivery.sendBlocking(push.body, to: cloudEvents, eventID: push.id, action: "push").response?.body == "invalid content type")
        #expect(seen.all.count == 2)
    }

    @Test("Keel takes serve's push (with its Basic credentials when authenticated); refuses a delete and a ping, which have no tag")
    func keelAccepts() throws {
        let seen = Seen()
        let credentials = "Basic " + Data("keel:pa55-word".utf8).base64EncodedString()
        let receiver = try Self.keel(seen, credentials: credentials)
        defer { receiver.stop() }
        let delivery = WebhookDelivery()
        let target = delivery.target(WebhookState(name: "keelhook", serviceUri: receiver.url + "/v1/webhooks/azure",
                                                  customHeaders: [ResolvedHeader(name: "Authorization", value: credentials)], actions: [.push]))
        let push = try #require(try DistributionTranslator.translate(Self.push).first)
        #expect(delivery.sendBlocking(push.body, to: target, eventID: push.id, action: "push").response?.status == 200)
        #expect(seen.all == ["registry.example.com:5000/demo/hello:v2"])
        // What cannot be met: Keel needs a tag, and a delete (by digest) or a ping has none.
        let delete = try #require(try DistributionTranslator.translate(Self.delete).first)
        #expect(delivery.sendBlocking(delete.body, to: target, eventID: delete.id, action: "delete").response?.body == "tag cannot be empty")
        #expect(delivery.sendBlocking(RegistryEvent.ping(), to: target, eventID: "p", action: "ping").response?.status == 400)
        let anonymous = delivery.target(WebhookState(name: "keelhook", serviceUri: receiver.url + "/v1/webhooks/azure", actions: [.push]))
        #expect(delivery.sendBlocking(push.body, to: anonymous, eventID: push.id, action: "push").response?.status == 401)
        // serve never sends Keel a digest-only push: Distribution's push without a tag has no ACR event.
        let digestOnly = Array(String(decoding: Self.push, as: UTF8.self).replacingOccurrences(of: #","tag":"v2""#, with: "").utf8)
        #expect(try DistributionTranslator.translate(digestOnly).isEmpty)
    }

    @Test("a webhook's own User-Agent header wins over the ACR agent")
    func customAgent() throws {
        let receiver = try LoopbackReceiver()
        defer { receiver.stop() }
        let delivery = WebhookDelivery()
        let target = delivery.target(Self.webhook(receiver, headers: [ResolvedHeader(name: "user-agent", value: "team-bot/2")]))
        _ = delivery.sendBlocking(RegistryEvent.ping(), to: target, eventID: "p", action: "ping")
        #expect(receiver.requests.first?.headers["user-agent"] == "team-bot/2")
    }
}

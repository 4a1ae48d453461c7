import Delivery
import Foundation
import HookKit
import HookSpec
import Reconciler
import TestSupport
import Testing

@testable import Serve

/// Receivers people already run for ACR must take serve's and ping's deliveries unchanged. These
/// receivers apply exactly the acceptance rules of two such projects (read from their sources):
/// - Kargo (akuity/kargo, internal/webhook/external/azure.go): the User-Agent must contain
///   `AzureContainerRegistry`, else 400; the body must decode (`action`, `target.mediaType`,
///   `target.repository`, `request.host`, all strings), else 400; `ping` is 200, `push` refreshes
///   `<request.host>/<target.repository>`, any other action is 501.
/// - Flux notification-controller (internal/server/receiver_handlers.go, `ACRReceiver`): the body must
///   decode into `action` and `target.repository`/`target.tag`, all strings, else 400.
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
            guard (request.headers["user-agent"] ?? "").contains("AzureContainerRegistry") else {
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
                return LoopbackReceiver.Response(status: 501)
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

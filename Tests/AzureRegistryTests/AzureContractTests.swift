import Foundation
import HookKit
import HookSpec
import Reconciler
import Testing

@testable import AzureRegistry

/// The provider against Microsoft's own examples (copied into `Fixtures/acr-rest-examples`, with their
/// source and licence in `Fixtures/README.md`): it decodes every response body, and the bodies it sends
/// have the examples' shape.
@Suite struct AzureContractTests {
    static let examples: String = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        return url.path + "/Fixtures/acr-rest-examples"
    }()

    static func example(_ name: String) throws -> [String: Any] {
        let path = examples + "/" + name
        let data = try #require(FileManager.default.contents(atPath: path), "the contract example \(path) is missing")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func responseBody(_ example: [String: Any], _ status: String) -> [String: Any]? {
        ((example["responses"] as? [String: Any])?[status] as? [String: Any])?["body"] as? [String: Any]
    }

    /// A part of an example decoded into the provider's own wire type, as the provider decodes answers.
    static func wire<Value: Decodable>(_ type: Value.Type, _ object: Any) throws -> Value {
        try JSONDecoder().decode(type, from: try JSONSerialization.data(withJSONObject: object))
    }

    /// What the provider would send, as JSON objects, to compare with the examples' request bodies.
    static func sent(_ body: some Encodable) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: try ARMWire.encode(body)) as? [String: Any])
    }

    @Test("a listed webhook plus its callback config decode into the full webhook")
    func decodesListAndCallbackConfig() throws {
        let list = try #require(Self.responseBody(try Self.example("WebhookList.json"), "200"))
        let item = try #require((list["value"] as? [[String: Any]])?.first)
        let config = try #require(Self.responseBody(try Self.example("WebhookGetCallbackConfig.json"), "200"))
        let state = AzureProvider.webhookState(try Self.wire(ARMWire.Webhook.self, item), serviceUri: config["serviceUri"] as? String ?? "",
                                               customHeaders: config["customHeaders"] as? [String: String] ?? [:])
        #expect(state.name == "myWebhook")
        #expect(state.location == "westus")
        #expect(state.tags == ["key": "value"])
        #expect(state.actions == [.push])
        #expect(state.status == .enabled)
        #expect(state.scope == "myRepository")
        #expect(state.serviceUri == "http://myservice.com")
        #expect(state.customHeaders.map(\.name) == ["Authorization"])
        // The list item itself carries no secret, as the contract says.
        let properties = try #require(item["properties"] as? [String: Any])
        #expect(properties["serviceUri"] == nil && properties["customHeaders"] == nil)
    }

    @Test("create and get responses decode", arguments: ["WebhookCreate.json", "WebhookGet.json", "WebhookUpdate.json"])
    func decodesSingle(_ name: String) throws {
        let body = try #require(Self.responseBody(try Self.example(name), "200"))
        let state = AzureProvider.webhookState(try Self.wire(ARMWire.Webhook.self, body), serviceUri: "", customHeaders: [:])
        #expect(state.name == "myWebhook")
        #expect(state.actions == [.push])
    }

    @Test("a listed event decodes into a delivery record with header values masked")
    func decodesEvents() throws {
        let list = try #require(Self.responseBody(try Self.example("WebhookListEvents.json"), "200"))
        let event = try #require((list["value"] as? [[String: Any]])?.first)
        let record = AzureProvider.record(try Self.wire(ARMWire.Event.self, event), webhook: "myWebhook", scrubber: SecretScrubber(secrets: []))
        #expect(record.action == "push")
        #expect(record.request.method == "POST")
        #expect(record.request.uri == "http://myservice.com")
        #expect(record.request.headers["Authorization"] == "(sensitive value)")
        #expect(record.request.headers["Content-Type"] == "application/json")
        #expect(record.response?.status == 200)
        #expect(record.request.body.contains("hello-world"))
    }

    @Test("the ping answer carries the event id")
    func decodesPing() throws {
        let body = try #require(Self.responseBody(try Self.example("WebhookPing.json"), "200"))
        #expect(body["id"] as? String == "00000000-0000-0000-0000-000000000000")
        #expect(try Self.wire(ARMWire.PingAnswer.self, body).id == "00000000-0000-0000-0000-000000000000")
    }

    @Test("create and update bodies have the examples' shape")
    func requestShapes() throws {
        let webhook = WebhookState(name: "myWebhook", serviceUri: "http://myservice.com", customHeaders: [ResolvedHeader(name: "Authorization", value: "x")],
                                   actions: [.push], status: .enabled, scope: "myRepository", location: "westus", tags: ["key": "value"])
        let provider = AzureProvider(client: ARMClient(endpoint: try #require(URL(string: "https://management.azure.com")),
                                                       credential: StaticCredential(), budget: AsyncSemaphore(1)),
                                     subscriptionId: "00000000-0000-0000-0000-000000000000", resourceGroup: "myResourceGroup", registry: "myRegistry")
        let createExample = try #require((try Self.example("WebhookCreate.json")["parameters"] as? [String: Any])?["webhookCreateParameters"] as? [String: Any])
        let create = try Self.sent(provider.createBody(webhook))
        #expect(Set(create.keys) == Set(createExample.keys))
        #expect(Set((create["properties"] as? [String: Any] ?? [:]).keys) == Set((createExample["properties"] as? [String: Any] ?? [:]).keys))
        let updateExample = try #require((try Self.example("WebhookUpdate.json")["parameters"] as? [String: Any])?["webhookUpdateParameters"] as? [String: Any])
        let update = try Self.sent(AzureProvider.updateBody(webhook, changedFields: Set(WebhookField.allCases)))
        #expect(Set(update.keys) == Set(updateExample.keys))
        #expect(Set((update["properties"] as? [String: Any] ?? [:]).keys) == Set((updateExample["properties"] as? [String: Any] ?? [:]).keys))
        // An update sends only what changed (and never a location: it cannot change in place).
        let partial = try Self.sent(AzureProvider.updateBody(webhook, changedFields: [.status]))
        #expect(Set((partial["properties"] as? [String: Any] ?? [:]).keys) == ["status"])
        #expect(partial["location"] == nil)
    }

    @Test("Retry-After is read as seconds or as an HTTP date")
    func retryAfter() {
        #expect(ARMClient.retryAfter(["retry-after": "7"]) == 7)
        let future = Date().addingTimeInterval(30)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let seconds = ARMClient.retryAfter(["retry-after": formatter.string(from: future)]) ?? -1
        #expect(seconds > 25 && seconds <= 31)
        #expect(ARMClient.retryAfter(["retry-after": "soon"]) == nil)
        #expect(ARMClient.retryAfter([:]) == nil)
    }

    struct StaticCredential: TokenCredential {
        func token(scope: String) async throws -> AccessToken { AccessToken(token: "t", expiresAt: .distantFuture) }
    }
}

import Foundation
import HookKit
import HookSpec
import Reconciler
import Testing

@testable import Delivery

/// ACR events as CloudEvents 1.0 (structured JSON mode) with Event Grid's ACR types.
@Suite struct CloudEventTests {
    static let source = CloudEvent.source(registry: "dev")

    static func event(_ body: String, isChart: Bool = false) throws -> [String: Any] {
        let bytes = CloudEvent.structured(acrBody: Array(body.utf8), id: "event-1", source: source, isChart: isChart, now: { "2026-12-07T10:00:00.000Z" })
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    static let push = #"{"action":"push","id":"event-1","request":{"host":"reg.example:5000","id":"r1","method":"PUT","useragent":"skopeo"},"target":{"digest":"sha256:abc","mediaType":"application/vnd.oci.image.manifest.v1+json","repository":"demo/hello","size":418,"tag":"v2"},"timestamp":"2026-11-29T03:55:18.024411146Z"}"#

    @Test("a push: every required attribute, the subject, the time, and data the ACR body byte for byte")
    func push() throws {
        let event = try Self.event(Self.push)
        #expect(event["specversion"] as? String == "1.0")
        #expect(event["id"] as? String == "event-1")
        #expect(event["source"] as? String == "/hookapply/registries/dev")
        #expect(event["type"] as? String == "Microsoft.ContainerRegistry.ImagePushed")
        #expect(event["subject"] as? String == "demo/hello:v2")
        #expect(event["time"] as? String == "2026-11-29T03:55:18.024411146Z")
        #expect(event["datacontenttype"] as? String == "application/json")
        let data = try #require(event["data"] as? [String: Any])
        let original = try #require(try JSONSerialization.jsonObject(with: Data(Self.push.utf8)) as? [String: Any])
        #expect(NSDictionary(dictionary: data).isEqual(to: original))
        // Byte for byte, not only equal in meaning.
        let bytes = String(decoding: CloudEvent.structured(acrBody: Array(Self.push.utf8), id: "event-1", source: Self.source), as: UTF8.self)
        #expect(bytes.hasPrefix("{\"data\":" + Self.push + ","))
    }

    @Test("types", arguments: [
        (#"{"action":"push","target":{"repository":"r","tag":"t"}}"#, false, "Microsoft.ContainerRegistry.ImagePushed", "r:t"),
        (#"{"action":"push","target":{"repository":"r","tag":"t"}}"#, true, "Microsoft.ContainerRegistry.ChartPushed", "r:t"),
        (#"{"action":"push","target":{"repository":"r","tag":"1.0","references":[{"mediaType":"application/vnd.cncf.helm.config.v1+json"}]}}"#, false, "Microsoft.ContainerRegistry.ChartPushed", "r:1.0"),
        (#"{"action":"delete","target":{"repository":"r","digest":"sha256:d"}}"#, false, "Microsoft.ContainerRegistry.ImageDeleted", "r@sha256:d"),
        (#"{"action":"delete","target":{"repository":"r","digest":"sha256:d"}}"#, true, "Microsoft.ContainerRegistry.ChartDeleted", "r@sha256:d"),
        (#"{"action":"chart_push","target":{"mediaType":"application/vnd.acr.helm.chart","repository":"r","tag":"c-1.0.tgz"}}"#, false, "Microsoft.ContainerRegistry.ChartPushed", "r:c-1.0.tgz"),
        (#"{"action":"chart_delete","target":{"repository":"r"}}"#, false, "Microsoft.ContainerRegistry.ChartDeleted", "r"),
        (#"{"action":"ping","id":"event-1","timestamp":"2026-12-07T09:00:00.000Z"}"#, false, CloudEvent.pingType, nil),
        (#"{"action":"quarantine","target":{"repository":"r","tag":"t"}}"#, false, "io.hookapply.registry.quarantine", "r:t"),
    ] as [(String, Bool, String, String?)])
    func types(_ body: String, _ isChart: Bool, _ type: String, _ subject: String?) throws {
        let event = try Self.event(body, isChart: isChart)
        #expect(event["type"] as? String == type)
        #expect(event["subject"] as? String == subject)
    }

    @Test("no usable time in the body: the time of sending; a body that is not an object is kept as a string")
    func odd() throws {
        #expect(try Self.event(#"{"action":"ping","timestamp":"yesterday"}"#)["time"] as? String == "2026-12-07T10:00:00.000Z")
        let event = try Self.event("not json")
        #expect(event["data"] as? String == "not json")
        #expect(event["id"] as? String == "event-1")
    }

    final class Capturing: DeliveryTransport {
        let requests = Locked<[OutgoingDelivery]>([])
        func canSend(to uri: ServiceURI) -> Bool { true }
        func send(_ request: OutgoingDelivery, timeout: Double, keptBody: Int) -> TransportOutcome {
            requests.withLock { $0.append(request) }
            return .response(status: 204, headers: [], body: [], truncated: false)
        }
    }

    @Test("a cloudevents webhook gets the event with its media type; the record shows what was sent; signing covers it")
    func delivered() async throws {
        let transport = Capturing()
        let delivery = WebhookDelivery(timeout: 5, transports: [transport], eventSource: Self.source)
        let secret = "whsec_" + Base64.encode([UInt8](repeating: 1, count: 32))
        let webhook = WebhookState(name: "events", serviceUri: "http://127.0.0.1:9/ce", customHeaders: [ResolvedHeader(name: "X-Team", value: "web")],
                                   actions: [.push], signingSecrets: [secret], payloadFormat: .cloudevents)
        let record = await delivery.send(Array(Self.push.utf8), to: webhook, eventID: "event-1", action: "push")
        let request = try #require(transport.requests.value.first)
        #expect(request.headers.filter { $0.name.lowercased() == "content-type" }.map(\.value) == [CloudEvent.contentType])
        #expect(request.headers.contains { $0.name == "X-Team" && $0.value == "web" })
        let event = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        #expect(event["type"] as? String == "Microsoft.ContainerRegistry.ImagePushed")
        #expect(record.request.headers["Content-Type"] == CloudEvent.contentType)
        #expect(record.request.body == String(decoding: request.body, as: UTF8.self))
        let stamp = try #require(request.headers.first { $0.name == "webhook-timestamp" }?.value)
        let key = try #require(SigningSecret.key(secret))
        let expected = "v1," + Data(HMAC(key: key).code(Array("event-1.\(stamp).".utf8) + request.body)).base64EncodedString()
        #expect(request.headers.first { $0.name == "webhook-signature" }?.value == expected)
    }
}

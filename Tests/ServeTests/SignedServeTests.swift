import Delivery
import Foundation
import HookKit
import HookSpec
import Reconciler
import TestSupport
import Testing

@testable import Serve

/// serve's deliveries to signed and CloudEvents webhooks: a Distribution envelope in, through the durable
/// queue (and a restart of it), out as a signed CloudEvent whose chart-ness survived the queue file.
@Suite struct SignedServeTests {
    static let chartPush = """
        {"events": [{"id": "chart-event-1", "timestamp": "2026-11-29T03:55:18.024411146Z", "action": "push",
          "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 418, "digest": "sha256:1f3e", "length": 418,
            "repository": "charts/web", "tag": "1.2.0",
            "references": [{"mediaType": "application/vnd.cncf.helm.config.v1+json", "size": 190, "digest": "sha256:b0e7"}]},
          "request": {"id": "r1", "host": "127.0.0.1:5000", "method": "PUT", "useragent": "helm/3"},
          "actor": {"name": "ci"}, "source": {"addr": "vm:5000", "instanceID": "i1"}}]}
        """

    @Test("a chart push arrives signed, as ChartPushed, after the queue was reopened; retries re-sign with a new timestamp")
    func chartThroughQueue() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let answers = Locked([500, 200])
        let receiver = try LoopbackReceiver { _ in LoopbackReceiver.Response(status: answers.withLock { $0.isEmpty ? 200 : $0.removeFirst() }) }
        defer { receiver.stop() }
        let secret = "whsec_" + Data([UInt8](repeating: 9, count: 40)).base64EncodedString()
        let webhooks = [WebhookState(name: "charthook", serviceUri: receiver.url + "/ce", actions: [.push],
                                     signingSecrets: [secret], payloadFormat: .cloudevents)]
        let path = directory + "/q.jsonl"
        let stamps = Locked(1_800_000_000)
        func engine() throws -> DeliveryEngine {
            var delivery = WebhookDelivery(eventSource: CloudEvent.source(registry: "selfhosted"))
            delivery.clock = { stamps.withLock { $0 += 7; return $0 } }
            return DeliveryEngine(queue: try DeliveryQueue(path: path), webhooks: { webhooks }, log: EventLog(path: directory + "/e.jsonl"),
                                  delivery: delivery, retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.001, maxDelay: 0.002))
        }
        let notifications = try DistributionTranslator.translate(Array(Self.chartPush.utf8))
        #expect(try engine().accept(notifications).stored == 1)
        // A new engine on the same file: what it knows of the event came from the queue's line.
        try await engine().drain()
        let requests = receiver.requests
        #expect(requests.count == 2)
        let key = try #require(SigningSecret.key(secret))
        #expect(requests.map { $0.headers["webhook-timestamp"] } == ["1800000007", "1800000014"])
        for request in requests {
            #expect(request.headers["webhook-id"] == "chart-event-1")
            let stamp = request.headers["webhook-timestamp"] ?? ""
            #expect(request.headers["webhook-signature"] == "v1," + Data(HMAC(key: key).code(Array("chart-event-1.\(stamp).".utf8) + request.body)).base64EncodedString())
            let event = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
            #expect(event["type"] as? String == "Microsoft.ContainerRegistry.ChartPushed")
            #expect(event["subject"] as? String == "charts/web:1.2.0")
            #expect(event["source"] as? String == "/hookapply/registries/selfhosted")
            let data = try #require(event["data"] as? [String: Any])
            #expect((data["actor"] as? [String: String]) == ["name": "ci"])
            #expect((data["target"] as? [String: Any])?["repository"] as? String == "charts/web")
        }
        #expect(requests[0].body == requests[1].body, "the same event on every attempt; only the signing headers change")
        let log = (try? String(contentsOfFile: directory + "/e.jsonl", encoding: .utf8)) ?? ""
        #expect(log.contains("\"webhook-signature\":\"(sensitive value)\""))
        #expect(!log.contains(String(secret.dropFirst(6))))
    }
}

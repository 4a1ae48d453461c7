import Foundation
import HookKit
import HookSpec
import Reconciler
import Testing

@testable import Delivery

/// Standard Webhooks 1.0 signatures: the standard's own vector, rotation, a fresh timestamp on every
/// attempt, and nothing of the signature or the key in the record.
@Suite struct SignedDeliveryTests {
    /// The vector of the reference library's tests (standard-webhooks/standard-webhooks,
    /// libraries/python/tests/test_webhooks.py, `test_sign_function`; MIT licence).
    static let vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let vectorID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let vectorTimestamp = "1614265330"
    static let vectorPayload = #"{"test": 2432232314}"#
    static let vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    @Test("the standard's test vector")
    func vector() throws {
        let signer = try #require(WebhookSigner(secrets: [Self.vectorSecret]))
        #expect(signer.signature(id: Self.vectorID, timestamp: Self.vectorTimestamp, body: Array(Self.vectorPayload.utf8)) == Self.vectorSignature)
        // The reference's negative case: one changed byte of body, id or timestamp, another signature.
        #expect(signer.signature(id: Self.vectorID, timestamp: "1614265331", body: Array(Self.vectorPayload.utf8)) != Self.vectorSignature)
        #expect(signer.signature(id: Self.vectorID + "x", timestamp: Self.vectorTimestamp, body: Array(Self.vectorPayload.utf8)) != Self.vectorSignature)
        #expect(signer.signature(id: Self.vectorID, timestamp: Self.vectorTimestamp, body: Array(#"{"test": 2432232315}"#.utf8)) != Self.vectorSignature)
    }

    @Test("a rotation signs with every secret, in the order given, space-separated")
    func rotation() throws {
        let other = "whsec_" + Base64.encode([UInt8](repeating: 7, count: 32))
        let signer = try #require(WebhookSigner(secrets: [other, Self.vectorSecret]))
        let value = signer.signature(id: Self.vectorID, timestamp: Self.vectorTimestamp, body: Array(Self.vectorPayload.utf8))
        let parts = value.split(separator: " ").map(String.init)
        #expect(parts.count == 2)
        #expect(parts[1] == Self.vectorSignature)
        #expect(parts[0].hasPrefix("v1,") && parts[0] != Self.vectorSignature)
        #expect(WebhookSigner(secrets: []) == nil)
    }

    /// Records every request and answers with a body that echoes the signature and the key, as a
    /// careless receiver's error page might.
    final class Echoing: DeliveryTransport {
        let requests = Locked<[OutgoingDelivery]>([])
        func canSend(to uri: ServiceURI) -> Bool { true }
        func send(_ request: OutgoingDelivery, timeout: Double, keptBody: Int) -> TransportOutcome {
            requests.withLock { $0.append(request) }
            let signature = request.headers.first { $0.name == "webhook-signature" }?.value ?? ""
            let echo = "signature \(signature) json \(JSONText.quote(signature)) key \(SignedDeliveryTests.vectorSecret.dropFirst(6))"
            return .response(status: 500, headers: [("X-Echo", signature)], body: Array(echo.utf8), truncated: false)
        }
    }

    @Test("every attempt: the event id, a new timestamp, a signature over this attempt's bytes; the record masks it")
    func attempts() async throws {
        let transport = Echoing()
        let clock = Locked(1_700_000_000)
        var delivery = WebhookDelivery(timeout: 5, transports: [transport])
        delivery.clock = { clock.withLock { value in value += 61; return value } }
        let webhook = WebhookState(name: "signed", serviceUri: "http://127.0.0.1:9/hook", actions: [.push], signingSecrets: [Self.vectorSecret])
        let body = Array(#"{"action":"push","id":"event-1"}"#.utf8)
        let first = await delivery.send(body, to: webhook, eventID: "event-1", action: "push", attempt: 1)
        let second = await delivery.send(body, to: webhook, eventID: "event-1", action: "push", attempt: 2)
        let sent = transport.requests.value
        #expect(sent.count == 2)
        let key = try #require(SigningSecret.key(Self.vectorSecret))
        var stamps: [String] = []
        for request in sent {
            func header(_ name: String) -> String? { request.headers.first { $0.name == name }?.value }
            #expect(header("webhook-id") == "event-1")
            let stamp = try #require(header("webhook-timestamp"))
            stamps.append(stamp)
            // Recomputed here from the bytes that went out, with the HMAC primitive, not the signer.
            let expected = "v1," + Data(HMAC(key: key).code(Array("event-1.\(stamp).".utf8) + request.body)).base64EncodedString()
            #expect(header("webhook-signature") == expected)
            #expect(request.body == body)
        }
        #expect(stamps == ["1700000061", "1700000122"])
        for record in [first, second] {
            #expect(record.request.headers["webhook-signature"] == Redaction.sensitiveValue)
            #expect(record.request.headers["webhook-id"] == "event-1")
            let line = String(decoding: record.jsonLine(), as: UTF8.self)
            for request in sent {
                let signature = try #require(request.headers.first { $0.name == "webhook-signature" }?.value)
                #expect(!line.contains(String(signature.dropFirst(3))), "the signature leaked into the record")
            }
            #expect(!line.contains(String(Self.vectorSecret.dropFirst(6))), "the key leaked into the record")
        }
    }

    @Test("an unsigned webhook sends no signing headers")
    func unsigned() async {
        let transport = Echoing()
        let delivery = WebhookDelivery(timeout: 5, transports: [transport])
        _ = await delivery.send(Array("{}".utf8), to: WebhookState(name: "plain", serviceUri: "http://127.0.0.1:9/", actions: [.push]),
                                eventID: "e", action: "ping")
        #expect(transport.requests.value.first?.headers.contains { $0.name.hasPrefix("webhook-") } == false)
    }
}

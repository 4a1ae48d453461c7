import Foundation
import HookKit
import HookSpec
import Reconciler
import Testing

@testable import Delivery

/// The transport seam: which transport takes which URI, and that a delivery goes through the first
/// that can send it, with the webhook's headers, and comes back masked.
@Suite struct DeliveryTransportTests {
    @Test("the socket transport takes plain http with a host the resolver reads as written, nothing else",
          arguments: [("http://127.0.0.1:8080/x", true), ("http://hooks.example.com/x?code=1", true), ("http://[::1]:9/x", true),
                      ("https://hooks.example.com/x", false), ("http://b%C3%BCcher.example/x", false)])
    func socketTakes(_ uri: String, _ expected: Bool) throws {
        #expect(SocketTransport().canSend(to: try ServiceURI(parsing: uri)) == expected)
    }

    /// Records what it was asked to send and answers with a body that echoes a secret.
    final class Recording: DeliveryTransport {
        let sent = Locked<[String]>([])
        let scheme: String
        init(scheme: String) { self.scheme = scheme }
        func canSend(to uri: ServiceURI) -> Bool { uri.scheme == scheme }
        func send(_ request: OutgoingDelivery, timeout: Double, keptBody: Int) -> TransportOutcome {
            let authorization = request.headers.first { $0.name == "Authorization" }?.value ?? ""
            sent.withLock { $0.append("\(scheme) \(request.uri) \(authorization)") }
            return .response(status: 202, headers: [("X-Echo", authorization)], body: Array("echo \(authorization)".utf8), truncated: false)
        }
    }

    @Test("a delivery goes through the first transport that can send it, and its record is masked")
    func picksTransport() async throws {
        let https = Recording(scheme: "https")
        let http = Recording(scheme: "http")
        let delivery = WebhookDelivery(timeout: 5, transports: [https, http])
        let webhook = WebhookState(name: "hook", serviceUri: "http://h.example/x?sig=planted-query-secret",
                                   customHeaders: [ResolvedHeader(name: "Authorization", value: "Bearer planted-header-secret")],
                                   actions: [.push])
        let record = await delivery.send(Array("{}".utf8), to: webhook, eventID: "e1", action: "ping")
        #expect(https.sent.value.isEmpty)
        #expect(http.sent.value == ["http http://h.example/x?sig=planted-query-secret Bearer planted-header-secret"])
        #expect(record.response?.status == 202)
        let logged = String(decoding: record.jsonLine(), as: UTF8.self)
        #expect(!logged.contains("planted-header-secret") && !logged.contains("planted-query-secret"))
    }
}

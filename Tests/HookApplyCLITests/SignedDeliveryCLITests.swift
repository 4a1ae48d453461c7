import Foundation
import HookKit
import HookSpec
import Reconciler
import TestSupport
import Testing

@testable import HookApplyCLI

/// Signing and CloudEvents through the commands: plan, apply, ping and events, against a receiver that
/// verifies the signature itself (with the HMAC primitive and Foundation's base64, not the signer) and
/// echoes everything it got back, as a careless receiver would.
@Suite struct SignedDeliveryCLITests {
    static func secret(_ byte: UInt8) -> String { "whsec_" + Data([UInt8](repeating: byte, count: 32)).base64EncodedString() }

    /// 200 when some `v1,` signature verifies with one of `keys`, 401 otherwise; the body echoes the request.
    static func verifyingReceiver(keys: [[UInt8]]) throws -> LoopbackReceiver {
        try LoopbackReceiver { request in
            let id = request.headers["webhook-id"] ?? ""
            let stamp = request.headers["webhook-timestamp"] ?? ""
            let message = Array("\(id).\(stamp).".utf8) + request.body
            let expected = keys.map { "v1," + Data(HMAC(key: $0).code(message)).base64EncodedString() }
            let given = (request.headers["webhook-signature"] ?? "").split(separator: " ").map(String.init)
            let fresh = Int(stamp).map { abs($0 - Int(Date().timeIntervalSince1970)) <= 300 } ?? false
            let ok = fresh && !id.isEmpty && given.contains { expected.contains($0) }
            var echo = ""
            for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) { echo += "\(name): \(value)\n" }
            return LoopbackReceiver.Response(status: ok ? 200 : 401, headers: ["X-Echo": request.headers["webhook-signature"] ?? ""],
                                             body: Array((echo + request.bodyText).utf8))
        }
    }

    @Test("ping is signed with every secret of a rotation; the receiver verifies; nothing of a key or a signature is shown or logged")
    func pingSigned() async throws {
        let (old, new) = (Self.secret(0x11), Self.secret(0x22))
        let receiver = try Self.verifyingReceiver(keys: [try #require(SigningSecret.key(old))])
        defer { receiver.stop() }
        let spec = """
            {"version": 1, "registries": [{"name": "dev", "local": {}, "webhooks": [
              {"name": "signedhook", "serviceUri": "\(receiver.url)/hook", "actions": ["push"], "signingSecret": ["${env:NEW_SECRET}", "${env:OLD_SECRET}"]}]}]}
            """
        let workspace = try ReconcileCommandTests.Workspace(spec)
        defer { workspace.remove() }
        let environment = ["NEW_SECRET": new, "OLD_SECRET": old]
        var outputs: [(String, String)] = []
        for arguments in [["plan"], ["apply", "--auto-approve"], ["ping", "signedhook"], ["ping", "signedhook"],
                          ["events", "signedhook"], ["events", "signedhook", "--format", "json"], ["get", "signedhook"], ["list", "-o", "json"], ["plan"]] {
            let result = await workspace.run(arguments, environment: environment)
            outputs.append((arguments.joined(separator: " "), result.stdout + result.stderr))
            if arguments[0] == "ping" { #expect(result.code == .success, "\(result.stderr)") }
        }
        #expect(outputs[0].1.contains("signingSecret = (sensitive value)"))
        #expect(outputs[8].1.contains("No changes"))
        let requests = receiver.requests
        #expect(requests.count == 2)
        let ids = requests.compactMap { $0.headers["webhook-id"] }
        #expect(ids.count == 2 && Set(ids).count == 2, "each ping is its own message")
        // The ping's id is the body's id, as the standard's webhook-id is the message's.
        for request in requests {
            let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
            #expect(body["id"] as? String == request.headers["webhook-id"])
            #expect(request.headers["webhook-signature"]?.split(separator: " ").count == 2)
        }
        // Forbidden: each secret, its key, and every signature sent (and its base64 alone).
        var forbidden = [old, new, String(old.dropFirst(6)), String(new.dropFirst(6))]
        for request in requests {
            for part in (request.headers["webhook-signature"] ?? "").split(separator: " ") { forbidden += [String(part), String(part.dropFirst(3))] }
        }
        forbidden = LeakTests.forbidden(forbidden)
        for (what, output) in outputs { LeakTests.expectNoLeak(output, forbidden, what) }
        LeakTests.expectNoLeak(workspace.read(".hookapply/dev.events.jsonl"), forbidden, "the event log")
        #expect(outputs[4].1.contains("webhook-signature: (sensitive value)") || outputs[5].1.contains("\"webhook-signature\" : \"(sensitive value)\""))
        // The key is kept where the registry keeps its secrets, and only there.
        #expect(workspace.read(".hookapply/dev.json").contains(old))
    }

    @Test("a wrong key fails verification at the receiver: 401, and the ping says so")
    func wrongKey() async throws {
        let receiver = try Self.verifyingReceiver(keys: [try #require(SigningSecret.key(Self.secret(0x33)))])
        defer { receiver.stop() }
        let spec = """
            {"version": 1, "registries": [{"name": "dev", "local": {}, "webhooks": [
              {"name": "signedhook", "serviceUri": "\(receiver.url)/hook", "actions": ["push"], "signingSecret": "${env:S}"}]}]}
            """
        let workspace = try ReconcileCommandTests.Workspace(spec)
        defer { workspace.remove() }
        let environment = ["S": Self.secret(0x44)]
        #expect(await workspace.run(["apply", "--auto-approve"], environment: environment).code == .success)
        let ping = await workspace.run(["ping", "signedhook"], environment: environment)
        #expect(ping.code == .failure)
        #expect(ping.stdout.contains("401"))
    }

    @Test("a cloudevents webhook's ping is a CloudEvent of our ping type, from the registry")
    func cloudEventPing() async throws {
        let receiver = try LoopbackReceiver(status: 202)
        defer { receiver.stop() }
        let spec = """
            {"version": 1, "registries": [{"name": "dev", "local": {}, "webhooks": [
              {"name": "cehook", "serviceUri": "\(receiver.url)/ce", "actions": ["push"], "payloadFormat": "cloudevents"}]}]}
            """
        let workspace = try ReconcileCommandTests.Workspace(spec)
        defer { workspace.remove() }
        #expect(await workspace.run(["apply", "--auto-approve"]).code == .success)
        #expect(await workspace.run(["ping", "cehook"]).code == .success)
        let request = try #require(receiver.requests.first)
        #expect(request.headers["content-type"] == "application/cloudevents+json")
        #expect(request.headers["webhook-signature"] == nil)
        let event = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        #expect(event["specversion"] as? String == "1.0")
        #expect(event["type"] as? String == "io.hookapply.webhook.ping")
        #expect(event["source"] as? String == "/hookapply/registries/dev")
        #expect((event["data"] as? [String: Any])?["action"] as? String == "ping")
        #expect((event["data"] as? [String: Any])?["id"] as? String == event["id"] as? String)
        // Switching back to ACR's JSON is an update of one field.
        try workspace.write(spec.replacingOccurrences(of: #", "payloadFormat": "cloudevents""#, with: ""))
        let plan = await workspace.run(["plan"])
        #expect(plan.stdout.contains(#"~ payloadFormat = "cloudevents" -> "acr""#), "\(plan.stdout)")
    }
}

import Foundation
import HookKit
import HookSpec
import Reconciler
import TestSupport
import Testing

@testable import HookApplyCLI
@testable import Reconciler

/// Planted secrets against hostile echoes: a receiver that answers with the request it got, and a
/// registry whose errors quote the request. No output, log or file may show any part of a secret in
/// any of the forms it travels in. Literal secrets are used on purpose: `${env:…}` values are also
/// hidden from all output as a last line of defence, and these tests prove the scrubbing before it.
@Suite struct LeakTests {
    /// Every form of every part of a secret that must never appear.
    static func forbidden(_ parts: [String]) -> [String] {
        var forms: Set<String> = []
        for part in parts {
            forms.insert(SecretScrubber.percentEncoded(part))
            // Every way a receiver's stack may have re-encoded it, and that again as a JSON output shows it.
            for encoding in EchoEncoding.allCases {
                let encoded = encoding.encode(part)
                forms.insert(encoded)
                forms.insert(String(JSONText.quote(encoded).dropFirst().dropLast()))
            }
        }
        return forms.sorted()
    }

    static func expectNoLeak(_ text: String, _ forbidden: [String], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for form in forbidden where text.contains(form) {
            Issue.record("'\(form)' leaked in \(what)", sourceLocation: sourceLocation)
        }
    }

    @Test("local: a receiver echoing the request in its body, headers and status line leaks nothing")
    func localEcho() async throws {
        // The receiver repeats everything it got, raw, JSON-escaped and percent-encoded, in the body and a header.
        // Each request is echoed in the next of the ways stacks re-encode text (the first ping raw, …).
        let echoes = Locked(0)
        let receiver = try LoopbackReceiver { request in
            var raw = "\(request.method) \(request.target)\n"
            for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) { raw += "\(name): \(value)\n" }
            raw += request.bodyText
            let encoding = EchoEncoding.allCases[echoes.withLock { count in defer { count += 1 }; return count } % EchoEncoding.allCases.count]
            let echoed = encoding.encode(raw)
            let json = String(decoding: (try? JSONSerialization.data(withJSONObject: ["echo": raw])) ?? Data(), as: UTF8.self)
            let percent = raw.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            // Pad so that the echo crosses the 4 KiB the log keeps: a secret cut there must not leak its first half.
            let padding = String(repeating: ".", count: 4096 - 40 - echoed.utf8.count % 2048)
            return LoopbackReceiver.Response(status: 200, headers: ["X-Echo": echoed, "X-Auth": encoding.encode(request.headers["authorization"] ?? "")],
                                             body: Array((echoed + "\n" + padding + raw + "\n" + json + "\n" + percent).utf8))
        }
        defer { receiver.stop() }
        let host = receiver.url.replacingOccurrences(of: "http://", with: "")
        let password = "pa55word-LIT-\(UInt32.random(in: 0...UInt32.max))"
        let signature = "sig/LIT+\(UInt32.random(in: 0...UInt32.max))=="
        let token = "tok\"LIT\\+&'<é>\(UInt32.random(in: 0...UInt32.max))"
        let apiKey = "key-LIT-\(UInt32.random(in: 0...UInt32.max))"
        let escapedSignature = signature.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let spec = """
            {"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": [
              {"name": "echoer", "serviceUri": "http://robot:\(password)@\(host)/hook?sig=\(escapedSignature)&team=web",
               "customHeaders": {"Authorization": "Bearer \(JSONText.quote(token).dropFirst().dropLast())", "X-Api-Key": "\(apiKey)"}, "actions": ["push"]}]}]}
            """
        let workspace = try ReconcileCommandTests.Workspace(spec)
        defer { workspace.remove() }
        let applied = await workspace.run(["apply", "--auto-approve"])
        #expect(applied.code == .success, "\(applied.stderr)")
        var outputs: [(String, String)] = [("apply", applied.stdout + applied.stderr)]
        // One ping per re-encoding, then the log of them all.
        let pings = Array(repeating: ["ping", "echoer"], count: EchoEncoding.allCases.count)
        for arguments in pings + [["events", "echoer"], ["events", "echoer", "--format", "json"], ["plan"], ["plan", "--format", "markdown"]] {
            let result = await workspace.run(arguments)
            outputs.append((arguments.joined(separator: " "), result.stdout + result.stderr))
        }
        // It was really sent, with the secrets, and echoed.
        let sent = try #require(receiver.requests.first)
        #expect(sent.headers["x-api-key"] == apiKey)
        let basic = Data("robot:\(password)".utf8).base64EncodedString()
        let parts = [password, signature, escapedSignature, token, apiKey, basic, "Bearer \(token)", "robot:\(password)"]
        // Each secret's first half too: the log keeps 4 KiB, and a secret cut there must not show its start.
        let halves = [password, escapedSignature, apiKey].map { String($0.prefix($0.count / 2 + 1)) }
        let forbidden = Self.forbidden(parts) + halves
        for (what, output) in outputs { Self.expectNoLeak(output, forbidden, what) }
        Self.expectNoLeak(workspace.read(".hookapply/dev.events.jsonl"), forbidden, "the event log")
        // And the log still says what happened: the echo is there, with the secrets replaced.
        #expect(outputs[1].1.contains("(sensitive value)"))
    }

    @Test("a raw ${env:} value is hidden everywhere, even where nothing else is secret (a path segment)")
    func environmentValueInPath() async throws {
        let receiver = try LoopbackReceiver(echoHeaders: true)
        defer { receiver.stop() }
        let secret = "path-secret-\(UInt32.random(in: 0...UInt32.max))"
        let workspace = try ReconcileCommandTests.Workspace(#"{"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": [{"name": "hookone", "serviceUri": "\#(receiver.url)/${env:PATHKEY}/hook", "actions": ["push"]}]}]}"#)
        defer { workspace.remove() }
        let environment = ["PATHKEY": secret]
        var outputs = ""
        for arguments in [["plan"], ["apply", "--auto-approve"], ["ping", "hookone"], ["events", "hookone", "--format", "json"]] {
            let result = await workspace.run(arguments, environment: environment)
            outputs += result.stdout + result.stderr
        }
        #expect(receiver.requests.first?.target == "/\(secret)/hook")  // it was really sent there
        Self.expectNoLeak(outputs, [secret], "output")
        Self.expectNoLeak(workspace.read(".hookapply/dev.events.jsonl"), [secret], "the event log")
    }

    @Test("azure: ping and events show a receiver's echo with every secret scrubbed")
    func azureEcho() async throws {
        let armToken = "arm-token-\(UUID().uuidString)"
        let setup = try AzureCommandTests.Setup(token: armToken)
        defer { setup.finish() }
        setup.emulator.deliveriesEcho = true
        let signature = "LITsig\(UInt32.random(in: 0...UInt32.max))"
        let token = "LITtoken\(UInt32.random(in: 0...UInt32.max))"
        try setup.write("""
            {"version": 1, "owner": "team", "registries": [{"name": "prod", "azure": {"subscriptionId": "${env:SUB}", "resourceGroup": "rg-prod", "registry": "contosoprod", "endpoint": "\(setup.emulator.endpoint)"},
              "webhooks": [{"name": "hook0x", "serviceUri": "https://hooks.example.com/x?sig=\(signature)", "customHeaders": {"Authorization": "Bearer \(token)"}, "actions": ["push"]}]}]}
            """)
        #expect(await setup.run(["apply", "--auto-approve"]).code == .success)
        let ping = await setup.run(["ping", "hook0x"])
        let events = await setup.run(["events", "hook0x"])
        let json = await setup.run(["events", "hook0x", "--format", "json"])
        #expect(ping.stdout.contains("Response"), "\(ping.stdout)\(ping.stderr)")
        #expect(ping.stdout.contains("(sensitive value)"))
        let forbidden = Self.forbidden([signature, token, "sig=\(signature)", armToken])
        for (what, result) in [("ping", ping), ("events", events), ("events json", json)] {
            Self.expectNoLeak(result.stdout + result.stderr, forbidden, what)
        }
    }

    @Test("azure: an ARM error quoting the request, re-encoded any common way, shows neither the change's secrets nor the access token",
          arguments: EchoEncoding.allCases)
    func armErrorEcho(_ encoding: EchoEncoding) async throws {
        let armToken = "arm-token-\(UUID().uuidString)"
        let setup = try AzureCommandTests.Setup(token: armToken)
        defer { setup.finish() }
        setup.emulator.errorsQuoteRequest = true
        setup.emulator.errorQuoteEncodings = [encoding]
        setup.emulator.refuseCreates = ["hook0x"]
        let signature = "LITsig+&'\(UInt32.random(in: 0...UInt32.max))"
        let token = "LITtok+en&k'y<é> \\\(UInt32.random(in: 0...UInt32.max))"
        try setup.write("""
            {"version": 1, "owner": "team", "registries": [{"name": "prod", "azure": {"subscriptionId": "${env:SUB}", "resourceGroup": "rg-prod", "registry": "contosoprod", "endpoint": "\(setup.emulator.endpoint)"},
              "webhooks": [{"name": "hook0x", "serviceUri": "https://hooks.example.com/x?sig=\(signature)", "customHeaders": {"Authorization": "Bearer \(JSONText.quote(token).dropFirst().dropLast())"}, "actions": ["push"]}]}]}
            """)
        let applied = await setup.run(["apply", "--auto-approve"])
        #expect(applied.code == .failure)
        #expect(applied.stdout.contains("InvalidRequest"), "\(applied.stdout)")
        #expect(applied.stdout.contains("Request:"), "the emulator should have quoted the request: \(applied.stdout)")
        Self.expectNoLeak(applied.stdout + applied.stderr, Self.forbidden([signature, token, armToken]), "apply")
    }

    @Test("reconcile: an ARM error quoting the request in every re-encoding leaks nothing into the log or the --notify payloads")
    func reconcileArmErrorEcho() async throws {
        let receiver = try LoopbackReceiver()
        defer { receiver.stop() }
        let armToken = "arm-token-\(UUID().uuidString)"
        let setup = try AzureCommandTests.Setup(token: armToken)
        defer { setup.finish() }
        setup.emulator.errorsQuoteRequest = true
        setup.emulator.errorQuoteEncodings = EchoEncoding.allCases
        setup.emulator.refuseCreates = ["hook0x"]
        let signature = "LITsig+&'\(UInt32.random(in: 0...UInt32.max))"
        let token = "LITtok+en&k'y<é> \\\(UInt32.random(in: 0...UInt32.max))"
        try setup.write("""
            {"version": 1, "owner": "team", "registries": [{"name": "prod", "azure": {"subscriptionId": "${env:SUB}", "resourceGroup": "rg-prod", "registry": "contosoprod", "endpoint": "\(setup.emulator.endpoint)"},
              "webhooks": [{"name": "hook0x", "serviceUri": "https://hooks.example.com/x?sig=\(signature)", "customHeaders": {"Authorization": "Bearer \(JSONText.quote(token).dropFirst().dropLast())"}, "actions": ["push"]}]}]}
            """)
        let daemon = try ReconcileLoopEndToEndTests.Daemon.start(["--interval", "1s", "--apply", "--notify", receiver.url + "/notify"],
                                                                environment: setup.environment, directory: setup.directory)
        #expect(daemon.wait { daemon.running.stderr.contains("Request:") && !receiver.requests.isEmpty }, "\(daemon.running.stderr)")
        #expect(daemon.stop() == 0)
        let forbidden = Self.forbidden([signature, token, armToken])
        Self.expectNoLeak(daemon.running.stderr, forbidden, "the reconcile log")
        for request in receiver.requests { Self.expectNoLeak(request.bodyText, forbidden, "a notification") }
        #expect(receiver.requests.contains { $0.bodyText.contains("Request:") }, "the notification should carry the quoted error")
    }
}

import Foundation
import TestSupport
import Testing

@testable import HookApplyCLI

/// `hookapply verify` and `apply --verify` against receivers that answer 200, 500, 401, 404, 400, never,
/// or are not there: on the local registry and on the ARM emulator (which delivers pings for real and
/// logs them later, so verify has to poll listEvents).
@Suite(.serialized) struct VerifyTests {
    typealias Workspace = ReconcileCommandTests.Workspace

    /// Receivers: `fast` answers by path; `slow` never answers in time.
    struct Receivers {
        let fast: LoopbackReceiver
        let slow: LoopbackReceiver

        init() throws {
            fast = try LoopbackReceiver { request in
                let status = ["/ok": 200, "/fail": 500, "/auth": 401, "/gone": 404, "/bad": 400][request.target.split(separator: "?").first.map(String.init) ?? ""] ?? 200
                return LoopbackReceiver.Response(status: status)
            }
            slow = try LoopbackReceiver { _ in
                usleep(8_000_000)
                return LoopbackReceiver.Response(status: 200)
            }
        }

        func stop() {
            fast.stop()
            slow.stop()
        }
    }

    static func localSpec(_ receivers: Receivers) -> String {
        """
        {"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": [
          {"name": "okhook", "serviceUri": "\(receivers.fast.url)/ok?code=${env:CODE:-c0de-secret}", "customHeaders": {"Authorization": "Bearer ${env:TOKEN:-t0ken-secret}"}, "actions": ["push"]},
          {"name": "failhook", "serviceUri": "\(receivers.fast.url)/fail", "actions": ["push"]},
          {"name": "authhook", "serviceUri": "\(receivers.fast.url)/auth", "actions": ["push"]},
          {"name": "gonehook", "serviceUri": "\(receivers.fast.url)/gone", "actions": ["push"]},
          {"name": "badhook", "serviceUri": "\(receivers.fast.url)/bad", "actions": ["push"]},
          {"name": "slowhook", "serviceUri": "\(receivers.slow.url)/x", "actions": ["push"]},
          {"name": "deadhook", "serviceUri": "http://127.0.0.1:9/x", "actions": ["push"]},
          {"name": "offhook", "serviceUri": "\(receivers.fast.url)/ok", "actions": ["push"], "status": "disabled"}]}]}
        """
    }

    static let expected: [String: String] = [
        "okhook": "ok", "failhook": "server-error", "authhook": "unauthorized", "gonehook": "not-found", "badhook": "refused",
        "slowhook": "timeout", "deadhook": "transport-error", "offhook": "skipped",
    ]

    static func results(_ json: String) throws -> [String: String] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(json)")
        let rows = try #require(object["results"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: rows.compactMap { row in (row["webhook"] as? String).map { ($0, row["result"] as? String ?? "") } })
    }

    static func schema(_ name: String) throws -> SchemaCheck {
        try SchemaCheck(schemaText: String(contentsOfFile: repositoryRoot + "/schema/hookapply-\(name).schema.json", encoding: .utf8))
    }

    @Test("local: each receiver gets its verdict, within --wait; exit 1; JSON conforms; no secret shows")
    func local() async throws {
        let receivers = try Receivers()
        defer { receivers.stop() }
        let workspace = try Workspace(Self.localSpec(receivers))
        defer { workspace.remove() }
        let before = await workspace.run(["verify"])
        #expect(before.code == .failure)
        #expect(before.stdout.contains("dev/okhook") && before.stdout.contains("missing"), "not applied yet: \(before.stdout)")
        #expect(await workspace.run(["apply", "--auto-approve"]).code == .success)
        // Through the real binary, in its own process: the in-process test runner's pool is shared with
        // every other suite. The slow receiver answers after 8 s; verify does not wait for it.
        let binary = try #require(BuiltBinary("hookapply"), "build the hookapply product first (swift build)")
        let started = Date()
        let running = try binary.start(["verify", "-o", "json", "--wait", "1s"], environment: [:], directory: workspace.directory)
        let status = running.wait(timeout: 30)
        #expect(Date().timeIntervalSince(started) < 7, "the slow receiver is cut at --wait")
        #expect(status == 1, "\(running.stderr)")
        let json = (stdout: running.stdout, code: status)
        #expect(try Self.results(json.stdout) == Self.expected)
        #expect(try Self.schema("verify").problems(json.stdout) == [])
        #expect(!json.stdout.contains("c0de-secret") && !json.stdout.contains("t0ken-secret"))
        let textRun = try binary.start(["verify", "--wait", "1s"], environment: ["NO_COLOR": "1"], directory: workspace.directory)
        #expect(textRun.wait(timeout: 30) == 1)
        let text = (stdout: textRun.stdout, code: 1)
        #expect(text.stdout.contains("Verify: 1 ok, 1 refused, 5 failed, 1 skipped."), "\(text.stdout)")
        #expect(text.stdout.range(of: #"dev/failhook +server-error +500 +[0-9]+ ms +answered 500"#, options: .regularExpression) != nil, "\(text.stdout)")
    }

    @Test("refused passes unless --strict; --target narrows, without the plan's warning")
    func strictAndTarget() async throws {
        let receivers = try Receivers()
        defer { receivers.stop() }
        let workspace = try Workspace(Self.localSpec(receivers))
        defer { workspace.remove() }
        #expect(await workspace.run(["apply", "--auto-approve"]).code == .success)
        let refused = await workspace.run(["verify", "--target", "dev/badhook", "--target", "dev/okhook"])
        #expect(refused.code == .success, "\(refused.stdout)")
        #expect(!refused.stderr.contains("warning: --target"), "\(refused.stderr)")
        #expect(!refused.stdout.contains("failhook"))
        let strict = await workspace.run(["verify", "--target", "dev/badhook", "--strict"])
        #expect(strict.code == .failure)
    }

    @Test("Azure: ARM's ping, then listEvents until the delivery is logged; each verdict; a delivery never logged is a timeout")
    func azure() async throws {
        let receivers = try Receivers()
        defer { receivers.stop() }
        let setup = try AzureCommandTests.Setup()
        defer { setup.finish() }
        setup.emulator.deliversPings = true
        setup.emulator.pingDeliveryTimeout = 1
        let hooks = [("okhook", "\(receivers.fast.url)/ok"), ("failhook", "\(receivers.fast.url)/fail"), ("slowhook", "\(receivers.slow.url)/x")]
            .map { #"{"name": "\#($0.0)", "serviceUri": "\#($0.1)", "actions": ["push"]}"# }
        try setup.write("""
            {"version": 1, "owner": "team", "registries": [{"name": "prod", "azure": {"subscriptionId": "${env:SUB}", "resourceGroup": "rg-prod", "registry": "contosoprod", "endpoint": "\(setup.emulator.endpoint)"},
              "webhooks": [\(hooks.joined(separator: ","))]}]}
            """)
        #expect(await setup.run(["apply", "--auto-approve"]).code == .success)
        let verified = await setup.run(["verify", "-o", "json", "--wait", "10s"])
        #expect(verified.code == .failure, "\(verified.stderr)")
        #expect(try Self.results(verified.stdout) == ["okhook": "ok", "failhook": "server-error", "slowhook": "timeout"], "\(verified.stdout)")
        #expect(try Self.schema("verify").problems(verified.stdout) == [])
        // A registry that logs nothing within --wait: a timeout, not an error.
        setup.emulator.pingDeliveryTimeout = 5
        let short = await setup.run(["verify", "--target", "prod/slowhook", "--wait", "500ms", "-o", "json"])
        #expect(try Self.results(short.stdout) == ["slowhook": "timeout"], "\(short.stdout)")
    }

    @Test("apply --verify: 0 when both pass, 3 when the apply succeeded but a receiver failed, 1 when the apply failed")
    func applyVerify() async throws {
        let receivers = try Receivers()
        defer { receivers.stop() }
        let good = try Workspace("""
            {"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": [
              {"name": "okhook", "serviceUri": "\(receivers.fast.url)/ok", "actions": ["push"]},
              {"name": "offhook", "serviceUri": "\(receivers.fast.url)/fail", "actions": ["push"], "status": "disabled"}]}]}
            """)
        defer { good.remove() }
        let passed = await good.run(["apply", "--auto-approve", "--verify"])
        #expect(passed.code == .success, "\(passed.stdout)\(passed.stderr)")
        #expect(passed.stdout.contains("Apply complete") && passed.stdout.contains("Verify: 1 ok, 0 failed, 1 skipped."), "\(passed.stdout)")

        let bad = try Workspace("""
            {"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": [
              {"name": "okhook", "serviceUri": "\(receivers.fast.url)/ok", "actions": ["push"]},
              {"name": "failhook", "serviceUri": "\(receivers.fast.url)/fail", "actions": ["push"]}]}]}
            """)
        defer { bad.remove() }
        let failed = await bad.run(["apply", "--auto-approve", "--verify", "-o", "json"])
        #expect(failed.code == .verifyFailed, "\(failed.stderr)")
        #expect(failed.code.rawValue == 3)
        #expect(failed.stderr.contains("the apply succeeded, but verification failed: dev/failhook (server-error)"), "\(failed.stderr)")
        #expect(try Self.schema("apply").problems(failed.stdout) == [])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(failed.stdout.utf8)) as? [String: Any])
        #expect((report["verify"] as? [String: Any])?["passed"] as? Bool == false)
        // Nothing changed: nothing to verify, and the apply's answer stands.
        let again = await bad.run(["apply", "--auto-approve", "--verify"])
        #expect(again.code == .success, "\(again.stdout)")

        // An apply that fails is not verified: exit 1.
        let setup = try AzureCommandTests.Setup()
        defer { setup.finish() }
        setup.emulator.failNextCreates = 100
        try setup.write(AzureCommandTests.spec(endpoint: setup.emulator.endpoint, webhooks: 1))
        let applyFailed = await setup.run(["apply", "--auto-approve", "--verify", "-o", "json"])
        #expect(applyFailed.code == .failure, "\(applyFailed.stdout)")
        #expect(!applyFailed.stdout.contains("\"verify\""))
    }
}

/// reconcile's delivery-health read on Azure, through the real binary: one listEvents call per declared
/// webhook, and the cost said in the log line, as counted at the emulator.
@Suite(.serialized) struct DeliveryHealthCostTests {
    @Test("the delivery-health log line names the ARM calls it made, and they are what the registry saw", .timeLimit(.minutes(1)))
    func azureCost() async throws {
        let setup = try AzureCommandTests.Setup()
        defer { setup.finish() }
        try setup.write(AzureCommandTests.spec(endpoint: setup.emulator.endpoint, webhooks: 4))
        #expect(await setup.run(["apply", "--auto-approve"]).code == .success)
        let binary = try #require(BuiltBinary("hookapply"), "build the hookapply product first (swift build)")
        let before = setup.emulator.requests.count
        let daemon = try binary.start(["reconcile", "--interval", "1h", "--delivery-health-every", "10m", "--log-format", "json"],
                                      environment: setup.environment, directory: setup.directory)
        defer { daemon.send(SIGKILL); _ = daemon.wait(timeout: 5) }
        #expect(daemon.wait(until: { daemon.stderr.contains("\"event\":\"cycle.finished\"") }, timeout: 30), "\(daemon.stderr)")
        daemon.send(SIGTERM)
        _ = daemon.wait(timeout: 20)
        let line = try #require(daemon.stderr.split(separator: "\n").first { $0.contains("\"event\":\"delivery_health.checked\"") }, "\(daemon.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["webhooks"] as? Int == 4)
        #expect(object["calls"] as? Int == 4, "one listEvents page per webhook: \(line)")
        #expect(object["calls_per_hour"] as? Int == 24, "4 calls every 10 minutes")
        let listEvents = setup.emulator.requests.dropFirst(before).filter { $0.contains("/listEvents") }
        #expect(listEvents.count == 4, "\(listEvents)")
    }
}

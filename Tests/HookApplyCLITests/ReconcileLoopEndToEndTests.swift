import Foundation
import HookKit
import HookSpec
import LocalRegistry
import Reconciler
import TestSupport
import Testing

/// `hookapply reconcile` through the real binary, on the local registry, the ARM emulator and a git
/// repository made by the test: drift reported within an interval (and corrected with --apply), spec
/// changes picked up, an invalid spec survived, a failing registry isolated, metrics, notifications
/// once per transition, SIGTERM mid-cycle, and --git-pull.
@Suite(.serialized) struct ReconcileLoopEndToEndTests {
    typealias Workspace = ReconcileCommandTests.Workspace

    /// A running `hookapply reconcile` with its status listener.
    struct Daemon {
        let running: BuiltBinary.Running
        let port: UInt16

        static func start(_ arguments: [String], environment: [String: String] = [:], directory: String) throws -> Daemon {
            let binary = try #require(BuiltBinary("hookapply"), "build the hookapply product first (swift build)")
            let running = try binary.start(["reconcile", "--listen", "127.0.0.1:0"] + arguments, environment: environment, directory: directory)
            var port: UInt16 = 0
            _ = running.wait(until: {
                guard let range = running.stderr.range(of: "serving http://127.0.0.1:") else { return false }
                let digits = running.stderr[range.upperBound...].prefix { $0.isNumber }
                port = UInt16(digits) ?? 0
                return port != 0
            }, timeout: 10)
            if port == 0 { _ = running.wait(timeout: 1) }
            try #require(port != 0, "reconcile did not start listening: \(running.stderr)")
            return Daemon(running: running, port: port)
        }

        /// A GET on the status listener: the status code and body.
        func get(_ path: String) -> (status: Int, body: String) {
            guard let connection = try? RawConnection(port: port) else { return (0, "") }
            defer { connection.close() }
            connection.send(Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8))
            let text = connection.readAll().text
            let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
            let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
            return (status, body)
        }

        /// The value of one sample on /metrics (`name{labels}` exactly as written), or nil.
        func metric(_ sample: String) -> Double? {
            for line in get("/metrics").body.split(separator: "\n") where line.hasPrefix(sample + " ") {
                return Double(line.dropFirst(sample.count + 1))
            }
            return nil
        }

        /// Waits until `condition` holds (or the timeout passes): intervals are 1 s, so a few seconds is ample.
        @discardableResult
        func wait(_ timeout: Double = 8, until condition: () -> Bool) -> Bool {
            running.wait(until: condition, timeout: timeout)
        }

        /// SIGTERM, then the exit code (nil if it did not exit within 15 s).
        func stop() -> Int32? {
            running.send(SIGTERM)
            return running.wait(timeout: 15)
        }
    }

    @Test("local: drift made by hand is reported without --apply and corrected with it; /metrics, /healthz and /readyz say so")
    func localDrift() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        #expect(await workspace.run(["apply", "--auto-approve"]).code == .success)
        try await workspace.provider("dev").delete(name: "scanner")  // by hand, behind the spec's back
        let report = try Daemon.start(["--interval", "1s"], directory: workspace.directory)
        #expect(report.wait { report.metric(#"hookapply_drift_changes{registry="dev",action="create"}"#) == 1 }, "\(report.running.stderr)")
        // Metrics are recorded before the log line is written, and the pipe is read by another thread: wait for lines.
        #expect(report.wait { report.running.stderr.contains("registry 'dev': drift: 1 to create, 0 to update, 0 to delete: scanner (create)") }, "\(report.running.stderr)")
        #expect(report.get("/healthz").status == 200)
        #expect(report.get("/readyz").status == 200)
        #expect(report.get("/nowhere").status == 404)
        let metrics = report.get("/metrics").body
        for family in ["hookapply_reconcile_cycles_total{result=\"success\"}", "hookapply_drift_changes{registry=\"prod\",action=\"delete\"} 0",
                       "hookapply_applied_changes_total", "hookapply_last_success_timestamp_seconds{registry=\"dev\"}", "hookapply_spec_valid 1",
                       "hookapply_reconcile_cycle_duration_seconds_bucket{le=\"+Inf\"}", "hookapply_info{version=\"\(Product.version)\",revision=\"\"} 1"] {
            #expect(metrics.contains(family), "\(family) missing from\n\(metrics)")
        }
        // Reported, not corrected, and still not after another cycle.
        let cycles = report.metric(#"hookapply_reconcile_cycles_total{result="success"}"#) ?? 0
        #expect(report.wait { (report.metric(#"hookapply_reconcile_cycles_total{result="success"}"#) ?? 0) > cycles })
        #expect(try await workspace.provider("dev").observe().webhooks.count == 1)
        #expect(report.stop() == 0)

        let apply = try Daemon.start(["--interval", "1s", "--apply"], directory: workspace.directory)
        #expect(apply.wait { apply.metric(#"hookapply_applied_changes_total{registry="dev",action="create",result="success"}"#) == 1 }, "\(apply.running.stderr)")
        #expect(apply.metric(#"hookapply_drift_changes{registry="dev",action="create"}"#) == 0)
        #expect(try await workspace.provider("dev").observe().webhooks.count == 2)
        // Drift made while it runs is corrected within an interval.
        try await workspace.provider("prod").delete(name: "audit")
        #expect(apply.wait { apply.metric(#"hookapply_applied_changes_total{registry="prod",action="create",result="success"}"#) == 1 }, "\(apply.running.stderr)")
        #expect(apply.stop() == 0)
        #expect(await workspace.run(["plan", "--detailed-exitcode"]).code == .success)
        #expect(!apply.running.stderr.contains("t0ken") && !apply.running.stderr.contains("c0de"))
    }

    @Test("an address in use is said once, in one sentence, and reconcile exits 1")
    func listenInUse() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let taken = try LoopbackReceiver()
        defer { taken.stop() }
        let address = taken.url.replacingOccurrences(of: "http://", with: "")
        let binary = try #require(BuiltBinary("hookapply"))
        let running = try binary.start(["reconcile", "--listen", address, "--interval", "1h"], environment: [:], directory: workspace.directory)
        #expect(running.wait(timeout: 15) == 1, "\(running.stderr)")
        #expect(running.stderr.components(separatedBy: "cannot listen on").count == 2, "\(running.stderr)")
        #expect(running.stderr.contains("error: cannot listen on \(address): "), "\(running.stderr)")
    }

    @Test("a spec that becomes a FIFO or a link to /proc/self/fd/2 never hangs the loop: cycles go on with the last good spec, SIGTERM is prompt")
    func specBecomesFIFO() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let daemon = try Daemon.start(["--interval", "1s"], directory: workspace.directory)
        #expect(daemon.wait { daemon.running.stderr.contains("cycle 1 finished") }, "\(daemon.running.stderr)")
        let spec = workspace.directory + "/webhooks.json"
        for fifo in [true, false] {
            try FileManager.default.removeItem(atPath: spec)
            #expect(fifo ? mkfifo(spec, 0o600) == 0 : symlink("/proc/self/fd/2", spec) == 0)
            let reason = fifo ? "pipe (FIFO)" : "under /proc"
            #expect(daemon.wait { daemon.running.stderr.contains(reason) }, "\(daemon.running.stderr)")
            let cycles = daemon.metric(#"hookapply_reconcile_cycles_total{result="success"}"#) ?? 0
            #expect(daemon.wait { (daemon.metric(#"hookapply_reconcile_cycles_total{result="success"}"#) ?? 0) > cycles }, "the loop stopped cycling")
            #expect(daemon.metric("hookapply_spec_valid") == 0)
            #expect(daemon.get("/healthz").status == 200)
            #expect(daemon.get("/readyz").status == 200, "the last good spec is still reconciled")
        }
        let started = Date()
        #expect(daemon.stop() == 0)
        #expect(Date().timeIntervalSince(started) < 5, "SIGTERM took \(Date().timeIntervalSince(started)) s")
    }

    @Test("SIGHUP starts a cycle now, however long the interval")
    func sighup() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let daemon = try Daemon.start(["--interval", "1h"], directory: workspace.directory)
        #expect(daemon.wait { daemon.running.stderr.contains("cycle 1 finished") }, "\(daemon.running.stderr)")
        #expect(!daemon.running.stderr.contains("cycle 2 finished"))
        daemon.running.send(SIGHUP)
        #expect(daemon.wait(5) { daemon.running.stderr.contains("cycle 2 finished") }, "\(daemon.running.stderr)")
        #expect(daemon.wait { daemon.running.stderr.contains("received SIGHUP; starting a cycle now") }, "\(daemon.running.stderr)")
        #expect(daemon.metric(#"hookapply_reconcile_cycles_total{result="success"}"#) == 2)
        #expect(daemon.stop() == 0)
    }

    @Test("delivery health from the local event log: a receiver that fails shows on /metrics for managed webhooks")
    func deliveryHealth() async throws {
        let receiver = try LoopbackReceiver(status: 503)
        defer { receiver.stop() }
        let workspace = try Workspace(#"{"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": [{"name": "failing1", "serviceUri": "\#(receiver.url)/hook", "actions": ["push"]}]}]}"#)
        defer { workspace.remove() }
        #expect(await workspace.run(["apply", "--auto-approve"]).code == .success)
        #expect(await workspace.run(["ping", "failing1"]).code == .failure)
        let daemon = try Daemon.start(["--interval", "1h", "--delivery-health-every", "1s"], directory: workspace.directory)
        #expect(daemon.wait { daemon.metric(#"hookapply_webhook_last_delivery_success{registry="dev",webhook="failing1"}"#) == 0 }, "\(daemon.get("/metrics").body)")
        #expect(daemon.metric(#"hookapply_webhook_delivery_failures_total{registry="dev",webhook="failing1"}"#) == 1)
        #expect((daemon.metric(#"hookapply_webhook_last_delivery_timestamp_seconds{registry="dev",webhook="failing1"}"#) ?? 0) > 1_700_000_000)
        #expect(daemon.stop() == 0)
    }

    @Test("--log-format json: every line is an object, and counts, durations and flags are JSON numbers and booleans")
    func jsonLogTypes() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let daemon = try Daemon.start(["--interval", "1h", "--log-format", "json"], directory: workspace.directory)
        #expect(daemon.wait { daemon.running.stderr.contains("\"event\":\"cycle.finished\"") }, "\(daemon.running.stderr)")
        #expect(daemon.stop() == 0)
        var byEvent: [String: String] = [:]
        for line in daemon.running.stderr.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            if let event = object["event"] as? String { byEvent[event] = String(line) }
        }
        // Read from the text itself: a quoted "5" and a bare 5 decode alike in some JSON libraries.
        func has(_ line: String?, _ key: String, _ pattern: String) -> Bool {
            line?.range(of: "\"\(key)\":\(pattern)[,}]", options: .regularExpression) != nil
        }
        let number = "-?[0-9]+(\\.[0-9]+)?"
        let started = byEvent["reconcile.started"]
        #expect(has(started, "apply", "(true|false)") && has(started, "interval_seconds", number), "\(started ?? "no reconcile.started")")
        let finished = byEvent["cycle.finished"]
        #expect(has(finished, "cycle", number) && has(finished, "duration_ms", number) && has(finished, "next_seconds", number), "\(finished ?? "")")
        #expect(has(finished, "result", "\"success\""))
        let drifted = byEvent["registry.drift"] ?? byEvent["registry.in_sync"]
        #expect(has(drifted, "drift", number) && has(drifted, "registry", "\"[a-z]+\""), "\(drifted ?? "no registry line")")
    }

    @Test("a spec change is picked up; an invalid spec keeps the last good one and sets hookapply_spec_valid 0")
    func specChanges() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let daemon = try Daemon.start(["--interval", "1s", "--apply"], directory: workspace.directory)
        #expect(daemon.wait { (try? workspace.provider("dev").currentWebhooks().count) == 2 }, "\(daemon.running.stderr)")
        try workspace.write(ReconcileCommandTests.spec.replacingOccurrences(
            of: #"{"name": "scanner","#, with: #"{"name": "newcomer", "serviceUri": "https://new.example.com/", "actions": ["push"]}, {"name": "scanner","#))
        #expect(daemon.wait { (try? workspace.provider("dev").currentWebhooks().count) == 3 }, "\(daemon.running.stderr)")
        #expect(daemon.running.stderr.contains("the spec changed; reconciling the new one"))
        try workspace.write(#"{"version": 1, "registries": [ {"name": "dev", "#)  // a half-written file
        #expect(daemon.wait { daemon.metric("hookapply_spec_valid") == 0 }, "\(daemon.running.stderr)")
        #expect(daemon.wait { daemon.running.stderr.contains("error: webhooks.json:1:") }, "\(daemon.running.stderr)")
        // The last good spec (three webhooks in dev) is still enforced.
        try await workspace.provider("dev").delete(name: "newcomer")
        #expect(daemon.wait { (try? workspace.provider("dev").currentWebhooks().count) == 3 }, "\(daemon.running.stderr)")
        try workspace.write(ReconcileCommandTests.spec)
        #expect(daemon.wait { daemon.metric("hookapply_spec_valid") == 1 })
        #expect(daemon.stop() == 0)
    }

    @Test("a failing registry does not block a healthy one; /readyz names it; its state file is left as it was")
    func failingRegistry() async throws {
        let spec = """
            {"version": 1, "owner": "team", "registries": [
              {"name": "broken", "local": {"path": "broken.json"}, "webhooks": [{"name": "alpha1", "serviceUri": "https://a.example.com/", "actions": ["push"]}]},
              {"name": "healthy", "local": {"path": "healthy.json"}, "webhooks": [{"name": "alpha1", "serviceUri": "https://a.example.com/", "actions": ["push"]}]}]}
            """
        let workspace = try Workspace(spec)
        defer { workspace.remove() }
        let garbage = "not a state file {"
        try workspace.write(garbage, to: "broken.json")
        let daemon = try Daemon.start(["--interval", "1s", "--apply"], directory: workspace.directory)
        #expect(daemon.wait { daemon.metric(#"hookapply_registry_up{registry="healthy"}"#) == 1 }, "\(daemon.running.stderr)")
        #expect(daemon.metric(#"hookapply_registry_up{registry="broken"}"#) == 0)
        #expect(daemon.metric(#"hookapply_reconcile_cycles_total{result="partial"}"#) ?? 0 >= 1)
        let ready = daemon.get("/readyz")
        #expect(ready.status == 503 && ready.body.contains("'broken'"), "\(ready)")
        #expect(daemon.wait { daemon.running.stderr.contains("error: registry 'broken':") }, "\(daemon.running.stderr)")
        #expect(daemon.stop() == 0)
        #expect(try String(contentsOfFile: workspace.directory + "/broken.json", encoding: .utf8) == garbage)
        #expect(try LocalRegistryProvider(path: workspace.directory + "/healthy.json").currentWebhooks().count == 1)
    }

    @Test("notifications arrive once per transition, masked, with a text; a failing receiver never stops the loop")
    func notifications() async throws {
        let receiver = try LoopbackReceiver()
        defer { receiver.stop() }
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let secret = "planted-\(UUID().uuidString)"
        let environment = ["TOKEN": secret, "CODE": secret + "-code"]
        let daemon = try Daemon.start(["--interval", "1s", "--notify", receiver.url + "/hooks/T000/B000/slack-key"], environment: environment,
                                      directory: workspace.directory)
        #expect(daemon.wait { receiver.requests.count == 2 }, "\(daemon.running.stderr)")  // dev and prod both drifted
        let cycles = daemon.metric(#"hookapply_reconcile_cycles_total{result="success"}"#) ?? 0
        #expect(daemon.wait { (daemon.metric(#"hookapply_reconcile_cycles_total{result="success"}"#) ?? 0) >= cycles + 2 })
        #expect(receiver.requests.count == 2, "a notification per cycle, not per transition")
        #expect(await workspace.run(["apply", "--auto-approve"], environment: environment).code == .success)
        #expect(daemon.wait { receiver.requests.count == 4 }, "\(daemon.running.stderr)")
        #expect(daemon.stop() == 0)
        let bodies = receiver.requests.map(\.bodyText)
        let documents = try bodies.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let kinds = documents.map { "\($0["registry"] ?? "")/\($0["kind"] ?? "")" }.sorted()
        #expect(kinds == ["dev/drift_detected", "dev/drift_resolved", "prod/drift_detected", "prod/drift_resolved"], "\(kinds)")
        let detected = try #require(documents.first { $0["kind"] as? String == "drift_detected" && $0["registry"] as? String == "dev" })
        #expect((detected["text"] as? String)?.contains("registry 'dev' has drifted from the spec: 2 to create") == true, "\(detected)")
        let changes = try #require(detected["changes"] as? [[String: Any]])
        #expect(changes.count == 2 && changes.allSatisfy { $0["action"] as? String == "create" })
        for body in bodies { #expect(!body.contains(secret), "a notification carried the secret: \(body)") }
        #expect(!daemon.running.stderr.contains(secret))
        #expect(!daemon.running.stderr.contains("slack-key"), "the log named the notification URL's path")

        // A receiver that always fails: retried a bounded number of times, then given up; cycles go on.
        let failing = try LoopbackReceiver(status: 500)
        defer { failing.stop() }
        let other = try Workspace(ReconcileCommandTests.spec)
        defer { other.remove() }
        let stubborn = try Daemon.start(["--interval", "1s", "--registry", "dev", "--notify", failing.url + "/x"],
                                        environment: ["HOOKAPPLY_NOTIFY_BACKOFF_SECONDS": "0.05"], directory: other.directory)
        #expect(stubborn.wait { stubborn.running.stderr.contains("after 4 attempts") }, "\(stubborn.running.stderr)")
        #expect(failing.requests.count == 4)
        let before = stubborn.metric(#"hookapply_reconcile_cycles_total{result="success"}"#) ?? 0
        #expect(stubborn.wait { (stubborn.metric(#"hookapply_reconcile_cycles_total{result="success"}"#) ?? 0) > before })
        #expect(stubborn.stop() == 0)
    }

    @Test("SIGTERM mid-cycle exits 0 after the change in flight: every state file reads, nothing is lost, a re-apply converges")
    func sigtermMidCycle() async throws {
        // Five registries of 500 (the most a tier allows): 2,500 creates, each registry committed per phase.
        let hooks = (0..<500).map { #"{"name": "hook\#($0)x", "serviceUri": "https://h.example.com/\#($0)", "actions": ["push"]}"# }.joined(separator: ",")
        let registries = (0..<5).map { #"{"name": "reg\#($0)", "local": {}, "webhooks": [\#(hooks)]}"# }.joined(separator: ",")
        let spec = #"{"version": 1, "registries": [\#(registries)]}"#
        var random = SeededRandom(state: 14)
        var midCycle = 0
        for round in 0..<3 {
            let workspace = try Workspace(spec)
            defer { workspace.remove() }
            if round == 2 { #expect(await workspace.run(["apply", "--auto-approve"]).code == .success) }  // full registries: the loop only observes
            let daemon = try Daemon.start(["--interval", "1h", "--apply"], directory: workspace.directory)
            _ = daemon.wait(5) { daemon.running.stderr.contains("reconciling every") }
            usleep(useconds_t(random.below(40_000)))
            #expect(daemon.stop() == 0, "\(daemon.running.stderr)")
            // Registries are logged when the cycle ends: a signal logged before them came mid-cycle.
            let log = daemon.running.stderr
            if let signal = log.range(of: "received SIGTERM"), let registry = log.range(of: "registry 'reg"), signal.lowerBound < registry.lowerBound { midCycle += 1 }
            // Changes the signal kept from starting are not failures, and are not logged as errors.
            #expect(!log.contains("failed: not started"), "\(log.suffix(2000))")
            func counts() -> [Int] {
                (0..<5).map { (try? LocalRegistryProvider(path: workspace.directory + "/.hookapply/reg\($0).json").currentWebhooks().count) ?? -1 }
            }
            // Every state file reads (a missing one as empty): the changes done before the signal were
            // committed, none after it started, and nothing that existed was lost.
            #expect(counts().allSatisfy { (0...500).contains($0) }, "\(counts())")
            if round == 2 { #expect(counts() == [500, 500, 500, 500, 500], "webhooks were lost") }
            let reapplied = await workspace.run(["apply", "--auto-approve"])
            #expect(reapplied.code == .success, "\(reapplied.stderr)")
            #expect(counts() == [500, 500, 500, 500, 500])
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: workspace.directory + "/.hookapply").filter { $0.contains(".tmp-") }
            #expect(leftovers.isEmpty, "\(leftovers)")
        }
        #expect(midCycle >= 1, "no SIGTERM arrived during a cycle; the test proved nothing")
    }

    @Test("Azure: an ARM PATCH made behind the spec's back is reported, then corrected with --apply")
    func azureDrift() async throws {
        let setup = try AzureCommandTests.Setup()
        defer { setup.finish() }
        try setup.write(AzureCommandTests.spec(endpoint: setup.emulator.endpoint, webhooks: 2))
        #expect(await setup.run(["apply", "--auto-approve"]).code == .success)
        try setup.armPatch(webhook: "hook1x", properties: ["serviceUri": "https://attacker.example.com/steal"])
        let report = try Daemon.start(["--interval", "1s"], environment: setup.environment, directory: setup.directory)
        #expect(report.wait { report.metric(#"hookapply_drift_changes{registry="prod",action="update"}"#) == 1 }, "\(report.running.stderr)")
        #expect(report.wait { report.running.stderr.contains("hook1x (update: serviceUri)") }, "\(report.running.stderr)")
        #expect(report.stop() == 0)
        #expect(setup.emulator.hooks(subscription: AzureCommandTests.subscription, group: "rg-prod", name: "contosoprod")
            .first { $0.name == "hook1x" }?.serviceUri == "https://attacker.example.com/steal")
        let apply = try Daemon.start(["--interval", "1s", "--apply"], environment: setup.environment, directory: setup.directory)
        #expect(apply.wait { apply.metric(#"hookapply_applied_changes_total{registry="prod",action="update",result="success"}"#) == 1 }, "\(apply.running.stderr)")
        // Drift made while the loop runs (its providers are reused between cycles) is seen and corrected too.
        try setup.armPatch(webhook: "hook0x", properties: ["serviceUri": "https://attacker.example.com/again"])
        #expect(apply.wait { apply.metric(#"hookapply_applied_changes_total{registry="prod",action="update",result="success"}"#) == 2 }, "\(apply.running.stderr)")
        #expect(apply.stop() == 0)
        #expect(setup.emulator.hooks(subscription: AzureCommandTests.subscription, group: "rg-prod", name: "contosoprod")
            .first { $0.name == "hook0x" }?.serviceUri == "https://hooks.example.com/0?code=c0de-secret")
        #expect(setup.emulator.hooks(subscription: AzureCommandTests.subscription, group: "rg-prod", name: "contosoprod")
            .first { $0.name == "hook1x" }?.serviceUri == "https://hooks.example.com/1?code=c0de-secret")
        #expect(!apply.running.stderr.contains("c0de-secret") && !apply.running.stderr.contains("t0ken-secret"))
    }

    @Test("--git-pull: a pushed spec that links outside the working copy, or a local path outside it, is refused unread; its content never reaches the log")
    func gitPullOutside() async throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let environment = ["HOME": root, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"]
        func git(_ arguments: [String], in folder: String) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["git", "-C", folder] + arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            try #require(process.terminationStatus == 0, "git \(arguments.joined(separator: " "))")
        }
        try git(["init", "--bare", "-q", "-b", "main", root + "/upstream.git"], in: root)
        try git(["clone", "-q", root + "/upstream.git", root + "/author"], in: root)
        let good = #"{"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": [{"name": "first1", "serviceUri": "https://a.example.com/", "actions": ["push"]}]}]}"#
        try good.write(toFile: root + "/author/webhooks.json", atomically: true, encoding: .utf8)
        try git(["add", "webhooks.json"], in: root + "/author")
        try git(["commit", "-q", "-m", "one"], in: root + "/author")
        try git(["push", "-q", "origin", "HEAD:main"], in: root + "/author")
        try git(["clone", "-q", root + "/upstream.git", root + "/deployed"], in: root)
        // A file outside the repository that a link in a commit will point at.
        try #""SECRET-FROM-OUTSIDE-REPO""#.write(toFile: root + "/outside.json", atomically: true, encoding: .utf8)

        let daemon = try Daemon.start(["--interval", "1s", "--git-pull"], environment: environment, directory: root + "/deployed")
        #expect(daemon.wait { daemon.running.stderr.contains("cycle 1 finished") }, "\(daemon.running.stderr)")
        try FileManager.default.removeItem(atPath: root + "/author/webhooks.json")
        #expect(symlink("../outside.json", root + "/author/webhooks.json") == 0)
        try git(["add", "webhooks.json"], in: root + "/author")
        try git(["commit", "-q", "-m", "link out"], in: root + "/author")
        try git(["push", "-q", "origin", "HEAD:main"], in: root + "/author")
        #expect(daemon.wait { daemon.running.stderr.contains("resolves outside it") }, "\(daemon.running.stderr)")
        #expect(daemon.metric("hookapply_spec_valid") == 0)

        // A spec in the repository whose local path leaves it.
        try FileManager.default.removeItem(atPath: root + "/author/webhooks.json")
        try good.replacingOccurrences(of: #""local": {}"#, with: #""local": {"path": "../../escaped.json"}"#)
            .write(toFile: root + "/author/webhooks.json", atomically: true, encoding: .utf8)
        try git(["add", "webhooks.json"], in: root + "/author")
        try git(["commit", "-q", "-m", "path out"], in: root + "/author")
        try git(["push", "-q", "origin", "HEAD:main"], in: root + "/author")
        #expect(daemon.wait { daemon.running.stderr.contains("'local.path' must resolve inside the working copy") }, "\(daemon.running.stderr)")
        #expect(daemon.stop() == 0)
        #expect(!daemon.running.stderr.contains("SECRET-FROM-OUTSIDE-REPO"), "\(daemon.running.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root + "/escaped.json"))
    }

    @Test("--git-pull follows a commit pushed to the upstream, records the revision, and refuses a dirty working copy")
    func gitPull() async throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let environment = ["HOME": root, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"]
        func git(_ arguments: [String], in folder: String) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["git", "-C", folder] + arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            try #require(process.terminationStatus == 0, "git \(arguments.joined(separator: " ")): \(text)")
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        _ = try git(["init", "--bare", "-q", "-b", "main", root + "/upstream.git"], in: root)
        _ = try git(["clone", "-q", root + "/upstream.git", root + "/author"], in: root)
        // The state stays inside the working copy (with --git-pull every local path must), in .hookapply/,
        // which ignores itself, so git sees no local change.
        let one = #"{"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": [{"name": "first1", "serviceUri": "https://a.example.com/", "actions": ["push"]}]}]}"#
        try one.write(toFile: root + "/author/webhooks.json", atomically: true, encoding: .utf8)
        _ = try git(["add", "webhooks.json"], in: root + "/author")
        _ = try git(["commit", "-q", "-m", "one"], in: root + "/author")
        _ = try git(["push", "-q", "origin", "HEAD:main"], in: root + "/author")
        _ = try git(["clone", "-q", root + "/upstream.git", root + "/deployed"], in: root)
        let state = root + "/deployed/.hookapply/dev.json"

        let daemon = try Daemon.start(["--interval", "1s", "--apply", "--git-pull"], environment: environment, directory: root + "/deployed")
        #expect(daemon.wait { (try? LocalRegistryProvider(path: state).currentWebhooks().count) == 1 }, "\(daemon.running.stderr)")
        let two = one.replacingOccurrences(of: #"["push"]}]}]}"#, with: #"["push"]}, {"name": "second2", "serviceUri": "https://b.example.com/", "actions": ["push"]}]}]}"#)
        try two.write(toFile: root + "/author/webhooks.json", atomically: true, encoding: .utf8)
        _ = try git(["commit", "-q", "-am", "two"], in: root + "/author")
        _ = try git(["push", "-q", "origin", "HEAD:main"], in: root + "/author")
        let revision = try git(["rev-parse", "HEAD"], in: root + "/author")
        #expect(daemon.wait { (try? LocalRegistryProvider(path: state).currentWebhooks().count) == 2 }, "\(daemon.running.stderr.suffix(3000))")
        #expect(daemon.running.stderr.contains("spec at revision \(revision)"), "\(daemon.running.stderr)")
        // The state file is written before the cycle's closing log line: wait for the line, do not assume it.
        #expect(daemon.wait { daemon.running.stderr.contains("at revision \(revision.prefix(12)): success") }, "the cycle's log line names its revision")
        #expect(daemon.metric("hookapply_info{version=\"\(Product.version)\",revision=\"\(revision)\"}") == 1)
        // A hand edit in the deployed copy: refused, named, and nothing reconciled from it.
        try one.write(toFile: root + "/deployed/webhooks.json", atomically: true, encoding: .utf8)
        #expect(daemon.wait { daemon.running.stderr.contains("has local changes ('webhooks.json')") }, "\(daemon.running.stderr)")
        #expect(daemon.wait { daemon.metric(#"hookapply_reconcile_cycles_total{result="failure"}"#) ?? 0 >= 1 })
        #expect(try LocalRegistryProvider(path: state).currentWebhooks().count == 2)
        #expect(daemon.stop() == 0)

        // A remote that hangs: SIGTERM during the pull stops git and the loop at once, exit 0.
        _ = try git(["checkout", "--", "webhooks.json"], in: root + "/deployed")
        let bin = root + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let searchPath = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        let realGit = try #require(searchPath.map { $0 + "/git" }.first { FileManager.default.isExecutableFile(atPath: $0) })
        let hanging = "#!/bin/sh\nfor argument in \"$@\"; do [ \"$argument\" = pull ] && exec sleep 60; done\nexec \(realGit) \"$@\"\n"
        try hanging.write(toFile: bin + "/git", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin + "/git")
        let stuck = try Daemon.start(["--interval", "1s", "--git-pull"],
                                     environment: environment.merging(["PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]) { $1 },
                                     directory: root + "/deployed")
        usleep(500_000)  // the first cycle's pull is hanging now
        let began = Date()
        #expect(stuck.stop() == 0, "\(stuck.running.stderr)")
        #expect(Date().timeIntervalSince(began) < 5, "a hung git pull held up the shutdown")
        #expect(!stuck.running.stderr.contains("local changes") && !stuck.running.stderr.contains("cycle 1 finished"), "\(stuck.running.stderr)")

        // Not a working copy at all: refused at the start.
        let plain = root + "/plain"
        try FileManager.default.createDirectory(atPath: plain, withIntermediateDirectories: true)
        try one.write(toFile: plain + "/webhooks.json", atomically: true, encoding: .utf8)
        let refused = await hookapply(["reconcile", "--git-pull"], environment: environment.merging(["GIT_CEILING_DIRECTORIES": root]) { $1 }, directory: plain)
        #expect(refused.code == .failure)
        #expect(refused.stderr.contains("is not in a git working copy"), "\(refused.stderr)")
    }

    @Test("bad arguments are refused before anything starts", arguments: [
        (["--interval", "5"], "is not a duration"),
        (["--interval", "0s"], "from 1s to 24h"),
        (["--interval", "25h"], "from 1s to 24h"),
        (["-f", "-"], "standard input can be read only once"),
        (["--listen", "nohost"], "--listen needs HOST:PORT"),
        (["--notify", "ftp://x.example.com/secret-path"], "not a valid http(s) URL"),
    ])
    func badArguments(arguments: [String], message: String) async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let result = await workspace.run(["reconcile"] + arguments)
        #expect(result.code == .usage)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!result.stderr.contains("secret-path"))
    }
}

import Foundation
import HookSpec
import Reconciler
import TestSupport
import Testing

@testable import HookApplyCLI

/// plan and apply against Azure Container Registry, through the real provider over loopback HTTP to an
/// ARM emulator (long-running operations, paging, throttling, quotas, sign-in).
@Suite struct AzureCommandTests {
    static let subscription = "6e9ef8d4-3c07-4a07-9d7e-1c4f3a7e2b11"

    static func spec(endpoint: String, webhooks: Int = 5, extra: String = "") -> String {
        let hooks = (0..<webhooks).map {
            #"{"name": "hook\#($0)x", "serviceUri": "https://hooks.example.com/\#($0)?code=${env:CODE}", "customHeaders": {"Authorization": "Bearer ${env:TOKEN}"}, "actions": ["push"]\#(extra)}"#
        }
        return """
            {"version": 1, "owner": "team", "registries": [{"name": "prod", "azure": {"subscriptionId": "${env:SUB}", "resourceGroup": "rg-prod", "registry": "contosoprod", "endpoint": "\(endpoint)"},
              "webhooks": [\(hooks.joined(separator: ","))]}]}
            """
    }

    struct Setup {
        var emulator: ARMEmulator
        var directory: String
        var environment: [String: String]

        init(sku: String = "Premium", replicas: [String] = [], token: String = "test-token") throws {
            emulator = try ARMEmulator(token: token)
            emulator.addRegistry(subscription: AzureCommandTests.subscription, group: "rg-prod", name: "contosoprod", sku: sku, replicas: replicas)
            directory = try makeTemporaryDirectory()
            environment = ["SUB": AzureCommandTests.subscription, "CODE": "c0de-secret", "TOKEN": "t0ken-secret",
                           "AZURE_ACCESS_TOKEN": emulator.token, "HOOKAPPLY_ARM_POLL_INTERVAL": "0", "HOOKAPPLY_ARM_RETRY_BASE": "0.01",
                           "AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://127.0.0.1:9"]
        }

        func write(_ spec: String) throws {
            try spec.write(toFile: directory + "/webhooks.json", atomically: true, encoding: .utf8)
        }

        func run(_ arguments: [String], environment extra: [String: String] = [:], terminal: Bool = false) async -> CLIResult {
            await hookapply(arguments, environment: environment.merging(extra) { _, new in new }, directory: directory, terminal: terminal)
        }

        func finish() {
            emulator.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }

        /// A PATCH through ARM to a webhook of `contosoprod`, as the portal or `az acr webhook update`
        /// makes one (it moves the webhook's systemData.lastModifiedAt).
        func armPatch(webhook: String, properties: [String: Any]) throws {
            let port = try #require(UInt16(emulator.endpoint.split(separator: ":").last ?? ""))
            let path = "/subscriptions/\(AzureCommandTests.subscription)/resourceGroups/rg-prod/providers/Microsoft.ContainerRegistry/registries/contosoprod/webhooks/\(webhook)?api-version=2025-11-01"
            let body = String(decoding: try JSONSerialization.data(withJSONObject: ["properties": properties]), as: UTF8.self)
            let connection = try RawConnection(port: port)
            defer { connection.close() }
            connection.send(Array("PATCH \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(emulator.token)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8))
            let answer = connection.readAll().text
            try #require(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
        }
    }

    @Test("apply creates the webhooks in Azure, a second plan is empty, and secrets never show")
    func applyThenPlan() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try setup.write(Self.spec(endpoint: setup.emulator.endpoint))
        let planned = await setup.run(["plan", "--detailed-exitcode"])
        #expect(planned.code == .changes, "\(planned.stderr)")
        #expect(planned.stdout.contains("registry \"prod\" (azure: contosoprod in rg-prod)"))
        #expect(planned.stdout.contains("Plan: 5 to create"))
        let applied = await setup.run(["apply", "--auto-approve"])
        #expect(applied.code == .success, "\(applied.stdout)\(applied.stderr)")
        #expect(applied.stdout.contains("Apply complete: 5 created, 0 updated, 0 deleted."))
        let hooks = setup.emulator.hooks(subscription: Self.subscription, group: "rg-prod", name: "contosoprod")
        #expect(hooks.count == 5)
        #expect(hooks.allSatisfy { $0.tags["hookapply-owner"] == "team" && $0.location == "westus" })
        #expect(hooks.first?.customHeaders["Authorization"] == "Bearer t0ken-secret")
        let again = await setup.run(["plan", "--detailed-exitcode"])
        #expect(again.code == .success, "\(again.stdout)\(again.stderr)")
        #expect(setup.emulator.contractViolations.isEmpty, "\(setup.emulator.contractViolations)")
        // Secrets were read back through getCallbackConfig, one call per webhook.
        #expect(setup.emulator.requests.filter { $0.hasSuffix("/getCallbackConfig") }.count == 5)
        for output in [planned, applied, again].map({ $0.stdout + $0.stderr }) {
            #expect(!output.contains("t0ken-secret") && !output.contains("c0de-secret"))
        }
    }

    @Test("long-running operations, small pages and a storm of 429s still converge, nothing duplicated")
    func longRunningPagingThrottling() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        setup.emulator.longRunning = true
        setup.emulator.pollsBeforeDone = 2
        setup.emulator.pageSize = 2
        setup.emulator.throttleEvery = 4  // a 25 % storm of 429s
        try setup.write(Self.spec(endpoint: setup.emulator.endpoint, webhooks: 7))
        let applied = await setup.run(["apply", "--auto-approve", "--verbose"])
        #expect(applied.code == .success, "\(applied.stdout)\(applied.stderr)")
        #expect(setup.emulator.hooks(subscription: Self.subscription, group: "rg-prod", name: "contosoprod").count == 7)
        // --verbose counts every retry: with every fourth request refused there must have been some.
        let report = try #require(applied.stderr.split(separator: "\n").first { $0.contains("ARM calls") })
        let retried = Int(report.split(separator: ",").last?.split(separator: " ").first ?? "") ?? 0
        #expect(retried > 0, "\(report)")
        // Change one, drop two: updates by PATCH and deletes with 202 + Location polling.
        try setup.write(Self.spec(endpoint: setup.emulator.endpoint, webhooks: 5).replacing("\"hook0x\", \"serviceUri\": \"https://hooks.example.com/0", with: "\"hook0x\", \"serviceUri\": \"https://hooks.example.com/zero"))
        let changed = await setup.run(["apply", "--auto-approve"])
        #expect(changed.code == .success, "\(changed.stdout)\(changed.stderr)")
        #expect(changed.stdout.contains("Apply complete: 0 created, 1 updated, 2 deleted."))
        #expect(setup.emulator.requests.contains { $0.hasPrefix("PATCH ") })
        #expect(setup.emulator.requests.contains { $0.hasPrefix("GET /operations/") })
        let again = await setup.run(["plan", "--detailed-exitcode"])
        #expect(again.code == .success, "\(again.stdout)\(again.stderr)")
        #expect(setup.emulator.contractViolations.isEmpty)
    }

    @Test("ping, events and export work for Azure registries, with secrets masked")
    func pingEventsExport() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        setup.emulator.pageSize = 1
        try setup.write(Self.spec(endpoint: setup.emulator.endpoint, webhooks: 2))
        _ = await setup.run(["apply", "--auto-approve"])
        let ping = await setup.run(["ping", "hook1x"])
        #expect(ping.code == .success, "\(ping.stdout)\(ping.stderr)")
        #expect(ping.stdout.contains("Authorization: (sensitive value)"))
        #expect(ping.stdout.contains("https://hooks.example.com/1?…"))
        _ = await setup.run(["ping", "hook1x"])
        let events = await setup.run(["events", "hook1x", "--format", "json"])
        let records = try JSONDecoder().decode([DeliveryRecord].self, from: Data(events.stdout.utf8))
        #expect(records.count == 2)  // two pages of one, followed through nextLink
        #expect(records.allSatisfy { $0.action == "ping" && $0.response?.status == 200 })
        let exported = await setup.run(["export", "--registry", "prod"])
        #expect(exported.code == .success, "\(exported.stderr)")
        #expect(exported.stdout.contains("\"azure\""))
        #expect(exported.stdout.contains("${env:HOOK1X_AUTHORIZATION}"))
        for output in [ping, events, exported].map({ $0.stdout + $0.stderr }) {
            #expect(!output.contains("t0ken-secret") && !output.contains("c0de-secret"))
        }
        try exported.stdout.write(toFile: setup.directory + "/exported.json", atomically: true, encoding: .utf8)
        let replan = await setup.run(["plan", "-f", "exported.json", "--detailed-exitcode"], environment: [
            "HOOK0X_AUTHORIZATION": "Bearer t0ken-secret", "HOOK1X_AUTHORIZATION": "Bearer t0ken-secret",
            "HOOK0X_URI_QUERY": "code=c0de-secret", "HOOK1X_URI_QUERY": "code=c0de-secret",
        ])
        #expect(replan.code == .success, "\(replan.stdout)\(replan.stderr)")
    }

    @Test("a change that fails mid-apply does not stop the others; the summary tells the truth; a second apply converges")
    func partialFailure() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        setup.emulator.refuseCreates = ["hook2x"]
        try setup.write(Self.spec(endpoint: setup.emulator.endpoint, webhooks: 5))
        let first = await setup.run(["apply", "--auto-approve"])
        #expect(first.code == .failure)
        #expect(first.stdout.contains("Apply failed: 1 of 5 changes failed"))
        #expect(first.stdout.contains("prod/hook2x: failed to create: InvalidRequest"))
        #expect(first.stdout.contains("Done before the failure: 4 created, 0 updated, 0 deleted."))
        #expect(setup.emulator.hooks(subscription: Self.subscription, group: "rg-prod", name: "contosoprod").count == 4)
        setup.emulator.refuseCreates = []
        let second = await setup.run(["apply", "--auto-approve"])
        #expect(second.stdout.contains("Apply complete: 1 created, 0 updated, 0 deleted."), "\(second.stdout)\(second.stderr)")
        #expect((await setup.run(["plan", "--detailed-exitcode"])).code == .success)
    }

    @Test("a create that timed out but went through succeeds on the retry, without a duplicate")
    func timedOutCreate() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        setup.emulator.slowFirstPut = 2.5
        try setup.write(Self.spec(endpoint: setup.emulator.endpoint, webhooks: 2))
        // Whole seconds: URLSession on Linux appears to truncate a fractional timeout.
        let started = Date()
        let result = await setup.run(["apply", "--auto-approve", "--verbose"], environment: ["HOOKAPPLY_ARM_TIMEOUT": "1"])
        #expect(Date().timeIntervalSince(started) >= 0.9, "the first PUT should really have waited for the timeout")
        #expect(result.code == .success, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("Apply complete: 2 created"))
        #expect(setup.emulator.hooks(subscription: Self.subscription, group: "rg-prod", name: "contosoprod").count == 2)
        #expect(setup.emulator.requests.filter { $0.hasPrefix("PUT ") }.count >= 4)  // each create was sent again
        #expect((await setup.run(["plan", "--detailed-exitcode"])).code == .success)
    }

    @Test("a long-running operation that ends Failed is reported with its code and message")
    func failedOperation() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        setup.emulator.longRunning = true
        setup.emulator.failOperations = true
        try setup.write(Self.spec(endpoint: setup.emulator.endpoint, webhooks: 1))
        let result = await setup.run(["apply", "--auto-approve"])
        #expect(result.code == .failure)
        #expect(result.stdout.contains("InternalServerError: the operation failed in the test"))
        #expect(result.stdout.contains("Apply failed: 1 of 1 changes failed"))
    }

    @Test("5xx answers are retried; the service's own QuotaExceeded names the tier")
    func serverErrorsAndQuota() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        setup.emulator.throttleEvery = 5
        setup.emulator.throttleStatus = 503
        try setup.write(Self.spec(endpoint: setup.emulator.endpoint, webhooks: 3))
        let applied = await setup.run(["apply", "--auto-approve"])
        #expect(applied.code == .success, "\(applied.stdout)\(applied.stderr)")
        setup.emulator.throttleEvery = nil
        setup.emulator.quotaOverride = 3
        try setup.write(Self.spec(endpoint: setup.emulator.endpoint, webhooks: 4))
        let over = await setup.run(["apply", "--auto-approve"])
        #expect(over.code == .failure)
        #expect(over.stdout.contains("QuotaExceeded"))
        #expect(over.stdout.contains("the registry's Premium tier allows 500 webhooks"))
    }

    @Test("the tier's limit is checked before any change, naming the tier")
    func tierLimit() async throws {
        let setup = try Setup(sku: "Basic")
        defer { setup.finish() }
        try setup.write(Self.spec(endpoint: setup.emulator.endpoint, webhooks: 3))
        let result = await setup.run(["apply", "--auto-approve"])
        #expect(result.code == .failure)
        #expect(result.stderr.contains("tier 'Basic' allows 2"))
        #expect(setup.emulator.hooks(subscription: Self.subscription, group: "rg-prod", name: "contosoprod").isEmpty)
    }

    @Test("sign-in with a client secret and with workload identity; a wrong secret is named but not shown")
    func signIn() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try setup.write(Self.spec(endpoint: setup.emulator.endpoint, webhooks: 1))
        let base = ["AZURE_ACCESS_TOKEN": "", "AZURE_TENANT_ID": "tenant", "AZURE_CLIENT_ID": "client", "AZURE_AUTHORITY_HOST": setup.emulator.endpoint]
        let secret = await setup.run(["plan"], environment: base.merging(["AZURE_CLIENT_SECRET": setup.emulator.clientSecret]) { _, new in new })
        #expect(secret.code == .success, "\(secret.stderr)")
        // One sign-in for the whole run: the token is cached, not fetched per call.
        #expect(setup.emulator.requests.filter { $0.hasSuffix("/oauth2/v2.0/token") }.count == 1)
        #expect(setup.emulator.requests.filter { !$0.hasSuffix("/oauth2/v2.0/token") }.count >= 2)  // two ARM calls shared it
        let wrong = await setup.run(["plan"], environment: base.merging(["AZURE_CLIENT_SECRET": "wrong-s3cret-value"]) { _, new in new })
        #expect(wrong.code == .failure)
        #expect(wrong.stderr.contains("invalid_client"))
        #expect(!wrong.stderr.contains("wrong-s3cret-value"))
        let file = setup.directory + "/federated-token"
        try setup.emulator.federatedAssertion.write(toFile: file, atomically: true, encoding: .utf8)
        let federated = await setup.run(["plan"], environment: base.merging(["AZURE_FEDERATED_TOKEN_FILE": file]) { _, new in new })
        #expect(federated.code == .success, "\(federated.stderr)")
        let nothing = await setup.run(["plan"], environment: ["AZURE_ACCESS_TOKEN": "", "PATH": "/nonexistent"])
        #expect(nothing.code == .failure)
        #expect(nothing.stderr.contains("no Azure credentials worked; tried AZURE_ACCESS_TOKEN"))
    }

    @Test("sign-in with managed identity (App Service, instance metadata) and with the Azure CLI")
    func managedIdentityAndCLI() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try setup.write(Self.spec(endpoint: setup.emulator.endpoint, webhooks: 1))
        let appService = await setup.run(["plan"], environment: [
            "AZURE_ACCESS_TOKEN": "", "IDENTITY_ENDPOINT": setup.emulator.endpoint + "/msi/token", "IDENTITY_HEADER": "identity-header-secret",
        ])
        #expect(appService.code == .success, "\(appService.stderr)")
        let metadata = await setup.run(["plan"], environment: ["AZURE_ACCESS_TOKEN": "", "AZURE_POD_IDENTITY_AUTHORITY_HOST": setup.emulator.endpoint])
        #expect(metadata.code == .success, "\(metadata.stderr)")
        // A stand-in `az` on PATH answers as `az account get-access-token --output json` does.
        let bin = setup.directory + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let script = "#!/bin/sh\n[ \"$1 $2\" = \"account get-access-token\" ] || exit 2\necho '{\"accessToken\": \"\(setup.emulator.token)\", \"expiresOn\": \"2099-01-01 00:00:00.000000\", \"expires_on\": 4070908800}'\n"
        try script.write(toFile: bin + "/az", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin + "/az")
        let cli = await setup.run(["plan"], environment: ["AZURE_ACCESS_TOKEN": "", "PATH": bin + ":/usr/bin:/bin"])
        #expect(cli.code == .success, "\(cli.stderr)")
        #expect(!(appService.stdout + appService.stderr + cli.stdout + cli.stderr).contains("identity-header-secret"))
    }

    @Test("ARM errors are shown as code: message with a hint and the request ids")
    func errors() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try setup.write(Self.spec(endpoint: setup.emulator.endpoint, webhooks: 1))
        let denied = await setup.run(["plan"], environment: ["AZURE_ACCESS_TOKEN": "expired"])
        #expect(denied.code == .failure)
        #expect(denied.stderr.contains("InvalidAuthenticationToken"))
        #expect(denied.stderr.contains("sign-in was refused") && !denied.stderr.contains("getCallbackConfig/action"))
        #expect(denied.stderr.contains("x-ms-client-request-id"))
        try setup.write(Self.spec(endpoint: setup.emulator.endpoint, webhooks: 1).replacing("contosoprod", with: "missingreg"))
        let missing = await setup.run(["plan"])
        #expect(missing.code == .failure)
        #expect(missing.stderr.contains("ResourceNotFound"))
        #expect(missing.stderr.contains("/registries/missingreg"))
        try setup.write(Self.spec(endpoint: setup.emulator.endpoint, webhooks: 1, extra: #", "location": "eastus""#))
        // A region the registry does not have is refused at plan time, before anything is deleted.
        let location = await setup.run(["apply", "--auto-approve"])
        #expect(location.code == .failure)
        #expect(location.stderr.contains("[location-not-in-registry] location 'eastus' of webhook 'hook0x' is not a region of registry 'prod'"), "\(location.stderr)")
        #expect(!setup.emulator.requests.contains { $0.hasPrefix("PUT ") || $0.hasPrefix("DELETE ") })
    }

    @Test("plain http is accepted only for loopback ARM endpoints, and --arm-endpoint overrides the spec")
    func endpoints() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try setup.write(Self.spec(endpoint: "http://arm.example.com", webhooks: 1))
        let invalid = await setup.run(["plan"])
        #expect(invalid.code == .failure)
        #expect(invalid.stderr.contains("[insecure-endpoint]"))
        try setup.write(Self.spec(endpoint: "https://management.usgovcloudapi.net", webhooks: 1))
        let insecure = await setup.run(["plan", "--arm-endpoint", "http://arm.example.com"])
        #expect(insecure.code == .failure)
        #expect(insecure.stderr.contains("ARM endpoint"))
        let overridden = await setup.run(["plan", "--arm-endpoint", setup.emulator.endpoint])
        #expect(overridden.code == .success, "\(overridden.stderr)")
        let fromEnvironment = await setup.run(["plan"], environment: ["HOOKAPPLY_ARM_ENDPOINT": setup.emulator.endpoint])
        #expect(fromEnvironment.code == .success, "\(fromEnvironment.stderr)")
    }

    @Test("a host that only looks like loopback gets no token over plain http: spec, flag and environment",
          arguments: ["http://127.0.0.1.nip.io", "http://127.evil.com", "http://127.0.0.1.evil.com:8080", "http://127.0.0.256", "http://localhost.evil.com", "http://[::1].evil.com"])
    func lookalikeLoopback(_ endpoint: String) async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try setup.write(Self.spec(endpoint: endpoint, webhooks: 1))
        let spec = await setup.run(["plan"])
        #expect(spec.code == .failure)
        #expect(spec.stderr.contains("[insecure-endpoint]") || spec.stderr.contains("[invalid-endpoint]"), "\(spec.stderr)")
        try setup.write(Self.spec(endpoint: "https://management.azure.com", webhooks: 1))
        for run in [await setup.run(["plan", "--arm-endpoint", endpoint]), await setup.run(["plan"], environment: ["HOOKAPPLY_ARM_ENDPOINT": endpoint])] {
            #expect(run.code == .failure)
            #expect(run.stderr.contains("ARM endpoint"), "\(run.stderr)")
        }
        #expect(setup.emulator.requests.isEmpty)
    }
}

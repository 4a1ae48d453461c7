import Foundation
import HookSpec
import Reconciler
import TestSupport
import Testing

@testable import HookApplyCLI

/// The Azure paths that could lose a webhook, end to end against the ARM emulator: a location the
/// registry does not have, a replacement whose create fails, and webhooks in the middle of an operation.
@Suite struct AzureSafetyTests {
    typealias Setup = AzureCommandTests.Setup
    static let subscription = AzureCommandTests.subscription

    static func hooks(_ setup: Setup) -> [ARMEmulator.Hook] {
        setup.emulator.hooks(subscription: subscription, group: "rg-prod", name: "contosoprod")
    }

    static func spec(_ setup: Setup, location: String) -> String {
        AzureCommandTests.spec(endpoint: setup.emulator.endpoint, webhooks: 1, extra: #", "location": "\#(location)""#)
    }

    @Test("locations are checked at plan time against the registry's region and its replicas", arguments: [
        ("westeurope", true, nil), ("westus", true, nil),
        ("northeurope", false, nil), ("westeurop", false, "westeurope"),
    ] as [(String, Bool, String?)])
    func locationCheck(_ location: String, _ accepted: Bool, _ suggestion: String?) async throws {
        let setup = try Setup(replicas: ["West Europe"])
        defer { setup.finish() }
        setup.emulator.replicationsIncludeHome = false  // the home region is allowed whether or not the list names it
        try setup.write(Self.spec(setup, location: location))
        let planned = await setup.run(["plan"])
        if accepted {
            #expect(planned.code == .success, "\(planned.stderr)")
            return
        }
        #expect(planned.code == .failure)
        #expect(planned.stderr.contains("[location-not-in-registry]"), "\(planned.stderr)")
        #expect(planned.stderr.contains("'westus', 'West Europe'"))
        if let suggestion { #expect(planned.stderr.contains("did you mean '\(suggestion)'?")) }
        #expect(setup.emulator.requests.contains { $0.hasSuffix("/replications") })
    }

    @Test("a bad location for an existing webhook is refused before anything is deleted")
    func badLocationDeletesNothing() async throws {
        let setup = try Setup(replicas: ["westeurope"])
        defer { setup.finish() }
        try setup.write(Self.spec(setup, location: "westus"))
        #expect(await setup.run(["apply", "--auto-approve"]).code == .success)
        try setup.write(Self.spec(setup, location: "northeurope"))
        let applied = await setup.run(["apply", "--auto-approve"])
        #expect(applied.code == .failure)
        #expect(applied.stderr.contains("[location-not-in-registry]"))
        #expect(!setup.emulator.requests.contains { $0.hasPrefix("DELETE ") })
        #expect(Self.hooks(setup).map(\.location) == ["westus"])
    }

    @Test("a replacement whose create fails puts the old webhook back, secrets and tags included; exit 1")
    func replaceRestores() async throws {
        let setup = try Setup(replicas: ["westeurope"])
        defer { setup.finish() }
        try setup.write(Self.spec(setup, location: "westus"))
        #expect(await setup.run(["apply", "--auto-approve"]).code == .success)
        let before = try #require(Self.hooks(setup).first)
        setup.emulator.failNextCreates = 1
        try setup.write(Self.spec(setup, location: "westeurope"))
        let applied = await setup.run(["apply", "--auto-approve"])
        #expect(applied.code == .failure)
        #expect(applied.stdout.contains("the old webhook was put back as it was, so nothing was lost"), "\(applied.stdout)")
        #expect(applied.stdout.contains("InvalidRequest"))
        let after = try #require(Self.hooks(setup).first)
        #expect(after.location == "westus")
        #expect(after.serviceUri == before.serviceUri && after.customHeaders == before.customHeaders && after.tags == before.tags)
        // The next apply tries the replacement again, and this time it goes through.
        let again = await setup.run(["apply", "--auto-approve"])
        #expect(again.code == .success, "\(again.stdout)\(again.stderr)")
        #expect(Self.hooks(setup).first?.location == "westeurope")
    }

    @Test("when the restore fails too, the output names the missing webhook; exit 1")
    func restoreFails() async throws {
        let setup = try Setup(replicas: ["westeurope"])
        defer { setup.finish() }
        try setup.write(Self.spec(setup, location: "westus"))
        #expect(await setup.run(["apply", "--auto-approve"]).code == .success)
        setup.emulator.failNextCreates = 2
        try setup.write(Self.spec(setup, location: "westeurope"))
        let applied = await setup.run(["apply", "--auto-approve"])
        #expect(applied.code == .failure)
        #expect(applied.stdout.contains("Webhook 'hook0x' is now MISSING from registry 'prod'"), "\(applied.stdout)")
        #expect(Self.hooks(setup).isEmpty)
        #expect(!(applied.stdout + applied.stderr).contains("t0ken-secret"))
    }

    @Test("a webhook still updating is waited for, then planned")
    func waitsForUpdating() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try setup.write(AzureCommandTests.spec(endpoint: setup.emulator.endpoint, webhooks: 1))
        #expect(await setup.run(["apply", "--auto-approve"]).code == .success)
        setup.emulator.setProvisioning("Updating", webhook: "hook0x", lists: 2)
        let planned = await setup.run(["plan", "--detailed-exitcode"])
        #expect(planned.code == .success, "\(planned.stdout)\(planned.stderr)")
        #expect(setup.emulator.requests.filter { $0.hasSuffix("/webhooks") }.count >= 3)
    }

    @Test("a webhook that stays Deleting is refused with a clear message, and never PATCHed")
    func refusesDeleting() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try setup.write(AzureCommandTests.spec(endpoint: setup.emulator.endpoint, webhooks: 1))
        #expect(await setup.run(["apply", "--auto-approve"]).code == .success)
        setup.emulator.setProvisioning("Deleting", webhook: "hook0x", lists: 1_000)
        try setup.write(AzureCommandTests.spec(endpoint: setup.emulator.endpoint, webhooks: 1, extra: #", "status": "disabled""#))
        let applied = await setup.run(["apply", "--auto-approve"])
        #expect(applied.code == .failure)
        #expect(applied.stderr.contains("[webhook-in-progress] webhook 'hook0x' in registry 'prod' is still Deleting"), "\(applied.stderr)")
        #expect(!setup.emulator.requests.contains { $0.hasPrefix("PATCH ") })
    }

    @Test("a Failed provisioning state is drift: apply sends every property again")
    func failedIsDrift() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try setup.write(AzureCommandTests.spec(endpoint: setup.emulator.endpoint, webhooks: 1))
        #expect(await setup.run(["apply", "--auto-approve"]).code == .success)
        setup.emulator.setProvisioning("Failed", webhook: "hook0x", lists: 1)
        let planned = await setup.run(["plan", "--detailed-exitcode"])
        #expect(planned.code == .changes, "\(planned.stdout)\(planned.stderr)")
        #expect(planned.stdout.contains("ended Failed"))
        setup.emulator.setProvisioning("Failed", webhook: "hook0x", lists: 1)
        let applied = await setup.run(["apply", "--auto-approve"])
        #expect(applied.code == .success, "\(applied.stdout)\(applied.stderr)")
        #expect(setup.emulator.requests.contains { $0.hasPrefix("PATCH ") })
        #expect(await setup.run(["plan", "--detailed-exitcode"]).code == .success)
    }

    /// (variable, value, refused) for endpoints a sign-in takes from the environment.
    static let environmentEndpoints: [(String, String, Bool)] = [
        ("AZURE_AUTHORITY_HOST", "http://localhost:PORT", true),
        ("AZURE_AUTHORITY_HOST", "http://login.example.invalid", true),
        ("AZURE_AUTHORITY_HOST", "http://127.0.0.1.example.com:PORT", true),
        ("AZURE_AUTHORITY_HOST", "http://user:pw@127.0.0.1:PORT", true),
        ("AZURE_AUTHORITY_HOST", "ftp://127.0.0.1:PORT", true),
        ("AZURE_AUTHORITY_HOST", "http://127.0.0.1:PORT", false),
        ("IDENTITY_ENDPOINT", "http://localhost:PORT/msi/token", true),
        ("IDENTITY_ENDPOINT", "http://10.0.0.5:PORT/msi/token", true),
        ("IDENTITY_ENDPOINT", "http://127.0.0.1:PORT/msi/token", false),
        ("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://metadata.example.invalid", true),
        ("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://localhost:PORT", true),
        ("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:PORT", false),
    ]

    @Test("a sign-in endpoint from the environment must be https or http to a loopback IP literal; a refused one gets no request at all",
          arguments: environmentEndpoints.indices)
    func environmentEndpoint(_ index: Int) async throws {
        let (name, template, refused) = Self.environmentEndpoints[index]
        let setup = try Setup()
        defer { setup.finish() }
        try setup.write(AzureCommandTests.spec(endpoint: setup.emulator.endpoint, webhooks: 1))
        let port = String(setup.emulator.endpoint.split(separator: ":").last ?? "")
        let value = template.replacingOccurrences(of: "PORT", with: port)
        var environment = ["AZURE_ACCESS_TOKEN": "", name: value]
        switch name {
        case "AZURE_AUTHORITY_HOST": environment.merge(["AZURE_TENANT_ID": "tenant", "AZURE_CLIENT_ID": "client", "AZURE_CLIENT_SECRET": setup.emulator.clientSecret]) { _, new in new }
        case "IDENTITY_ENDPOINT": environment["IDENTITY_HEADER"] = "identity-header-secret"
        default: break
        }
        let result = await setup.run(["plan"], environment: environment)
        let signIns = setup.emulator.requests.filter { $0.contains("/oauth2/") || $0.contains("/msi/") || $0.contains("/metadata/") }
        if refused {
            #expect(result.code == .failure, "\(value): \(result.stderr)")
            #expect(result.stderr.contains("\(name) "), "\(result.stderr)")
            #expect(result.stderr.contains("https") && result.stderr.contains("Nothing was sent") || result.stderr.contains("not an http(s) URL")
                    || result.stderr.contains("must not hold credentials"), "\(result.stderr)")
            #expect(signIns.isEmpty, "a refused endpoint was sent \(signIns)")
            #expect(setup.emulator.requests.isEmpty, "nothing at all may be sent: \(setup.emulator.requests)")
        } else {
            #expect(result.code == .success, "\(value): \(result.stderr)")
            #expect(signIns.count == 1, "\(setup.emulator.requests)")
        }
        #expect(!result.stderr.contains(setup.emulator.clientSecret) && !result.stderr.contains("identity-header-secret"))
    }

    @Test("a token endpoint that cannot be reached is said in a sentence")
    func unreachableTokenEndpoint() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try setup.write(AzureCommandTests.spec(endpoint: setup.emulator.endpoint, webhooks: 1))
        let result = await setup.run(["plan"], environment: ["AZURE_ACCESS_TOKEN": "", "AZURE_TENANT_ID": "tenant", "AZURE_CLIENT_ID": "client",
                                                              "AZURE_CLIENT_SECRET": "s3cret-value", "AZURE_AUTHORITY_HOST": "http://127.0.0.1:9"])
        #expect(result.code == .failure)
        #expect(result.stderr.contains("client secret: could not reach the token endpoint at 127.0.0.1: connection refused"), "\(result.stderr)")
    }
}

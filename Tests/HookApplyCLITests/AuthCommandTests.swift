import Foundation
import HookKit
import TestSupport
import Testing

@testable import HookApplyCLI

/// `hookapply auth` against the ARM emulator: the credential that signed in and its token's claims, a
/// registry it can read, one that does not exist, and a token the service refuses.
@Suite struct AuthCommandTests {
    typealias Setup = AzureCommandTests.Setup

    /// A JWT as Entra ID issues them (header.payload.signature, base64url); the emulator only compares it.
    static func jwt(tenant: String, client: String, object: String) -> String {
        func part(_ object: [String: Any]) -> String {
            let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
            return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        return part(["alg": "RS256", "typ": "JWT"]) + "." + part(["tid": tenant, "appid": client, "oid": object, "idtyp": "app"]) + ".c2lnbmF0dXJl"
    }

    static func spec(_ setup: Setup, extraRegistry: Bool = false) -> String {
        let other = extraRegistry
            ? #", {"name": "ghost", "azure": {"subscriptionId": "${env:SUB}", "resourceGroup": "rg-prod", "registry": "nosuchregistry", "endpoint": "\#(setup.emulator.endpoint)"}, "webhooks": []}"#
            : ""
        return #"{"version": 1, "owner": "team", "registries": [{"name": "prod", "azure": {"subscriptionId": "${env:SUB}", "resourceGroup": "rg-prod", "registry": "contosoprod", "endpoint": "\#(setup.emulator.endpoint)"}, "webhooks": []}\#(other)]}"#
    }

    @Test("a JWT's tenant, client and object ids are shown, never the token; a readable registry passes")
    func jwtAndReadable() async throws {
        let token = Self.jwt(tenant: "11111111-2222-3333-4444-555555555555", client: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", object: "99999999-8888-7777-6666-555555555555")
        let setup = try Setup(token: token)
        defer { setup.finish() }
        try setup.write(Self.spec(setup))
        let result = await setup.run(["auth"])
        #expect(result.code == .success, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("Signed in with AZURE_ACCESS_TOKEN."), "\(result.stdout)")
        #expect(result.stdout.contains("tenant: 11111111-2222-3333-4444-555555555555"))
        #expect(result.stdout.contains("client: aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"))
        #expect(result.stdout.contains("object: 99999999-8888-7777-6666-555555555555"))
        #expect(result.stdout.contains("registry 'prod' (azure: contosoprod in rg-prod): can read the registry and list its webhooks"), "\(result.stdout)")
        #expect(!(result.stdout + result.stderr).contains(token) && !(result.stdout + result.stderr).contains("c2lnbmF0dXJl"))
        let json = await setup.run(["auth", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["signed_in"] as? Bool == true && object["token"] as? String == "jwt" && object["tenant_id"] as? String == "11111111-2222-3333-4444-555555555555")
        #expect((object["registries"] as? [[String: Any]])?.first?["readable"] as? Bool == true)
    }

    @Test("a registry that does not exist fails the command and is named; the readable one is still shown")
    func missingRegistry() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try setup.write(Self.spec(setup, extraRegistry: true))
        let result = await setup.run(["auth"])
        #expect(result.code == .failure)
        #expect(result.stdout.contains("an opaque token"), "\(result.stdout)")
        #expect(result.stdout.contains("registry 'prod'") && result.stdout.contains("can read the registry"))
        #expect(result.stdout.contains("registry 'ghost' (azure: nosuchregistry in rg-prod): cannot read it:"), "\(result.stdout)")
        #expect(result.stderr.contains("this identity cannot read 'ghost'"), "\(result.stderr)")
        let one = await setup.run(["auth", "-r", "prod"])
        #expect(one.code == .success, "\(one.stdout)\(one.stderr)")
    }

    @Test("a token the service refuses: every registry is named as unreadable, exit 1, the token never shown")
    func refusedToken() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try setup.write(Self.spec(setup))
        let result = await setup.run(["auth"], environment: ["AZURE_ACCESS_TOKEN": "expired-token-value-1234"])
        #expect(result.code == .failure)
        #expect(result.stdout.contains("registry 'prod'") && result.stdout.contains("cannot read it:"), "\(result.stdout)")
        #expect(result.stdout.contains("InvalidAuthenticationToken") || result.stdout.contains("401"), "\(result.stdout)")
        #expect(!(result.stdout + result.stderr).contains("expired-token-value-1234"))
    }

    @Test("a spec without an Azure registry has nothing to sign in to: exit 1")
    func noAzureRegistry() async throws {
        let workspace = try ReconcileCommandTests.Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let result = await workspace.run(["auth"])
        #expect(result.code == .failure)
        #expect(result.stderr.contains("the spec has no Azure registry"), "\(result.stderr)")
    }

    @Test("--verbose reports ARM calls on every command that calls ARM", arguments: [
        ["list"], ["get", "hook0x"], ["ping", "hook0x"], ["events", "hook0x"], ["export"], ["auth"],
    ])
    func verbose(_ arguments: [String]) async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try setup.write(AzureCommandTests.spec(endpoint: setup.emulator.endpoint, webhooks: 1))
        #expect(await setup.run(["apply", "--auto-approve"]).code == .success)
        let result = await setup.run(arguments + ["--verbose"])
        #expect(result.code == .success || arguments[0] == "ping", "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains("registry 'prod': ") && result.stderr.contains("retried"), "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains("ARM GET ") || result.stderr.contains("ARM POST "), "each call as it happens: \(result.stderr)")
    }
}

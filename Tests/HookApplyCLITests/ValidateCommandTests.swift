import Foundation
import HookSpec
import TestSupport
import Testing

@testable import HookApplyCLI

@Suite struct ValidateCommandTests {
    @Test("the examples validate", arguments: ["examples/webhooks.json", "examples/azure.json"])
    func examples(_ path: String) async {
        let result = await hookapply(["validate", "-f", path])
        #expect(result.code == .success, "\(result.stderr)")
        #expect(result.stdout.contains("\(path): valid"))
        #expect(result.stderr.isEmpty)
    }

    @Test("the Azure example needs its variables with --resolve, and passes when they are set")
    func resolve() async {
        let missing = await hookapply(["validate", "-f", "examples/azure.json", "--resolve"])
        #expect(missing.code == .failure)
        #expect(missing.stderr.contains("[missing-env-variable] environment variable 'AZURE_SUBSCRIPTION_ID' is not set"))
        #expect(missing.stderr.contains("examples/azure.json:9:"))
        let environment = ["AZURE_SUBSCRIPTION_ID": "6e9ef8d4-3c07-4a07-9d7e-1c4f3a7e2b11", "DEPLOY_BOT_TOKEN": "t", "SCANNER_KEY": "k"]
        let set = await hookapply(["validate", "-f", "examples/azure.json", "--resolve"], environment: environment)
        #expect(set.code == .success, "\(set.stderr)")
    }

    @Test("validate lists the variables a spec reads without requiring them")
    func listsVariables() async {
        let result = await hookapply(["validate", "-f", "examples/webhooks.json"], environment: ["CHAT_TOKEN": "x"])
        #expect(result.code == .success)
        #expect(result.stdout.contains("DEPLOY_BOT_TOKEN (has a fallback) [not set]: /registries/0/webhooks/0/customHeaders/Authorization"))
        #expect(result.stdout.contains("CHAT_TOKEN (has a fallback) [set]"))
        #expect(result.stdout.contains("RELEASE_SIGNING_SECRET (has a fallback) [not set]: /registries/1/webhooks/0/signingSecret"))
    }

    @Test("rendered diagnostics, sorted by position with a count line (pins the wording)")
    func renderedDiagnostics() async {
        let result = await hookapply(["validate", "-f", "Tests/HookApplyCLITests/Fixtures/specs/invalid.json"])
        #expect(result.code == .failure)
        #expect(result.stdout.isEmpty)
        expectGolden("validate-invalid.txt", result.stderr)
    }

    @Test("--format json prints {valid, diagnostics} with located diagnostics on stdout")
    func jsonFormat() async throws {
        let result = await hookapply(["validate", "-f", "Tests/HookApplyCLITests/Fixtures/specs/invalid.json", "--format", "json"])
        #expect(result.code == .failure)
        expectGolden("validate-invalid.json", result.stdout)
        let document = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(document?["valid"] as? Bool == false)
        let records = document?["diagnostics"] as? [[String: Any]]
        #expect(records?.first?["line"] as? Int == 8)
        let valid = await hookapply(["validate", "-f", "examples/webhooks.json", "--format=json"])
        #expect(valid.code == .success)
        let validDocument = try JSONSerialization.jsonObject(with: Data(valid.stdout.utf8)) as? [String: Any]
        #expect(validDocument?["valid"] as? Bool == true)
        #expect((validDocument?["diagnostics"] as? [Any])?.isEmpty == true)
        let unreadable = await hookapply(["validate", "-f", "no-such-spec.json", "--format=json"])
        #expect(unreadable.code == .failure)
        #expect(unreadable.stdout.contains("\"valid\" : false") && unreadable.stdout.contains("\"code\" : \"unreadable-file\""), "\(unreadable.stdout)")
    }

    @Test("no secret from the spec reaches the output")
    func noSecretsInDiagnostics() async {
        let result = await hookapply(["validate", "-f", "Tests/HookApplyCLITests/Fixtures/specs/invalid.json"])
        for secret in ["user:pass", "key=abc", "pass@"] {
            #expect(!result.stderr.contains(secret), "leaked \(secret)")
        }
        // A secret planted in the environment, resolved into a bad URI and header, never appears either.
        let planted = "planted-\(UUID().uuidString)"
        let spec = #"{"version": 1, "registries": [{"name": "dev", "local": {}, "webhooks": [{"name": "myhook", "serviceUri": "${env:URL}", "actions": ["push"], "customHeaders": {"Authorization": "${env:TOKEN}"}}]}]}"#
        for format in ["text", "json"] {
            let leak = await hookapply(["validate", "-f", "-", "--resolve", "--format", format], environment: [
                "URL": "ftp://u:\(planted)@h.example.com/?k=\(planted)", "TOKEN": "\(planted)\nX: y",
            ], stdin: spec)
            #expect(leak.code == .failure)
            #expect(!(leak.stdout + leak.stderr).contains(planted))
            #expect((leak.stdout + leak.stderr).contains("invalid-header-value"))
        }
    }

    @Test("-f - reads standard input")
    func standardInput() async {
        let good = await hookapply(["validate", "-f", "-"], stdin: #"{"version": 1, "registries": [{"name": "dev", "local": {}, "webhooks": []}]}"#)
        #expect(good.code == .success)
        #expect(good.stdout.contains("<stdin>: valid: 1 registry, 0 webhooks"))
        let bad = await hookapply(["validate", "-f", "-"], stdin: "{\"version\": 1,}")
        #expect(bad.code == .failure)
        #expect(bad.stderr.contains("<stdin>:1:15: error: [trailing-comma]"))
    }

    @Test("without -f it reads webhooks.json in the current folder, and says how to fix a missing one")
    func defaultFile() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let missing = await hookapply(["validate"], directory: directory)
        #expect(missing.code == .failure)
        #expect(missing.stderr.contains("cannot read 'webhooks.json': no such file; pass -f FILE"))
        try #"{"version": 1, "registries": [{"name": "dev", "local": {}, "webhooks": []}]}"#.write(
            toFile: directory + "/webhooks.json", atomically: true, encoding: .utf8)
        let found = await hookapply(["validate"], directory: directory)
        #expect(found.code == .success)
        let folder = await hookapply(["validate", "-f", "."], directory: directory)
        #expect(folder.code == .failure)
        #expect(folder.stderr.contains("is a folder; name a file"))
    }

    @Test("warnings alone leave the spec valid (exit 0) and are shown")
    func warningsOnly() async {
        let spec = #"{"version": 1, "registries": [{"name": "dev", "local": {}, "webhooks": [{"name": "myhook", "serviceUri": "http://h.example.com/x?k=secretvalue", "actions": ["push"]}]}]}"#
        let result = await hookapply(["validate", "-f", "-"], stdin: spec)
        #expect(result.code == .success)
        #expect(result.stderr.contains("<stdin>:1:106: warning: [insecure-service-uri]"))
        #expect(result.stderr.contains("0 errors and 1 warning"))
        #expect(!result.stderr.contains("secretvalue"))
    }

    @Test("colour only on a terminal, never with NO_COLOR or TERM=dumb")
    func colour() async {
        let arguments = ["validate", "-f", "-"]
        let input = "{"
        let plain = await hookapply(arguments, stdin: input)
        #expect(!plain.stderr.contains("\u{1B}["))
        let coloured = await hookapply(arguments, stdin: input, terminal: true)
        #expect(coloured.stderr.contains("\u{1B}[31m"))
        let noColor = await hookapply(arguments, environment: ["NO_COLOR": "1"], stdin: input, terminal: true)
        #expect(!noColor.stderr.contains("\u{1B}["))
        let dumb = await hookapply(arguments, environment: ["TERM": "dumb"], stdin: input, terminal: true)
        #expect(!dumb.stderr.contains("\u{1B}["))
    }
}

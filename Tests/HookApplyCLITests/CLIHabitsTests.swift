import Foundation
import TestSupport
import Testing

@testable import HookApplyCLI

/// Habits of CLI users (`-v`, `--no-color`, `-r`) and messages that used to mislead.
@Suite struct CLIHabitsTests {
    typealias Workspace = ReconcileCommandTests.Workspace

    @Test("-v and --version print the version")
    func version() async {
        for flag in ["-v", "--version"] {
            let result = await hookapply([flag])
            #expect(result.code == .success)
            #expect(result.stdout.hasPrefix("hookapply 0.1.0"))
        }
    }

    @Test("--no-color turns colour off at a terminal, for any command and in any position")
    func noColor() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let coloured = await workspace.run(["plan"], terminal: true)
        #expect(coloured.stdout.contains("\u{1B}["))
        for arguments in [["--no-color", "plan"], ["plan", "--no-color"]] {
            let plain = await workspace.run(arguments, terminal: true)
            #expect(plain.code == .success, "\(plain.stderr)")
            #expect(!plain.stdout.contains("\u{1B}["), "\(arguments)")
        }
    }

    @Test("-r is --registry")
    func shortRegistry() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let result = await workspace.run(["plan", "-r", "prod"])
        #expect(result.code == .success, "\(result.stderr)")
        #expect(result.stdout.contains("registry \"prod\""))
        #expect(!result.stdout.contains("registry \"dev\""))
    }

    @Test("-r compares registry names case-insensitively, as the spec does", arguments: [["plan", "-r", "PROD"], ["list", "--registry", "Prod"], ["plan", "-r", "prod", "-r", "PROD"]])
    func registryCase(_ arguments: [String]) async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let result = await workspace.run(arguments)
        #expect(result.code == .success, "\(result.stderr)")
        #expect(!result.stdout.contains("registry \"dev\""), "\(result.stdout)")
        #expect(result.stdout.components(separatedBy: "registry \"prod\"").count <= 2, "listed twice: \(result.stdout)")
    }

    @Test("--version honours --format json, and refuses what version does not take")
    func versionFormat() async throws {
        let json = await hookapply(["--version", "--format", "json"])
        #expect(json.code == .success)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["version"] as? String == "0.1.0")
        let bad = await hookapply(["--version", "--bogus"])
        #expect(bad.code == .usage)
        #expect(bad.stderr.hasPrefix("error: "), "\(bad.stderr)")
    }

    @Test("duration options take units like --interval does; a bare number is seconds", arguments: [("30s", 30.0), ("2m", 120.0), ("250ms", 0.25), ("1h", 3600.0), ("45", 45.0), ("0.5", 0.5)])
    func durationUnits(_ text: String, _ seconds: Double) throws {
        let parsed = try ArgumentParser.parse(["--lock-timeout", text], for: ApplyCommand.spec)
        #expect(parsed.seconds("lock-timeout") == seconds)
        if seconds <= 300 {  // serve's timeout goes up to 300 s
            let serve = try ArgumentParser.parse(["--timeout", text], for: ServeCommand.spec)
            #expect(serve.seconds("timeout") == seconds)
        }
    }

    @Test("-o is --format on every command that has --format, as kubectl and az users expect")
    func shortFormat() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        for command in HookApply.commands.map(\.spec) where command.options.contains(where: { $0.long == "format" }) {
            #expect(command.options.first { $0.long == "format" }?.short == "o", "\(command.name)")
        }
        let list = await workspace.run(["list", "-o", "json"])
        #expect(list.code == .success && list.stdout.hasPrefix("["), "\(list.stdout)\(list.stderr)")
        let plan = await workspace.run(["plan", "-o", "json"])
        #expect(plan.code == .success && plan.stdout.contains("\"format_version\""))
    }

    @Test("export -o and --output anywhere say what to use instead; export writes no file named 'json'")
    func outputHabits() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let export = await workspace.run(["export", "-r", "dev", "-o", "json"])
        #expect(export.code == .usage)
        #expect(export.stderr.contains("export always writes JSON; write it to a file with --out FILE"), "\(export.stderr)")
        #expect(!FileManager.default.fileExists(atPath: workspace.directory + "/json"))
        let plan = await workspace.run(["plan", "--output", "json"])
        #expect(plan.stderr.contains("use --format (-o) for the output format, or --out for a file"), "\(plan.stderr)")
        let list = await workspace.run(["list", "--output=json"])
        #expect(list.stderr.contains("use --format (-o) for the output format") && !list.stderr.contains("--out for"), "\(list.stderr)")
    }

    @Test("JSON keys are snake_case: events, ping and the apply summary; event logs written before still read")
    func snakeCaseKeys() async throws {
        let receiver = try LoopbackReceiver()
        defer { receiver.stop() }
        let workspace = try Workspace(#"{"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": [{"name": "hookone", "serviceUri": "\#(receiver.url)/hook", "actions": ["push"]}]}]}"#)
        defer { workspace.remove() }
        let applied = await workspace.run(["apply", "--auto-approve", "--format", "json"])
        #expect(applied.stdout.contains("\"not_started\"") && !applied.stdout.contains("notStarted"), "\(applied.stdout)")
        let ping = await workspace.run(["ping", "hookone", "-o", "json"])
        let events = await workspace.run(["events", "hookone", "-o", "json"])
        for output in [ping.stdout, events.stdout] {
            #expect(output.contains("\"duration_ms\"") && output.contains("\"body_truncated\""), "\(output)")
            #expect(!output.contains("durationMilliseconds") && !output.contains("bodyTruncated"))
        }
        // A line an older hookapply wrote, with camelCase keys, is still shown.
        let legacy = #"{"action":"push","attempt":2,"durationMilliseconds":7,"gaveUp":true,"id":"ev-legacy","request":{"body":"{}","headers":{},"method":"POST","uri":"http://h/"},"response":{"body":"no","bodyTruncated":false,"headers":{},"status":500},"timestamp":"2026-12-01T00:00:00Z","webhook":"hookone"}"#
        let log = workspace.directory + "/.hookapply/dev.events.jsonl"
        let handle = try #require(FileHandle(forWritingAtPath: log))
        handle.seekToEndOfFile()
        handle.write(Data((legacy + "\n").utf8))
        try handle.close()
        let reread = await workspace.run(["events", "hookone", "-o", "json"])
        #expect(reread.stdout.contains("\"ev-legacy\"") && reread.stdout.contains("\"gave_up\" : true"), "\(reread.stdout)")
    }

    @Test("get --format json prints one object")
    func getOneObject() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        #expect(await workspace.run(["apply", "--auto-approve"]).code == .success)
        let result = await workspace.run(["get", "scanner", "-o", "json"])
        #expect(result.code == .success, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        #expect(object["registry"] as? String == "dev")
    }

    @Test("every error starts with 'error:', usage errors included", arguments: [
        ["bogus"], ["plan", "--bogus"], ["plan", "--parallelism", "0"], ["plan", "--format", "yaml"], ["plan", "-r", "nope"],
        ["validate", "-f", "nope.json"], ["apply", "nope.json"], ["get"], ["reconcile", "--interval", "forever"],
    ])
    func errorPrefix(_ arguments: [String]) async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let result = await workspace.run(arguments)
        #expect(result.code != .success)
        #expect(result.stderr.hasPrefix("error: "), "\(arguments): \(result.stderr)")
        #expect(!result.stderr.contains("Error: "), "\(result.stderr)")
    }

    @Test("with --format json a failure prints {\"diagnostics\": [...]} on stdout, exits as before, and hides secrets", arguments: [
        (["plan", "-r", "nope", "-o", "json"], 64, "usage", "the spec has no registry 'nope'"),
        (["plan", "--bogus", "--format", "json"], 64, "usage", "unknown option '--bogus'"),
        (["plan", "--format=json", "--parallelism", "0"], 64, "usage", "--parallelism"),
        (["list", "-o", "json", "-f", "missing.json"], 1, "command-failed", "missing.json"),
        (["get", "nosuchhook", "-o", "json"], 1, "command-failed", "nosuchhook"),
        (["ping", "nosuchhook", "-r", "dev", "-o", "json"], 1, "command-failed", "nosuchhook"),
        (["events", "nosuchhook", "-r", "dev", "-o", "json"], 1, "command-failed", "nosuchhook"),
        (["apply", "--auto-approve", "-o", "json", "-f", "broken.json"], 1, "unknown-key", "bogus"),
        (["show", "missing-plan.json", "-o", "json"], 1, "command-failed", "missing-plan.json"),
        (["auth", "-o", "json", "-f", "broken.json"], 1, "unknown-key", "bogus"),
    ])
    func jsonFailures(_ arguments: [String], exitCode: Int32, code: String, mentions: String) async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let planted = "planted-\(UUID().uuidString)"
        try #"{"version": 1, "bogus": "\#(planted)", "registries": []}"#.write(toFile: workspace.directory + "/broken.json", atomically: true, encoding: .utf8)
        let result = await workspace.run(arguments)
        #expect(result.code.rawValue == exitCode, "\(result.stderr)")
        #expect(result.stderr.contains("error"), "stderr keeps the text: \(result.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        let diagnostics = try #require(document["diagnostics"] as? [[String: Any]])
        #expect(diagnostics.contains { $0["code"] as? String == code && $0["severity"] as? String == "error" }, "\(result.stdout)")
        #expect(result.stdout.contains(mentions), "\(result.stdout)")
        #expect(!result.stdout.contains(planted))
        let schema = try SchemaCheck(schemaText: String(contentsOfFile: repositoryRoot + "/schema/hookapply-diagnostics.schema.json", encoding: .utf8))
        #expect(try schema.problems(result.stdout) == [])
    }

    @Test("events for a webhook nobody declares is an error with a did-you-mean; a declared one without deliveries is not")
    func eventsUnknown() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let unknown = await workspace.run(["events", "deploybto", "-r", "dev"])
        #expect(unknown.code == .failure)
        #expect(unknown.stderr.contains("declares no webhook 'deploybto'"), "\(unknown.stderr)")
        #expect(unknown.stderr.contains("did you mean 'deploybot'?"))
        let unknownJSON = await workspace.run(["events", "deploybto", "-r", "dev", "--format", "json"])
        #expect(unknownJSON.code == .failure, "\(unknownJSON.stdout)")
        #expect(unknownJSON.stdout.hasPrefix("{\n  \"diagnostics\" : [") && unknownJSON.stdout.contains("declares no webhook 'deploybto'"), "\(unknownJSON.stdout)")
        let known = await workspace.run(["events", "deploybot", "-r", "dev", "-f", "webhooks.json"])
        #expect(known.code == .success, "\(known.stderr)")
        // The hint keeps the options that found the spec and the registry.
        #expect(known.stdout.contains("hookapply ping deploybot -f webhooks.json --registry dev"), "\(known.stdout)")
    }

    @Test("the http warning: none for loopback; headers mentioned only when there are some")
    func insecureWarning() async throws {
        let workspace = try Workspace(#"{"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": [{"name": "loopback", "serviceUri": "http://127.0.0.1:8080/h", "actions": ["push"]}, {"name": "plainhttp", "serviceUri": "http://hooks.example.com/h", "actions": ["push"]}, {"name": "withheader", "serviceUri": "http://hooks.example.com/h", "customHeaders": {"X-Key": "secret-value"}, "actions": ["push"]}]}]}"#)
        defer { workspace.remove() }
        let result = await workspace.run(["validate"])
        let output = result.stdout + result.stderr
        #expect(!output.contains("/webhooks/0/serviceUri"), "no warning for loopback: \(output)")
        #expect(output.contains("uses http, so the event would travel in clear text"))
        #expect(output.contains("uses http, so the event and its custom headers would travel in clear text"))
    }

    @Test("a missing secret variable is to be set, not given a committed fallback; a subscription may have one")
    func missingVariable() async throws {
        let workspace = try Workspace(#"{"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": [{"name": "hookone", "serviceUri": "https://h.example.com/?code=${env:HOOK_CODE}", "actions": ["push"]}]}, {"name": "prod", "azure": {"subscriptionId": "${env:SUB_ID}", "resourceGroup": "rg", "registry": "contoso"}, "webhooks": []}]}"#)
        defer { workspace.remove() }
        let result = await workspace.run(["plan"])  // every registry: both variables are needed
        let output = result.stderr
        #expect(result.code == .failure)
        let secretLine = output.split(separator: "\n").first { $0.contains("'HOOK_CODE'") } ?? ""
        #expect(secretLine.contains("a secret belongs in the environment"), "\(output)")
        #expect(!secretLine.contains(":-value"))
        let subscriptionLine = output.split(separator: "\n").first { $0.contains("'SUB_ID'") } ?? ""
        #expect(subscriptionLine.contains("${env:SUB_ID:-value}"), "\(output)")
    }

    @Test("a read-only export does not say 'nothing was changed'")
    func exportReadOnly() async throws {
        // export needs no secret, but it needs the registry's own coordinates: an unset subscription fails it.
        let workspace = try Workspace(#"{"version": 1, "owner": "team", "registries": [{"name": "prod", "azure": {"subscriptionId": "${env:SUB_ID}", "resourceGroup": "rg", "registry": "contoso"}, "webhooks": [{"name": "hookone", "serviceUri": "https://h.example.com/?code=${env:HOOK_CODE}", "actions": ["push"]}]}]}"#)
        defer { workspace.remove() }
        let result = await workspace.run(["export"])
        #expect(result.code == .failure)
        #expect(result.stderr.contains("'SUB_ID' is not set") && !result.stderr.contains("HOOK_CODE"), "\(result.stderr)")
        #expect(!result.stderr.contains("nothing was changed"), "\(result.stderr)")
    }
}

/// Every diagnostic code the product can emit is documented in docs/spec.md.
@Suite struct DiagnosticCodesDocumentedTests {
    @Test("each code passed to .error or .warning in Sources appears in docs/spec.md")
    func documented() throws {
        let docs = try String(contentsOfFile: repositoryRoot + "/docs/spec.md", encoding: .utf8)
        let sources = repositoryRoot + "/Sources"
        var codes: Set<String> = []
        let enumerator = FileManager.default.enumerator(atPath: sources)
        while let file = enumerator?.nextObject() as? String {
            guard file.hasSuffix(".swift") else { continue }
            let text = try String(contentsOfFile: sources + "/" + file, encoding: .utf8)
            let pattern = try NSRegularExpression(pattern: #"\.(?:error|warning)\(\s*"([a-z][a-z0-9-]+)""#)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                if let range = Range(match.range(at: 1), in: text) { codes.insert(String(text[range])) }
            }
        }
        #expect(codes.count > 20, "found \(codes.count) codes")
        let missing = codes.filter { !docs.contains("`\($0)`") }.sorted()
        #expect(missing.isEmpty, "not in docs/spec.md: \(missing)")
    }
}

/// Paths in the plan header are where the user can find them: relative to the working folder.
@Suite struct PlanHeaderPathTests {
    @Test("a spec in another folder: the state path is shown relative to the working folder")
    func relativeToWorkingFolder() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/team", withIntermediateDirectories: true)
        try #"{"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": []}]}"#
            .write(toFile: directory + "/team/webhooks.json", atomically: true, encoding: .utf8)
        let result = await hookapply(["plan", "-f", "team/webhooks.json"], directory: directory)
        #expect(result.code == .success, "\(result.stderr)")
        #expect(result.stdout.contains("registry \"dev\" (local: team/.hookapply/dev.json)"), "\(result.stdout)")
    }
}

import Foundation
import TestSupport
import Testing

/// Every command with JSON output has a schema in schema/, and its real output conforms: the published
/// contract and the encoder are held to each other. Each schema is also shown to refuse a broken
/// document, so a schema that accepts anything cannot pass.
@Suite struct OutputSchemaTests {
    typealias Workspace = ReconcileCommandTests.Workspace

    static func schema(_ name: String) throws -> SchemaCheck {
        try SchemaCheck(schemaText: String(contentsOfFile: repositoryRoot + "/schema/hookapply-\(name).schema.json", encoding: .utf8))
    }

    /// A workspace with a receiver: one webhook answers 200, one 500, one points at a closed port.
    static func deliveringWorkspace(_ receiver: LoopbackReceiver) throws -> Workspace {
        try Workspace("""
            {"version": 1, "owner": "team", "registries": [{"name": "dev", "local": {}, "webhooks": [
              {"name": "goodhook", "serviceUri": "\(receiver.url)/ok?code=${env:CODE:-c0de}", "customHeaders": {"Authorization": "Bearer ${env:TOKEN:-t0ken}"}, "actions": ["push"], "scope": "web:*"},
              {"name": "failhook", "serviceUri": "\(receiver.url)/fail", "actions": ["push"]},
              {"name": "deadhook", "serviceUri": "http://127.0.0.1:9/closed", "actions": ["push"], "status": "disabled"}
            ]}]}
            """)
    }

    @Test("list, get, events, ping, apply (json and each jsonl line), validate, version and auth conform to their schemas")
    func outputsConform() async throws {
        let receiver = try LoopbackReceiver { request in
            LoopbackReceiver.Response(status: request.target.hasPrefix("/fail") ? 500 : 200, body: Array("{\"ok\":true}".utf8))
        }
        defer { receiver.stop() }
        let workspace = try Self.deliveringWorkspace(receiver)
        defer { workspace.remove() }
        var checked: [String: Int] = [:]
        func conforms(_ name: String, _ document: String, file: String = #fileID, line: Int = #line) throws {
            let problems = try Self.schema(name).problems(document)
            #expect(problems == [], "\(name): \(document)", sourceLocation: SourceLocation(fileID: file, filePath: file, line: line, column: 1))
            checked[name, default: 0] += 1
        }
        let applied = await workspace.run(["apply", "--auto-approve", "-o", "json"])
        #expect(applied.code == .success, "\(applied.stderr)")
        try conforms("apply", applied.stdout)
        // A failing apply (a second registry on a state path that is a folder) has failed results with codes.
        let lines = await workspace.run(["apply", "--auto-approve", "-o", "jsonl"])
        for line in lines.stdout.split(separator: "\n") { try conforms("apply", String(line)) }
        try conforms("list", await workspace.run(["list", "-o", "json"]).stdout)
        try conforms("get", await workspace.run(["get", "goodhook", "-o", "json"]).stdout)
        for hook in ["goodhook", "failhook"] {
            let ping = await workspace.run(["ping", hook, "-o", "json"])
            try conforms("ping", ping.stdout)
            try conforms("events", await workspace.run(["events", hook, "-o", "json"]).stdout)
        }
        try conforms("events", await workspace.run(["events", "deadhook", "-o", "json"]).stdout)
        try conforms("validate", await workspace.run(["validate", "-o", "json"]).stdout)
        try "{\"version\": 1, \"registries\": [{\"name\": \"Bad Name\", \"local\": {}}]}".write(
            toFile: workspace.directory + "/bad.json", atomically: true, encoding: .utf8)
        try conforms("validate", await workspace.run(["validate", "-f", "bad.json", "-o", "json"]).stdout)
        try conforms("version", await workspace.run(["version", "-o", "json"]).stdout)
        try conforms("auth", await workspace.run(["auth", "-o", "json"]).stdout)
        try conforms("diagnostics", await workspace.run(["get", "nosuchhook", "-o", "json"]).stdout)
        #expect(checked.keys.sorted() == ["apply", "auth", "diagnostics", "events", "get", "list", "ping", "validate", "version"])
    }

    @Test("an output schema exists for every command with --format json, and each is checkable", arguments: [
        "list", "get", "events", "ping", "apply", "validate", "version", "auth", "plan", "status", "diagnostics", "verify", "replay",
    ])
    func schemaExists(_ name: String) throws {
        let schema = try Self.schema(name)
        // Checking any document walks the schema's keywords at the top level at least; unknown ones are reported.
        _ = try schema.problems("{}")
    }

    @Test("each schema refuses a document that breaks it", arguments: [
        ("version", #"{"version": "0.1.0", "spec_version": "1", "plan_format_version": 3}"#, "expected integer"),
        ("validate", #"{"valid": true, "diagnostics": [{"severity": "error", "code": "x", "message": "m"}]}"#, "not the constant"),
        ("validate", #"[]"#, "expected object"),
        ("get", #"[{"registry": "dev", "declared": true, "webhook": {}}]"#, "expected object"),
        ("list", #"[{"registry": "dev", "declared": "yes", "webhook": {"name": "a", "serviceUri": "u", "customHeaders": {}, "actions": ["push"], "status": "enabled", "scope": "", "tags": {}}}]"#, "expected boolean"),
        ("ping", #"{"registry": "dev", "success": true, "delivery": {"id": "i", "webhook": "w", "action": "ping", "timestamp": "t", "request": {"method": "POST", "uri": "u", "headers": {}, "body": ""}, "durationMilliseconds": 3, "attempt": 1}}"#, "'durationMilliseconds' is not in the schema"),
        ("events", #"[{"id": "i", "webhook": "w", "action": "ping", "timestamp": "t", "request": {"method": "POST", "uri": "u", "headers": {}, "body": ""}, "response": {"status": 200, "headers": {}, "body": "", "body_truncated": false}, "error": "both", "duration_ms": 3, "attempt": 1}]"#, "must not match"),
        ("apply", #"{"registry": "dev", "webhook": "w", "action": "create", "outcome": "failed", "attempts": 1}"#, "oneOf"),
        ("apply", #"{"summary": {"created": 1, "updated": 0, "deleted": 0, "failed": 0, "notStarted": 0, "interrupted": false}}"#, "oneOf"),
        ("auth", #"{"signed_in": false, "registries": []}"#, "missing 'error'"),
        ("diagnostics", #"{"diagnostics": []}"#, "fewer than 1"),
        ("diagnostics", #"{"diagnostics": [{"severity": "fatal", "code": "Bad Code", "message": "m"}]}"#, "not one of the allowed values"),
    ])
    func refuses(_ name: String, _ document: String, _ expected: String) throws {
        let problems = try Self.schema(name).problems(document)
        #expect(problems.contains { $0.contains(expected) }, "\(problems)")
    }
}

/// The keywords SchemaCheck learned for the output and spec schemas, each shown to pass and to fail,
/// and a keyword it does not know still reported rather than skipped.
@Suite struct SchemaCheckTests {
    @Test("keywords", arguments: [
        (#"{"if": {"properties": {"a": {"const": 1}}}, "then": {"required": ["b"]}, "else": {"required": ["c"]}}"#, #"{"a": 1, "b": 0}"#, true),
        (#"{"if": {"properties": {"a": {"const": 1}}}, "then": {"required": ["b"]}, "else": {"required": ["c"]}}"#, #"{"a": 1, "c": 0}"#, false),
        (#"{"if": {"properties": {"a": {"const": 1}}}, "then": {"required": ["b"]}, "else": {"required": ["c"]}}"#, #"{"a": 2, "c": 0}"#, true),
        (#"{"if": {"properties": {"a": {"const": 1}}}, "then": {"required": ["b"]}, "else": {"required": ["c"]}}"#, #"{"a": 2, "b": 0}"#, false),
        (#"{"allOf": [{"type": "string"}, {"minLength": 2}]}"#, #""ab""#, true),
        (#"{"allOf": [{"type": "string"}, {"minLength": 2}]}"#, #""a""#, false),
        (#"{"anyOf": [{"type": "string"}, {"type": "integer"}]}"#, #"3"#, true),
        (#"{"anyOf": [{"type": "string"}, {"type": "integer"}]}"#, #"true"#, false),
        (#"{"not": {"pattern": "^(?i:host)$"}}"#, #""X-Host""#, true),
        (#"{"not": {"pattern": "^(?i:host)$"}}"#, #""HoSt""#, false),
        (#"{"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": false}"#, #"{"x-a": "1"}"#, true),
        (#"{"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": false}"#, #"{"x-a": 1}"#, false),
        (#"{"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": false}"#, #"{"y": "1"}"#, false),
        (#"{"propertyNames": {"pattern": "^[a-z]+$"}}"#, #"{"abc": 1}"#, true),
        (#"{"propertyNames": {"pattern": "^[a-z]+$"}}"#, #"{"aBc": 1}"#, false),
        (#"{"maximum": 5}"#, #"6"#, false),
        (#"{"maxItems": 1}"#, #"[1, 2]"#, false),
    ])
    func keyword(_ schema: String, _ document: String, _ conforms: Bool) throws {
        let problems = try SchemaCheck(schemaText: schema).problems(document)
        #expect(problems.isEmpty == conforms, "\(problems)")
    }

    @Test("a keyword SchemaCheck does not check is reported, never skipped")
    func unknownKeyword() throws {
        let problems = try SchemaCheck(schemaText: #"{"dependentRequired": {"a": ["b"]}}"#).problems(#"{"a": 1}"#)
        #expect(problems == [": the schema uses 'dependentRequired', which SchemaCheck does not check"])
    }
}

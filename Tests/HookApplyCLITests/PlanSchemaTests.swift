import Foundation
import Testing
import TestSupport

/// `plan --format json` and `plan --out` write one document, and schema/hookapply-plan.schema.json
/// describes it: every key the encoder writes is in the schema (additionalProperties is false
/// throughout), every required key is written, and values have their JSON types.
@Suite struct PlanSchemaTests {
    typealias Workspace = ReconcileCommandTests.Workspace

    static func schema() throws -> SchemaCheck {
        try SchemaCheck(schemaText: String(contentsOfFile: repositoryRoot + "/schema/hookapply-plan.schema.json", encoding: .utf8))
    }

    static func busyWorkspace() async throws -> Workspace { try await ReconcileCommandTests.busyWorkspace() }

    @Test("plan --format json and a saved plan both conform to the published schema, with typed values")
    func outputsConform() async throws {
        let workspace = try await Self.busyWorkspace()
        defer { workspace.remove() }
        let schema = try Self.schema()
        let printed = await workspace.run(["plan", "--format", "json"])
        #expect(printed.code == .success, "\(printed.stderr)")
        #expect(try schema.problems(printed.stdout) == [])
        #expect(await workspace.run(["plan", "--out", "saved.json"]).code == .success)
        let saved = try String(contentsOfFile: workspace.directory + "/saved.json", encoding: .utf8)
        #expect(try schema.problems(saved) == [])
        #expect(saved.contains("\"spec_file\" : \"webhooks.json\""))
        // The actions list is a JSON array, not a string holding one (format 1's mistake).
        #expect(printed.stdout.contains("\"new\" : [\n"), "\(printed.stdout)")
        #expect(!printed.stdout.contains("\"[\\\""))
    }

    @Test("the schema check fails documents that break it (so the test above can fail)", arguments: [
        ("\"format_version\" : 4", "\"format_version\" : 3", "not the constant"),
        ("\"unchanged_count\" : ", "\"unchangedCount\" : ", "'unchangedCount' is not in the schema"),
        ("\"sensitive\" : true", "\"sensitive\" : \"yes\"", "expected boolean"),
        ("\"action\" : \"delete\"", "\"action\" : \"destroy\"", "not one of the allowed values"),
    ])
    func checkCanFail(original: String, replacement: String, expected: String) async throws {
        let workspace = try await Self.busyWorkspace()
        defer { workspace.remove() }
        let printed = await workspace.run(["plan", "--format", "json"])
        #expect(printed.stdout.contains(original))
        let broken = printed.stdout.replacingOccurrences(of: original, with: replacement)
        let problems = try Self.schema().problems(broken)
        #expect(problems.contains { $0.contains(expected) }, "\(problems)")
    }

    @Test("a string where the schema wants a list of actions is refused")
    func stringifiedListFails() throws {
        let document = #"{"field": "actions", "key": null, "old": null, "new": "[\"push\"]", "sensitive": false, "hidden_change": false, "forces_replacement": false}"#
        let schema = try SchemaCheck(schemaText: #"{"type": "object", "properties": {"new": {"type": "array", "items": {"type": "string"}}}}"#)
        #expect(try schema.problems(document) == ["/new: expected array, found a string"])
    }

    @Test("a saved plan decodes to the same plan it was made from: apply after show changes nothing unexpected")
    func roundTrip() async throws {
        let workspace = try await Self.busyWorkspace()
        defer { workspace.remove() }
        #expect(await workspace.run(["plan", "--out", "saved.json"]).code == .success)
        let shown = await workspace.run(["show", "saved.json", "--format", "json"])
        let saved = try String(contentsOfFile: workspace.directory + "/saved.json", encoding: .utf8)
        // show prints the same document, without where the spec is.
        #expect(shown.stdout == saved.replacingOccurrences(of: "  \"spec_file\" : \"webhooks.json\",\n", with: ""), "\(shown.stdout)")
        let applied = await workspace.run(["apply", "saved.json"])
        #expect(applied.code == .success, "\(applied.stderr)")
        #expect(await workspace.run(["plan", "--detailed-exitcode"]).code == .success)
    }
}

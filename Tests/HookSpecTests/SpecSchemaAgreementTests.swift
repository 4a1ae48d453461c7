import Foundation
import TestSupport
import Testing

@testable import HookSpec

/// schema/hookapply.schema.json and `validate` agree on the validation table (``SpecValidationTests/cases``):
/// a spec validate accepts, the schema accepts; a spec validate refuses, the schema refuses too, unless
/// every error it has is one of the rules JSON Schema cannot express (``validateOnly``, listed in
/// docs/spec.md). The table is also written to Fixtures/spec-cases.json for `.ci/run`, which checks it
/// with Python's jsonschema, an implementation written by someone else.
@Suite struct SpecSchemaAgreementTests {

    /// Cases of the table the schema cannot refuse, by name, with the rule JSON Schema cannot express.
    /// docs/spec.md lists each rule (its code) under "What only validate checks".
    static let validateOnly: [String: (code: String, why: String)] = [
        "duplicate registry names, case-insensitively": ("duplicate-registry-name", "uniqueness of one property across array items, ignoring case"),
        "duplicate header names, case-insensitively": ("duplicate-header", "object keys that differ only in case"),
        "duplicate webhook names": ("duplicate-webhook-name", "uniqueness of one property across array items, ignoring case"),
        "two registries on one state file": ("duplicate-registry-target", "two paths that name one file, or two targets that name one Azure registry"),
        "bad port": ("invalid-service-uri", "a port from 1 to 65535, and the host syntax (IPv6 literals); the URL's shape is in the schema"),
    ]

    static let schema = Result { try SchemaCheck(schemaText: SpecSchema.text) }

    struct Outcome: Codable, Equatable {
        var name: String
        var spec: String
        var valid: Bool
        var codes: [String]
        /// The schema must refuse it too (false: valid, or only validate-only rules broken, or not JSON at all).
        var schemaRefuses: Bool
    }

    static func outcome(_ testCase: SpecValidationTests.Case) -> Outcome? {
        let document = SpecLoader.load(Array(testCase.json.utf8))
        // Not JSON (a comment, a trailing comma, a duplicate key): no schema validator gets that far.
        guard (try? JSONReader.read(Array(testCase.json.utf8))) != nil,
              (try? JSONSerialization.jsonObject(with: Data(testCase.json.utf8), options: [.fragmentsAllowed])) != nil
        else { return nil }
        let errors = document.diagnostics.filter { $0.severity == .error }.map(\.code)
        let refuses = !errors.isEmpty && validateOnly[testCase.id] == nil
        return Outcome(name: testCase.id, spec: testCase.json, valid: errors.isEmpty, codes: Array(Set(errors)).sorted(), schemaRefuses: refuses)
    }

    @Test("the schema accepts what validate accepts and refuses what validate refuses", arguments: SpecValidationTests.cases)
    func agree(_ testCase: SpecValidationTests.Case) throws {
        guard let outcome = Self.outcome(testCase) else { return }
        let problems = try Self.schema.get().problems(testCase.json)
        if outcome.valid {
            #expect(problems == [], "validate accepts it; the schema should too")
        } else if outcome.schemaRefuses {
            #expect(!problems.isEmpty, "validate refuses it (\(outcome.codes)); the schema accepts it")
        }
    }

    @Test("the table covers the schema's rules: enough specs on each side")
    func coverage() {
        let outcomes = SpecValidationTests.cases.compactMap(Self.outcome)
        #expect(outcomes.filter(\.valid).count >= 20)
        #expect(outcomes.filter(\.schemaRefuses).count >= 60)
    }

    @Test("the rules only validate checks are listed in docs/spec.md")
    func documented() throws {
        let doc = try String(contentsOfFile: repositoryRoot + "/docs/spec.md", encoding: .utf8)
        let section = try #require(doc.range(of: "## What only validate checks").map { String(doc[$0.lowerBound...]) })
        for (name, rule) in Self.validateOnly.sorted(by: { $0.key < $1.key }) {
            #expect(section.contains("`\(rule.code)`"), "docs/spec.md does not list \(rule.code) (case '\(name)')")
            // The case really is refused by validate and accepted by the schema: the list holds no stale entry.
            let testCase = try #require(SpecValidationTests.cases.first { $0.id == name }, "no case named '\(name)'")
            #expect(testCase.expected.contains { $0.code == rule.code })
            #expect(try Self.schema.get().problems(testCase.json) == [], "'\(name)': the schema refuses it now; take it off the list")
        }
    }

    /// The same table, for the Python cross-check in .ci/run; HOOKAPPLY_RECORD=1 rewrites it.
    @Test("Fixtures/spec-cases.json is the table as it is")
    func fixture() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let outcomes = SpecValidationTests.cases.compactMap(Self.outcome)
        let text = String(decoding: try encoder.encode(outcomes), as: UTF8.self) + "\n"
        let path = repositoryRoot + "/Tests/HookSpecTests/Fixtures/spec-cases.json"
        if ProcessInfo.processInfo.environment["HOOKAPPLY_RECORD"] == "1" {
            try FileManager.default.createDirectory(atPath: repositoryRoot + "/Tests/HookSpecTests/Fixtures", withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            Issue.record("recorded \(path); run again without HOOKAPPLY_RECORD")
            return
        }
        let committed = try String(contentsOfFile: path, encoding: .utf8)
        #expect(committed == text, "re-record with HOOKAPPLY_RECORD=1 swift test --filter SpecSchemaAgreementTests")
    }
}

import Foundation
import TestSupport
import Testing

@testable import HookApplyCLI

/// apply for programs: a JSON report, or one JSON line per change as it completes.
@Suite struct ApplyJSONTests {
    typealias Workspace = ReconcileCommandTests.Workspace

    @Test("--format jsonl: a line per change, then the summary; --format json: one report")
    func formats() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let lines = await workspace.run(["apply", "--auto-approve", "--format", "jsonl"])
        #expect(lines.code == .success, "\(lines.stderr)")
        let objects = try lines.stdout.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(objects.count == 4)
        #expect(objects.prefix(3).allSatisfy { $0["outcome"] as? String == "succeeded" && $0["action"] as? String == "create" })
        let summary = try #require(objects.last?["summary"] as? [String: Any])
        #expect(summary["created"] as? Int == 3 && summary["failed"] as? Int == 0 && summary["interrupted"] as? Bool == false)
        #expect(!lines.stdout.contains("t0ken"))
        // Change one webhook; the report is one document.
        try workspace.write(ReconcileCommandTests.spec.replacing("\"scope\": \"web:*\"", with: "\"scope\": \"web:v2\""))
        let report = await workspace.run(["apply", "--auto-approve", "--format", "json"])
        #expect(report.code == .success, "\(report.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        #expect((document["results"] as? [[String: Any]])?.map { $0["webhook"] as? String } == ["deploybot"])
        #expect((document["summary"] as? [String: Any])?["updated"] as? Int == 1)
    }

    @Test("JSON output cannot ask for approval: without --auto-approve or a saved plan it is a usage error")
    func needsApproval() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let result = await workspace.run(["apply", "--format", "json"])
        #expect(result.code == .usage)
        #expect(result.stderr.contains("pass --auto-approve, or apply a saved plan"))
    }

    @Test("version --format json")
    func versionJSON() async throws {
        let result = await hookapply(["version", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["version"] as? String == "0.1.0")
        #expect(object["spec_version"] as? Int == 1)
        #expect(object["plan_format_version"] as? Int == 4)
    }
}

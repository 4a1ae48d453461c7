import Foundation
import HookKit
import HookSpec
import Reconciler
import TestSupport
import Testing

@testable import HookApplyCLI

/// The streaming plan writer writes exactly what JSONEncoder writes for the whole document, across
/// chunk boundaries, and hides values as hiding them in the whole document did.
@Suite struct PlanDocumentWriterTests {
    /// A plan with `count` webhooks of which every third drifted, a few to delete, and optional targets.
    static func plan(_ count: Int, targets: Bool = false) -> Plan {
        let webhooks = (0..<count).map { Fixture.webhook("hook\($0)", uri: "https://h\($0 % 7).example.com/x?k=\($0)", headers: [("Authorization", "Bearer t\($0)"), ("X-Team", "t\($0 % 3)")], scope: $0 % 5 == 0 ? "" : "app\($0):*") }
        var observed = webhooks.enumerated().compactMap { index, webhook -> WebhookState? in
            if index % 11 == 0 { return nil }
            var live = webhook
            live.tags = [WebhookState.ownerTag: "team"]
            if index % 3 == 0 { live.scope = "drifted\(index)" }
            return live
        }
        observed += (0..<(count / 20)).map { Fixture.state("gone\($0)") }
        observed.append(Fixture.state("manual", owner: nil))
        let options = PlanOptions(targets: targets ? [PlanTarget(registry: "dev", webhook: "hook3"), PlanTarget(registry: "dev", webhook: "gone0")] : nil)
        return Planner.plan(Fixture.spec(webhooks), specDigest: "digest", observed: ["dev": ObservedRegistry(webhooks: observed)], options: options).plan
            ?? Plan(specDigest: "d", owner: "o", registries: [])
    }

    @Test("byte for byte what JSONEncoder writes, for plans of every size and across piece boundaries", arguments: [0, 1, 2, 127, 128, 129, 300, 1_000, 6_000])
    func sameBytes(_ count: Int) throws {
        for targets in [false, true] {
            let plan = Self.plan(count, targets: targets)
            for specFile in [nil, "../specs/webhooks.json"] {
                let saved = SavedPlan(spec_file: specFile, plan: plan)
                let streamed = try PlanDocumentWriter(hiding: []).document(saved)
                #expect(streamed == JSONOutput.encode(saved), "\(count) webhooks, targets \(targets), spec_file \(specFile ?? "nil")")
            }
        }
        if count >= 6_000 {
            var pieces = 0
            try PlanDocumentWriter(hiding: []).write(SavedPlan(spec_file: nil, plan: Self.plan(count))) { _ in pieces += 1 }
            #expect(pieces > 3, "a large plan is written in several pieces")
        }
    }

    @Test("the streamed document reads back as the same plan")
    func roundTrip() throws {
        let plan = Self.plan(300, targets: true)
        let text = try PlanDocumentWriter(hiding: []).document(SavedPlan(spec_file: "w.json", plan: plan))
        let decoded = try JSONDecoder().decode(SavedPlan.self, from: Data(text.utf8))
        #expect(decoded.plan.changes.map(\.withoutDesiredState) == plan.changes.map(\.withoutDesiredState))
        #expect(decoded.plan.targets == plan.targets)
        #expect(decoded.spec_file == "w.json")
    }

    @Test("values are hidden in every chunk; one that spans structure, or two pieces, is refused")
    func hiding() throws {
        let plan = Self.plan(300)
        let saved = SavedPlan(spec_file: nil, plan: plan)
        // A value in the masked URIs of many changes, across chunks: hidden everywhere.
        let hidden = try PlanDocumentWriter(hiding: ["h3.example.com"]).document(saved)
        #expect(!hidden.contains("h3.example.com"))
        #expect(hidden.components(separatedBy: "h4.example.com").count == JSONOutput.encode(saved).components(separatedBy: "h4.example.com").count)
        #expect(try JSONSerialization.jsonObject(with: Data(hidden.utf8)) is [String: Any])
        // A value that covers JSON structure inside a chunk.
        #expect(JSONOutput.encode(saved).contains("\" : \"update\","))
        #expect(throws: PlanDocumentWriter.Failure.self) { try PlanDocumentWriter(hiding: ["\" : \"update\","]).document(saved) }
        // Hidden values give what hiding them in JSONEncoder's whole document gave.
        for value in ["h3.example.com", "drifted12", "Bearer t5", "app7:*"] {
            let whole = SecretScrubber(secrets: [value]).scrub(JSONOutput.encode(saved))
            #expect(try PlanDocumentWriter(hiding: [value]).document(saved) == whole, "\(value)")
        }
        // A value spanning two changes (so two pieces of a large plan, or one piece across elements).
        let last = plan.changes[128 - 1], next = plan.changes[128]
        let boundaryValue = "\"webhook\" : \"\(last.webhook)\"\n    },\n    {\n      \"action\" : \"\(next.action.rawValue)\""
        #expect(JSONOutput.encode(saved).components(separatedBy: boundaryValue).count == 2, "the value occurs once, between two changes")
        #expect(throws: PlanDocumentWriter.Failure.self) { try PlanDocumentWriter(hiding: [boundaryValue]).document(saved) }
    }
}

/// PrettyJSONWriter against JSONEncoder on values of every shape, hostile strings included.
@Suite struct PrettyJSONWriterTests {
    struct Sample: Encodable {
        var text: String
        var list: [String]
        var empty: [String]
        var map: [String: String]
        var none: [String: String]
        var number: Int
        var flag: Bool
        var nothing: String?

        enum CodingKeys: String, CodingKey { case text, list, empty, map, none, number, flag, nothing }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(text, forKey: .text)
            try container.encode(list, forKey: .list)
            try container.encode(empty, forKey: .empty)
            try container.encode(map, forKey: .map)
            try container.encode(none, forKey: .none)
            try container.encode(number, forKey: .number)
            try container.encode(flag, forKey: .flag)
            try container.encode(nothing, forKey: .nothing)
        }

        func write(to json: inout PrettyJSONWriter) {
            json.beginObject()
            json.key("empty"); json.strings(empty)
            json.key("flag"); json.bool(flag)
            json.key("list"); json.strings(list)
            json.key("map"); json.stringDictionary(map)
            json.key("none"); json.stringDictionary(none)
            json.key("nothing"); json.string(nothing)
            json.key("number"); json.int(number)
            json.key("text"); json.string(text)
            json.endObject()
        }
    }

    @Test("the same bytes as JSONEncoder (pretty, sorted keys, slashes unescaped)", arguments: [
        "plain", "", "a\"b\\c/d\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}\u{2028}é😀", "(sensitive value)", "https://h.example.com/a?…",
    ])
    func sameBytes(_ text: String) throws {
        let sample = Sample(text: text, list: [text, "x"], empty: [], map: ["b": text, "A": "1", "a10": "2", "a9": "3", "é": "4", "_": "5"],
                            none: [:], number: -42, flag: true, nothing: nil)
        var json = PrettyJSONWriter()
        json.beginArray()
        sample.write(to: &json)
        json.endArray()
        let expected = JSONOutput.encode([sample])
        #expect(String(decoding: json.bytes, as: UTF8.self) + "\n" == expected)
    }
}

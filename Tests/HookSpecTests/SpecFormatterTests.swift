import Foundation
import TestSupport
import Testing

@testable import HookSpec

/// `hookapply fmt`'s invariants over the valid corpus (the validation table's valid specs and the
/// examples): the spec means the same after formatting, formatting twice changes nothing, and the
/// canonical text does not depend on the layout it started from.
@Suite struct SpecFormatterTests {

    /// Every spec of the table that parses as a spec, plus the examples.
    static let corpus: [(name: String, text: String)] = {
        var corpus = SpecValidationTests.cases.compactMap { testCase -> (String, String)? in
            guard case .success = SpecFormatter.format(Array(testCase.json.utf8)) else { return nil }
            return (testCase.id, testCase.json)
        }
        for example in ["webhooks.json", "azure.json"] {
            if let text = try? String(contentsOfFile: repositoryRoot + "/examples/" + example, encoding: .utf8) { corpus.append((example, text)) }
        }
        return corpus
    }()

    static func formatted(_ text: String) throws -> String {
        switch SpecFormatter.format(Array(text.utf8)) {
        case .success(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .failure(let failure): throw failure
        }
    }

    @Test("meaning is preserved: the same spec, the same diagnostics, the same resolved spec")
    func meaning() throws {
        #expect(Self.corpus.count > 100)
        let environment = ["TOKEN": "t0ken-value", "URL": "https://u.example.com/x", "SUB": "6e9ef8d4-3c07-4a07-9d7e-1c4f3a7e2b11"]
        for (name, text) in Self.corpus {
            let before = SpecLoader.load(Array(text.utf8))
            let after = SpecLoader.load(Array(try Self.formatted(text).utf8))
            #expect(after.spec == before.spec, "\(name)")
            #expect(after.diagnostics.map(\.code) == before.diagnostics.map(\.code), "\(name)")
            #expect(after.diagnostics.map(\.pointer) == before.diagnostics.map(\.pointer), "\(name)")
            #expect(after.resolve(environment: environment).spec == before.resolve(environment: environment).spec, "\(name)")
        }
    }

    @Test("idempotent: formatting a formatted spec changes nothing")
    func idempotent() throws {
        for (name, text) in Self.corpus {
            let once = try Self.formatted(text)
            #expect(try Self.formatted(once) == once, "\(name)")
        }
    }

    /// The same document written with shuffled keys and random whitespace. Header order is the user's
    /// (headers are sent in it), so `customHeaders` keeps its order.
    static func scrambled(_ node: JSONNode, source: [UInt8], random: inout SeededRandom, keepsOrder: Bool = false) -> String {
        func space() -> String { ["", " ", "\n", "\t  ", "\r\n    "][Int(random.next() % 5)] }
        func raw(_ offset: Int) -> String {
            // The token as written (strings keep their escapes).
            var end = offset
            if source[offset] == UInt8(ascii: "\"") {
                end += 1
                while source[end] != UInt8(ascii: "\"") { end += source[end] == UInt8(ascii: "\\") ? 2 : 1 }
                end += 1
            } else {
                while end < source.count, !",}] \n\r\t".utf8.contains(source[end]) { end += 1 }
            }
            return String(decoding: source[offset..<end], as: UTF8.self)
        }
        switch node.value {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .number, .string: return raw(node.offset)
        case .array(let items):
            return "[" + space() + items.map { scrambled($0, source: source, random: &random) }.joined(separator: space() + "," + space()) + space() + "]"
        case .object(let members):
            var shuffled = members
            for index in shuffled.indices.reversed() where index > 0 && !keepsOrder { shuffled.swapAt(index, Int(random.next() % UInt64(index + 1))) }
            return "{" + space() + shuffled.map {
                raw($0.keyOffset) + space() + ":" + space() + scrambled($0.value, source: source, random: &random, keepsOrder: $0.key == "customHeaders")
            }
                .joined(separator: "," + space()) + space() + "}"
        }
    }

    @Test("the canonical text does not depend on key order or whitespace (property, seeded)")
    func layoutIndependent() throws {
        var random = SeededRandom(state: 0x5EED_F0F7)
        for (name, text) in Self.corpus {
            let source = Array(text.utf8)
            let root = try JSONReader.read(source)
            let canonical = try Self.formatted(text)
            for _ in 0..<3 {
                let variant = Self.scrambled(root, source: source, random: &random)
                #expect(try Self.formatted(variant) == canonical, "\(name): \(variant)")
            }
        }
    }

    @Test("key order is the schema's order")
    func schemaOrder() throws {
        let schema = try JSONReader.read(Array(SpecSchema.text.utf8))
        func keys(_ pointer: String) throws -> [String] {
            let node = try #require(schema.node(at: JSONPointer(pointer)))
            guard case .object(let members) = node.value else { return [] }
            return members.map(\.key)
        }
        #expect(try keys("/properties") == SpecFormatter.topLevelOrder)
        #expect(try keys("/$defs/registry/properties") == SpecFormatter.registryOrder)
        #expect(try keys("/$defs/registry/properties/local/properties") == SpecFormatter.localOrder)
        #expect(try keys("/$defs/registry/properties/azure/properties") == SpecFormatter.azureOrder)
        #expect(try keys("/$defs/webhook/properties") == SpecFormatter.webhookOrder)
    }

    @Test("the layout, pinned: strings as written, unknown keys last, one webhook per block")
    func layout() throws {
        let source = #"{"registries":[{"webhooks":[{"zeta":true,"actions":["push","delete"],"serviceUri":"https://h.example.com/\u0041?k=${env:K:-d}","name":"hookone","description":"caf\u00e9 \"quoted\""}],"local":{},"name":"dev"}],"version":1}"#
        #expect(try Self.formatted(source) == """
            {
              "version": 1,
              "registries": [
                {
                  "name": "dev",
                  "local": {},
                  "webhooks": [
                    {
                      "name": "hookone",
                      "description": "caf\\u00e9 \\"quoted\\"",
                      "serviceUri": "https://h.example.com/\\u0041?k=${env:K:-d}",
                      "actions": ["push", "delete"],
                      "zeta": true
                    }
                  ]
                }
              ]
            }

            """)
    }

    @Test("what is not JSON, or not a spec, is refused with its diagnostics", arguments: [
        ("{\"version\": 1,", "unexpected-end"), ("[1, 2]", "not-a-spec"), ("{\"token\": \"x\"}", "not-a-spec"),
        ("{\"version\": 2, \"registries\": []}", "unsupported-version"), ("{\"a\": 1, \"a\": 2}", "duplicate-key"),
    ])
    func refused(_ text: String, _ code: String) {
        guard case .failure(.notASpec(let diagnostics)) = SpecFormatter.format(Array(text.utf8)) else {
            Issue.record("formatted \(text)")
            return
        }
        #expect(diagnostics.map(\.code).contains(code), "\(diagnostics)")
    }
}

extension SpecFormatter.Failure: CustomStringConvertible {
    public var description: String {
        switch self {
        case .notASpec(let diagnostics): diagnostics.map(\.message).joined(separator: "; ")
        }
    }
}

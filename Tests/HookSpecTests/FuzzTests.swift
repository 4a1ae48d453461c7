import TestSupport
import Testing

@testable import HookSpec

/// Thousands of mutated and random inputs: the reader and validator never crash or hang, and always
/// return either a spec or at least one error. Seeded, so a failure reproduces.
@Suite struct FuzzTests {
    typealias Random = SeededRandom

    static let seed = """
        {"version": 1, "owner": "team", "registries": [
          {"name": "dev", "local": {"path": "state.json"}, "prune": "all", "webhooks": [
            {"name": "deploybot", "serviceUri": "https://h.example.com/x?code=${env:KEY:-k}", "actions": ["push", "delete"],
             "customHeaders": {"Authorization": "Bearer ${env:T}", "X-A": "\\u00e9\\n"}, "status": "disabled", "scope": "web/app:v1"}
          ]},
          {"name": "prod", "azure": {"subscriptionId": "6e9ef8d4-3c07-4a07-9d7e-1c4f3a7e2b11", "resourceGroup": "rg", "registry": "contosoprod"},
           "webhooks": [{"name": "scanner", "serviceUri": "https://s.example.com", "actions": ["quarantine"], "location": "westus"}]}
        ]}
        """

    /// Fragments that steer mutations towards interesting syntax.
    static let tokens: [[UInt8]] = ["{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\uD800", "0", "-", "1e", "true", "null",
                                    "${env:", "}", "//", "\u{FEFF}", "é", "\n", " ", "\"version\": 2", "\"name\": \"x\""].map { Array($0.utf8) }
        + [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0x00]]

    static func mutate(_ input: [UInt8], _ random: inout Random) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + random.below(4)) {
            let position = random.below(bytes.count + 1)
            switch random.below(6) {
            case 0 where !bytes.isEmpty:  // flip a bit
                let index = min(position, bytes.count - 1)
                bytes[index] ^= UInt8(1 << random.below(8))
            case 1 where !bytes.isEmpty:  // delete a run
                let end = min(bytes.count, position + 1 + random.below(16))
                bytes.removeSubrange(min(position, end)..<end)
            case 2:  // insert a token
                bytes.insert(contentsOf: tokens[random.below(tokens.count)], at: position)
            case 3 where !bytes.isEmpty:  // duplicate a run
                let start = min(position, bytes.count - 1)
                let end = min(bytes.count, start + 1 + random.below(40))
                bytes.insert(contentsOf: bytes[start..<end], at: random.below(bytes.count + 1))
            case 4:  // truncate
                bytes = Array(bytes.prefix(position))
            default:  // replace a byte with a random one
                if !bytes.isEmpty { bytes[min(position, bytes.count - 1)] = UInt8(truncatingIfNeeded: random.next()) }
            }
        }
        return bytes
    }

    static func check(_ bytes: [UInt8]) -> Bool {
        let document = SpecLoader.load(bytes)
        if let spec = document.spec {
            // A spec that loads also validates and resolves without trouble (a fallback or a value for everything).
            let environment = Dictionary(uniqueKeysWithValues: spec.environmentReferences.map { ($0.name, "v") })
            _ = document.resolve(environment: environment)
            return !document.diagnostics.hasErrors
        }
        return document.diagnostics.hasErrors && document.diagnostics.allSatisfy { !$0.code.isEmpty && !$0.message.isEmpty }
    }

    @Test("mutated specs always yield a spec or an error", .timeLimit(.minutes(2)))
    func mutatedSpecs() {
        var random = Random(state: 0x5EED)
        let seed = Array(Self.seed.utf8)
        #expect(Self.check(seed))
        var failures: [String] = []
        var loadedCount = 0
        for iteration in 0..<6_000 {
            let input = Self.mutate(seed, &random)
            if !Self.check(input) { failures.append("iteration \(iteration): \(String(decoding: input, as: UTF8.self))") }
            if SpecLoader.load(input).spec != nil { loadedCount += 1 }
        }
        #expect(failures.isEmpty, "\(failures.prefix(3))")
        // The mutations should leave some inputs valid, or the fuzzer only exercises the syntax checks.
        #expect(loadedCount > 0)
    }

    @Test("random bytes and random token soup never crash the reader", .timeLimit(.minutes(2)))
    func randomInputs() {
        var random = Random(state: 42)
        var failures = 0
        for _ in 0..<3_000 {
            var bytes: [UInt8] = []
            if random.below(2) == 0 {
                bytes = (0..<random.below(200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            } else {
                for _ in 0..<random.below(60) { bytes += Self.tokens[random.below(Self.tokens.count)] }
            }
            if !Self.check(bytes) { failures += 1 }
        }
        #expect(failures == 0)
    }
}

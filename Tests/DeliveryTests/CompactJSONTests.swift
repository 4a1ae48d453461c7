import Foundation
import HookKit
import HookSpec
import Reconciler
import TestSupport
import Testing

@testable import Delivery

/// The hand-written JSON on serve's per-event paths must be what Foundation would write: compared byte
/// for byte with JSONEncoder and JSONSerialization on seeded random content, and decoded back.
///
/// Keys are sorted by Unicode scalar value, as JSONEncoder sorts them. JSONSerialization sorts ignoring
/// case, so it is the reference only for the lowercase field names of event bodies and queue lines
/// (where the two orders agree); arbitrary keys are compared as decoded values.
@Suite struct CompactJSONTests {
    static func randomText(_ random: inout SeededRandom) -> String {
        let pieces = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{8}", "\u{c}", "\u{1}", "\u{1f}", "\u{7f}", "é", "日本", "👍🏽", "e\u{301}", "{}", "[]", ":", ","]
        return (0..<random.below(12)).map { _ in random.pick(pieces) }.joined()
    }

    static let headerNames = ["Content-Type", "content-length", "X-Request-Id", "x-ms-request-id", "Date", "Server", "Authorization",
                              "X-Custom-1", "x-custom-2", "ETag", "Retry-After", "Connection"]

    static func randomRecord(_ random: inout SeededRandom) -> DeliveryRecord {
        var headers: [String: String] = [:]
        for _ in 0..<random.below(4) { headers[random.pick(headerNames)] = randomText(&random) }
        let response = random.chance(60)
            ? DeliveryRecord.Response(status: 100 + random.below(500), headers: headers, body: randomText(&random), bodyTruncated: random.chance(50))
            : nil
        return DeliveryRecord(
            id: randomText(&random), webhook: randomText(&random), action: random.pick(["push", "delete", "ping"]), timestamp: Timestamp.now(),
            request: .init(method: "POST", uri: "https://h.example/" + randomText(&random), headers: headers, body: randomText(&random)),
            response: response, error: response == nil ? randomText(&random) : nil, durationMilliseconds: random.below(10_000),
            attempt: 1 + random.below(5))
    }

    /// Foundation objects as the writer's typed values (the test's side of the comparison only).
    static func value(_ object: Any) -> CompactJSON.Value {
        switch object {
        case let flag as Bool: .bool(flag)
        case let text as String: .string(text)
        case let number as Int64: .normalisedNumber(String(number))
        case let number as Double: .normalisedNumber(String(number))
        case let members as [String: Any]: .object(members.mapValues(value))
        case let members as [String: String]: .object(members.mapValues { .string($0) })
        case let elements as [Any]: .array(elements.map(value))
        default: .null
        }
    }

    @Test("a delivery record's line is byte for byte JSONEncoder's (sorted keys, slashes unescaped) and decodes back")
    func deliveryRecords() throws {
        var random = SeededRandom(state: 99)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for _ in 0..<500 {
            let record = Self.randomRecord(&random)
            let line = record.jsonLine()
            #expect(String(decoding: line, as: UTF8.self) == String(decoding: try encoder.encode(record), as: UTF8.self))
            #expect(try JSONDecoder().decode(DeliveryRecord.self, from: Data(line)) == record)
        }
    }

    @Test("flat string objects and translated event bodies match JSONSerialization's sorted output")
    func objects() throws {
        var random = SeededRandom(state: 5)
        for _ in 0..<500 {
            var flat: [String: String] = [:]
            for _ in 0..<random.below(6) { flat[Self.randomText(&random)] = Self.randomText(&random) }
            var named: [String: String] = [:]
            for _ in 0..<random.below(6) { named[random.pick(Self.headerNames)] = Self.randomText(&random) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            #expect(String(decoding: CompactJSON.object(named), as: UTF8.self) == String(decoding: try encoder.encode(named), as: UTF8.self))
            // An ACR event body's shape: lowercase and camelCase field names, every kind of value.
            let body: [String: Any] = [
                "id": Self.randomText(&random), "timestamp": Self.randomText(&random), "action": "push",
                "target": ["mediaType": Self.randomText(&random), "size": Int64(random.below(1_000_000)), "digest": "sha256:ab", "length": 1.5,
                           "repository": Self.randomText(&random), "tag": Self.randomText(&random)] as [String: Any],
                "request": ["id": "r", "host": Self.randomText(&random), "method": "PUT", "useragent": Self.randomText(&random)],
                "flags": [random.chance(50), NSNull(), Int64(-3), ["k": "v"]] as [Any],
            ]
            let expected = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])
            #expect(String(decoding: CompactJSON.value(Self.value(body)), as: UTF8.self) == String(decoding: expected, as: UTF8.self))
            #expect(try JSONSerialization.jsonObject(with: Data(CompactJSON.object(flat))) as? [String: String] == flat)
            #expect(try JSONSerialization.jsonObject(with: Data(CompactJSON.value(Self.value(flat)))) as? [String: String] == flat)
        }
    }
}

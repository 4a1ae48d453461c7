import Foundation
import HookKit
import Testing

/// `--interval` and friends: durations as people write them, and nothing that could be misread.
@Suite struct DurationTests {
    @Test("accepted durations", arguments: [
        ("30s", 30.0), ("5m", 300.0), ("1h", 3600.0), ("1h30m", 5400.0), ("1m30s", 90.0), ("1500ms", 1.5),
        ("2h0m5s", 7205.0), ("0s", 0.0), ("1s500ms", 1.5), ("999999999s", 999_999_999.0),
    ])
    func accepted(text: String, seconds: Double) {
        #expect(Seconds.parseDuration(text) == seconds)
    }

    @Test("refused durations", arguments: [
        "", "5", "5x", "-5s", "+5s", "1.5s", "5 s", " 5s", "5S", "s", "m5", "5s5m", "5m5m", "1e3s", "0x10s", "5sec", "5mss",
        "1234567890s", "5s ", "5s\n", "٥s", "5ｓ", String(repeating: "1", count: 40) + "s",
    ])
    func refused(text: String) {
        #expect(Seconds.parseDuration(text) == nil, "\(text)")
    }

    @Test("durations for people are written one way", arguments: [
        (0.005, "5 ms"), (0.25, "250 ms"), (1, "1 s"), (19.164, "19.2 s"), (59.96, "60 s"), (60, "1 min"), (90, "1 min 30 s"),
        (300, "5 min"), (3600, "1 h"), (5400, "1 h 30 min"), (86_400, "24 h"),
    ] as [(Double, String)])
    func described(seconds: Double, text: String) {
        #expect(Seconds.describe(seconds) == text)
    }

    @Test("formatting reads back", arguments: [1.0, 30, 59, 60, 90, 300, 3600, 5400, 86_400, 0.5, 1.25])
    func roundTrip(seconds: Double) {
        let text = Seconds.formatDuration(seconds)
        #expect(Seconds.parseDuration(text) == seconds, "\(text)")
    }

    @Test("fuzz: never traps, and an accepted text is within bounds")
    func fuzz() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let alphabet = Array("0123456789hmsx .-".utf8)
        for _ in 0..<20_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let length = Int(state >> 60)
            var bytes: [UInt8] = []
            for index in 0..<length { bytes.append(alphabet[Int((state >> UInt64(index * 4 % 56)) & 0xF) % alphabet.count]) }
            if let value = Seconds.parseDuration(String(decoding: bytes, as: UTF8.self)) {
                #expect(value >= 0 && value < 4 * 1e9 * 3600)
            }
        }
    }
}

/// RFC 3339 parsing, held to Timestamp.format and to Foundation's parser.
@Suite struct TimestampParseTests {
    @Test("round trip with format, and agreement with ISO8601DateFormatter")
    func roundTrip() {
        for seconds in [0.0, 1_796_637_602.5, 951_782_400.0, 4_102_444_799.999, 1_700_000_000.123] {
            let text = Timestamp.format(Date(timeIntervalSince1970: seconds))
            let parsed = Timestamp.seconds(text) ?? -1
            #expect(abs(parsed - seconds) < 0.002, "\(text)")
            #expect(Timestamp.format(Date(timeIntervalSince1970: parsed + 0.0001)) == text, "\(text)")
        }
        let formatter = ISO8601DateFormatter()
        for text in ["2026-12-07T10:00:02Z", "2024-02-29T23:59:59+01:00", "1999-12-31T00:00:00-05:30"] {
            #expect(Timestamp.seconds(text) == formatter.date(from: text)?.timeIntervalSince1970, "\(text)")
        }
    }

    @Test("what is not RFC 3339 is nil", arguments: ["", "2026-12-07", "2026-12-07 10:00:00Z", "2026-13-07T10:00:00Z", "2026-12-07T10:00:00", "2026-12-07T10:00:00.Z", "2026-12-07T10:00:00+0100", "x026-12-07T10:00:00Z"])
    func refused(_ text: String) {
        #expect(Timestamp.seconds(text) == nil)
    }
}

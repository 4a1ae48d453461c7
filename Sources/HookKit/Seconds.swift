/// Converts durations in seconds (a `Double` that may come from a flag, an environment variable or a
/// server's `Retry-After`) to the integer forms the system wants, without trapping.
///
/// `UInt64(1e30 * 1e9)` traps at run time ("Double value cannot be converted"), and so does NaN.
/// Every conversion of a duration goes through here: negative and NaN become 0, and anything above
/// ``maximum`` (a year, far beyond any timeout we accept) becomes the maximum.
public enum Seconds {
    /// A year: no duration hookapply waits for is longer, and its nanoseconds fit in a UInt64 with room to add.
    public static let maximum: Double = 365 * 24 * 3600

    /// `seconds`, clamped to `0...maximum` (NaN as 0).
    public static func clamped(_ seconds: Double) -> Double {
        if seconds.isNaN || seconds <= 0 { return 0 }
        return min(seconds, maximum)
    }

    /// Nanoseconds for `Task.sleep` and deadlines; never traps.
    public static func nanoseconds(_ seconds: Double) -> UInt64 {
        UInt64((clamped(seconds) * 1_000_000_000).rounded(.down))
    }

    /// Whole seconds and microseconds, for `timeval`.
    public static func parts(_ seconds: Double) -> (seconds: Int, microseconds: Int) {
        let value = clamped(seconds)
        let whole = value.rounded(.down)
        return (Int(whole), min(999_999, Int(((value - whole) * 1_000_000).rounded(.down))))
    }

    /// A plain decimal number of seconds (`5`, `0.5`): digits with an optional fraction, nothing else.
    /// No sign, exponent, hex, `inf` or `nan`, so `-0`, `1e30` and `0x10` are refused, not guessed at.
    public static func parsePlain(_ text: String) -> Double? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2,
            parts.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 12 && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
            let value = Double(text), value.isFinite
        else { return nil }
        return value
    }

    /// A duration as people write one for an interval: one or more `<whole number><unit>` parts, units
    /// `ms`, `s`, `m`, `h` (`30s`, `5m`, `1h30m`, `1500ms`). A bare number is refused (is `5` seconds or
    /// minutes?), and so are signs, fractions, spaces, repeated or out-of-order units; nil for those.
    public static func parseDuration(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 32 else { return nil }
        let order = ["h": 0, "m": 1, "s": 2, "ms": 3]
        let scale = ["h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001]
        var total = 0.0
        var last = -1
        var index = 0
        while index < bytes.count {
            var digits = 0
            var number = 0.0
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                number = number * 10 + Double(bytes[index] - 0x30)
                digits += 1
                index += 1
            }
            var unit = ""
            while index < bytes.count, bytes[index] >= 0x61, bytes[index] <= 0x7A {
                unit.append(Character(Unicode.Scalar(bytes[index])))
                index += 1
            }
            guard digits > 0, digits <= 9, let rank = order[unit], rank > last, let factor = scale[unit] else { return nil }
            last = rank
            total += number * factor
        }
        return total
    }

    /// A duration for people, written one way everywhere in messages and logs: `5 ms`, `19.2 s`, `5 min`,
    /// `1 h 30 min` (never `19164ms`). Options still take the compact form `parseDuration` reads.
    public static func describe(_ seconds: Double) -> String {
        let value = clamped(seconds)
        if value < 1 { return "\(Int((value * 1000).rounded())) ms" }
        if value < 60 {
            let tenths = (value * 10).rounded() / 10
            return tenths == tenths.rounded() ? "\(Int(tenths)) s" : "\(tenths) s"
        }
        let whole = Int(value.rounded())
        let (hours, minutes, rest) = (whole / 3600, whole % 3600 / 60, whole % 60)
        var parts: [String] = []
        if hours > 0 { parts.append("\(hours) h") }
        if minutes > 0 { parts.append("\(minutes) min") }
        if rest > 0 && hours == 0 { parts.append("\(rest) s") }
        return parts.joined(separator: " ")
    }

    /// `seconds` the way `parseDuration` reads it back: `5m`, `1h30m`, `1.5s` for fractions.
    public static func formatDuration(_ seconds: Double) -> String {
        let value = clamped(seconds)
        if value < 60 {
            return value == value.rounded() ? "\(Int(value))s" : "\(Int((value * 1000).rounded()))ms"
        }
        let whole = Int(value.rounded())
        let (hours, minutes, rest) = (whole / 3600, whole % 3600 / 60, whole % 60)
        return (hours > 0 ? "\(hours)h" : "") + (minutes > 0 ? "\(minutes)m" : "") + (rest > 0 ? "\(rest)s" : "")
    }
}

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
}

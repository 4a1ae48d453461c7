import HookKit

/// Compact JSON written by hand, keys sorted, slashes unescaped, for `serve`'s per-event paths (the ACR
/// body of each event, each queue line, each event-log record).
///
/// Foundation's `JSONSerialization` with `.sortedKeys` spent a third of `serve`'s CPU sorting
/// `AnyHashable` keys; these writers produce the same JSON (tests decode it back and compare) for the
/// few shapes those paths use.
public enum CompactJSON {
    public static func appendString(_ text: String, to output: inout [UInt8]) { JSONText.appendQuoted(text, to: &output) }

    /// A flat object of strings, keys sorted.
    public static func object(_ members: [String: String]) -> [UInt8] {
        var output: [UInt8] = [0x7B]
        for (index, key) in members.keys.sorted().enumerated() {
            if index > 0 { output.append(0x2C) }
            appendString(key, to: &output)
            output.append(0x3A)
            appendString(members[key] ?? "", to: &output)
        }
        output.append(0x7D)
        return output
    }

    /// A JSON value to write: what `serve` builds ACR event bodies from.
    public indirect enum Value: Hashable, Sendable {
        case null
        case bool(Bool)
        /// The number as JSON text, already normalised (see ``normalisedNumber(_:)``).
        case number(String)
        case string(String)
        case array([Value])
        /// Written with keys sorted, whatever the order here.
        case object([String: Value])

        /// A number as Foundation's writer would print it: integers without a fraction, other finite
        /// numbers in Swift's shortest form, and null for what JSON cannot hold.
        public static func normalisedNumber(_ text: String) -> Value {
            if let integer = Int64(text) { return .number(String(integer)) }
            guard let double = Double(text), double.isFinite else { return .null }
            if double == double.rounded(), abs(double) < 1e15 { return .number(String(Int64(double))) }
            return .number(String(double))
        }
    }

    public static func value(_ value: Value) -> [UInt8] {
        var output: [UInt8] = []
        append(value, to: &output)
        return output
    }

    private static func append(_ value: Value, to output: inout [UInt8]) {
        switch value {
        case .null: output += Array("null".utf8)
        case .bool(let flag): output += Array((flag ? "true" : "false").utf8)
        case .number(let text): output += Array(text.utf8)
        case .string(let text): appendString(text, to: &output)
        case .object(let members):
            output.append(0x7B)
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { output.append(0x2C) }
                appendString(key, to: &output)
                output.append(0x3A)
                append(members[key] ?? .null, to: &output)
            }
            output.append(0x7D)
        case .array(let elements):
            output.append(0x5B)
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(0x2C) }
                append(element, to: &output)
            }
            output.append(0x5D)
        }
    }
}

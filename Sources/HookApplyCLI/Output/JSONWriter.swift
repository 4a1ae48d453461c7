import HookKit

/// Writes JSON with keys in the order given (Foundation's encoder sorts or scrambles them), two-space indented.
enum JSONWriter {
    indirect enum Value {
        case string(String)
        case number(String)
        case array([Value])
        case object([(String, Value)])
    }

    static func write(_ value: Value, indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent)
        let inner = String(repeating: "  ", count: indent + 1)
        switch value {
        case .string(let text): return quote(text)
        case .number(let text): return text
        case .array(let elements):
            if elements.isEmpty { return "[]" }
            if elements.allSatisfy({ if case .string = $0 { true } else { false } }) {
                return "[" + elements.map { write($0) }.joined(separator: ", ") + "]"
            }
            return "[\n" + elements.map { inner + write($0, indent: indent + 1) }.joined(separator: ",\n") + "\n" + pad + "]"
        case .object(let members):
            if members.isEmpty { return "{}" }
            return "{\n" + members.map { inner + quote($0.0) + ": " + write($0.1, indent: indent + 1) }.joined(separator: ",\n") + "\n" + pad + "}"
        }
    }

    static func quote(_ text: String) -> String { JSONText.quote(text) }
}

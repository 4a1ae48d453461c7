/// `hookapply fmt`: a spec in the canonical layout. Keys in the schema's order (unknown keys after, as
/// written), two-space indent, every object on its own lines (so one webhook is one block), lists of
/// plain values on one line. Strings and numbers are copied from the source byte for byte, so
/// `${env:…}` references, escapes and descriptions are untouched and the meaning cannot change.
public enum SpecFormatter {
    /// Key order per kind of object, as in schema/hookapply.schema.json (a test holds the two together).
    public static let topLevelOrder = ["$schema", "version", "owner", "registries"]
    public static let registryOrder = ["name", "local", "azure", "prune", "webhooks"]
    public static let localOrder = ["path"]
    public static let azureOrder = ["subscriptionId", "resourceGroup", "registry", "endpoint"]
    public static let webhookOrder = ["name", "description", "serviceUri", "customHeaders", "actions", "status", "scope", "location", "signingSecret", "payloadFormat"]

    public enum Failure: Error, Sendable {
        /// Not JSON, or JSON that is no spec: formatting it would rewrite some other file.
        case notASpec([Diagnostic])
    }

    /// The canonical text of `source`, or the diagnostics of why it cannot be formatted.
    public static func format(_ source: [UInt8]) -> Result<[UInt8], Failure> {
        let root: JSONNode
        do {
            root = try JSONReader.read(source)
        } catch {
            return .failure(.notASpec(SpecLoader.load(source).diagnostics))
        }
        let document = SpecLoader.load(root, source: source)
        if document.diagnostics.contains(where: { $0.code == "not-a-spec" || $0.code == "unsupported-version" }) {
            return .failure(.notASpec(document.diagnostics.filter { $0.severity == .error }))
        }
        var writer = Writer(source: source)
        writer.value(root, kind: .topLevel, indent: 0)
        writer.output.append(UInt8(ascii: "\n"))
        return .success(writer.output)
    }

    /// Which object a value is, so its keys can be put in order.
    enum Kind {
        case topLevel, registries, registry, local, azure, webhooks, webhook, other

        var order: [String] {
            switch self {
            case .topLevel: SpecFormatter.topLevelOrder
            case .registry: SpecFormatter.registryOrder
            case .local: SpecFormatter.localOrder
            case .azure: SpecFormatter.azureOrder
            case .webhook: SpecFormatter.webhookOrder
            case .registries, .webhooks, .other: []
            }
        }

        /// The kind of the value under `key` of an object of this kind (or of an item of this array).
        func child(_ key: String?) -> Kind {
            switch (self, key) {
            case (.topLevel, "registries"): .registries
            case (.registries, nil): .registry
            case (.registry, "local"): .local
            case (.registry, "azure"): .azure
            case (.registry, "webhooks"): .webhooks
            case (.webhooks, nil): .webhook
            default: .other
            }
        }
    }

    struct Writer {
        let source: [UInt8]
        var output: [UInt8] = []

        init(source: [UInt8]) {
            self.source = source
            output.reserveCapacity(source.count + source.count / 4)
        }

        mutating func text(_ text: String) { output.append(contentsOf: text.utf8) }

        mutating func newline(_ indent: Int) {
            output.append(UInt8(ascii: "\n"))
            output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent))
        }

        /// A string or number exactly as the source wrote it, from its first byte to its last.
        mutating func token(at offset: Int) {
            var end = offset
            if source[offset] == UInt8(ascii: "\"") {
                end += 1
                while end < source.count, source[end] != UInt8(ascii: "\"") {
                    end += source[end] == UInt8(ascii: "\\") ? 2 : 1
                }
                end += 1
            } else {
                while end < source.count, !Self.ends(source[end]) { end += 1 }
            }
            output.append(contentsOf: source[offset..<min(end, source.count)])
        }

        static func ends(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") || byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
        }

        mutating func value(_ node: JSONNode, kind: Kind, indent: Int) {
            switch node.value {
            case .null: text("null")
            case .bool(let value): text(value ? "true" : "false")
            case .number, .string: token(at: node.offset)
            case .array(let items):
                if items.isEmpty { return text("[]") }
                // Plain values (actions) on one line; objects (registries, webhooks) one block each.
                if items.allSatisfy({ !$0.value.isContainer }) {
                    text("[")
                    for (index, item) in items.enumerated() {
                        if index > 0 { text(", ") }
                        value(item, kind: .other, indent: indent)
                    }
                    return text("]")
                }
                text("[")
                for (index, item) in items.enumerated() {
                    newline(indent + 2)
                    value(item, kind: kind.child(nil), indent: indent + 2)
                    if index < items.count - 1 { text(",") }
                }
                newline(indent)
                text("]")
            case .object(let members):
                if members.isEmpty { return text("{}") }
                text("{")
                let ordered = Self.ordered(members, by: kind.order)
                for (index, member) in ordered.enumerated() {
                    newline(indent + 2)
                    token(at: member.keyOffset)
                    text(": ")
                    value(member.value, kind: kind.child(member.key), indent: indent + 2)
                    if index < ordered.count - 1 { text(",") }
                }
                newline(indent)
                text("}")
            }
        }

        /// Known keys in `order`, then the rest as written (a stable sort on each key's place).
        static func ordered(_ members: [JSONMember], by order: [String]) -> [JSONMember] {
            guard !order.isEmpty else { return members }
            return members.enumerated().sorted { lhs, rhs in
                let left = order.firstIndex(of: lhs.element.key) ?? order.count
                let right = order.firstIndex(of: rhs.element.key) ?? order.count
                return left != right ? left < right : lhs.offset < rhs.offset
            }.map(\.element)
        }
    }
}

extension JSONValue {
    var isContainer: Bool {
        switch self {
        case .array, .object: true
        default: false
        }
    }
}

import Foundation
import HookSpec

/// Checks a JSON document against the subset of JSON Schema (draft 2020-12) that the repository's own
/// schemas use, so tests can hold an output and its published schema to each other without a
/// dependency. A keyword it does not know is reported as a problem, never skipped: a schema using more
/// than this checks cannot pass by accident.
public struct SchemaCheck: Sendable {
    let root: JSONNode

    public init(schemaText: String) throws {
        root = try JSONReader.read(Array(schemaText.utf8))
    }

    /// Every place where `document` breaks the schema, as "/json/pointer: what"; empty when it conforms.
    public func problems(_ document: String) throws -> [String] {
        let node = try JSONReader.read(Array(document.utf8))
        var problems: [String] = []
        check(node.value, against: root.value, at: "", into: &problems)
        return problems
    }

    private func conforms(_ value: JSONValue, to schema: JSONValue, at path: String) -> Bool {
        var inner: [String] = []
        check(value, against: schema, at: path, into: &inner)
        return inner.isEmpty
    }

    private static let annotations: Set<String> = ["$schema", "$id", "title", "description", "default", "$defs", "examples", "$comment", "deprecated", "readOnly"]

    private func check(_ value: JSONValue, against schema: JSONValue, at path: String, into problems: inout [String]) {
        guard case .object(let keywords) = schema.resolved(in: root) else {
            if case .bool(false) = schema { problems.append("\(path): not allowed") }
            return
        }
        let members = Dictionary(keywords.map { ($0.key, $0.value.value) }, uniquingKeysWith: { first, _ in first })
        for (keyword, rule) in members {
            switch keyword {
            case _ where Self.annotations.contains(keyword):
                continue
            case "$ref":
                check(value, against: .object([JSONMember(key: "$ref", keyOffset: 0, value: JSONNode(rule, offset: 0))]).resolved(in: root),
                      at: path, into: &problems)
            case "type":
                let allowed: [String]
                switch rule {
                case .string(let name): allowed = [name]
                case .array(let names): allowed = names.compactMap { if case .string(let name) = $0.value { name } else { nil } }
                default: allowed = []
                }
                if !allowed.contains(where: { value.isA($0) }) { problems.append("\(path): expected \(allowed.joined(separator: " or ")), found \(value.kindName)") }
            case "const":
                if !value.sameAs(rule) { problems.append("\(path): not the constant the schema requires") }
            case "enum":
                guard case .array(let options) = rule else { continue }
                if !options.contains(where: { value.sameAs($0.value) }) { problems.append("\(path): not one of the allowed values") }
            case "required":
                guard case .object(let present) = value, case .array(let names) = rule else { continue }
                for case .string(let name) in names.map(\.value) where !present.contains(where: { $0.key == name }) {
                    problems.append("\(path): missing '\(name)'")
                }
            case "properties":
                guard case .object(let present) = value, case .object(let properties) = rule else { continue }
                for member in present {
                    if let property = properties.first(where: { $0.key == member.key }) {
                        check(member.value.value, against: property.value.value, at: path + "/" + member.key, into: &problems)
                    }
                }
            case "patternProperties":
                guard case .object(let present) = value, case .object(let patterns) = rule else { continue }
                for member in present {
                    for pattern in patterns where member.key.range(of: pattern.key, options: .regularExpression) != nil {
                        check(member.value.value, against: pattern.value.value, at: path + "/" + member.key, into: &problems)
                    }
                }
            case "propertyNames":
                guard case .object(let present) = value else { continue }
                for member in present {
                    var inner: [String] = []
                    check(.string(member.key), against: rule, at: path, into: &inner)
                    if !inner.isEmpty { problems.append("\(path): the property name '\(member.key)' is not allowed (\(inner.joined(separator: "; ")))") }
                }
            case "additionalProperties":
                guard case .object(let present) = value else { continue }
                var declared: Set<String> = []
                if case .object(let properties)? = members["properties"] { declared = Set(properties.map(\.key)) }
                var patterns: [String] = []
                if case .object(let patternRules)? = members["patternProperties"] { patterns = patternRules.map(\.key) }
                for member in present where !declared.contains(member.key)
                    && !patterns.contains(where: { member.key.range(of: $0, options: .regularExpression) != nil }) {
                    if case .bool(false) = rule {
                        problems.append("\(path): '\(member.key)' is not in the schema")
                    } else {
                        check(member.value.value, against: rule, at: path + "/" + member.key, into: &problems)
                    }
                }
            case "items":
                guard case .array(let items) = value else { continue }
                for (index, item) in items.enumerated() { check(item.value, against: rule, at: "\(path)/\(index)", into: &problems) }
            case "minItems":
                if case .array(let items) = value, case .number(let text) = rule, let minimum = Int(text), items.count < minimum {
                    problems.append("\(path): fewer than \(minimum) items")
                }
            case "minimum":
                if case .number(let text) = value, case .number(let bound) = rule, let number = Double(text), let minimum = Double(bound), number < minimum {
                    problems.append("\(path): below \(bound)")
                }
            case "minLength", "maxLength":
                if case .string(let text) = value, case .number(let bound) = rule, let limit = Int(bound),
                   keyword == "minLength" ? text.count < limit : text.count > limit {
                    problems.append("\(path): \(keyword) \(limit)")
                }
            case "pattern":
                if case .string(let text) = value, case .string(let pattern) = rule, text.range(of: pattern, options: .regularExpression) == nil {
                    problems.append("\(path): does not match \(pattern)")
                }
            case "maximum":
                if case .number(let text) = value, case .number(let bound) = rule, let number = Double(text), let maximum = Double(bound), number > maximum {
                    problems.append("\(path): above \(bound)")
                }
            case "maxItems":
                if case .array(let items) = value, case .number(let text) = rule, let maximum = Int(text), items.count > maximum {
                    problems.append("\(path): more than \(maximum) items")
                }
            case "uniqueItems":
                guard case .array(let items) = value, case .bool(true) = rule else { continue }
                for (index, item) in items.enumerated() where items[..<index].contains(where: { $0.value.sameAs(item.value) }) {
                    problems.append("\(path)/\(index): repeats an earlier item")
                }
            case "allOf":
                guard case .array(let options) = rule else { continue }
                for option in options { check(value, against: option.value, at: path, into: &problems) }
            case "anyOf":
                guard case .array(let options) = rule else { continue }
                if !options.contains(where: { conforms(value, to: $0.value, at: path) }) { problems.append("\(path): matches none of the anyOf choices") }
            case "not":
                if conforms(value, to: rule, at: path) { problems.append("\(path): matches a schema it must not match") }
            case "if":
                // then/else are read here; on their own they mean nothing.
                if conforms(value, to: rule, at: path) {
                    if let then = members["then"] { check(value, against: then, at: path, into: &problems) }
                } else if let otherwise = members["else"] {
                    check(value, against: otherwise, at: path, into: &problems)
                }
            case "then", "else":
                continue
            case "oneOf":
                guard case .array(let options) = rule else { continue }
                let matching = options.filter { conforms(value, to: $0.value, at: path) }.count
                if matching != 1 { problems.append("\(path): matches \(matching) of the oneOf choices, not exactly one") }
            default:
                problems.append("\(path): the schema uses '\(keyword)', which SchemaCheck does not check")
            }
        }
    }
}

extension JSONValue {
    /// A `{"$ref": "#/$defs/x"}` schema followed to what it names (any other schema as it is).
    fileprivate func resolved(in root: JSONNode) -> JSONValue {
        guard case .object(let members) = self, members.count == 1, let reference = members.first, reference.key == "$ref",
              case .string(let target) = reference.value.value, target.hasPrefix("#"),
              case let pointer = JSONPointer(String(target.dropFirst())), let node = root.node(at: pointer)
        else { return self }
        return node.value.resolved(in: root)
    }

    fileprivate func isA(_ type: String) -> Bool {
        switch (type, self) {
        case ("null", .null), ("boolean", .bool), ("number", .number), ("string", .string), ("array", .array), ("object", .object): true
        case ("integer", .number(let text)): Int(text) != nil
        default: false
        }
    }

    /// Equality as JSON means it: objects regardless of member order, numbers by value.
    fileprivate func sameAs(_ other: JSONValue) -> Bool {
        switch (self, other) {
        case (.null, .null): true
        case let (.bool(a), .bool(b)): a == b
        case let (.number(a), .number(b)): Double(a) == Double(b)
        case let (.string(a), .string(b)): a == b
        case let (.array(a), .array(b)): a.count == b.count && zip(a, b).allSatisfy { $0.value.sameAs($1.value) }
        case let (.object(a), .object(b)):
            a.count == b.count && a.allSatisfy { member in b.contains { $0.key == member.key && $0.value.value.sameAs(member.value.value) } }
        default: false
        }
    }
}

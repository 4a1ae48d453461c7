import Delivery
import HookSpec

/// One event of a Distribution notification envelope, as read by the strict JSON reader: typed access
/// to the few members the translation needs, and their values in the form the ACR body is written in.
/// Later members win over earlier ones with the same key, as in Foundation's decoding.
struct DistributionEvent {
    private var members: [String: JSONNode] = [:]

    init(_ list: [JSONMember]) {
        for member in list { members[member.key] = member.value }
    }

    func string(_ key: String) -> String? {
        guard case .string(let text)? = members[key]?.value else { return nil }
        return text
    }

    func object(_ key: String) -> DistributionEvent? {
        guard case .object(let list)? = members[key]?.value else { return nil }
        return DistributionEvent(list)
    }

    /// The objects of an array member (other elements skipped).
    func array(_ key: String) -> [DistributionEvent]? {
        guard case .array(let elements)? = members[key]?.value else { return nil }
        return elements.compactMap { element in
            guard case .object(let list) = element.value else { return nil }
            return DistributionEvent(list)
        }
    }

    /// The member as it is written into an ACR body.
    func value(_ key: String) -> CompactJSON.Value? {
        members[key].map(Self.convert)
    }

    static func convert(_ node: JSONNode) -> CompactJSON.Value {
        switch node.value {
        case .null: .null
        case .bool(let flag): .bool(flag)
        case .number(let text): .normalisedNumber(text)
        case .string(let text): .string(text)
        case .array(let elements): .array(elements.map(convert))
        case .object(let list):
            .object(Dictionary(list.map { ($0.key, convert($0.value)) }, uniquingKeysWith: { _, last in last }))
        }
    }
}

import HookKit
import HookSpec

/// Reads and writes the local registry's state file with the project's strict JSON reader.
///
/// Faster than Foundation's JSONDecoder by an order of magnitude on large states (a plan of 100
/// registries reads 100 of them), and strict: any deviation from the format is "corrupt", never guessed at.
enum LocalStateCodec {
    struct Corrupt: Error {
        var reason: String
    }

    /// The file's formatVersion, read before anything else so a newer file is refused, not misread.
    static func formatVersion(_ root: JSONNode) throws(Corrupt) -> Int {
        guard case .object(let members) = root.value else { throw Corrupt(reason: "it is not a JSON object") }
        guard let node = members.first(where: { $0.key == "formatVersion" })?.value else { throw Corrupt(reason: "it has no formatVersion") }
        guard case .number(let text) = node.value, let version = Int(text) else { throw Corrupt(reason: "formatVersion is not an integer") }
        return version
    }

    static func webhooks(_ root: JSONNode) throws(Corrupt) -> [WebhookState] {
        guard case .object(let members) = root.value,
            case .array(let elements)? = members.first(where: { $0.key == "webhooks" })?.value.value
        else { throw Corrupt(reason: "it has no webhooks array") }
        var result: [WebhookState] = []
        result.reserveCapacity(elements.count)
        // Names are case-insensitive in every registry: two that differ only in case would be planned as
        // one, and updating one would leave the other ("1 updated" on every apply, forever).
        var seen: [String: String] = [:]
        seen.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            let webhook = try webhook(element, index: index)
            if let first = seen.updateValue(webhook.name, forKey: webhook.name.lowercased()) {
                throw Corrupt(reason: "it holds webhooks '\(first)' and '\(webhook.name)', whose names differ only in case (names are case-insensitive); remove one of them from the file")
            }
            result.append(webhook)
        }
        return result
    }

    private static func webhook(_ node: JSONNode, index: Int) throws(Corrupt) -> WebhookState {
        guard case .object(let members) = node.value else { throw Corrupt(reason: "webhook \(index) is not an object") }
        func field(_ key: String) -> JSONValue? { members.first(where: { $0.key == key })?.value.value }
        func string(_ key: String) throws(Corrupt) -> String {
            guard case .string(let value)? = field(key) else { throw Corrupt(reason: "webhook \(index) has no string '\(key)'") }
            return value
        }
        let name = try string("name")
        let serviceUri = try string("serviceUri")
        var headers: [ResolvedHeader] = []
        if case .array(let list)? = field("customHeaders") {
            for entry in list {
                guard case .object(let pair) = entry.value,
                    case .string(let headerName)? = pair.first(where: { $0.key == "name" })?.value.value,
                    case .string(let value)? = pair.first(where: { $0.key == "value" })?.value.value
                else { throw Corrupt(reason: "webhook '\(name)' has a malformed header") }
                headers.append(ResolvedHeader(name: headerName, value: value))
            }
        } else if field("customHeaders") != nil {
            throw Corrupt(reason: "webhook '\(name)' has malformed customHeaders")
        }
        var actions: [WebhookAction] = []
        guard case .array(let actionList)? = field("actions") else { throw Corrupt(reason: "webhook '\(name)' has no actions") }
        for entry in actionList {
            guard case .string(let raw) = entry.value, let action = WebhookAction(rawValue: raw) else {
                throw Corrupt(reason: "webhook '\(name)' has an unknown action")
            }
            actions.append(action)
        }
        guard let status = WebhookStatus(rawValue: try string("status")) else { throw Corrupt(reason: "webhook '\(name)' has an unknown status") }
        let scope = try string("scope")
        var location: String? = nil
        if case .string(let value)? = field("location") { location = value }
        var tags: [String: String] = [:]
        if case .object(let pairs)? = field("tags") {
            for pair in pairs {
                guard case .string(let value) = pair.value.value else { throw Corrupt(reason: "webhook '\(name)' has a non-string tag") }
                tags[pair.key] = value
            }
        }
        var signingSecrets: [String] = []
        if case .array(let list)? = field("signingSecrets") {
            for entry in list {
                guard case .string(let secret) = entry.value else { throw Corrupt(reason: "webhook '\(name)' has a signing secret that is not a string") }
                signingSecrets.append(secret)
            }
        } else if field("signingSecrets") != nil {
            throw Corrupt(reason: "webhook '\(name)' has malformed signingSecrets")
        }
        var payloadFormat = PayloadFormat.acr
        if let value = field("payloadFormat") {
            guard case .string(let raw) = value, let format = PayloadFormat(rawValue: raw) else {
                throw Corrupt(reason: "webhook '\(name)' has an unknown payloadFormat")
            }
            payloadFormat = format
        }
        return WebhookState(name: name, serviceUri: serviceUri, customHeaders: headers, actions: actions, status: status,
                            scope: scope, location: location, tags: tags, signingSecrets: signingSecrets, payloadFormat: payloadFormat)
    }

    /// The file's bytes: pretty, keys in a fixed order, webhooks sorted by name, so diffs of it are readable.
    static func encode(_ webhooks: [WebhookState], formatVersion: Int) -> [UInt8] {
        var out = "{\n  \"formatVersion\": \(formatVersion),\n  \"webhooks\": ["
        for (index, webhook) in webhooks.enumerated() {
            out += index == 0 ? "\n" : ",\n"
            out += "    {\n"
            out += "      \"name\": \(quote(webhook.name)),\n"
            out += "      \"serviceUri\": \(quote(webhook.serviceUri)),\n"
            out += "      \"customHeaders\": [" + webhook.customHeaders.map { "{\"name\": \(quote($0.name)), \"value\": \(quote($0.value))}" }.joined(separator: ", ") + "],\n"
            out += "      \"actions\": [" + webhook.actions.map { quote($0.rawValue) }.joined(separator: ", ") + "],\n"
            out += "      \"status\": \(quote(webhook.status.rawValue)),\n"
            out += "      \"scope\": \(quote(webhook.scope)),\n"
            if let location = webhook.location { out += "      \"location\": \(quote(location)),\n" }
            if !webhook.signingSecrets.isEmpty {
                out += "      \"signingSecrets\": [" + webhook.signingSecrets.map(quote).joined(separator: ", ") + "],\n"
            }
            if webhook.payloadFormat != .acr { out += "      \"payloadFormat\": \(quote(webhook.payloadFormat.rawValue)),\n" }
            out += "      \"tags\": {" + webhook.tags.sorted { $0.key < $1.key }.map { "\(quote($0.key)): \(quote($0.value))" }.joined(separator: ", ") + "}\n"
            out += "    }"
        }
        out += webhooks.isEmpty ? "]\n}\n" : "\n  ]\n}\n"
        return Array(out.utf8)
    }

    static func quote(_ text: String) -> String { JSONText.quote(text) }
}

import HookKit
import HookSpec

// The plan document's parts written straight to a PrettyJSONWriter, in JSONEncoder's layout and key
// order: the same bytes the Codable conformances beside them produce (PlanDocumentWriterTests holds the
// two equal over many plans), without building a 20 MB document in memory first. Keys are listed in
// sorted order by hand; a key added to a CodingKeys enum must be added here too, or the test fails.

extension Change {
    public func write(to json: inout PrettyJSONWriter) {
        json.beginObject()
        json.key("action"); json.string(action.rawValue)
        json.key("actions"); json.strings(action.steps)
        json.key("after"); if let after { after.write(to: &json) } else { json.null() }
        json.key("before"); if let before { before.write(to: &json) } else { json.null() }
        json.key("fields")
        json.beginArray()
        for field in fields { field.write(to: &json) }
        json.endArray()
        json.key("reasons"); json.strings(reasons)
        json.key("registry"); json.string(registry)
        json.key("unchanged_count"); json.int(unchangedCount)
        json.key("webhook"); json.string(webhook)
        json.endObject()
    }
}

extension FieldChange {
    public func write(to json: inout PrettyJSONWriter) {
        json.beginObject()
        json.key("field"); json.string(field.rawValue)
        json.key("forces_replacement"); json.bool(forcesReplacement)
        json.key("hidden_change"); json.bool(isHiddenChange)
        json.key("key"); json.string(key)
        json.key("new"); FieldValue.write(new, to: &json)
        json.key("old"); FieldValue.write(old, to: &json)
        json.key("sensitive"); json.bool(isSensitive)
        json.endObject()
    }
}

extension FieldValue {
    static func write(_ value: FieldValue?, to json: inout PrettyJSONWriter) {
        switch value {
        case nil: json.null()
        case .text(let text)?: json.string(text)
        case .list(let items)?: json.strings(items)
        case .masked?: json.string(Redaction.sensitiveValue)
        }
    }
}

extension MaskedWebhook {
    public func write(to json: inout PrettyJSONWriter) {
        json.beginObject()
        json.key("actions"); json.strings(actions.map(\.rawValue))
        json.key("customHeaders"); json.stringDictionary(customHeaders)
        if let location { json.key("location"); json.string(location) }
        json.key("name"); json.string(name)
        if let payloadFormat { json.key("payloadFormat"); json.string(payloadFormat.rawValue) }
        json.key("scope"); json.string(scope)
        json.key("serviceUri"); json.string(serviceUri)
        if let signingSecret { json.key("signingSecret"); json.string(signingSecret) }
        json.key("status"); json.string(status.rawValue)
        json.key("tags"); json.stringDictionary(tags)
        json.endObject()
    }
}

extension RegistryPlan {
    /// The registry as the document lists it (its changes are in the document's flat list).
    public func write(to json: inout PrettyJSONWriter) {
        json.beginObject()
        if let dependencyList {
            json.key("dependencies")
            json.beginObject()
            for entry in dependencyList {
                json.key(entry.name)
                entry.dependency.write(to: &json)
            }
            json.endObject()
        }
        if let factsDigest { json.key("facts_digest"); json.string(factsDigest) }
        json.key("name"); json.string(name)
        json.key("target"); json.string(target)
        json.key("unmanaged")
        json.beginArray()
        for webhook in unmanaged {
            json.beginObject()
            json.key("name"); json.string(webhook.name)
            if let owner = webhook.owner { json.key("owner"); json.string(owner) }
            json.key("reason"); json.string(webhook.reason)
            json.endObject()
        }
        json.endArray()
        json.endObject()
    }
}

extension WebhookDependency {
    public func write(to json: inout PrettyJSONWriter) {
        json.beginObject()
        if let actions { json.key("actions"); json.strings(actions.map(\.rawValue)) }
        json.key("exists"); json.bool(exists)
        if let headerNames { json.key("headerNames"); json.strings(headerNames) }
        if let location { json.key("location"); json.string(location) }
        if let provisioningState { json.key("provisioningState"); json.string(provisioningState) }
        if let scope { json.key("scope"); json.string(scope) }
        if let serviceUri { json.key("serviceUri"); json.string(serviceUri) }
        if let status { json.key("status"); json.string(status.rawValue) }
        if let tags { json.key("tags"); json.string(tags) }
        json.endObject()
    }
}

extension Plan.Summary {
    public func write(to json: inout PrettyJSONWriter) {
        json.beginObject()
        json.key("create"); json.int(create)
        json.key("delete"); json.int(delete)
        json.key("update"); json.int(update)
        json.endObject()
    }
}

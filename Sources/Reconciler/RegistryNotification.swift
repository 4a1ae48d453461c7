import Foundation
import HookSpec

/// One registry event in ACR's shape, ready to deliver: translated from a CNCF Distribution notification.
public struct RegistryNotification: Hashable, Sendable {
    /// The Distribution event's id, kept as the ACR event id (and the key for de-duplicating retried batches).
    public var id: String
    public var action: WebhookAction
    public var repository: String
    /// nil for deletes: ACR's delete event carries no tag.
    public var tag: String?
    /// The JSON body ACR would POST.
    public var body: [UInt8]

    public init(id: String, action: WebhookAction, repository: String, tag: String?, body: [UInt8]) {
        self.id = id
        self.action = action
        self.repository = repository
        self.tag = tag
        self.body = body
    }
}

/// Turns a Distribution notification envelope (`{"events": [...]}`) into ACR events.
///
/// | Distribution event | ACR event |
/// |---|---|
/// | `push` of a manifest with a `tag` | `push`: `id`, `timestamp`, `action`, `target{mediaType, size, digest, length, repository, tag}`, `request{id, host, method, useragent}` |
/// | `push` of a manifest without a tag (by digest) | none: ACR's push events name a tag |
/// | `push` of a blob (`application/octet-stream`, or no tag and a layer/config type) | none: ACR fires on manifests |
/// | `delete` with a `digest` (a manifest deleted) | `delete`: `id`, `timestamp`, `action`, `target{mediaType?, digest, repository}`, `request{…}`; no tag |
/// | `delete` with only a `tag` (Distribution's follow-up per tag) | none: ACR does not fire when a tag is deleted |
/// | `pull`, `mount` | none |
public enum DistributionTranslator {
    public struct Failure: Error, Hashable, Sendable {
        public var message: String
    }

    /// Media types of manifests and indexes (what ACR fires on).
    static func isManifest(_ mediaType: String?) -> Bool {
        guard let mediaType else { return false }
        return mediaType.contains("manifest") || mediaType.contains("image.index")
    }

    /// - Throws: ``Failure`` when the body is not a notification envelope (the ingest answers 400 then).
    public static func translate(_ bytes: [UInt8]) throws(Failure) -> [RegistryNotification] {
        guard let root = try? JSONReader.read(bytes), case .object(let members) = root.value else {
            throw Failure(message: "the body is not a JSON object")
        }
        guard case .array(let events)? = members.first(where: { $0.key == "events" })?.value.value else {
            throw Failure(message: "the body has no 'events' array")
        }
        var result: [RegistryNotification] = []
        for event in events {
            guard let object = event.plain as? [String: Any] else { throw Failure(message: "an event is not an object") }
            if let notification = translate(object) { result.append(notification) }
        }
        return result
    }

    static func translate(_ event: [String: Any]) -> RegistryNotification? {
        guard let id = event["id"] as? String, let action = event["action"] as? String,
            let target = event["target"] as? [String: Any], let repository = target["repository"] as? String
        else { return nil }
        let request = event["request"] as? [String: Any] ?? [:]
        var acrRequest: [String: Any] = [:]
        for key in ["id", "host", "method", "useragent"] { if let value = request[key] { acrRequest[key] = value } }
        var body: [String: Any] = ["id": id, "timestamp": event["timestamp"] as? String ?? "", "action": action]
        switch action {
        case "push":
            guard let tag = target["tag"] as? String, !tag.isEmpty, isManifest(target["mediaType"] as? String) else { return nil }
            var acrTarget: [String: Any] = ["repository": repository, "tag": tag]
            for key in ["mediaType", "size", "digest", "length"] { if let value = target[key] { acrTarget[key] = value } }
            body["target"] = acrTarget
            body["request"] = acrRequest
            return RegistryNotification(id: id, action: .push, repository: repository, tag: tag, body: encode(body))
        case "delete":
            guard let digest = target["digest"] as? String, !digest.isEmpty else { return nil }
            var acrTarget: [String: Any] = ["repository": repository, "digest": digest]
            if let mediaType = target["mediaType"] { acrTarget["mediaType"] = mediaType }
            body["target"] = acrTarget
            body["request"] = acrRequest
            return RegistryNotification(id: id, action: .delete, repository: repository, tag: nil, body: encode(body))
        default:
            return nil
        }
    }

    static func encode(_ object: [String: Any]) -> [UInt8] { CompactJSON.value(object) }
}

/// Which webhooks an event goes to.
///
/// A webhook matches when it is enabled, the event's action is among its actions, and its scope matches:
/// | scope | push of `repo:tag` | delete in `repo` (no tag) |
/// |---|---|---|
/// | `""` | yes | yes |
/// | `repo:*` | yes | yes |
/// | `repo:tag` | yes | no: the delete names no tag |
/// | `repo` (= `repo:latest`) | only when the tag is `latest` | no: the delete names no tag |
/// | another repository | no | no |
public enum WebhookMatcher {
    /// Compares UTF-8 bytes in place: `serve` matches every event against every webhook of the registry,
    /// and Character-level string operations cost a tenth of its CPU. Repository names and tags are ASCII
    /// (Distribution's grammar), where byte equality and string equality agree.
    public static func scope(_ scope: String, matchesRepository repository: String, tag: String?) -> Bool {
        let bytes = scope.utf8
        if bytes.isEmpty { return true }
        let colon = bytes.firstIndex(of: UInt8(ascii: ":"))
        guard bytes[..<(colon ?? bytes.endIndex)].elementsEqual(repository.utf8) else { return false }
        guard let colon else { return tag == "latest" }  // ACR: a repository alone means repository:latest
        let wanted = bytes[bytes.index(after: colon)...]
        if wanted.elementsEqual("*".utf8) { return true }
        guard let tag else { return false }
        return wanted.elementsEqual(tag.utf8)
    }

    public static func webhooks(for notification: RegistryNotification, among webhooks: [WebhookState]) -> [WebhookState] {
        webhooks.filter { webhook in
            webhook.status == .enabled && webhook.actions.contains(notification.action)
                && scope(webhook.scope, matchesRepository: notification.repository, tag: notification.tag)
        }
    }
}

extension JSONNode {
    /// The value as Foundation objects, for building event bodies.
    var plain: Any {
        switch value {
        case .null: return NSNull()
        case .bool(let value): return value
        case .number(let text): return Int64(text).map { $0 as Any } ?? (Double(text).map { $0 as Any } ?? text)
        case .string(let value): return value
        case .array(let elements): return elements.map(\.plain)
        case .object(let members):
            var result: [String: Any] = [:]
            for member in members { result[member.key] = member.value.plain }
            return result
        }
    }
}

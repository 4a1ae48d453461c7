import Delivery
import HookKit
import HookSpec

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
        // On bytes: Foundation's `contains` (a locale-aware search) was 4 % of ingest's CPU.
        let bytes = Array(mediaType.utf8)
        return bytes.firstIndex(of: manifest, from: 0) != nil || bytes.firstIndex(of: imageIndex, from: 0) != nil
    }

    /// A Helm chart: its config's media type is among the manifest's references (`includereferences: true`).
    static func isChart(_ target: DistributionEvent) -> Bool {
        guard let references = target.array("references") else { return false }
        return references.contains { $0.string("mediaType") == CloudEvent.helmConfigMediaType }
    }

    private static let manifest = Array("manifest".utf8)
    private static let imageIndex = Array("image.index".utf8)

    /// - Throws: ``Failure`` when the body is not a notification envelope (the ingest answers 400 then).
    public static func translate(_ bytes: [UInt8]) throws(Failure) -> [RegistryNotification] {
        try translateCounting(bytes).notifications
    }

    /// ``translate(_:)``, and how many events the envelope held: the difference is what ACR has no event
    /// for (blob uploads, pulls, mounts), counted in `/metrics` rather than logged.
    public static func translateCounting(_ bytes: [UInt8]) throws(Failure) -> (notifications: [RegistryNotification], total: Int) {
        guard let root = try? JSONReader.read(bytes), case .object(let members) = root.value else {
            throw Failure(message: "the body is not a JSON object")
        }
        guard case .array(let events)? = members.first(where: { $0.key == "events" })?.value.value else {
            throw Failure(message: "the body has no 'events' array")
        }
        var result: [RegistryNotification] = []
        for event in events {
            guard case .object(let members) = event.value else { throw Failure(message: "an event is not an object") }
            if let notification = translate(DistributionEvent(members)) { result.append(notification) }
        }
        return (result, events.count)
    }

    static func translate(_ event: DistributionEvent) -> RegistryNotification? {
        guard let id = event.string("id"), let action = event.string("action"),
            let target = event.object("target"), let repository = target.string("repository")
        else { return nil }
        let request = event.object("request") ?? DistributionEvent([])
        var acrRequest: [String: CompactJSON.Value] = [:]
        for key in ["id", "host", "method", "useragent"] { if let value = request.value(key) { acrRequest[key] = value } }
        var body: [String: CompactJSON.Value] = ["id": .string(id), "timestamp": .string(event.string("timestamp") ?? ""), "action": .string(action)]
        // ACR's event model has both (`actor{name}`, `source{addr, instanceID}`), and Event Grid's data carries them.
        for key in ["actor", "source"] {
            if let value = event.value(key), case .object = value { body[key] = value }
        }
        switch action {
        case "push":
            guard let tag = target.string("tag"), !tag.isEmpty, isManifest(target.string("mediaType")) else { return nil }
            var acrTarget: [String: CompactJSON.Value] = ["repository": .string(repository), "tag": .string(tag)]
            for key in ["mediaType", "size", "digest", "length"] { if let value = target.value(key) { acrTarget[key] = value } }
            body["target"] = .object(acrTarget)
            body["request"] = .object(acrRequest)
            return RegistryNotification(id: id, action: .push, repository: repository, tag: tag, body: CompactJSON.value(.object(body)),
                                        isChart: isChart(target))
        case "delete":
            guard let digest = target.string("digest"), !digest.isEmpty else { return nil }
            var acrTarget: [String: CompactJSON.Value] = ["repository": .string(repository), "digest": .string(digest)]
            if let mediaType = target.value("mediaType") { acrTarget["mediaType"] = mediaType }
            body["target"] = .object(acrTarget)
            body["request"] = .object(acrRequest)
            return RegistryNotification(id: id, action: .delete, repository: repository, tag: nil, body: CompactJSON.value(.object(body)))
        default:
            return nil
        }
    }
}

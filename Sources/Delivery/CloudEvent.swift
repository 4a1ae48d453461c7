import HookKit
import HookSpec

/// An ACR event as a CloudEvents 1.0 event in structured JSON mode, typed as Azure Event Grid types
/// ACR's events, so that a consumer written for Event Grid's ACR events reads it unchanged.
///
/// | ACR event | `type` |
/// |---|---|
/// | `push` | `Microsoft.ContainerRegistry.ImagePushed`, or `ChartPushed` for a Helm chart |
/// | `delete` | `Microsoft.ContainerRegistry.ImageDeleted`, or `ChartDeleted` for a Helm chart |
/// | `chart_push`, `chart_delete` | `ChartPushed`, `ChartDeleted` |
/// | `ping` | `io.hookapply.webhook.ping` (ours: Event Grid has none) |
/// | any other | `io.hookapply.registry.<action>` |
///
/// `id` is the event id (the delivery's, which is the ACR body's), `time` the event's timestamp, `subject` `repository:tag` (or
/// `repository@digest` when the event names no tag; absent for a ping), `source` the registry, and
/// `data` the whole ACR payload (`id`, `timestamp`, `action`, `target`, `request`, `actor`, `source`), as
/// Event Grid's `data` is.
public enum CloudEvent {
    public static let contentType = "application/cloudevents+json"
    public static let pingType = "io.hookapply.webhook.ping"
    /// A Helm chart's config, which Distribution shows among `target.references`.
    public static let helmConfigMediaType = "application/vnd.cncf.helm.config.v1+json"
    /// What ACR's own chart events give as `target.mediaType`.
    public static let acrChartMediaType = "application/vnd.acr.helm.chart"

    /// The `source` of a registry's events.
    public static func source(registry: String) -> String { "/hookapply/registries/" + registry }

    public static func type(action: String, isChart: Bool) -> String {
        switch action {
        case "push": isChart ? "Microsoft.ContainerRegistry.ChartPushed" : "Microsoft.ContainerRegistry.ImagePushed"
        case "delete": isChart ? "Microsoft.ContainerRegistry.ChartDeleted" : "Microsoft.ContainerRegistry.ImageDeleted"
        case "chart_push": "Microsoft.ContainerRegistry.ChartPushed"
        case "chart_delete": "Microsoft.ContainerRegistry.ChartDeleted"
        case "ping": pingType
        default: "io.hookapply.registry." + action
        }
    }

    /// The structured-mode event for an ACR body. `isChart` comes from whoever saw the manifest's
    /// references (serve's translator); a body whose own media type names a chart counts as one too.
    /// A body that is not a JSON object is still wrapped, as a string, so that nothing is lost.
    public static func structured(acrBody: [UInt8], id: String, source: String, isChart: Bool = false, now: () -> String = Timestamp.now) -> [UInt8] {
        var fields: [String: String] = [:]
        var target: [String: String] = [:]
        var chart = isChart
        var data = acrBody
        if let root = try? JSONReader.read(acrBody), case .object(let members) = root.value {
            for member in members {
                if case .string(let text) = member.value.value { fields[member.key] = text }
                if member.key == "target", case .object(let targetMembers) = member.value.value {
                    for targetMember in targetMembers {
                        if case .string(let text) = targetMember.value.value { target[targetMember.key] = text }
                        if targetMember.key == "references", case .array(let references) = targetMember.value.value {
                            chart = chart || references.contains { reference in
                                guard case .object(let list) = reference.value,
                                      case .string(let mediaType)? = list.last(where: { $0.key == "mediaType" })?.value.value else { return false }
                                return mediaType == helmConfigMediaType
                            }
                        }
                    }
                }
            }
        } else {
            data = Array(JSONText.quote(String(decoding: acrBody, as: UTF8.self)).utf8)
        }
        if let mediaType = target["mediaType"], mediaType == acrChartMediaType || mediaType == helmConfigMediaType { chart = true }
        let action = fields["action"] ?? ""
        var subject: String? = nil
        if let repository = target["repository"], !repository.isEmpty {
            if let tag = target["tag"], !tag.isEmpty {
                subject = repository + ":" + tag
            } else if let digest = target["digest"], !digest.isEmpty {
                subject = repository + "@" + digest
            } else {
                subject = repository
            }
        }
        let time = fields["timestamp"].flatMap { Timestamp.seconds($0) != nil ? $0 : nil } ?? now()
        // Keys sorted, as every compact body hookapply writes; `data` is the ACR body byte for byte.
        var out = Array("{\"data\":".utf8)
        out += data
        func member(_ key: String, _ value: String) {
            out += Array(",\"\(key)\":".utf8)
            JSONText.appendQuoted(value, to: &out)
        }
        member("datacontenttype", "application/json")
        member("id", id)
        member("source", source)
        member("specversion", "1.0")
        if let subject { member("subject", subject) }
        member("time", time)
        member("type", type(action: action, isChart: chart))
        out.append(0x7D)
        return out
    }
}

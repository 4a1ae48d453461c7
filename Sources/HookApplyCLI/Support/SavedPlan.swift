import Foundation
import HookKit
import Reconciler

/// The plan document: what `plan --out` saves and `plan --format json` prints, one schema
/// (schema/hookapply-plan.schema.json): the masked plan's own keys plus the hookapply that wrote it and,
/// in a saved plan, where its spec is. Holds no secret in clear.
struct SavedPlan: Codable {
    static let currentFormatVersion = Plan.currentFormatVersion
    var hookapply_version: String
    /// Where the spec is, relative to the plan file's folder (so the pair can move together, to another
    /// checkout or a CI artifact); nil when the spec came from standard input (`apply` then needs `-f -`).
    /// Older plans hold an absolute path, which still works where it exists.
    var spec_file: String?

    /// `spec` as a path relative to the folder of `plan` (both absolute, standardized).
    static func relativePath(of spec: String, fromFolderOf plan: String) -> String {
        let from = ((plan as NSString).deletingLastPathComponent as NSString).standardizingPath.split(separator: "/")
        let to = (spec as NSString).standardizingPath.split(separator: "/")
        var common = 0
        while common < min(from.count, to.count - 1) && from[common] == to[common] { common += 1 }
        let up = Array(repeating: "..", count: from.count - common)
        return (up + to[common...].map(String.init)).joined(separator: "/")
    }

    /// The spec's path as the plan names it, resolved against the plan file's folder.
    func specPath(planFile: String) -> String? {
        guard let spec_file else { return nil }
        if spec_file.hasPrefix("/") { return spec_file }
        return (((planFile as NSString).deletingLastPathComponent as NSString).appendingPathComponent(spec_file) as NSString).standardizingPath
    }
    var plan: Plan

    init(hookapply_version: String = Product.version, spec_file: String?, plan: Plan) {
        self.hookapply_version = hookapply_version
        self.spec_file = spec_file
        self.plan = plan
    }

    enum CodingKeys: String, CodingKey {
        case hookapply_version, spec_file
    }

    // The plan's keys and the document's sit side by side in one object.
    init(from decoder: any Decoder) throws {
        plan = try Plan(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        hookapply_version = try container.decode(String.self, forKey: .hookapply_version)
        spec_file = try container.decodeIfPresent(String.self, forKey: .spec_file)
    }

    func encode(to encoder: any Encoder) throws {
        try plan.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(hookapply_version, forKey: .hookapply_version)
        try container.encodeIfPresent(spec_file, forKey: .spec_file)
    }

    /// The document as a file holds it: masked, and with every raw `${env:…}` value of the spec hidden
    /// too (a value can sit where masking shows text, such as a service URI's path). A file is written
    /// without the output streams' last line of defence, so the same hiding is applied here. Nil when
    /// hiding a value would break the document (a value that spans JSON structure), which is refused.
    func document(hiding values: [String]) -> String? {
        try? PlanDocumentWriter(hiding: values).document(self)
    }

    /// `plan` as it reads back from a file written with ``document(hiding:)``: what a saved plan is
    /// compared with, so that hidden values compare equal.
    static func asWritten(_ plan: Plan, hiding values: [String]) -> Plan? {
        guard let text = SavedPlan(spec_file: nil, plan: plan).document(hiding: values) else { return nil }
        return (try? JSONDecoder().decode(SavedPlan.self, from: Data(text.utf8)))?.plan
    }
}

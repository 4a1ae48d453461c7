import Foundation
import Reconciler

/// A plan saved with `plan --out`: the masked plan plus where its spec is. Holds no secret in clear.
struct SavedPlan: Codable {
    static let currentFormatVersion = 1
    var format_version: Int
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
}

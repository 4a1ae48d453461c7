import Reconciler

/// A plan saved with `plan --out`: the masked plan plus where its spec is. Holds no secret in clear.
struct SavedPlan: Codable {
    static let currentFormatVersion = 1
    var format_version: Int
    var hookapply_version: String
    /// The spec's absolute path when the plan was made (`apply PLANFILE` re-reads it).
    var spec_file: String?
    var plan: Plan
}

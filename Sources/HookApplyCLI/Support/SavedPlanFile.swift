import Foundation
import Reconciler

/// Reads a plan saved with `plan --out`, refusing what is not one, or is from a newer hookapply.
enum SavedPlanFile {
    struct ReadError: Error {
        var message: String
    }

    static func read(_ path: String, _ context: Context) -> Result<SavedPlan, ReadError> {
        let bytes: [UInt8]
        do {
            bytes = try FileReader.read(context.absolutePath(path), displayPath: path)
        } catch {
            return .failure(ReadError(message: "\(error)"))
        }
        struct Header: Decodable {
            var format_version: Int?
            // What a spec has at its top level.
            var registries: [JSONValueIgnored]?
            var version: Int?
        }
        let header = try? JSONDecoder().decode(Header.self, from: Data(bytes))
        guard let header, let version = header.format_version else {
            if header?.registries != nil || header?.version != nil {
                // A spec where a plan was expected: 'plan --out' with its name would replace the spec.
                return .failure(ReadError(message: "'\(path)' is a spec, not a saved plan; to apply it, run 'hookapply apply -f \(CommandHint.quoted(path))'"))
            }
            return .failure(ReadError(message: "'\(path)' is not a hookapply plan file; save a plan with 'hookapply plan --out PLANFILE', then run 'hookapply apply PLANFILE'"))
        }
        if version > SavedPlan.currentFormatVersion {
            return .failure(ReadError(message: "'\(path)' was saved by a newer hookapply (plan format \(version)); use that version, or plan again"))
        }
        if version < SavedPlan.currentFormatVersion {
            return .failure(ReadError(message: "'\(path)' was saved by an older hookapply (plan format \(version), this one reads \(SavedPlan.currentFormatVersion)); plan again, nothing was changed"))
        }
        let saved: SavedPlan
        do {
            saved = try JSONDecoder().decode(SavedPlan.self, from: Data(bytes))
        } catch {
            return .failure(ReadError(message: "'\(path)' is not a valid plan file (\(describe(error))); plan again"))
        }
        if let problem = structuralProblem(saved.plan) {
            return .failure(ReadError(message: "'\(path)' is not a plan hookapply made (\(problem)); it may have been edited. Plan again; nothing was changed"))
        }
        return .success(saved)
    }

    /// A decoding error as a sentence naming the place in the file, not Foundation's generic text.
    static func describe(_ error: any Error) -> String {
        func place(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "the top level" : "'" + path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") + "'"
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?: return "\(place(context.codingPath)) has no '\(key.stringValue)'"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?: return "\(place(context.codingPath)) has the wrong type"
        case .dataCorrupted(let context)?:
            if context.codingPath.isEmpty { return "it is not valid JSON" }
            // Our own decoders explain themselves ("a change names registry 'x', which the plan does not list").
            let reason = context.underlyingError == nil && !context.debugDescription.isEmpty && !context.debugDescription.hasPrefix("Cannot initialize")
                ? ": " + context.debugDescription : ""
            return "\(place(context.codingPath)) is not valid\(reason)"
        default: return "it could not be read"
        }
    }

    /// What makes a decoded plan one that `plan --out` could not have written. A saved plan is the
    /// approval for exactly its registries and changes, so an edited one must never widen what applies
    /// (an emptied `registries` list once meant "every registry").
    static func structuralProblem(_ plan: Plan) -> String? {
        if plan.formatVersion != Plan.currentFormatVersion { return "plan format \(plan.formatVersion)" }
        if plan.registries.isEmpty { return "it lists no registries" }
        if plan.specDigest.utf8.count != 64 || !plan.specDigest.utf8.allSatisfy(isLowerHex) { return "its spec digest is not a SHA-256" }
        var names: Set<String> = []
        for registry in plan.registries {
            if registry.name.isEmpty || !names.insert(registry.name).inserted { return "registry '\(registry.name)' is listed twice or has no name" }
            if registry.dependencies == nil || registry.factsDigest.map({ $0.utf8.count != 64 || !$0.utf8.allSatisfy(isLowerHex) }) ?? true {
                return "registry '\(registry.name)' records nothing to check it against"
            }
            var webhooks: Set<String> = []
            for change in registry.changes {
                if change.webhook.isEmpty || !webhooks.insert(change.webhook.lowercased()).inserted {
                    return "webhook '\(change.webhook)' in '\(registry.name)' is changed twice or has no name"
                }
            }
        }
        return nil
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)
    }
}

/// Any JSON value, decoded only to learn that it is there.
struct JSONValueIgnored: Decodable {
    init(from decoder: any Decoder) throws {}
}

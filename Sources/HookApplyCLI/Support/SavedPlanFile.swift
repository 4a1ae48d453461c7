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
        struct Header: Decodable { var format_version: Int? }
        guard let header = try? JSONDecoder().decode(Header.self, from: Data(bytes)), let version = header.format_version else {
            return .failure(ReadError(message: "'\(path)' is not a hookapply plan file; make one with 'hookapply plan --out \(path)'"))
        }
        if version > SavedPlan.currentFormatVersion {
            return .failure(ReadError(message: "'\(path)' was saved by a newer hookapply (plan format \(version)); use that version, or plan again"))
        }
        do {
            return .success(try JSONDecoder().decode(SavedPlan.self, from: Data(bytes)))
        } catch {
            return .failure(ReadError(message: "'\(path)' is not a valid plan file (\(error.localizedDescription)); plan again"))
        }
    }
}

import HookKit

/// Reads whole files for the CLI (specs, saved plans) through ``FileBytes``, with the path in the message.
enum FileReader {
    struct ReadError: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "cannot read '\(path)': \(reason)" }
    }

    static func read(_ path: String, displayPath: String, limit: Int = 64 * 1024 * 1024) throws -> [UInt8] {
        do {
            return try FileBytes.read(path, limit: limit)
        } catch {
            throw ReadError(path: displayPath, reason: error.reason)
        }
    }
}

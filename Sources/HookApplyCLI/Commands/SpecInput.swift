import HookSpec

/// A spec read from a file or standard input.
struct LoadedSpec {
    var displayName: String
    /// The absolute path, or nil for standard input.
    var path: String?
    var bytes: [UInt8]
    var document: SpecDocument
}

struct SpecInputError: Error {
    var file: String
    var message: String
}

enum SpecInput {
    static let defaultFile = "webhooks.json"

    /// Reads `-f FILE` (default `webhooks.json`; `-` is standard input) and loads it.
    static func load(_ file: String?, _ context: Context) -> Result<LoadedSpec, SpecInputError> {
        read(file, context).map { LoadedSpec(displayName: $0.displayName, path: $0.path, bytes: $0.bytes, document: SpecLoader.load($0.bytes)) }
    }

    /// The spec's bytes, unparsed (`reconcile` parses only when they changed since the last cycle).
    static func read(_ file: String?, _ context: Context) -> Result<(displayName: String, path: String?, bytes: [UInt8]), SpecInputError> {
        let name = file ?? defaultFile
        if name == "-" { return .success(("<stdin>", nil, context.readStandardInput())) }
        do {
            let path = context.absolutePath(name)
            // An absolute path inside the current folder (a saved plan records one) is shown relative to it.
            let folder = context.currentDirectory.hasSuffix("/") ? context.currentDirectory : context.currentDirectory + "/"
            let display = name.hasPrefix(folder) ? String(name.dropFirst(folder.count)) : name
            return .success((display, path, try FileReader.read(path, displayPath: display)))
        } catch {
            var message = "\(error)"
            if file == nil { message += "; pass -f FILE, or run in the folder that holds \(defaultFile)" }
            return .failure(SpecInputError(file: name, message: message))
        }
    }
}

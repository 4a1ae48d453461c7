import Controller
import Foundation
import HookKit

/// A file a command was told to write (`plan --out`, `export --out`, `export --secrets-env`), checked
/// before anything is written: an output must never replace the spec, a registry's files, the command's
/// other output, or anything that is not a regular file, and a link is written through, never replaced.
enum OutputPath: Equatable {
    case standardOutput
    /// The file to write, absolute, its links resolved.
    case file(String)

    /// A file no output may replace, and what it is, for the message.
    struct Protected {
        var path: String
        var what: String
    }

    /// What `--out` may name for standard output; `--secrets-env` refuses them all.
    static let standardOutputNames: Set<String> = ["-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"]

    /// Checks `value`, given to `option`, against the files it must not replace.
    /// - Parameters:
    ///   - secrets: the output holds secret values: never standard output, nor a descriptor.
    ///   - others: the command's other outputs, by option, already checked.
    /// - Returns: where to write, or the sentence that says why not (nothing was written).
    static func check(
        _ value: String, option: String, secrets: Bool, protected: [Protected], others: [(option: String, path: OutputPath)] = [], _ context: Context
    ) -> Result<OutputPath, OutputPathError> {
        func refuse(_ reason: String) -> Result<OutputPath, OutputPathError> {
            .failure(OutputPathError(message: "\(option) \(value): \(reason). Nothing was written"))
        }
        if value.isEmpty { return refuse("an empty path; name a file") }
        let isDescriptor = value.hasPrefix("/dev/fd/") || value.hasPrefix("/proc/self/fd/") || value == "/dev/stderr" || value == "/dev/stdin"
        if secrets && (standardOutputNames.contains(value) || isDescriptor) {
            return refuse("secret values are never written to standard output or a file descriptor; name a file (it is written with mode 0600)")
        }
        if standardOutputNames.contains(value) {
            if let other = others.first(where: { $0.path == .standardOutput }) { return refuse("\(other.option) already writes to standard output; give one of them a file") }
            return .success(.standardOutput)
        }
        if isDescriptor { return refuse("it names a file descriptor, not a file; use '-' for standard output, or name a file") }
        let resolved = ResolvedPath.resolve(value, from: context.currentDirectory)
        // procfs files look regular, and are not the user's files.
        if resolved == "/proc" || resolved.hasPrefix("/proc/") { return refuse("it is under /proc, not a file of yours; name a file") }
        if let type = ResolvedPath.fileType(resolved), type != S_IFREG { return refuse(ResolvedPath.describe(type)) }
        for file in protected where ResolvedPath.resolve(file.path, from: context.currentDirectory) == resolved {
            return refuse("it is \(file.what), which this would replace; write to another file")
        }
        if let other = others.first(where: { $0.path == .file(resolved) }) {
            return refuse("it is the same file as \(other.option); give each its own file")
        }
        return .success(.file(resolved))
    }

    /// Warns when a file of secrets was written inside a git work tree to a path git does not ignore
    /// (a `git add .` would commit it). Says nothing when git is absent or the folder is no work tree.
    static func warnIfCommittable(_ path: String, what: String, _ context: Context) {
        let folder = (path as NSString).deletingLastPathComponent
        let git = GitWorkingCopy(directory: folder, environment: context.environment, timeout: 5)
        guard git.isIgnored((path as NSString).lastPathComponent) == false else { return }
        context.standardError.line("warning: \(what) holds secret values and is inside a git work tree, and git does not ignore it; add it to .gitignore so that it is never committed")
    }
}

struct OutputPathError: Error {
    var message: String
}

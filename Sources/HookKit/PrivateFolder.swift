import Foundation

/// Creates the folders hookapply keeps its files in. Its own folder, `.hookapply/` (the default home of
/// local registries, beside the spec and so usually inside the user's git repository), gets a
/// `.gitignore` holding `*` the first time a file is written there, as tool caches commonly do: the state,
/// delivery log and queue hold secrets and must not end up committed by a `git add .`.
public enum PrivateFolder {
    /// The folder's name.
    public static let name = ".hookapply"

    static let gitignore = "# Made by hookapply: local registry state, delivery logs and queues hold secrets. Never commit them.\n*\n"

    /// Creates `directory` and its parents; a `.hookapply` among them gets its `.gitignore`.
    public static func create(_ directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var folder = directory
        while !folder.isEmpty && folder != "/" && folder != "." {
            if (folder as NSString).lastPathComponent == name {
                markIgnored(folder)
                return
            }
            let parent = (folder as NSString).deletingLastPathComponent
            if parent == folder { return }
            folder = parent
        }
    }

    /// Writes the `.gitignore` unless one is there (the user's own is kept as it is).
    static func markIgnored(_ folder: String) {
        let path = (folder as NSString).appendingPathComponent(".gitignore")
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        let bytes = Array(gitignore.utf8)
        _ = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
    }
}

import Foundation
import HookSpec
import LocalRegistry
import TestSupport
import Testing

/// Output paths through the real binary: `plan --out`, `export --out` and `--secrets-env` never replace
/// the spec, a registry's files, the command's other output, a link or anything but a regular file;
/// secrets never go to standard output and are written 0600 whatever the umask; `.hookapply/` ignores
/// itself in git, and secrets written where git would commit them are warned about.
@Suite struct OutputPathSafetyTests {
    static let spec = """
        {"version": 1, "owner": "team", "registries": [
          {"name": "dev", "local": {}, "webhooks": [
            {"name": "deploybot", "serviceUri": "https://deploy.example.com/hook?code=c0de-secret-1", "customHeaders": {"Authorization": "Bearer t0ken-secret-1"}, "actions": ["push"]}]},
          {"name": "side", "local": {"path": "s.json"}, "webhooks": [
            {"name": "scanner", "serviceUri": "https://scan.example.com/v1", "actions": ["push"]}]}]}
        """

    /// A folder with the spec, applied, and the real binary to run in it.
    struct Folder {
        let directory: String
        let binary: BuiltBinary

        init(applied: Bool = true) throws {
            binary = try #require(BuiltBinary("hookapply"), "build the hookapply product first (swift build)")
            directory = try makeTemporaryDirectory()
            try OutputPathSafetyTests.spec.write(toFile: directory + "/webhooks.json", atomically: true, encoding: .utf8)
            if applied {
                let result = run(["apply", "--auto-approve"])
                try #require(result.status == 0, "\(result.stderr)")
            }
        }

        /// Runs the binary (through `sh` when a umask is given) and waits for it, 20 s at most.
        func run(_ arguments: [String], umask: String? = nil, environment: [String: String] = [:]) -> (status: Int32?, stdout: String, stderr: String) {
            let running: BuiltBinary.Running
            do {
                if let umask {
                    let quoted = ([binary.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
                    running = try BuiltBinary.shell.start(["-c", "umask \(umask) && exec \(quoted)"], environment: environment, directory: directory)
                } else {
                    running = try binary.start(arguments, environment: environment, directory: directory)
                }
            } catch {
                return (nil, "", "\(error)")
            }
            let status = running.wait(timeout: 20)
            return (status, running.stdout, running.stderr)
        }

        func bytes(_ name: String) -> Data? { FileManager.default.contents(atPath: directory + "/" + name) }
        func exists(_ name: String) -> Bool { ResolvedPathProbe.exists(directory + "/" + name) }
        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// (what, arguments, file that must stay byte for byte, words the refusal must say)
    static let refusals: [(String, [String], String, String)] = [
        ("plan --out the spec", ["plan", "--out", "webhooks.json"], "webhooks.json", "the spec being read"),
        ("plan --out the spec through ..", ["plan", "--out", "sub/../webhooks.json"], "webhooks.json", "the spec being read"),
        ("plan --out the spec through a link", ["plan", "--out", "spec-link.json"], "webhooks.json", "the spec being read"),
        ("plan --out a local registry's state", ["plan", "--out", "s.json"], "s.json", "state file of local registry 'side'"),
        ("plan --out the default state", ["plan", "--out", ".hookapply/dev.json"], ".hookapply/dev.json", "state file of local registry 'dev'"),
        ("plan --out a delivery log", ["plan", "--out", ".hookapply/dev.events.jsonl"], "webhooks.json", "delivery log of local registry 'dev'"),
        ("plan --out a lock file", ["plan", "--out", "s.json.lock"], "webhooks.json", "lock file of local registry 'side'"),
        ("plan --out serve's queue", ["plan", "--out", "s.queue.jsonl"], "webhooks.json", "delivery queue of local registry 'side'"),
        ("plan -r dev --out another registry's state", ["plan", "-r", "dev", "--out", "s.json"], "s.json", "state file of local registry 'side'"),
        ("export --local st --out st", ["export", "--local", "s.json", "--out", "s.json"], "s.json", "state file of local registry 's'"),
        ("export --local st --secrets-env st", ["export", "--local", "s.json", "--secrets-env", "s.json"], "s.json", "state file of local registry 's'"),
        ("export -r dev --secrets-env the spec", ["export", "-r", "dev", "--secrets-env", "webhooks.json"], "webhooks.json", "the spec being read"),
        ("export -r dev --out the spec", ["export", "-r", "dev", "--out", "./webhooks.json"], "webhooks.json", "the spec being read"),
        ("export -r dev --out the state", ["export", "-r", "dev", "--out", ".hookapply/dev.json"], ".hookapply/dev.json", "state file of local registry 'dev'"),
        ("--out and --secrets-env the same file", ["export", "-r", "dev", "--out", "same.txt", "--secrets-env", "./same.txt"], "webhooks.json", "the same file as --out"),
        ("--secrets-env to -", ["export", "-r", "dev", "--secrets-env", "-"], "webhooks.json", "never written to standard output"),
        ("--secrets-env to /dev/stdout", ["export", "-r", "dev", "--secrets-env", "/dev/stdout"], "webhooks.json", "never written to standard output"),
        ("--secrets-env to /dev/fd/1", ["export", "-r", "dev", "--secrets-env", "/dev/fd/1"], "webhooks.json", "never written to standard output"),
        ("--secrets-env to /dev/fd/2", ["export", "-r", "dev", "--secrets-env", "/dev/fd/2"], "webhooks.json", "never written to standard output"),
        ("--out a folder", ["plan", "--out", "sub"], "webhooks.json", "it is a folder"),
        ("--out a FIFO", ["plan", "--out", "fifo"], "webhooks.json", "pipe (FIFO)"),
        ("--out /dev/null", ["plan", "--out", "/dev/null"], "webhooks.json", "a device"),
        ("--out under /proc", ["plan", "--out", "/proc/self/environ"], "webhooks.json", "under /proc"),
    ]

    @Test("an output path that names the spec, a registry's file, the other output or no regular file is refused, and nothing changes",
          arguments: refusals.indices)
    func refused(_ index: Int) throws {
        let (what, arguments, kept, words) = Self.refusals[index]
        let folder = try Folder()
        defer { folder.remove() }
        try FileManager.default.createDirectory(atPath: folder.directory + "/sub", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder.directory + "/spec-link.json", withDestinationPath: "webhooks.json")
        #expect(mkfifo(folder.directory + "/fifo", 0o600) == 0)
        let before = try #require(folder.bytes(kept), "\(kept) should exist before: \(what)")
        let listing = try FileManager.default.contentsOfDirectory(atPath: folder.directory).sorted()
        let result = folder.run(arguments)
        #expect(result.status == 64, "\(what): \(result.status.map(String.init) ?? "hung") \(result.stderr)")
        #expect(result.stderr.contains(words), "\(what): \(result.stderr)")
        #expect(result.stderr.contains("Nothing was written"), "\(what): \(result.stderr)")
        #expect(folder.bytes(kept) == before, "\(what): \(kept) changed")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.directory).sorted() == listing, "\(what): a file was written")
        #expect(ResolvedPathProbe.isLink(folder.directory + "/spec-link.json"))
        #expect(!result.stdout.contains("t0ken-secret-1") && !result.stderr.contains("t0ken-secret-1"))
        #expect(ResolvedPathProbe.isLink("/dev/stdout"), "/dev/stdout must stay a link")
    }

    @Test("a link at an output path is written through, never replaced by a file")
    func linkWrittenThrough() throws {
        let folder = try Folder()
        defer { folder.remove() }
        try FileManager.default.createDirectory(atPath: folder.directory + "/out", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder.directory + "/plan-link.json", withDestinationPath: "out/plan.json")
        try FileManager.default.createSymbolicLink(atPath: folder.directory + "/env-link", withDestinationPath: "out/secrets.env")
        let plan = folder.run(["plan", "--out", "plan-link.json"])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(ResolvedPathProbe.isLink(folder.directory + "/plan-link.json"))
        #expect(String(decoding: folder.bytes("out/plan.json") ?? Data(), as: UTF8.self).contains("\"format_version\""))
        let export = folder.run(["export", "-r", "dev", "--secrets-env", "env-link"])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(ResolvedPathProbe.isLink(folder.directory + "/env-link"))
        #expect(String(decoding: folder.bytes("out/secrets.env") ?? Data(), as: UTF8.self).contains("t0ken-secret-1"))
        #expect(ResolvedPathProbe.mode(folder.directory + "/out/secrets.env") == 0o600)
    }

    @Test("--out - and --out /dev/stdout write to standard output")
    func standardOutput() throws {
        let folder = try Folder()
        defer { folder.remove() }
        for target in ["-", "/dev/stdout"] {
            let export = folder.run(["export", "-r", "dev", "--out", target])
            #expect(export.status == 0, "\(export.stderr)")
            #expect(export.stdout.contains("\"deploybot\""), "\(target): \(export.stdout)")
            let plan = folder.run(["plan", "--out", target])
            #expect(plan.status == 0, "\(plan.stderr)")
            #expect(plan.stdout.hasPrefix("{") && plan.stdout.contains("\"format_version\""), "\(target): \(plan.stdout.prefix(200))")
        }
        #expect(ResolvedPathProbe.isLink("/dev/stdout"))
    }

    @Test("files that can hold a secret are 0600 whatever the umask; a masked export stays 0644 under umask 022")
    func privateModes() throws {
        let folder = try Folder()
        defer { folder.remove() }
        for umask in ["022", "000"] {
            let literal = folder.run(["export", "-r", "dev", "--include-secrets", "--out", "literal-\(umask).json"], umask: umask)
            #expect(literal.status == 0, "\(literal.stderr)")
            #expect(ResolvedPathProbe.mode(folder.directory + "/literal-\(umask).json") == 0o600)
            let dotenv = folder.run(["export", "-r", "dev", "--secrets-env", "secrets-\(umask).env"], umask: umask)
            #expect(dotenv.status == 0, "\(dotenv.stderr)")
            #expect(ResolvedPathProbe.mode(folder.directory + "/secrets-\(umask).env") == 0o600)
            #expect(ResolvedPathProbe.mode(folder.directory + "/.hookapply/dev.json") == 0o600)
        }
        let masked = folder.run(["export", "-r", "dev", "--out", "masked.json"], umask: "022")
        #expect(masked.status == 0, "\(masked.stderr)")
        #expect(ResolvedPathProbe.mode(folder.directory + "/masked.json") == 0o644)
    }

    @Test("a spec given where a plan is expected is named as one, with the command that applies it")
    func specAsPlan() throws {
        let folder = try Folder(applied: false)
        defer { folder.remove() }
        let result = folder.run(["apply", "webhooks.json"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("'webhooks.json' is a spec, not a saved plan"), "\(result.stderr)")
        #expect(result.stderr.contains("hookapply apply -f webhooks.json"), "\(result.stderr)")
        #expect(!result.stderr.contains("plan --out webhooks.json"), "\(result.stderr)")
        try "{\"something\": 1}".write(toFile: folder.directory + "/other.json", atomically: true, encoding: .utf8)
        let other = folder.run(["apply", "other.json"])
        #expect(other.stderr.contains("not a hookapply plan file"), "\(other.stderr)")
        #expect(!other.stderr.contains("--out other.json"), "the hint must not name a file that exists: \(other.stderr)")
    }

    @Test(".hookapply/ ignores itself in git; secrets written where git would commit them are warned about, ignored ones are not")
    func gitIgnore() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/git") else { return }
        let folder = try Folder(applied: false)
        defer { folder.remove() }
        let environment = ["HOME": folder.directory, "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"]
        let initialised = Process()
        initialised.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        initialised.arguments = ["init", "-q", folder.directory]
        initialised.environment = environment
        try initialised.run()
        initialised.waitUntilExit()
        #expect(folder.run(["apply", "--auto-approve"], environment: environment).status == 0)
        #expect(String(decoding: folder.bytes(".hookapply/.gitignore") ?? Data(), as: UTF8.self).contains("\n*\n"))
        let unignored = folder.run(["export", "-r", "dev", "--secrets-env", "secrets.env"], environment: environment)
        #expect(unignored.status == 0, "\(unignored.stderr)")
        #expect(unignored.stderr.contains("warning: secrets.env holds secret values and is inside a git work tree"), "\(unignored.stderr)")
        let literal = folder.run(["export", "-r", "dev", "--include-secrets", "--out", "literal.json"], environment: environment)
        #expect(literal.stderr.contains("warning: literal.json holds secret values"), "\(literal.stderr)")
        try "secrets.env\n".write(toFile: folder.directory + "/.gitignore", atomically: true, encoding: .utf8)
        let ignored = folder.run(["export", "-r", "dev", "--secrets-env", "secrets.env"], environment: environment)
        #expect(ignored.status == 0)
        #expect(!ignored.stderr.contains("warning"), "\(ignored.stderr)")
        let inside = folder.run(["export", "-r", "dev", "--secrets-env", ".hookapply/dev.env"], environment: environment)
        #expect(inside.status == 0 && !inside.stderr.contains("warning"), "\(inside.stderr)")
        // Outside any work tree, git is not asked to say anything.
        let outside = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let plain = folder.run(["export", "-r", "dev", "--secrets-env", outside + "/secrets.env"], environment: environment)
        #expect(plain.status == 0 && !plain.stderr.contains("warning"), "\(plain.stderr)")
    }

    @Test("a registry value with a line break is not written into the dotenv file, where a loader would read a second variable")
    func dotenvLineBreak() async throws {
        let folder = try Folder(applied: false)
        defer { folder.remove() }
        let provider = LocalRegistryProvider(path: folder.directory + "/.hookapply/dev.json")
        try await provider.create(WebhookState(name: "deploybot", serviceUri: "https://deploy.example.com/hook",
                                               customHeaders: [ResolvedHeader(name: "Authorization", value: "Bearer abc\nINJECTED=1")],
                                               actions: [.push], scope: ""))
        let result = folder.run(["export", "-r", "dev", "--secrets-env", "secrets.env"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("holds a line break"), "\(result.stderr)")
        #expect(!folder.exists("secrets.env"))
        #expect(!result.stderr.contains("INJECTED=1") || result.stderr.contains("\\n"), "\(result.stderr)")
    }
}

extension OutputPathSafetyTests {
    @Test("a local.path that is a folder or a FIFO is refused without a lock file made beside it")
    func refusedStateGetsNoLock() throws {
        let folder = try Folder(applied: false)
        defer { folder.remove() }
        try FileManager.default.createDirectory(atPath: folder.directory + "/folder", withIntermediateDirectories: true)
        #expect(mkfifo(folder.directory + "/fifo", 0o600) == 0)
        for path in ["folder", "fifo"] {
            try #"{"version": 1, "registries": [{"name": "dev", "local": {"path": "\#(path)"}, "webhooks": []}]}"#
                .write(toFile: folder.directory + "/webhooks.json", atomically: true, encoding: .utf8)
            let result = folder.run(["apply", "--auto-approve"])
            #expect(result.status == 1, "\(path): \(result.stderr)")
            #expect(result.stderr.contains("registry 'dev': cannot read the local registry state"), "\(result.stderr)")
            #expect(!folder.exists(path + ".lock"), "\(path).lock was made")
        }
    }
}

/// Looks at a path without following a final link.
enum ResolvedPathProbe {
    static func isLink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    static func mode(_ path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o777
    }
}

extension BuiltBinary {
    /// `/bin/sh`, to run the binary under a chosen umask.
    static var shell: BuiltBinary { BuiltBinary(executable: "/bin/sh") }
}

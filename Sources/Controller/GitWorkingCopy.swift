import Foundation
import HookKit

/// The git working copy a spec lives in, for `reconcile --git-pull`: fast-forwards it before a cycle and
/// says which commit the cycle reconciled. Runs the `git` executable (no library), never prompts, and
/// refuses a working copy it could only update by losing something: local changes, or a history that
/// has diverged from its upstream.
public struct GitWorkingCopy: Sendable {
    /// A folder inside the working copy (the spec's folder).
    public let directory: String
    /// How long one git command may run before it is stopped (a hung remote must not stop the loop).
    public let timeout: Double
    private let executable: String?
    private let environment: [String: String]

    /// - Parameter environment: the process environment (for PATH, HOME and git's own variables).
    public init(directory: String, environment: [String: String], timeout: Double = 120) {
        self.directory = directory
        self.timeout = timeout
        self.executable = Self.find("git", path: environment["PATH"] ?? "/usr/bin:/bin")
        var environment = environment
        // Never wait for a password on a terminal nobody watches; fail instead.
        environment["GIT_TERMINAL_PROMPT"] = "0"
        environment["GIT_ASKPASS"] = "true"
        environment["LC_ALL"] = "C"
        self.environment = environment
    }

    public struct Failure: Error, Sendable, Equatable {
        public var message: String
    }

    /// Checks that `directory` is in a working copy with an upstream, once at start, so a mistake is
    /// reported before the loop begins.
    public func check() -> Result<String, Failure> {
        guard executable != nil else {
            return .failure(Failure(message: "--git-pull needs the 'git' executable, and there is none on PATH; install git, or drop --git-pull and keep the folder current another way (a git-sync sidecar)"))
        }
        guard run(["rev-parse", "--show-toplevel"]).status == 0 else {
            return .failure(Failure(message: "'\(directory)' is not in a git working copy; --git-pull needs a clone (or drop --git-pull and use a git-sync sidecar)"))
        }
        guard run(["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}"]).status == 0 else {
            return .failure(Failure(message: "the working copy at '\(directory)' has no upstream branch to pull from; check out a branch that tracks a remote (git branch --set-upstream-to=origin/main)"))
        }
        return revision().map { .success($0) } ?? .failure(Failure(message: "the working copy at '\(directory)' has no commit yet"))
    }

    /// `git pull --ff-only`, refusing local changes and a diverged history; the commit now checked out.
    /// - Parameter shouldStop: polled while git runs; when it says so (SIGTERM), git is stopped, so a
    ///   hung remote cannot hold up a shutdown.
    public func pull(shouldStop: @escaping @Sendable () -> Bool = { false }) -> Result<String, Failure> {
        if case .failure(let failure) = check() { return .failure(failure) }
        let status = run(["status", "--porcelain", "--untracked-files=no"])
        guard status.status == 0 else { return .failure(Failure(message: "git status failed: \(Self.firstLine(status.error))")) }
        let changed = status.output.split(separator: "\n").map { String($0.dropFirst(3)) }
        if !changed.isEmpty {
            let names = changed.prefix(5).map { "'\(TerminalText.line($0))'" }.joined(separator: ", ") + (changed.count > 5 ? " and \(changed.count - 5) more" : "")
            return .failure(Failure(message: "the working copy at '\(directory)' has local changes (\(names)); hookapply will not pull over them. Commit, stash or discard them (git stash, or git checkout -- FILE)"))
        }
        let pulled = run(["pull", "--ff-only", "--quiet"], shouldStop: shouldStop)
        if pulled.status != 0 {
            let text = pulled.error + pulled.output
            if text.contains("Not possible to fast-forward") || text.contains("diverg") || text.contains("non-fast-forward") {
                return .failure(Failure(message: "the working copy at '\(directory)' has diverged from its upstream (it has commits the upstream lacks); hookapply only fast-forwards. Reset it to the upstream (git reset --hard @{u}) or merge by hand"))
            }
            if pulled.status == -1 {
                if shouldStop() { return .failure(Failure(message: "git pull was stopped for shutdown")) }
                return .failure(Failure(message: "git pull did not finish within \(Seconds.describe(timeout)) and was stopped; check the remote"))
            }
            return .failure(Failure(message: "git pull failed: \(Self.firstLine(text))"))
        }
        return revision().map { .success($0) } ?? .failure(Failure(message: "git rev-parse HEAD failed after the pull"))
    }

    /// The commit checked out (`git rev-parse HEAD`), or nil.
    public func revision() -> String? {
        let result = run(["rev-parse", "HEAD"])
        let text = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.status == 0, text.utf8.count >= 40, text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        return text
    }

    /// The first line of git's message, without credentials: a remote URL may carry a token
    /// (`https://user:token@host/repo`), and git repeats the URL in its errors.
    /// Whether git ignores `path` (a file in ``directory``): nil when there is no git, or ``directory`` is
    /// not in a work tree. Used to warn before secrets are written where a `git add .` would take them.
    public func isIgnored(_ path: String) -> Bool? {
        let outcome = run(["check-ignore", "-q", "--", path])
        switch outcome.status {
        case 0: return true
        case 1: return false
        default: return nil  // 128: not a repository, or git could not tell
        }
    }

    static func firstLine(_ text: String) -> String {
        let line = text.split(separator: "\n").first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map(String.init) ?? "no message"
        return TerminalText.line(withoutCredentials(line.trimmingCharacters(in: .whitespaces)))
    }

    /// `scheme://user:secret@host` becomes `scheme://…@host`, wherever it appears; a URL's query becomes
    /// `?…`, and a path segment that looks like a token (16 or more letters, digits, `-` and `_`, with
    /// both letters and digits, or a known token prefix) becomes `…`: remotes such as
    /// `https://host/<token>/repo.git` or `…?private_token=…` carry their secret there.
    static func withoutCredentials(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let range = rest.range(of: "://") {
            result += rest[..<range.upperBound]
            rest = rest[range.upperBound...]
            let url = rest.prefix { !" \t\"'".contains($0) }
            rest = rest[url.endIndex...]
            var authority = url.prefix { $0 != "/" && $0 != "?" }
            var remainder = url[authority.endIndex...]
            if let at = authority.lastIndex(of: "@") {
                result += "…"
                authority = authority[at...]
            }
            result += authority
            var query: Substring = ""
            if let mark = remainder.firstIndex(of: "?") {
                query = "?…"
                remainder = remainder[..<mark]
            }
            result += remainder.split(separator: "/", omittingEmptySubsequences: false).map { looksLikeToken($0) ? "…" : String($0) }.joined(separator: "/")
            result += query
        }
        return result + rest
    }

    static func looksLikeToken(_ segment: Substring) -> Bool {
        let lowered = segment.lowercased()
        if ["ghp_", "gho_", "ghs_", "github_pat_", "glpat-", "x-access-token", "oauth2"].contains(where: { lowered.hasPrefix($0) }) { return true }
        guard segment.count >= 16, segment.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return false }
        return segment.contains(where: \.isLetter) && segment.contains(where: \.isNumber)
    }

    /// The working copy's top folder (`git rev-parse --show-toplevel`), its links resolved; nil when git
    /// cannot say. With --git-pull, the spec and every local path must resolve inside it.
    public func topLevel() -> String? {
        let outcome = run(["rev-parse", "--show-toplevel"])
        let line = outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard outcome.status == 0, line.hasPrefix("/") else { return nil }
        return ResolvedPath.resolve(line)
    }

    private struct Outcome {
        var status: Int32
        var output: String
        var error: String
    }

    /// Runs git in `directory`; status -1 when it could not start, ran past the timeout, or was stopped.
    private func run(_ arguments: [String], shouldStop: @Sendable () -> Bool = { false }) -> Outcome {
        guard let executable else { return Outcome(status: -1, output: "", error: "git not found") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-C", directory] + arguments
        process.environment = environment
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return Outcome(status: -1, output: "", error: "could not run git: \(error.localizedDescription)")
        }
        // Read both pipes while git runs (a full pipe would block it), and stop it at the deadline.
        let collected = Locked<(out: Data, err: Data)>((Data(), Data()))
        let group = DispatchGroup()
        for (handle, isError) in [(output.fileHandleForReading, false), (error.fileHandleForReading, true)] {
            group.enter()
            DispatchQueue.global().async {
                let data = handle.readDataToEndOfFile()
                collected.withLock { if isError { $0.err = data } else { $0.out = data } }
                group.leave()
            }
        }
        var timedOut = false
        let deadline = DispatchTime.now().uptimeNanoseconds + Seconds.nanoseconds(timeout)
        while group.wait(timeout: .now() + 0.1) == .timedOut {
            if shouldStop() || DispatchTime.now().uptimeNanoseconds >= deadline {
                timedOut = true
                // SIGKILL, not SIGTERM: a child inherits an ignored SIGTERM (the loop ignores it to handle it).
                kill(process.processIdentifier, SIGKILL)
                _ = group.wait(timeout: .now() + 5)
                break
            }
        }
        process.waitUntilExit()
        let data = collected.value
        return Outcome(status: timedOut ? -1 : process.terminationStatus, output: String(decoding: data.out, as: UTF8.self),
                       error: String(decoding: data.err, as: UTF8.self))
    }

    static func find(_ name: String, path: String) -> String? {
        for folder in path.split(separator: ":") where !folder.isEmpty {
            let candidate = String(folder) + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

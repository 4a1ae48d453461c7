import Foundation
import TestSupport
import Testing

/// `hookapply fmt` through the real binary: rewrites in place keeping the mode and links, `--check`
/// for CI, standard input to standard output, and a file that is not a spec left byte for byte.
@Suite struct FmtCommandTests {
    static let messy = #"{"registries": [{"webhooks": [{"actions": ["push"], "serviceUri": "https://h.example.com/${env:K:-d}", "name": "hookone"}], "local": {}, "name": "dev"}], "version": 1}"#

    static func binary() throws -> BuiltBinary { try #require(BuiltBinary("hookapply"), "build the hookapply product first (swift build)") }

    static func run(_ arguments: [String], in directory: String, stdin: String? = nil) throws -> (code: Int32?, stdout: String, stderr: String) {
        if let stdin {
            // Through sh, so standard input is a real pipe.
            let path = directory + "/.stdin"
            try stdin.write(toFile: path, atomically: true, encoding: .utf8)
            let shell = BuiltBinary(executable: "/bin/sh")
            let running = try shell.start(["-c", "exec \"$0\" \"$@\" < .stdin", try binary().path] + arguments, environment: [:], directory: directory)
            let code = running.wait(timeout: 20)
            return (code, running.stdout, running.stderr)
        }
        let running = try binary().start(arguments, environment: [:], directory: directory)
        let code = running.wait(timeout: 20)
        return (code, running.stdout, running.stderr)
    }

    @Test("fmt rewrites in place, names the file, keeps its mode and a link; then --check passes and a second fmt changes nothing")
    func rewrite() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.messy.write(toFile: directory + "/real.json", atomically: true, encoding: .utf8)
        #expect(chmod(directory + "/real.json", 0o640) == 0)
        #expect(symlink("real.json", directory + "/webhooks.json") == 0)
        let check = try Self.run(["fmt", "--check"], in: directory)
        #expect(check.code == 1, "\(check.stderr)")
        #expect(check.stdout.contains("webhooks.json: would change:") && check.stdout.contains("-1: {\"registries\""), "\(check.stdout)")
        #expect(check.stderr.contains("not formatted; run 'hookapply fmt'"), "\(check.stderr)")
        #expect(try String(contentsOfFile: directory + "/real.json", encoding: .utf8) == Self.messy, "--check writes nothing")
        let written = try Self.run(["fmt"], in: directory)
        #expect(written.code == 0, "\(written.stderr)")
        #expect(written.stdout == "webhooks.json\n")
        #expect(ResolvedPathMode.of(directory + "/real.json") == 0o640)
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: directory + "/webhooks.json")
        #expect(link == "real.json", "the link is kept, the file behind it rewritten")
        let text = try String(contentsOfFile: directory + "/real.json", encoding: .utf8)
        #expect(text.hasPrefix("{\n  \"version\": 1,\n  \"registries\": [\n"), "\(text)")
        #expect(text.contains("\"serviceUri\": \"https://h.example.com/${env:K:-d}\""))
        #expect(try Self.run(["fmt", "--check"], in: directory).code == 0)
        let again = try Self.run(["fmt"], in: directory)
        #expect(again.code == 0 && again.stdout.isEmpty, "nothing to say when nothing changed: \(again.stdout)")
        let validated = try Self.run(["validate"], in: directory)
        #expect(validated.code == 0, "\(validated.stderr)")
    }

    @Test("-f - formats standard input to standard output")
    func standardInput() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try Self.run(["fmt", "-f", "-"], in: directory, stdin: Self.messy)
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("{\n  \"version\": 1,"), "\(result.stdout)")
        let check = try Self.run(["fmt", "--check", "-f", "-"], in: directory, stdin: result.stdout)
        #expect(check.code == 0, "\(check.stdout)\(check.stderr)")
    }

    @Test("what is not JSON or not a spec is refused with diagnostics and left byte for byte", arguments: [
        ("{\"version\": 1, \"registries\": [", "unexpected-end"),
        ("{\"token\": \"SECRET-FROM-ELSEWHERE\"}", "not-a-spec"),
        ("[1, 2, 3]", "not-a-spec"),
    ])
    func refused(_ content: String, _ code: String) throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try content.write(toFile: directory + "/webhooks.json", atomically: true, encoding: .utf8)
        for arguments in [["fmt"], ["fmt", "--check"]] {
            let result = try Self.run(arguments, in: directory)
            #expect(result.code == 1)
            #expect(result.stderr.contains("[\(code)]") && result.stderr.contains("it was left as it is"), "\(result.stderr)")
            #expect(!result.stderr.contains("SECRET-FROM-ELSEWHERE"))
            #expect(try String(contentsOfFile: directory + "/webhooks.json", encoding: .utf8) == content)
        }
    }

    @Test("the examples are formatted (CI keeps them so)")
    func examplesFormatted() throws {
        for example in ["webhooks.json", "azure.json"] {
            let result = try Self.run(["fmt", "--check", "-f", "examples/" + example], in: repositoryRoot)
            #expect(result.code == 0, "\(example): \(result.stdout)")
        }
    }
}

enum ResolvedPathMode {
    static func of(_ path: String) -> mode_t? {
        var status = stat()
        return stat(path, &status) == 0 ? status.st_mode & 0o777 : nil
    }
}

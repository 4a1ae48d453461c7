import Foundation
import TestSupport
import Testing

@testable import HookApplyCLI
@testable import HookSpec

/// Argument parsing, help, usage errors (exit 64), schema and version.
@Suite struct CommandLineTests {
    struct UsageCase: CustomTestStringConvertible, Sendable {
        var arguments: [String]
        var message: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let usageCases: [UsageCase] = [
        UsageCase(arguments: ["valdate"], message: "unknown command 'valdate'; did you mean 'validate'?"),
        UsageCase(arguments: ["validate", "--fromat", "json"], message: "unknown option '--fromat'; did you mean '--format'?"),
        UsageCase(arguments: ["validate", "--frobnicate"], message: "unknown option '--frobnicate'; see 'hookapply validate --help'"),
        UsageCase(arguments: ["validate", "-x"], message: "unknown option '-x'"),
        UsageCase(arguments: ["validate", "--format", "yaml"], message: "invalid value 'yaml' for '--format'; valid values are 'text', 'json'"),
        UsageCase(arguments: ["validate", "--format", "jsn"], message: "did you mean 'json'?"),
        UsageCase(arguments: ["validate", "-f"], message: "option '--file' needs a value"),
        UsageCase(arguments: ["validate", "-f", "a.json", "-f", "b.json"], message: "option '--file' is given more than once"),
        UsageCase(arguments: ["validate", "extra"], message: "unexpected argument 'extra'"),
        UsageCase(arguments: ["validate", "--resolve=yes"], message: "option '--resolve' takes no value"),
        UsageCase(arguments: ["help", "nothing"], message: "unknown command 'nothing'"),
        UsageCase(arguments: [], message: "USAGE: hookapply <command>"),
        // Numbers are parsed strictly: digits only, in range, the same way for every command.
        UsageCase(arguments: ["plan", "--parallelism", "abc"], message: "invalid value 'abc' for '--parallelism': it needs a whole number from 1 to 256"),
        UsageCase(arguments: ["plan", "--parallelism", "0"], message: "invalid value '0' for '--parallelism'"),
        UsageCase(arguments: ["plan", "--parallelism", "1e3"], message: "invalid value '1e3' for '--parallelism'"),
        UsageCase(arguments: ["apply", "--parallelism", "+5"], message: "invalid value '+5' for '--parallelism'"),
        UsageCase(arguments: ["apply", "--parallelism", "99999999999999999999999"], message: "invalid value '99999999999999999999999' for '--parallelism'"),
        UsageCase(arguments: ["apply", "--lock-timeout", "-0"], message: "invalid value '-0' for '--lock-timeout': it needs a duration from 0 to 86400 seconds (like 30, 30s, 5m or 250ms)"),
        UsageCase(arguments: ["apply", "--lock-timeout", "-5"], message: "invalid value '-5' for '--lock-timeout'"),
        UsageCase(arguments: ["apply", "--lock-timeout", "nan"], message: "invalid value 'nan' for '--lock-timeout'"),
        UsageCase(arguments: ["apply", "--lock-timeout", "inf"], message: "invalid value 'inf' for '--lock-timeout'"),
        UsageCase(arguments: ["apply", "--lock-timeout", "1e30"], message: "invalid value '1e30' for '--lock-timeout'"),
        UsageCase(arguments: ["apply", "--lock-timeout", "0x10"], message: "invalid value '0x10' for '--lock-timeout'"),
        UsageCase(arguments: ["apply", "--lock-timeout", "90000"], message: "invalid value '90000' for '--lock-timeout'"),
        UsageCase(arguments: ["apply", "--lock-timeout", "25h"], message: "invalid value '25h' for '--lock-timeout'"),
        UsageCase(arguments: ["apply", "--lock-timeout", "5x"], message: "invalid value '5x' for '--lock-timeout'"),
        UsageCase(arguments: ["apply", "--lock-timeout", "m5"], message: "invalid value 'm5' for '--lock-timeout'"),
        UsageCase(arguments: ["serve", "--timeout", "1e30"], message: "invalid value '1e30' for '--timeout': it needs a duration from 0.001 to 300 seconds (like 30, 30s, 5m or 250ms)"),
        UsageCase(arguments: ["serve", "--timeout", "0"], message: "invalid value '0' for '--timeout'"),
        UsageCase(arguments: ["serve", "--timeout", ".5"], message: "invalid value '.5' for '--timeout'"),
        UsageCase(arguments: ["serve", "--max-attempts", "0"], message: "invalid value '0' for '--max-attempts'"),
        UsageCase(arguments: ["events", "x", "--limit", "-1"], message: "invalid value '-1' for '--limit'"),
        UsageCase(arguments: ["serve", "--listen", "127.0.0.1:+80"], message: "--listen needs HOST:PORT"),
        UsageCase(arguments: ["serve", "--listen", "127.0.0.1:99999"], message: "--listen needs HOST:PORT"),
    ]

    @Test("usage errors exit 64 with a message and the usage line", arguments: usageCases)
    func usageErrors(_ testCase: UsageCase) async {
        let result = await hookapply(testCase.arguments)
        #expect(result.code == .usage)
        #expect(result.stderr.contains(testCase.message), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test("help for the tool and each command", arguments: [
        (["--help"], "help-overview.txt"),
        (["help"], "help-overview.txt"),
        (["help", "validate"], "help-validate.txt"),
        (["validate", "--help"], "help-validate.txt"),
        (["validate", "-h", "--bogus-after-help"], "help-validate.txt"),
    ])
    func help(_ arguments: [String], _ golden: String) async {
        let result = await hookapply(arguments)
        #expect(result.code == .success)
        expectGolden(golden, result.stdout)
    }

    @Test("every command answers --help")
    func everyCommandHasHelp() async {
        for command in HookApply.commands {
            let result = await hookapply([command.spec.name, "--help"])
            #expect(result.code == .success)
            #expect(result.stdout.hasPrefix("OVERVIEW: \(command.spec.abstract)"))
            #expect(result.stdout.contains("\nEXAMPLES:\n  hookapply \(command.spec.name)"), "\(command.spec.name) --help has no examples")
        }
    }

    @Test("schema prints the committed schema file exactly, and the file is what the binary embeds")
    func schema() async throws {
        let file = try String(contentsOfFile: repositoryRoot + "/schema/hookapply.schema.json", encoding: .utf8)
        #expect(SpecSchema.text + "\n" == file, "run scripts/embed-schema.sh after editing the schema")
        let result = await hookapply(["schema"])
        #expect(result.code == .success)
        #expect(result.stdout == file)
        // The schema is itself strict JSON.
        _ = try JSONReader.read(Array(file.utf8))
    }

    @Test("the schema names exactly the keys the reader accepts")
    func schemaKeysMatchReader() throws {
        let root = try JSONReader.read(Array(SpecSchema.text.utf8))
        func keys(_ pointer: JSONPointer) -> Set<String> {
            guard case .object(let members)? = root.node(at: pointer)?.value else { return [] }
            return Set(members.map(\.key))
        }
        #expect(keys("/properties") == Set(SpecDecoder.topKeys))
        #expect(keys("/$defs/registry/properties") == Set(SpecDecoder.registryKeys))
        #expect(keys("/$defs/webhook/properties") == Set(SpecDecoder.webhookKeys))
        #expect(keys("/$defs/registry/properties/azure/properties") == Set(SpecDecoder.azureKeys))
        #expect(keys("/$defs/registry/properties/local/properties") == Set(SpecDecoder.localKeys))
    }

    @Test("version")
    func version() async {
        for arguments in [["version"], ["--version"]] {
            let result = await hookapply(arguments)
            #expect(result.code == .success)
            #expect(result.stdout == "hookapply \(VersionCommand.version) (spec version 1)\n")
        }
    }

    @Test("'--' ends options and '--opt=value' works")
    func separators() async {
        let result = await hookapply(["validate", "--format=json", "-f", "-"], stdin: "[")
        #expect(result.code == .failure)
        #expect(result.stdout.contains("\"code\" : \"unexpected-end\""))
    }
}

/// The man page is made from the same tables as `--help`: regenerated here and compared with the
/// committed `docs/hookapply.1` (HOOKAPPLY_RECORD=1 rewrites it, and fails so it is never silent).
@Suite struct ManPageTests {
    @Test("docs/hookapply.1 is what the command tables make")
    func manPage() throws {
        let path = repositoryRoot + "/docs/hookapply.1"
        let rendered = ManPage.render()
        if ProcessInfo.processInfo.environment["HOOKAPPLY_RECORD"] == "1" {
            try rendered.write(toFile: path, atomically: true, encoding: .utf8)
            Issue.record("recorded docs/hookapply.1; run again without HOOKAPPLY_RECORD")
            return
        }
        let committed = try String(contentsOfFile: path, encoding: .utf8)
        #expect(committed == rendered, "docs/hookapply.1 is out of date: run the tests with HOOKAPPLY_RECORD=1\n\(lineDiff(committed, rendered))")
        // Every command and every option of --help is in it.
        for command in HookApply.commands.map(\.spec) {
            #expect(rendered.contains(ManPage.escape(command.usage)), "\(command.name)")
            for option in command.options { #expect(rendered.contains("\\-\\-" + ManPage.escape(option.long)), "\(command.name) --\(option.long)") }
        }
    }

    @Test("groff renders it without a warning", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/groff")))
    func groff() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/groff")
        process.arguments = ["-man", "-Tutf8", "-ww", "-z", repositoryRoot + "/docs/hookapply.1"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(text.isEmpty, "\(text)")
    }
}

/// Completion scripts come from the same tables as `--help`; the bash one is exercised in bash.
@Suite struct CompletionTests {
    static let bashPresent = FileManager.default.isExecutableFile(atPath: "/bin/bash")

    /// What `_hookapply` offers for a command line, `cur` being the last word.
    static func complete(_ script: String, _ words: [String], in folder: String? = nil, binaryFolder: String? = nil) throws -> [String] {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try script.write(toFile: directory + "/c.bash", atomically: true, encoding: .utf8)
        let quotedWords = words.map { "'\($0)'" }.joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "source \(directory)/c.bash; COMP_WORDS=(\(quotedWords)); COMP_CWORD=\(words.count - 1); _hookapply; printf '%s\\n' \"${COMPREPLY[@]}\""]
        if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
        if let binaryFolder { process.environment = ["PATH": binaryFolder + ":/usr/bin:/bin", "HOME": directory] }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.split(separator: "\n").map(String.init).sorted()
    }

    @Test("bash completes commands, options and option values", .enabled(if: bashPresent))
    func bash() async throws {
        let result = await hookapply(["completion", "bash"])
        #expect(result.code == .success)
        #expect(try Self.complete(result.stdout, ["hookapply", "pl"]) == ["plan"])
        #expect(try Self.complete(result.stdout, ["hookapply", "plan", "--fo"]) == ["--format"])
        #expect(try Self.complete(result.stdout, ["hookapply", "plan", "--format", ""]) == ["json", "markdown", "text"])
        #expect(try Self.complete(result.stdout, ["hookapply", "serve", "--log-format", "j"]) == ["json"])
        #expect(try Self.complete(result.stdout, ["hookapply", "help", "ex"]) == ["export"])
        // A subcommand: its word after its parent, then its own options, not the parent's.
        #expect(try Self.complete(result.stdout, ["hookapply", "serve", "re"]) == ["replay"])
        #expect(try Self.complete(result.stdout, ["hookapply", "serve", "replay", "--d"]) == ["--dry-run"])
        #expect(try Self.complete(result.stdout, ["hookapply", "serve", "replay", "--max"]) == [])
        #expect(try Self.complete(result.stdout, ["hookapply", "serve", "--max-a"]) == ["--max-attempts"])
        #expect(try Self.complete(result.stdout, ["hookapply", "serve", "replay", "-o", ""]) == ["json", "text"])
        // Every option of every command is offered for it.
        for command in HookApply.commands.map(\.spec) where !command.options.isEmpty {
            let offered = try Self.complete(result.stdout, ["hookapply", command.name, "--"])
            for option in command.options { #expect(offered.contains("--\(option.long)"), "\(command.name) --\(option.long)") }
        }
    }

    @Test("bash completes registry and webhook names from the spec, and never runs a hostile name", .enabled(if: bashPresent))
    func names() async throws {
        let binary = try #require(BuiltBinary("hookapply"))
        let binaryFolder = (binary.path as NSString).deletingLastPathComponent
        let folder = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let spec = #"{"version": 1, "registries": [{"name": "dev", "local": {}, "webhooks": [{"name": "deploybot", "serviceUri": "https://a.example.com/", "actions": ["push"]}, {"name": "$(touch pwned)", "serviceUri": "https://a.example.com/", "actions": ["push"]}]}, {"name": "prod", "local": {}, "webhooks": [{"name": "scanner", "serviceUri": "https://a.example.com/", "actions": ["push"]}]}]}"#
        try spec.write(toFile: folder + "/other.json", atomically: true, encoding: .utf8)
        let script = await hookapply(["completion", "bash"]).stdout
        // Names come from the spec named with -f (here not the default webhooks.json, which is absent).
        #expect(try Self.complete(script, ["hookapply", "plan", "-f", "other.json", "--registry", ""], in: folder, binaryFolder: binaryFolder) == ["dev", "prod"])
        #expect(try Self.complete(script, ["hookapply", "ping", "-f", "other.json", ""], in: folder, binaryFolder: binaryFolder) == ["deploybot", "scanner"])
        #expect(try Self.complete(script, ["hookapply", "events", "--file", "other.json", "-r", "prod", "s"], in: folder, binaryFolder: binaryFolder) == ["scanner"])
        // No spec: nothing offered, nothing printed as an error.
        #expect(try Self.complete(script, ["hookapply", "get", ""], in: folder, binaryFolder: binaryFolder) == [])
        #expect(!FileManager.default.fileExists(atPath: folder + "/pwned"), "a webhook name ran as a command")
        let direct = await hookapply(["__complete", "webhooks", "-f", "other.json"], directory: folder)
        #expect(direct.stdout == "deploybot\nscanner\n" && direct.stderr.isEmpty)
    }

    @Test("bash completes files for every path option and the plan file", .enabled(if: bashPresent))
    func bashFiles() async throws {
        let folder = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "{}".write(toFile: folder + "/saved-plan.json", atomically: true, encoding: .utf8)
        let script = await hookapply(["completion", "bash"]).stdout
        for words in [["plan", "--out", "sa"], ["export", "--local", "sa"], ["export", "--secrets-env", "sa"], ["export", "--out", "sa"],
                      ["plan", "-f", "sa"], ["apply", "sa"], ["show", "sa"], ["fmt", "--file", "sa"]] {
            #expect(try Self.complete(script, ["hookapply"] + words, in: folder) == ["saved-plan.json"], "\(words)")
        }
    }

    @Test("zsh and fish scripts name every command; an unknown shell is a usage error")
    func others() async {
        let zsh = await hookapply(["completion", "zsh"])
        #expect(zsh.stdout.hasPrefix("#compdef hookapply"))
        #expect(!zsh.stdout.contains("bashcompinit"), "native zsh, not bash's script wrapped")
        let fish = await hookapply(["completion", "fish"])
        for command in HookApply.commands.map(\.spec) { #expect(fish.stdout.contains("-a \(command.name) -d")) }
        #expect(fish.stdout.contains("-l registry -s r -x -a '(__hookapply_names registries)'"))
        for option in ["out", "local", "secrets-env", "file"] {
            #expect(fish.stdout.contains("-l \(option)") && fish.stdout.components(separatedBy: "\n").contains { $0.contains("-l \(option)") && $0.contains(" -r -F") }, "fish --\(option)")
        }
        let unknown = await hookapply(["completion", "tcsh"])
        #expect(unknown.code == .usage)
    }
}

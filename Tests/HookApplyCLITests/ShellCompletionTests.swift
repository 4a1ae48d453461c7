import Foundation
import TestSupport
import Testing

@testable import HookApplyCLI

/// The native zsh script and the fish script, driven by the real shells: zsh through zpty (a fresh
/// interactive shell, compinit, the first Tab; Fixtures/shell/zsh-complete.zsh captures every compadd),
/// fish through `complete -C`. `.ci/run` installs both; without them the suite says it is skipped.
@Suite(.serialized) struct ShellCompletionTests {
    static let zsh = ["/usr/bin/zsh", "/bin/zsh"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let fish = ["/usr/bin/fish", "/bin/fish"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static let spec = #"{"version": 1, "registries": [{"name": "dev", "local": {}, "webhooks": [{"name": "deploybot", "serviceUri": "https://a.example.com/", "actions": ["push"]}, {"name": "$(touch pwned)", "serviceUri": "https://a.example.com/", "actions": ["push"]}]}, {"name": "prod", "local": {}, "webhooks": [{"name": "scanner", "serviceUri": "https://a.example.com/", "actions": ["push"]}]}]}"#

    /// A folder with `other.json` (the spec), `saved-plan.json`, and the zsh function in `functions/`.
    struct Setup {
        let folder: String
        let binaryFolder: String

        init(script: String? = nil) async throws {
            folder = try makeTemporaryDirectory()
            binaryFolder = (try #require(BuiltBinary("hookapply"), "build the hookapply product first").path as NSString).deletingLastPathComponent
            try ShellCompletionTests.spec.write(toFile: folder + "/other.json", atomically: true, encoding: .utf8)
            try "{}".write(toFile: folder + "/saved-plan.json", atomically: true, encoding: .utf8)
            try FileManager.default.createDirectory(atPath: folder + "/functions", withIntermediateDirectories: true)
            let generated = await hookapply(["completion", "zsh"]).stdout
            try (script ?? generated).write(toFile: folder + "/functions/_hookapply", atomically: true, encoding: .utf8)
        }

        func remove() { try? FileManager.default.removeItem(atPath: folder) }

        /// What zsh offers for `line` typed then Tab: "word" or "word -- description".
        func zsh(_ line: String) throws -> [String] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try #require(ShellCompletionTests.zsh))
            process.arguments = [fixtures + "/shell/zsh-complete.zsh", folder + "/functions", line]
            process.currentDirectoryURL = URL(fileURLWithPath: folder)
            process.environment = ["PATH": binaryFolder + ":/usr/bin:/bin", "HOME": folder, "TERM": "dumb", "COLUMNS": "200"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(30)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { process.terminate() }
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            // An empty word is zsh showing the option's message when nothing matches, not a candidate.
            return text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix(" ") && !$0.isEmpty }
        }

        /// The words zsh offers, without descriptions, sorted.
        func words(_ line: String) throws -> [String] {
            try zsh(line).map { String($0.split(separator: " ", maxSplits: 1).first ?? "") }.sorted()
        }

        /// What fish offers: "word\tdescription" lines.
        func fish(_ line: String) throws -> [String] {
            let script = folder + "/hookapply.fish"
            if !FileManager.default.fileExists(atPath: script) {
                let text = HookApplyCompletionText.fish
                try text.write(toFile: script, atomically: true, encoding: .utf8)
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try #require(ShellCompletionTests.fish))
            process.arguments = ["--no-config", "-c", "source \(script); complete -C '\(line)'"]
            process.currentDirectoryURL = URL(fileURLWithPath: folder)
            process.environment = ["PATH": binaryFolder + ":/usr/bin:/bin", "HOME": folder]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return text.split(separator: "\n").map { String($0.split(separator: "\t").first ?? "") }.sorted()
        }
    }

    @Test("zsh: the first Tab of a fresh shell completes commands, with descriptions", .enabled(if: zsh != nil))
    func zshCommands() async throws {
        let setup = try await Setup()
        defer { setup.remove() }
        #expect(try setup.zsh("hookapply pl") == ["plan -- Show the changes that would make the registries match the spec."])
        let all = try setup.words("hookapply ")
        #expect(all == CompletionCommand.commands.map(\.name).sorted())
        #expect(try setup.zsh("hookapply plan --fo") == ["--format -- Output format."])
        // A subcommand: offered after its parent's word, with its description; then its own options.
        #expect(try setup.words("hookapply serve re") == ["replay"])
        #expect(try setup.zsh("hookapply serve replay --dr") == ["--dry-run -- List what would be queued again, and change nothing."])
        #expect(try setup.words("hookapply serve replay --max").isEmpty)
        #expect(try setup.words("hookapply serve --max-a") == ["--max-attempts"])
    }

    @Test("zsh: every option of every command is offered, with its help", .enabled(if: zsh != nil))
    func zshOptions() async throws {
        let setup = try await Setup()
        defer { setup.remove() }
        for command in HookApply.commands.map(\.spec) where !command.options.isEmpty {
            let offered = try setup.zsh("hookapply \(command.name) -")
            for option in command.options {
                #expect(offered.contains { $0.hasPrefix("--\(option.long) -- ") }, "\(command.name) --\(option.long): \(offered)")
            }
        }
    }

    @Test("zsh: option values, names from the spec named with -f, files for path options; a hostile name never runs", .enabled(if: zsh != nil))
    func zshValues() async throws {
        let setup = try await Setup()
        defer { setup.remove() }
        #expect(try setup.words("hookapply plan --format ") == ["json", "markdown", "text"])
        #expect(try setup.words("hookapply completion ") == ["bash", "fish", "zsh"])
        #expect(try setup.words("hookapply plan -f other.json -r ") == ["dev", "prod"])
        #expect(try setup.words("hookapply ping -f other.json ") == ["deploybot", "scanner"])
        #expect(try setup.words("hookapply events --file other.json -r prod ") == ["scanner"])
        #expect(try setup.words("hookapply plan -f other.json --target ") == ["dev/deploybot", "prod/scanner"])
        // No spec in the folder (webhooks.json): nothing offered, no error.
        #expect(try setup.words("hookapply get ") == [])
        for line in ["hookapply plan --out sa", "hookapply export --local sa", "hookapply export --secrets-env sa", "hookapply plan -f sa",
                     "hookapply apply sa", "hookapply show sa", "hookapply fmt --file sa"] {
            #expect(try setup.words(line) == ["saved-plan.json"], "\(line)")
        }
        #expect(!FileManager.default.fileExists(atPath: setup.folder + "/pwned"), "a webhook name ran as a command")
    }

    @Test("zsh: the old bashcompinit wrapper offered nothing on the first Tab (why the script is native)", .enabled(if: zsh != nil))
    func zshOldWrapper() async throws {
        let bash = await hookapply(["completion", "bash"]).stdout
        let setup = try await Setup(script: "#compdef hookapply\nautoload -U +X bashcompinit && bashcompinit\n" + bash)
        defer { setup.remove() }
        #expect(try setup.words("hookapply pl") == [])
    }

    @Test("fish: commands, names, targets, and files for path options", .enabled(if: fish != nil))
    func fishCompletes() async throws {
        let setup = try await Setup()
        defer { setup.remove() }
        #expect(try setup.fish("hookapply pl") == ["plan"])
        #expect(try setup.fish("hookapply serve re") == ["replay"])
        #expect(try setup.fish("hookapply serve replay --d") == ["--dry-run"])
        #expect(try setup.fish("hookapply serve replay --max-a").isEmpty)
        #expect(try setup.fish("hookapply serve --max-a") == ["--max-attempts"])
        #expect(try setup.fish("hookapply plan -f other.json -r ") == ["dev", "prod"])
        #expect(try setup.fish("hookapply plan -f other.json --target ") == ["dev/deploybot", "prod/scanner"])
        for line in ["hookapply plan --out sa", "hookapply export --local sa", "hookapply export --secrets-env sa", "hookapply validate -f sa"] {
            #expect(try setup.fish(line) == ["saved-plan.json"], "\(line)")
        }
        #expect(!FileManager.default.fileExists(atPath: setup.folder + "/pwned"))
    }
}

enum HookApplyCompletionText {
    static var fish: String { CompletionCommand.fish() }
}

import Foundation
import HookKit
import Testing

@testable import HookApplyCLI

/// Every hookapply command line in deploy/, the Dockerfile and the CI workflow parses with today's
/// option tables, so renaming an option breaks this test, not somebody's deployment. (The files' own
/// formats are validated by scripts/validate-deploy.sh in CI.)
@Suite struct DeployFilesTests {
    /// The command lines, each with where it came from.
    static func commandLines() throws -> [(source: String, words: [String])] {
        var lines: [(String, [String])] = []
        func read(_ path: String) throws -> String { try String(contentsOfFile: repositoryRoot + "/" + path, encoding: .utf8) }
        // Kubernetes: a hookapply container's `args`, as a block list or a flow list.
        for path in ["deploy/kubernetes/deployment/deployment.yaml", "deploy/kubernetes/cronjob/cronjob.yaml"] {
            let text = try read(path).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            var inHookapply = false
            var index = 0
            while index < text.count {
                let line = text[index].trimmingCharacters(in: .whitespaces)
                if line.hasPrefix("- name: ") { inHookapply = line.hasPrefix("- name: hookapply") }
                if inHookapply, line.hasPrefix("args:") {
                    let rest = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
                    if rest.hasPrefix("[") {
                        let words = try JSONSerialization.jsonObject(with: Data(rest.utf8)) as? [String] ?? []
                        lines.append((path, words))
                    } else {
                        let indent = text[index + 1].prefix { $0 == " " }.count
                        var words: [String] = []
                        index += 1
                        while index < text.count, text[index].prefix(while: { $0 == " " }).count == indent,
                              text[index].trimmingCharacters(in: .whitespaces).hasPrefix("- ") {
                            words.append(String(text[index].trimmingCharacters(in: .whitespaces).dropFirst(2)))
                            index += 1
                        }
                        lines.append((path, words))
                        continue
                    }
                }
                index += 1
            }
        }
        // systemd: ExecStart lines that run hookapply (no quoting is used in them).
        for name in try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/deploy/systemd").sorted() {
            for line in try read("deploy/systemd/" + name).split(separator: "\n") where line.hasPrefix("ExecStart=") && line.contains("/hookapply ") {
                lines.append(("deploy/systemd/" + name, line.split(separator: " ").dropFirst().map(String.init)))
            }
        }
        // The Dockerfile's CMD (a JSON array).
        for line in try read("Dockerfile").split(separator: "\n") where line.hasPrefix("CMD ") {
            lines.append(("Dockerfile", try JSONSerialization.jsonObject(with: Data(line.dropFirst(4).utf8)) as? [String] ?? []))
        }
        // The workflow's `run:` lines that start with hookapply.
        for line in try read("examples/ci/github-actions.yml").split(separator: "\n") {
            var text = line.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("run: ") { text = String(text.dropFirst(5)) }
            guard text.hasPrefix("hookapply ") else { continue }
            let words = text.split(separator: " ").prefix { !["|", ">", "||", "&&", ";"].contains($0) }.map(String.init)
            lines.append(("examples/ci/github-actions.yml", Array(words.dropFirst())))
        }
        return lines
    }

    @Test("every hookapply command line in the deployment files and the workflow parses")
    func commandLinesParse() throws {
        let lines = try Self.commandLines()
        #expect(lines.count >= 10, "the extraction found too few command lines: \(lines)")
        #expect(lines.contains { $0.source.hasSuffix("deployment.yaml") && $0.words.first == "reconcile" })
        #expect(lines.contains { $0.source.hasSuffix("cronjob.yaml") && $0.words.first == "plan" })
        for (source, words) in lines {
            guard let name = words.first, let command = HookApply.commands.first(where: { $0.spec.name == name }) else {
                Issue.record("\(source): '\(words.joined(separator: " "))' names no hookapply command")
                continue
            }
            do {
                let parsed = try ArgumentParser.parse(Array(words.dropFirst()), for: command.spec)
                if let interval = parsed.value("interval") { #expect(Seconds.parseDuration(interval) != nil, "\(source): --interval \(interval)") }
            } catch {
                Issue.record("\(source): hookapply \(words.joined(separator: " ")): \(error.message)")
            }
        }
    }

    @Test("the check fails on an option that does not exist")
    func checkCanFail() {
        let spec = ReconcileCommand.spec
        #expect(throws: (any Error).self) { try ArgumentParser.parse(["--intervall=5m"], for: spec) }
        #expect(throws: (any Error).self) { try ArgumentParser.parse(["--log-format=xml"], for: spec) }
    }

    @Test("the Azure custom roles: least privilege, no wildcards, the planner a strict subset that still reads callback configs")
    func azureRoles() throws {
        func actions(_ name: String) throws -> (actions: Set<String>, scopes: [String]) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/deploy/azure/" + name))) as? [String: Any])
            #expect(object["IsCustom"] as? Bool == true)
            #expect((object["NotActions"] as? [String])?.isEmpty == true && (object["DataActions"] as? [String])?.isEmpty == true)
            return (Set(object["Actions"] as? [String] ?? []), object["AssignableScopes"] as? [String] ?? [])
        }
        let manager = try actions("hookapply-role.json")
        let planner = try actions("hookapply-plan-role.json")
        for role in [manager, planner] {
            #expect(!role.scopes.isEmpty && role.scopes.allSatisfy { $0.hasPrefix("/subscriptions/") })
            #expect(role.actions.allSatisfy { !$0.contains("*") && $0.hasPrefix("Microsoft.ContainerRegistry/registries/") }, "\(role.actions)")
        }
        let webhooks = "Microsoft.ContainerRegistry/registries/webhooks/"
        // Every call the Azure provider makes (see docs/azure.md) is allowed to the manager.
        for needed in ["Microsoft.ContainerRegistry/registries/read", "Microsoft.ContainerRegistry/registries/replications/read",
                       webhooks + "read", webhooks + "write", webhooks + "delete", webhooks + "getCallbackConfig/action",
                       webhooks + "ping/action", webhooks + "listEvents/action"] {
            #expect(manager.actions.contains(needed), "the manager role lacks \(needed)")
        }
        #expect(planner.actions.isSubset(of: manager.actions))
        #expect(planner.actions.contains(webhooks + "getCallbackConfig/action"), "even plan reads callback configs")
        for forbidden in [webhooks + "write", webhooks + "delete", webhooks + "ping/action"] { #expect(!planner.actions.contains(forbidden)) }
    }
}

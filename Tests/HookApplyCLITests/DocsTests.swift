import Foundation
import TestSupport
import Testing

/// The documentation holds: every relative link in the README, ARCHITECTURE.md and docs/ resolves (to a
/// file, and to a heading when it names one), and every shell block of docs/getting-started.md runs, in
/// order, in an empty folder, with the built binary.
@Suite struct DocsTests {
    static var documents: [String] {
        let docs = ((try? FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/docs")) ?? [])
            .filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
        return ["README.md", "ARCHITECTURE.md"] + docs.sorted()
    }

    /// GitHub's anchor for a heading: lower case, punctuation but `-` and `_` dropped, spaces as `-`.
    static func anchor(_ heading: String) -> String {
        var result = ""
        for character in heading.lowercased() {
            if character.isLetter || character.isNumber || character == "-" || character == "_" {
                result.append(character)
            } else if character == " " {
                result.append("-")
            }
        }
        return result
    }

    /// The headings of a markdown text, outside code fences.
    static func anchors(_ text: String) -> Set<String> {
        var found: Set<String> = []
        var inCode = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { inCode.toggle() }
            guard !inCode, line.hasPrefix("#") else { continue }
            let title = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
            found.insert(anchor(title))
        }
        return found
    }

    /// `[text](target)` links outside code fences and code spans.
    static func links(_ text: String) -> [String] {
        var targets: [String] = []
        var inCode = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { inCode.toggle() }
            if inCode { continue }
            // Code spans can hold brackets that are not links.
            let plain = line.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 0 }.map(\.element).joined(separator: " ")
            var rest = Substring(plain)
            while let open = rest.range(of: "](") {
                let after = rest[open.upperBound...]
                guard let close = after.firstIndex(of: ")") else { break }
                targets.append(String(after[..<close]))
                rest = after[close...]
            }
        }
        return targets
    }

    @Test("every relative link in README, ARCHITECTURE.md and docs/ resolves, anchors included")
    func links() throws {
        var checked = 0
        for document in Self.documents {
            let text = try String(contentsOfFile: repositoryRoot + "/" + document, encoding: .utf8)
            let folder = (document as NSString).deletingLastPathComponent
            for target in Self.links(text) where !target.contains("://") && !target.hasPrefix("mailto:") {
                checked += 1
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let file = parts[0].isEmpty ? document : ((folder.isEmpty ? parts[0] : folder + "/" + parts[0]) as NSString).standardizingPath
                let path = repositoryRoot + "/" + file
                #expect(FileManager.default.fileExists(atPath: path), "\(document): link to '\(target)': no such file \(file)")
                if parts.count == 2, file.hasSuffix(".md"), let linked = try? String(contentsOfFile: path, encoding: .utf8) {
                    #expect(Self.anchors(linked).contains(parts[1]), "\(document): link to '\(target)': no heading #\(parts[1]) in \(file)")
                }
            }
        }
        #expect(checked > 40, "only \(checked) links found: the link scanner is broken")
    }

    @Test("the link checker can fail: a missing file and a missing anchor are caught")
    func linkCheckerCanFail() {
        #expect(Self.links("see [x](nowhere.md) and `[y](code.md)`") == ["nowhere.md"])
        #expect(Self.anchors("# Getting started\n```\n# not a heading\n```\n## 5. Drift") == ["getting-started", "5-drift"])
    }

    /// A shell block of getting-started.md: its code and what it must end with.
    struct Block {
        var code: String
        var exit: Int32 = 0
        var timeout: Double? = nil
    }

    static func blocks(_ text: String) -> [Block] {
        var blocks: [Block] = []
        var current: Block? = nil
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if var block = current {
                if line.hasPrefix("```") {
                    blocks.append(block)
                    current = nil
                } else {
                    block.code += line + "\n"
                    current = block
                }
            } else if line.hasPrefix("```sh") {
                var block = Block(code: "")
                for word in line.dropFirst(5).split(separator: " ") {
                    if word.hasPrefix("exit="), let code = Int32(word.dropFirst(5)) { block.exit = code }
                    if word.hasPrefix("timeout="), let seconds = Double(word.dropFirst(8)) { block.timeout = seconds }
                }
                current = block
            }
        }
        return blocks
    }

    @Test("every shell block of docs/getting-started.md runs as written, in order, in an empty folder", .timeLimit(.minutes(2)))
    func gettingStarted() throws {
        let binary = try #require(BuiltBinary("hookapply"), "build the hookapply product first (swift build)")
        let receiver = try LoopbackReceiver()
        defer { receiver.stop() }
        let folder = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let text = try String(contentsOfFile: repositoryRoot + "/docs/getting-started.md", encoding: .utf8)
        let blocks = Self.blocks(text)
        #expect(blocks.count >= 6)
        let shell = BuiltBinary(executable: "/bin/bash")
        let environment = ["PATH": (binary.path as NSString).deletingLastPathComponent + ":/usr/bin:/bin", "HOME": folder, "NO_COLOR": "1",
                           "RECEIVER_URL": receiver.url + "/hooks"]
        for (index, block) in blocks.enumerated() {
            let script = block.timeout.map { "timeout -s TERM \($0) bash -e -c \(Self.quoted(block.code))" } ?? block.code
            let running = try shell.start(["-e", "-c", script], environment: environment, directory: folder)
            let status = running.wait(timeout: 60)
            // `timeout` answers 124 when it had to stop the command: that is the block's designed end.
            let expected: Set<Int32> = block.timeout == nil ? [block.exit] : [124]
            #expect(status.map(expected.contains) == true, "block \(index + 1) ended with \(status.map(String.init) ?? "a hang"):\n\(block.code)\n\(running.stdout.suffix(1500))\(running.stderr.suffix(1500))")
        }
        #expect(receiver.requests.contains { $0.bodyText.contains("\"action\":\"ping\"") }, "the ping never reached the receiver")
        #expect(receiver.requests.allSatisfy { $0.headers["authorization"] == "Bearer local-dev-token" })
        #expect(FileManager.default.fileExists(atPath: folder + "/adopted.json"))
    }

    @Test("the README's quick start runs as written in an empty folder")
    func readmeQuickStart() throws {
        let binary = try #require(BuiltBinary("hookapply"), "build the hookapply product first (swift build)")
        let folder = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let readme = try String(contentsOfFile: repositoryRoot + "/README.md", encoding: .utf8)
        let section = try #require(readme.range(of: "## Quick start").map { String(readme[$0.upperBound...]) })
        let block = try #require(Self.blocks(String(section.prefix { _ in true })).first)
        #expect(block.code.contains("hookapply apply"))
        let running = try BuiltBinary(executable: "/bin/bash").start(["-e", "-c", block.code], environment: [
            "PATH": (binary.path as NSString).deletingLastPathComponent + ":/usr/bin:/bin", "HOME": folder, "NO_COLOR": "1"], directory: folder)
        #expect(running.wait(timeout: 60) == 0, "\(running.stdout.suffix(1500))\(running.stderr.suffix(1500))")
        #expect(running.stdout.contains("deploybot will be created") && running.stdout.contains("No changes"), "\(running.stdout)")
    }

    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

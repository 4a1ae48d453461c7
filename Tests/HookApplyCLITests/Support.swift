import Foundation
import TestSupport
import Testing

@testable import HookApplyCLI

/// The result of running a command in process.
struct CLIResult {
    var code: ExitCode
    var stdout: String
    var stderr: String
}

/// The repository root, found from this file's path (tests read fixtures and examples from the checkout).
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

let fixtures = repositoryRoot + "/Tests/HookApplyCLITests/Fixtures"

/// Runs `hookapply` in process with its own environment, folder and terminal flags.
func hookapply(
    _ arguments: [String], environment: [String: String] = [:], directory: String = repositoryRoot,
    stdin: String = "", terminal: Bool = false, answer: String? = nil
) async -> CLIResult {
    let out = OutputStream()
    let err = OutputStream()
    let input = Array(stdin.utf8)
    let context = Context(
        arguments: arguments, environment: environment, currentDirectory: directory,
        standardOutput: out, standardError: err, readStandardInput: { input }, readLine: { answer },
        isStandardInputTerminal: terminal, isStandardOutputTerminal: terminal, isStandardErrorTerminal: terminal)
    let code = await HookApply.run(context)
    return CLIResult(code: code, stdout: out.text, stderr: err.text)
}

/// Compares `actual` with a committed golden file. With HOOKAPPLY_RECORD=1 it writes the file and fails,
/// so a recording run can never pass by accident.
func expectGolden(_ name: String, _ actual: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let path = fixtures + "/golden/" + name
    if ProcessInfo.processInfo.environment["HOOKAPPLY_RECORD"] == "1" {
        try? actual.write(toFile: path, atomically: true, encoding: .utf8)
        Issue.record("recorded \(name); run again without HOOKAPPLY_RECORD to check it", sourceLocation: sourceLocation)
        return
    }
    guard let expected = try? String(contentsOfFile: path, encoding: .utf8) else {
        Issue.record("missing golden \(name); record it with HOOKAPPLY_RECORD=1", sourceLocation: sourceLocation)
        return
    }
    if expected != actual {
        Issue.record("golden \(name) differs:\n\(lineDiff(expected, actual))\n(re-record with HOOKAPPLY_RECORD=1 if intended)",
                     sourceLocation: sourceLocation)
    }
}

/// A minimal line diff: enough to see what changed in a golden.
func lineDiff(_ expected: String, _ actual: String) -> String {
    let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let b = actual.split(separator: "\n", omittingEmptySubsequences: false)
    var lines: [String] = []
    for index in 0..<max(a.count, b.count) {
        let left = index < a.count ? String(a[index]) : nil
        let right = index < b.count ? String(b[index]) : nil
        if left != right {
            if let left { lines.append("-\(index + 1): \(left)") }
            if let right { lines.append("+\(index + 1): \(right)") }
        }
    }
    return lines.prefix(40).joined(separator: "\n")
}

/// A fresh temporary folder, removed by the caller.
func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "hookapply-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

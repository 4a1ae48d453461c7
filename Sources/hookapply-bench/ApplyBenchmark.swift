import Foundation
import HookApplyCLI
import HookKit

/// `hookapply apply` end to end on local registries from empty: R registries × 500 creates, through the
/// real command in process. The time per change must stay flat as R grows (each state file is written
/// once per apply phase, not once per change).
enum ApplyBenchmark {
    struct Row {
        var registries: Int
        var changes: Int
        var milliseconds: [Double]
        var median: Double { let sorted = milliseconds.sorted(); return sorted.isEmpty ? 0 : sorted[sorted.count / 2] }
        var microsecondsPerChange: Double { median * 1000 / Double(max(1, changes)) }
    }

    static func spec(registries: Int, webhooks: Int) -> String {
        var text = "{\"version\": 1, \"owner\": \"bench\", \"registries\": [\n"
        for registry in 0..<registries {
            let hooks = (0..<webhooks).map { hook in
                #"{"name": "hook\#(hook)x", "serviceUri": "https://h\#(hook % 7).example.com/\#(registry)/\#(hook)?code=${env:KEY:-key1}", "customHeaders": {"Authorization": "Bearer ${env:T:-token}"}, "actions": ["push", "delete"], "scope": "team\#(hook % 13)/app\#(hook):*"}"#
            }
            text += "{\"name\": \"reg\(registry)\", \"local\": {}, \"webhooks\": [" + hooks.joined(separator: ",\n") + "]}"
            text += registry == registries - 1 ? "\n" : ",\n"
        }
        return text + "]}\n"
    }

    /// Each size `runs` times, alternating sizes, from an empty registry each time.
    static func run(sizes: [Int], webhooks: Int, runs: Int) async throws -> [Row] {
        var rows = sizes.map { Row(registries: $0, changes: $0 * webhooks, milliseconds: []) }
        for _ in 0..<runs {
            for (index, size) in sizes.enumerated() {
                let directory = NSTemporaryDirectory() + "hookapply-apply-bench-\(getpid())-\(size)"
                try? FileManager.default.removeItem(atPath: directory)
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: directory) }
                try spec(registries: size, webhooks: webhooks).write(toFile: directory + "/webhooks.json", atomically: true, encoding: .utf8)
                let out = HookApplyCLI.OutputStream()
                let err = HookApplyCLI.OutputStream()
                let context = Context(arguments: ["apply", "--auto-approve", "--parallelism", "16"], environment: [:], currentDirectory: directory,
                                      standardOutput: out, standardError: err)
                let start = DispatchTime.now().uptimeNanoseconds
                let code = await HookApply.run(context)
                rows[index].milliseconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                precondition(code == .success && out.text.contains("Apply complete: \(size * webhooks) created"), "apply failed: \(err.text.prefix(300))")
            }
        }
        return rows
    }
}

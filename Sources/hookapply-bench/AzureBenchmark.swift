import Foundation
import HookApplyCLI
import HookKit
import HookSpec
import Reconciler
import TestSupport

/// plan and apply against the ARM emulator with per-call latency, through the real command in process.
/// Compared with the ideal ceil(calls / parallelism) × latency.
enum AzureBenchmark {
    static let subscription = "6e9ef8d4-3c07-4a07-9d7e-1c4f3a7e2b11"

    struct Run {
        var name: String
        var milliseconds: Double
        var calls: Int
        var ideal: Double
        var succeeded: Bool
    }

    static func spec(endpoint: String, registries: Int, webhooks: Int) -> String {
        var text = "{\"version\": 1, \"owner\": \"bench\", \"registries\": ["
        for registry in 0..<registries {
            if registry > 0 { text += "," }
            let hooks = (0..<webhooks).map {
                "{\"name\": \"hook\($0)x\", \"serviceUri\": \"https://h.example.com/\(registry)/\($0)?code=${env:CODE:-c}\", \"customHeaders\": {\"Authorization\": \"Bearer t\"}, \"actions\": [\"push\"]}"
            }
            text += "{\"name\": \"reg\(registry)\", \"azure\": {\"subscriptionId\": \"\(subscription)\", \"resourceGroup\": \"rg\", \"registry\": \"registry\(registry)x\", \"endpoint\": \"\(endpoint)\"}, \"webhooks\": [\(hooks.joined(separator: ","))]}"
        }
        return text + "]}"
    }

    static func run(latency: Double, parallelism: Int, throttlePercent: Int) async throws -> [Run] {
        let emulator = try ARMEmulator()
        defer { emulator.stop() }
        emulator.latency = latency
        emulator.pageSize = 100
        let directory = NSTemporaryDirectory() + "hookapply-azure-bench-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let environment = ["AZURE_ACCESS_TOKEN": emulator.token, "HOOKAPPLY_ARM_POLL_INTERVAL": "0", "HOOKAPPLY_ARM_RETRY_BASE": "0.05"]
        func command(_ arguments: [String], spec: String) async throws -> (ExitCode, Double, String) {
            try spec.write(toFile: directory + "/webhooks.json", atomically: true, encoding: .utf8)
            let out = HookApplyCLI.OutputStream()
            let err = HookApplyCLI.OutputStream()
            let context = Context(arguments: arguments + ["--parallelism", String(parallelism)], environment: environment,
                                  currentDirectory: directory, standardOutput: out, standardError: err)
            let start = DispatchTime.now().uptimeNanoseconds
            let code = await HookApply.run(context)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            return (code, elapsed, err.text)
        }
        func ideal(_ calls: Int) -> Double { Double((calls + parallelism - 1) / parallelism) * latency * 1000 }
        var runs: [Run] = []

        // plan: 10 registries x 500 webhooks that already match (the cost is observing them all).
        for registry in 0..<10 {
            emulator.addRegistry(subscription: subscription, group: "rg", name: "registry\(registry)x")
            emulator.seed(subscription: subscription, group: "rg", name: "registry\(registry)x", hooks: (0..<500).map {
                ARMEmulator.Hook(name: "hook\($0)x", location: "westus", tags: ["hookapply-owner": "bench"], status: "enabled", scope: "",
                                 actions: ["push"], serviceUri: "https://h.example.com/\(registry)/\($0)?code=c", customHeaders: ["Authorization": "Bearer t"])
            })
        }
        emulator.throttlePercent = throttlePercent
        let before = emulator.requests.count
        let planned = try await command(["plan", "--detailed-exitcode"], spec: spec(endpoint: emulator.endpoint, registries: 10, webhooks: 500))
        let planCalls = emulator.requests.count - before
        // The ideal counts the calls the design needs, not the retries a throttled run adds.
        let planNeeded = 10 + 10 * 5 + 5000
        runs.append(Run(name: "plan, 10 registries x 500 webhooks", milliseconds: planned.1, calls: planCalls, ideal: ideal(planNeeded),
                        succeeded: planned.0 == .success))

        // apply: 500 creates into an empty registry.
        emulator.addRegistry(subscription: subscription, group: "rg", name: "registry99x")
        let applySpec = spec(endpoint: emulator.endpoint, registries: 1, webhooks: 500).replacing("registry0x", with: "registry99x")
        let beforeApply = emulator.requests.count
        let applied = try await command(["apply", "--auto-approve"], spec: applySpec)
        let applyCalls = emulator.requests.count - beforeApply
        let applyNeeded = 2 + 500
        runs.append(Run(name: "apply, 500 creates", milliseconds: applied.1, calls: applyCalls, ideal: ideal(applyNeeded),
                        succeeded: applied.0 == .success && emulator.hooks(subscription: subscription, group: "rg", name: "registry99x").count == 500))
        return runs
    }
}

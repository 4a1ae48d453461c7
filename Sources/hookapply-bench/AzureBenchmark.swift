import AzureRegistry
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
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
        var environment = ["AZURE_ACCESS_TOKEN": emulator.token, "HOOKAPPLY_ARM_POLL_INTERVAL": "0", "HOOKAPPLY_ARM_RETRY_BASE": "0.05"]
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

        // The observation cache: a cold plan (reads every secret, fills the cache), then a warm one.
        if throttlePercent == 0 {
            environment["HOOKAPPLY_CACHE_DIR"] = directory + "/cache"
            // The cache's sealing key: without one (no HOME in this environment) the cache lives in memory only
            // and every one-shot plan reads every secret again.
            environment["HOOKAPPLY_CACHE_KEY"] = String(repeating: "5a", count: 32)
            let benchSpec = spec(endpoint: emulator.endpoint, registries: 10, webhooks: 500)
            for (name, needed) in [("plan, cold cache (reads every secret, fills the cache)", planNeeded), ("plan, warm cache (no drift)", 10 + 10 * 5 + 10)] {
                let start = emulator.requests.count
                let result = try await command(["plan", "--detailed-exitcode"], spec: benchSpec)
                runs.append(Run(name: name, milliseconds: result.1, calls: emulator.requests.count - start, ideal: ideal(needed), succeeded: result.0 == .success))
            }
            environment["HOOKAPPLY_CACHE_DIR"] = nil
            environment["HOOKAPPLY_CACHE_KEY"] = nil
            // reconcile's delivery health: one listEvents page per declared webhook, one webhook after
            // another (gentle on ARM's read budget), no callback config read.
            let settings = try AzureSettings(environment: environment, parallelism: parallelism, endpointFlag: emulator.endpoint)
            if let url = URL(string: emulator.endpoint) {
                let provider = settings.provider(endpoint: url, subscriptionId: subscription, resourceGroup: "rg", registry: "registry0x")
                let healthStart = emulator.requests.count
                let counted = provider.callStatistics.calls
                let began = DispatchTime.now().uptimeNanoseconds
                var read = 0
                for index in 0..<100 where (try? await provider.deliveryOutcomes(name: "hook\(index)x", limit: 20)) != nil { read += 1 }
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e6
                let calls = emulator.requests.count - healthStart
                runs.append(Run(name: "delivery health, 100 webhooks (one listEvents page each, in turn; \(provider.callStatistics.calls - counted) calls counted, \(calls * 6) an hour at every 10m)",
                                milliseconds: elapsed, calls: calls, ideal: Double(100) * latency * 1000, succeeded: read == 100))
            }
            // What anyone would write with Microsoft's SDK: webhooks.list per registry, then
            // get_callback_config for each webhook in a pool of 10 threads (the same ARM calls, in Swift).
            let start = emulator.requests.count
            let began = DispatchTime.now().uptimeNanoseconds
            let observed = await sdkStyleObserve(endpoint: emulator.endpoint, token: emulator.token, registries: 10, workers: parallelism)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e6
            runs.append(Run(name: "SDK-style observation (list + get_callback_config each, 10 workers)", milliseconds: elapsed,
                            calls: emulator.requests.count - start, ideal: ideal(10 * 5 + 5000), succeeded: observed == 5000))
        }

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

    /// The SDK way: page through `webhooks.list`, then one `get_callback_config` per webhook, at most
    /// `workers` calls at a time. Returns how many callback configs were read.
    static func sdkStyleObserve(endpoint: String, token: String, registries: Int, workers: Int) async -> Int {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = workers
        let session = URLSession(configuration: configuration)
        let gate = AsyncSemaphore(workers)
        @Sendable func call(_ method: String, _ url: String) async -> Data? {
            await gate.acquire()
            guard let target = URL(string: url) else {
                await gate.release()
                return nil
            }
            var request = URLRequest(url: target)
            request.httpMethod = method
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            if method == "POST" { request.httpBody = Data() }
            let data = try? await session.data(for: request).0
            await gate.release()
            return data
        }
        let read = Locked(0)
        for registry in 0..<registries {
            let base = "\(endpoint)/subscriptions/\(subscription)/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/registry\(registry)x"
            var names: [String] = []
            var next: String? = "\(base)/webhooks?api-version=2025-11-01"
            while let url = next, let data = await call("GET", url),
                  let page = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                names += (page["value"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                next = page["nextLink"] as? String
            }
            let paths = names.map { "\(base)/webhooks/\($0)/getCallbackConfig?api-version=2025-11-01" }
            await concurrentForEach(paths.count) { index in
                if await call("POST", paths[index]) != nil { read.withLock { $0 += 1 } }
            }
        }
        return read.value
    }
}

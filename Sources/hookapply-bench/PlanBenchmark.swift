import Foundation
import HookApplyCLI
import HookKit
import HookSpec
import LocalRegistry
import Reconciler

/// validate + plan end to end: R local registries × W webhooks with a share of drift, through the real
/// `hookapply plan` command in process (read the spec, validate, resolve, read R state files, plan, render).
enum PlanBenchmark {
    struct Result {
        var validate: [Double]
        var plan: [Double]
        /// `plan --out`: the same, plus the evidence a saved plan records and writing the plan file.
        var planSaved: [Double] = []
        /// Peak memory (MiB) after the text plans, before any `plan --out`.
        var textPeakMiB: Double = 0
        /// Phase name → times, measured separately with the library APIs.
        var phases: [(String, [Double])] = []
        var changes: Int
        var specBytes: Int
    }

    static func run(registries: Int, webhooks: Int, driftPercent: Int, runs: Int) async throws -> Result {
        let directory = NSTemporaryDirectory() + "hookapply-bench-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bytes = try makeWorkspace(directory, registries: registries, webhooks: webhooks, driftPercent: driftPercent)
        return try await measurePlans(directory, bytes: bytes, runs: runs)
    }

    /// Writes the spec and the R state files into `directory` (replacing it); returns the spec's bytes.
    static func makeWorkspace(_ directory: String, registries: Int, webhooks: Int, driftPercent: Int) throws -> [UInt8] {
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory + "/.hookapply", withIntermediateDirectories: true)
        var spec = "{\n  \"version\": 1,\n  \"owner\": \"bench\",\n  \"registries\": [\n"
        var driftCounter = 0
        for registry in 0..<registries {
            var hooks: [String] = []
            var state: [WebhookState] = []
            for hook in 0..<webhooks {
                let name = "hook\(hook)"
                let uri = "https://hooks\(hook % 7).example.com/acr/\(registry)/\(hook)?code=${env:KEY:-k\(hook % 5)}"
                let scope = "team\(hook % 13)/app\(hook):*"
                hooks.append("""
                          {"name": "\(name)", "serviceUri": "\(uri)", "customHeaders": {"Authorization": "Bearer ${env:TOKEN:-t}", "X-Team": "team\(hook % 11)"}, "actions": ["push", "delete"], "scope": "\(scope)"}
                    """)
                // The live state: matching, except for a share that drifted (a changed scope, status or header).
                var live = WebhookState(
                    name: name, serviceUri: "https://hooks\(hook % 7).example.com/acr/\(registry)/\(hook)?code=k\(hook % 5)",
                    customHeaders: [ResolvedHeader(name: "Authorization", value: "Bearer t"), ResolvedHeader(name: "X-Team", value: "team\(hook % 11)")],
                    actions: [.delete, .push], status: .enabled, scope: scope, tags: [WebhookState.ownerTag: "bench"])
                driftCounter += 1
                if driftCounter % (100 / max(1, driftPercent)) == 0 {
                    switch hook % 3 {
                    case 0: live.scope = "drifted"
                    case 1: live.status = .disabled
                    default: live.customHeaders[1].value = "someone-else"
                    }
                }
                state.append(live)
            }
            spec += "    {\"name\": \"reg\(registry)\", \"local\": {}, \"webhooks\": [\n" + hooks.joined(separator: ",\n") + "\n    ]}"
            spec += registry == registries - 1 ? "\n" : ",\n"
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            struct StateFile: Encodable {
                var formatVersion: Int
                var webhooks: [WebhookState]
            }
            try encoder.encode(StateFile(formatVersion: 1, webhooks: state)).write(to: URL(fileURLWithPath: directory + "/.hookapply/reg\(registry).json"))
        }
        spec += "  ]\n}\n"
        try spec.write(toFile: directory + "/webhooks.json", atomically: true, encoding: .utf8)
        return Array(spec.utf8)
    }

    static func measurePlans(_ directory: String, bytes: [UInt8], runs: Int) async throws -> Result {

        var validateTimes: [Double] = []
        var planTimes: [Double] = []
        var savedTimes: [Double] = []
        var changes = 0
        for _ in 0..<runs {
            validateTimes.append(measure {
                let document = SpecLoader.load(bytes)
                precondition(document.spec != nil, "the generated spec must be valid: \(document.diagnostics.prefix(3))")
            })
            let out = HookApplyCLI.OutputStream()
            let err = HookApplyCLI.OutputStream()
            let context = Context(arguments: ["plan"], environment: [:], currentDirectory: directory,
                                  standardOutput: out, standardError: err)
            let start = DispatchTime.now().uptimeNanoseconds
            let code = await HookApply.run(context)
            planTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            precondition(code == .success, "plan failed: \(err.text.prefix(500))")
            changes = out.text.components(separatedBy: " will be updated in place").count - 1
        }
        // The peak memory of the text plans, before plan --out (whose JSON document takes more) runs.
        let textPeak = peakMemoryMiB()
        for _ in 0..<runs {
                let saving = Context(arguments: ["plan", "--out", "saved-plan.json"], environment: [:], currentDirectory: directory,
                                         standardOutput: HookApplyCLI.OutputStream(), standardError: HookApplyCLI.OutputStream())
                let savingStart = DispatchTime.now().uptimeNanoseconds
                let saved = await HookApply.run(saving)
                precondition(saved == .success, "plan --out failed")
                savedTimes.append(Double(DispatchTime.now().uptimeNanoseconds - savingStart) / 1e6)
        }
        // The same work phase by phase, to show where the time goes.
        var phaseTimes: [String: [Double]] = [:]
        let order = ["load + validate", "resolve", "observe 100 state files", "plan", "plan, with a saved plan's evidence", "encode the plan document (JSONEncoder)", "write the plan document (PrettyJSONWriter)", "evidence: dependencies of every observed webhook",
                     "render text", "spec digest (SHA-256)", "free the document"]
        for _ in 0..<runs {
            var document: SpecDocument? = nil
            phaseTimes["spec digest (SHA-256)", default: []].append(measure { _ = SHA256.hexDigest(bytes) })
            var scratch: SpecDocument? = SpecLoader.load(bytes)
            phaseTimes["free the document", default: []].append(measure { scratch = nil })
            _ = scratch
            phaseTimes["load + validate", default: []].append(measure { document = SpecLoader.load(bytes) })
            var resolved: ResolvedSpec? = nil
            phaseTimes["resolve", default: []].append(measure { resolved = document?.resolve(environment: [:]).spec })
            guard let spec = resolved else { break }
            let providers = spec.registries.map { LocalRegistryProvider(path: directory + "/.hookapply/\($0.name).json") }
            let observations = Observed()
            let start = DispatchTime.now().uptimeNanoseconds
            await concurrentForEach(providers.count) { index in
                if let state = try? await providers[index].observe() { observations.set(spec.registries[index].name, state) }
            }
            phaseTimes["observe 100 state files", default: []].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            var plan: Plan? = nil
            let observed = observations.all
            phaseTimes["plan", default: []].append(measure { plan = Planner.plan(spec, specDigest: "d", observed: observed, options: PlanOptions(recordsEvidence: false)).plan })
            var evidenced: Plan? = nil
            phaseTimes["plan, with a saved plan's evidence", default: []].append(measure { evidenced = Planner.plan(spec, specDigest: "d", observed: observed).plan })
            phaseTimes["encode the plan document (JSONEncoder)", default: []].append(measure {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                _ = try? encoder.encode(evidenced)
            })
            phaseTimes["evidence: dependencies of every observed webhook", default: []].append(measure {
                var digest = 0
                for state in observed.values { for webhook in state.webhooks { digest &+= WebhookDependency(webhook, provisioning: nil).hashValue } }
                precondition(digest != 1)
            })
            phaseTimes["write the plan document (PrettyJSONWriter)", default: []].append(measure {
                guard let evidenced else { return }
                var json = PrettyJSONWriter()
                var total = 0
                json.beginArray()
                for change in evidenced.changes {
                    change.write(to: &json)
                    if json.bytes.count > 256 * 1024 { total += json.take().count }
                }
                for registry in evidenced.registries {
                    registry.write(to: &json)
                    if json.bytes.count > 256 * 1024 { total += json.take().count }
                }
                json.endArray()
                total += json.take().count
                precondition(total > 0)
            })
            phaseTimes["render text", default: []].append(measure {
                if let plan { _ = renderPlanText(plan) }
            })
        }
        return Result(validate: validateTimes, plan: planTimes, planSaved: savedTimes, textPeakMiB: textPeak, phases: order.map { ($0, phaseTimes[$0] ?? []) },
                      changes: changes, specBytes: bytes.count)
    }
}

struct Observed: Sendable {
    private let states = Locked<[String: ObservedRegistry]>([:])
    func set(_ name: String, _ state: ObservedRegistry) { states.withLock { $0[name] = state } }
    var all: [String: ObservedRegistry] { states.value }
}

func measure(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
}

/// `plan` against `plan --out` through the release binary, each run its own process, alternating, so
/// each one's peak memory (ru_maxrss from wait4) and time are its own and measured side by side.
enum PlanOutBenchmark {
    struct Run {
        var milliseconds: Double
        var peakMiB: Double
    }

    static func run(registries: Int, webhooks: Int, runs: Int) throws -> (text: [Run], saved: [Run], planFileBytes: Int) {
        // The hookapply beside this benchmark, or HOOKAPPLY_BENCH_BINARY (to measure another build side by side).
        let binary = ProcessInfo.processInfo.environment["HOOKAPPLY_BENCH_BINARY"]
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("hookapply").path
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw BenchError("build the hookapply product beside hookapply-bench (swift build -c release)") }
        let directory = NSTemporaryDirectory() + "hookapply-bench-out-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try PlanBenchmark.makeWorkspace(directory, registries: registries, webhooks: webhooks, driftPercent: 10)
        var text: [Run] = []
        var saved: [Run] = []
        for index in 0..<(runs + 1) {
            // One warm-up pair, then alternate which goes first.
            let order = index % 2 == 0 ? [false, true] : [true, false]
            for saving in order {
                let spec = ["-f", directory + "/webhooks.json"]
                let arguments = saving ? ["plan"] + spec + ["--out", directory + "/saved-plan.json"] : ["plan"] + spec
                let run = try spawn(binary, arguments, home: directory)
                if index > 0 { (saving ? { saved.append(run) } : { text.append(run) })() }
            }
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: directory + "/saved-plan.json"))?[.size] as? Int
        return (text, saved, size ?? 0)
    }

    /// Runs `binary arguments` with stdout and stderr to /dev/null; its wall time and peak RSS.
    static func spawn(_ binary: String, _ arguments: [String], home: String) throws -> Run {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var argv: [UnsafeMutablePointer<CChar>?] = ([binary] + arguments).map { strdup($0) }
        argv.append(nil)
        defer { argv.forEach { free($0) } }
        let variables: [String] = ["PATH=/usr/bin:/bin", "HOME=" + home, "NO_COLOR=1"]
        var environment: [UnsafeMutablePointer<CChar>?] = variables.map { strdup($0) }
        environment.append(nil)
        defer { environment.forEach { free($0) } }
        var pid: pid_t = 0
        let start = DispatchTime.now().uptimeNanoseconds
        guard posix_spawn(&pid, binary, &actions, nil, argv, environment) == 0 else { throw BenchError("could not start \(binary)") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        guard status == 0 else { throw BenchError("hookapply \(arguments.joined(separator: " ")) exited with status \(status)") }
        return Run(milliseconds: elapsed, peakMiB: Double(usage.ru_maxrss) / 1024)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

import Delivery
import Foundation
import HTTP1
import HookKit
import HookSpec
import Reconciler
import Serve

/// `hookapply serve`: receives a self-hosted registry's notifications and delivers them to the webhooks
/// the local registry holds, in ACR's format, durably.
enum ServeCommand {
    /// A delivery attempt as a log line: which event (and image) to which webhook, the outcome, the
    /// attempt out of how many, and "gave up" on the last failed one.
    static func attemptEntry(_ record: DeliveryRecord, maxAttempts: Int) -> LogEntry {
        let outcome = record.response.map { "\($0.status)" } ?? (record.error ?? "no response")
        let subject = record.subject.map { " \($0)" } ?? ""
        var message = "delivery \(record.id) (\(record.action)\(subject)) to \(record.webhook): \(outcome), attempt \(record.attempt) of \(maxAttempts), \(record.durationMilliseconds) ms"
        let gaveUp = record.gaveUp == true
        if gaveUp { message += "; gave up, kept as a dead letter (hookapply serve replay queues it again)" }
        var fields: [(String, any LogFieldValue)] = [("id", record.id), ("action", record.action), ("webhook", record.webhook), ("outcome", outcome),
                                          ("attempt", record.attempt), ("max_attempts", maxAttempts),
                                          ("duration_ms", record.durationMilliseconds)]
        if let status = record.response?.status { fields.append(("status", status)) }
        if let subject = record.subject { fields.append(("subject", subject)) }
        if gaveUp { fields.append(("gave_up", true)) }
        return LogEntry(gaveUp ? .error : (record.isSuccess ? .info : .warning), gaveUp ? "delivery.gave_up" : "delivery.attempt", message, fields)
    }

    static let spec = CommandSpec(
        name: "serve",
        abstract: "Deliver a self-hosted registry's notifications to the webhooks of a local registry.",
        discussion: """
            Point a CNCF Distribution registry's notifications at http://HOST:PORT/events. Accepted events are
            stored durably before they are acknowledged and delivered at least once, in order per webhook,
            retried with backoff; deliveries given up are kept as dead letters, which 'hookapply serve
            replay' queues again. Stops on SIGINT or SIGTERM after finishing what is in flight.
            """,
        options: [
            .specFile,
            OptionSpec(long: "registry", short: "r", valueName: "name", help: "The local registry whose webhooks fire (required when the spec has several)."),
            OptionSpec(long: "listen", valueName: "host:port", help: "Where to listen (default 127.0.0.1:5080)."),
            OptionSpec(long: "token-env", valueName: "var", help: "Require 'Authorization: Bearer <value of VAR>' on POST /events (and on POST /admin/replay, without --admin-token-env)."),
            OptionSpec(long: "admin-token-env", valueName: "var", help: "Require 'Authorization: Bearer <value of VAR>' on POST /admin/replay (what 'serve replay' calls); without it and --token-env, replay over HTTP is off."),
            OptionSpec(long: "max-attempts", valueName: "n", help: "Delivery attempts per event and webhook (default 5).", number: .integer(1...100)),
            OptionSpec(long: "timeout", valueName: "duration", help: "Per-delivery timeout, like 5s or 500ms; a bare number is seconds (default 5s, as ACR).", number: .seconds(0.001...300)),
            OptionSpec(long: "max-connections", valueName: "n", help: "Open connections beyond which new ones get 503 (default 256).",
                       number: .integer(1...4096)),
            OptionSpec(long: "max-connections-per-client", valueName: "n",
                       help: "Open connections from one address beyond which its new ones get 503 (default 32; raise it behind a proxy).",
                       number: .integer(1...4096)),
            OptionSpec(long: "log-format", valueName: "format", help: "Log lines as text, or as JSON objects (one per line) for log shippers.",
                       allowedValues: LogWriter.Format.allCases.map(\.rawValue)),
        ])

    /// The value of the variable an option names: `.some(nil)` without the option, nil (after saying
    /// why) when the variable is unset or empty.
    static func token(_ option: String, _ arguments: ParsedArguments, _ context: Context) -> String?? {
        guard let variable = arguments.value(option) else { return .some(nil) }
        guard let value = context.environment[variable], !value.isEmpty else {
            context.standardError.line("error: --\(option) \(variable): the environment variable is not set or empty")
            return nil
        }
        return .some(value)
    }

    static func run(_ arguments: ParsedArguments, _ context: Context) async -> ExitCode {
        let listen = arguments.value("listen") ?? "127.0.0.1:5080"
        guard let address = ListenAddress.parse(listen) else {
            return HookApply.usageError("--listen needs HOST:PORT, for example 127.0.0.1:5080", usage: spec.usage, context, helpFor: "serve")
        }
        let attempts = arguments.integer("max-attempts") ?? 5
        let timeout = arguments.seconds("timeout") ?? 5
        guard let token = Self.token("token-env", arguments, context), let adminToken = Self.token("admin-token-env", arguments, context) else { return .failure }
        do {
            let reconciliation = try Reconciliation.prepare(arguments, context, requireSelection: true)
            guard let registry = reconciliation.registries.first,
                let provider = reconciliation.providers[registry.name] as? any DeliveryHosting
            else {
                context.standardError.line("error: serve delivers the webhooks of a local registry; this one is not local")
                return .failure
            }
            let queuePath = provider.deliveryQueuePath
            // One serve per queue, for its whole life: a second one would compact the live queue under the
            // first, which would then write to an unlinked file and lose its retries.
            let queueLock: FileLock
            do {
                queueLock = try await FileLock.acquire(queuePath + ".lock", timeout: 0, what: "the delivery queue of registry '\(registry.name)'",
                                                       holderVerb: "another hookapply serve")
            } catch {
                context.standardError.line("error: \(error.message); run one serve per registry (stop that one first, or serve another registry)")
                return .failure
            }
            defer { queueLock.release() }
            let queue = try DeliveryQueue(path: queuePath)
            let err = context.standardError
            let log = LogWriter(format: LogWriter.Format(rawValue: arguments.value("log-format") ?? "text") ?? .text) { err.write($0 + "\n") }  // LogWriter has escaped the line
            let watch = WebhookWatch(declared: registry.webhooks.count) { log($0) }
            var engine = DeliveryEngine(queue: queue, webhooks: {
                let webhooks = try provider.currentWebhooks()
                watch.saw(webhooks)
                return webhooks
            }, log: EventLog(path: provider.eventLogPath),
                delivery: WebhookDelivery(timeout: timeout, hiddenValues: reconciliation.spec.environmentValues,
                                          eventSource: CloudEvent.source(registry: registry.name)), maxAttempts: attempts)
            engine.onAttempt = { record in log(ServeCommand.attemptEntry(record, maxAttempts: attempts)) }
            engine.deadLetters = DeadLetterFile(path: DeadLetterFile.path(forQueue: queuePath))
            engine.onDeadLetterFailure = { message in log(LogEntry(.error, "deadletters.unwritten", "could not keep dead letters: \(message)")) }
            // Finished events leave the file at every start, so it does not grow from run to run.
            let compaction = try engine.compact()
            log(LogEntry(.info, "queue.opened", "delivery queue \(queuePath): \(compaction.kept) events pending, \(compaction.removed) finished removed",
                         [("pending", compaction.kept), ("removed", compaction.removed)]))
            let service = ServeService(engine: engine, token: token, adminToken: adminToken, log: { log($0) })
            let defaults = HTTPServer.Timeouts()
            let timeouts = HTTPServer.Timeouts(
                idle: defaults.idle, header: defaults.header, request: defaults.request,
                maxConnections: arguments.integer("max-connections") ?? defaults.maxConnections,
                maxConnectionsPerClient: arguments.integer("max-connections-per-client") ?? defaults.maxConnectionsPerClient)
            let server = try HTTPServer.batching(hosts: address.hosts, port: address.port, timeouts: timeouts, headCheck: service.precheck, handler: service.handle(batch:))
            if token == nil {
                log(LogEntry(.warning, "auth.none", "no --token-env: anyone who can reach \(listen) can post events"))
            }
            server.start()
            // Where `serve replay` finds this serve while it holds the queue (a wildcard bind is reached on loopback).
            let reachable = address.hosts.first.map { $0 == "0.0.0.0" ? "127.0.0.1" : ($0 == "::" ? "::1" : $0) } ?? "127.0.0.1"
            let listenFile = ReplayCommand.listenFile(forQueue: queuePath)
            try? AtomicFile.write(Array("\(reachable.contains(":") ? "[\(reachable)]" : reachable):\(server.port)\n".utf8), to: listenFile, permissions: 0o644)
            defer { unlink(listenFile) }
            log(LogEntry(.info, "serve.started", "serving registry '\(registry.name)' on http://\(address.shown):\(server.port)/events (GET /healthz, /metrics)",
                         [("registry", registry.name), ("listen", "\(address.shown):\(server.port)")]))
            let signals = SignalWatcher { signal in
                log(LogEntry(.info, "serve.stopping", "received \(signal == SIGTERM ? "SIGTERM" : "SIGINT"); finishing deliveries in flight"))
                server.stop()
                service.stop()
            }
            await service.runDeliveries()
            signals.cancel()
            log(LogEntry(.info, "serve.stopped", "stopped"))
            return .success
        } catch let failure as Reconciliation.Failure {
            return failure.code
        } catch {
            context.standardError.line("error: \(ProviderError.from(error).message)")
            return .failure
        }
    }
}

import Delivery
import Foundation
import HTTP1
import HookKit
import HookSpec
import Reconciler
import Serve

/// `hookapply serve replay`: queues dead letters (deliveries serve gave up on) again, in the order they
/// died, once each. The queue belongs to a running serve, which holds its lock: then replay asks it over
/// `POST /admin/replay` on its listener (found in `<queue>.listen`, which serve writes at start). With
/// no serve running, replay takes the lock and works on the queue itself; the next serve delivers them.
enum ReplayCommand {
    static let spec = CommandSpec(
        name: "serve replay",
        abstract: "Queue the deliveries serve gave up on (dead letters) again, in order, once each.",
        discussion: """
            While serve runs, replay asks it over POST /admin/replay on its listener, with the token from
            --admin-token-env or --token-env (the variable serve was given); with no serve running, it works
            on the queue itself, under the queue's lock, and the next serve delivers what it queued. Each
            replayed delivery carries its original event id. Dead letters of webhooks that no longer
            exist are skipped and kept.
            """,
        options: [
            .specFile,
            OptionSpec(long: "registry", short: "r", valueName: "name", help: "The local registry whose dead letters to replay (required when the spec has several)."),
            OptionSpec(long: "webhook", valueName: "name", help: "Only this webhook's dead letters."),
            OptionSpec(long: "since", valueName: "time", help: "Only those given up at or after this RFC 3339 time, or this long ago (1h, 30m)."),
            OptionSpec(long: "dry-run", help: "List what would be queued again, and change nothing."),
            OptionSpec(long: "token-env", valueName: "var", help: "The running serve's ingest token, from this variable (when it has no admin token)."),
            OptionSpec(long: "admin-token-env", valueName: "var", help: "The running serve's admin token, from this variable."),
            OptionSpec(long: "listen", valueName: "host:port", help: "Where the running serve listens (default: what it wrote beside its queue)."),
            OptionSpec(long: "format", short: "o", valueName: "format", help: "Output format.", allowedValues: OutputFormat.records.names),
        ])

    /// Beside the queue: where a running serve can be reached.
    static func listenFile(forQueue queue: String) -> String { queue + ".listen" }

    /// The answer as both paths give it (`ReplayOutcome.json()`).
    struct Outcome: Codable {
        struct Letter: Codable {
            var id: String
            var webhook: String
            var action: String
            var subject: String
            var attempts: Int
            var dead_at: String
            var status: Int?
            var answer: String
        }

        var dry_run: Bool
        var replayed: [Letter]
        var skipped: [Letter]
    }

    static func run(_ arguments: ParsedArguments, _ context: Context) async -> ExitCode {
        var since: Double? = nil
        if let text = arguments.value("since") {
            if let time = Timestamp.seconds(text) {
                since = time
            } else if let duration = Seconds.parseDuration(text) {
                since = Date().timeIntervalSince1970 - duration
            } else {
                return HookApply.usageError("--since takes an RFC 3339 time (2026-12-07T10:00:00Z) or a duration (1h, 30m), not '\(TerminalText.line(text))'",
                                            usage: spec.usage, context, helpFor: spec.name)
            }
        }
        var listen: ListenAddress? = nil
        if let text = arguments.value("listen") {
            guard let parsed = ListenAddress.parse(text) else {
                return HookApply.usageError("--listen needs HOST:PORT, for example 127.0.0.1:5080", usage: spec.usage, context, helpFor: spec.name)
            }
            listen = parsed
        }
        let selection = ReplaySelection(webhook: arguments.value("webhook"), since: since)
        let dryRun = arguments.has("dry-run")
        do {
            let reconciliation = try Reconciliation.prepare(arguments, context, requireSelection: true, readOnly: true, needsSecrets: false)
            guard let registry = reconciliation.registries.first,
                  let provider = reconciliation.providers[registry.name] as? any DeliveryHosting
            else {
                context.standardError.line("error: serve replay works on the dead letters of a local registry; this one is not local")
                return .failure
            }
            if let webhook = selection.webhook, !registry.webhooks.contains(where: { $0.name.lowercased() == webhook }),
               !((try? provider.currentWebhooks()) ?? []).contains(where: { $0.name.lowercased() == webhook }) {
                context.standardError.line("warning: '\(TerminalText.line(webhook))' is not a webhook of registry '\(registry.name)'; nothing of it will be found")
            }
            let queuePath = provider.deliveryQueuePath
            let answer: [UInt8]
            do {
                let lock = try await FileLock.acquire(queuePath + ".lock", timeout: 0, what: "the delivery queue of registry '\(registry.name)'",
                                                      holderVerb: "a running hookapply serve")
                defer { lock.release() }
                var engine = DeliveryEngine(queue: try DeliveryQueue(path: queuePath), webhooks: { try provider.currentWebhooks() },
                                            log: EventLog(path: provider.eventLogPath))
                engine.deadLetters = DeadLetterFile(path: DeadLetterFile.path(forQueue: queuePath))
                let outcome = try engine.replay(selection, dryRun: dryRun)
                answer = outcome.json()
                if !dryRun && !outcome.replayed.isEmpty {
                    context.standardError.line("No serve is running: the replayed deliveries wait in the queue for the next 'hookapply serve'.")
                }
            } catch let failure as FileLock.Failure where failure.code == .held {
                guard let fetched = ask(running: failure.message, queuePath: queuePath, listen: listen, selection: selection, dryRun: dryRun,
                                        arguments, context) else { return .failure }
                answer = fetched
            }
            return render(answer, arguments, context)
        } catch let failure as Reconciliation.Failure {
            return failure.code
        } catch {
            context.standardError.line("error: \(ProviderError.from(error).message)")
            return .failure
        }
    }

    /// POSTs the replay to the serve holding the queue; nil after saying why it could not.
    static func ask(running holder: String, queuePath: String, listen: ListenAddress?, selection: ReplaySelection, dryRun: Bool,
                    _ arguments: ParsedArguments, _ context: Context) -> [UInt8]? {
        guard let found = ServeCommand.token(arguments.value("admin-token-env") != nil ? "admin-token-env" : "token-env", arguments, context) else { return nil }
        guard let token = found else {
            context.standardError.line("error: \(holder); replay asks it over POST /admin/replay, which needs its token: pass --admin-token-env VAR (or --token-env VAR, the variable serve was given)")
            return nil
        }
        var host: String
        var port: Int
        if let listen {
            host = listen.hosts.first ?? "127.0.0.1"
            port = Int(listen.port)
        } else {
            let path = listenFile(forQueue: queuePath)
            // The token goes where this file says: only a file of this user's that no one else may write,
            // naming an IP address (serve writes the address it bound), is believed.
            if let problem = untrusted(path) {
                context.standardError.line("error: \(holder), but \(path) \(problem); pass --listen HOST:PORT")
                return nil
            }
            let written = (try? FileBytes.read(path, limit: 4096)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            guard let parsed = ListenAddress.parse(written.trimmingCharacters(in: .whitespacesAndNewlines)),
                  let address = parsed.hosts.first, address.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" }) else {
                context.standardError.line("error: \(holder), but where it listens is unknown (\(path) does not hold an IP address and port); pass --listen HOST:PORT")
                return nil
            }
            host = parsed.hosts.first ?? "127.0.0.1"
            port = Int(parsed.port)
        }
        if host.contains(":") { host = "[\(host)]" }
        var body: [String: CompactJSON.Value] = ["dry_run": .bool(dryRun)]
        if let webhook = selection.webhook { body["webhook"] = .string(webhook) }
        if let since = selection.since { body["since"] = .number(String(format: "%.3f", since)) }
        let client = PlainHTTPClient()
        let result = client.post(HTTPEndpoint(host: host, port: port, target: ServeService.replayPath),
                                 headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                                 body: CompactJSON.value(.object(body)), timeout: 30, keptBody: 16 * 1024 * 1024)
        switch result {
        case .success(let response) where response.status.rawValue == 200:
            return response.body
        case .success(let response):
            let text = TerminalText.line(String(decoding: response.body.prefix(1024), as: UTF8.self))
            context.standardError.line("error: the running serve at \(host):\(port) refused the replay: \(response.status.rawValue) \(text)")
            return nil
        case .failure(let failure):
            context.standardError.line("error: \(holder), but it could not be reached at \(host):\(port): \(failure.message(timeout: 30)); pass --listen HOST:PORT")
            return nil
        }
    }

    /// Why the listen file is not to be believed, or nil: it must be a regular file (not a link) owned by
    /// this user, writable by no one else.
    static func untrusted(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return "is missing (serve writes it at start)" }
        guard info.st_mode & S_IFMT == S_IFREG else { return "is not a regular file" }
        guard info.st_uid == getuid() else { return "belongs to another user" }
        guard info.st_mode & 0o022 == 0 else { return "is writable by others" }
        return nil
    }

    static func render(_ answer: [UInt8], _ arguments: ParsedArguments, _ context: Context) -> ExitCode {
        guard let outcome = try? JSONDecoder().decode(Outcome.self, from: Data(answer)) else {
            context.standardError.line("error: the replay's answer is not what hookapply serve sends")
            return .failure
        }
        if OutputFormat.from(arguments) == .json {
            context.standardOutput.write(JSONOutput.encode(outcome))
            return .success
        }
        let verb = outcome.dry_run ? "Would queue again" : "Queued again"
        if outcome.replayed.isEmpty {
            context.standardOutput.line(outcome.dry_run ? "No dead letters to replay." : "No dead letters replayed.")
        } else {
            context.standardOutput.line("\(verb) \(outcome.replayed.count) dead letter\(outcome.replayed.count == 1 ? "" : "s"), in this order:")
            let rows = outcome.replayed.map { [$0.dead_at, $0.webhook, $0.id, $0.action, $0.subject, $0.status.map(String.init) ?? "-", TerminalText.line(String($0.answer.prefix(80)))] }
            for cells in TextTable.padded(header: ["GAVE UP AT", "WEBHOOK", "EVENT", "ACTION", "SUBJECT", "LAST STATUS", "LAST ANSWER"], rows: rows) {
                context.standardOutput.line(TextTable.line(cells))
            }
        }
        if !outcome.skipped.isEmpty {
            let names = Set(outcome.skipped.map(\.webhook)).sorted().joined(separator: ", ")
            context.standardError.line("warning: \(outcome.skipped.count) dead letter\(outcome.skipped.count == 1 ? " was" : "s were") left as they are: webhook \(names) no longer exists")
        }
        return .success
    }
}

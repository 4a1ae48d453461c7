import Delivery
import Foundation
import HTTP1
import HookKit
import HookSpec
import LocalRegistry
import Reconciler
import Serve
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Events per second through `serve` (ingest, state lookup, fsync, translate, match, deliver) to a loopback receiver,
/// and the added latency from the end of ingest to arrival. One event per POST, as Distribution sends them.
enum ServeBenchmark {
    /// Arrival time of each event's last delivery (an event is done when every webhook has it).
    struct Arrivals: Sendable {
        private struct State {
            var times: [String: UInt64] = [:]
            var counts: [String: Int] = [:]
            var total = 0
        }
        private let state = Locked(State())
        let webhooks: Int
        init(webhooks: Int) { self.webhooks = webhooks }
        func record(_ id: String) {
            let webhooks = self.webhooks
            state.withLock { state in
                state.counts[id, default: 0] += 1
                state.total += 1
                if state.counts[id] == webhooks { state.times[id] = DispatchTime.now().uptimeNanoseconds }
            }
        }
        var count: Int { state.withLock { $0.times.count } }
        var deliveries: Int { state.withLock { $0.total } }
        var all: [String: UInt64] { state.withLock { $0.times } }
    }

    struct Accepted: Sendable {
        private let times = Locked<[String: UInt64]>([:])
        func record(_ id: String) { times.withLock { $0[id] = DispatchTime.now().uptimeNanoseconds } }
        var all: [String: UInt64] { times.value }
    }

    struct Result {
        var webhooks: Int
        var deliveries: Int
        var events: Int
        var seconds: Double
        var p50: Double
        var p99: Double
        var max: Double = 0
        /// Seconds until the last event was acknowledged (ingest alone).
        var ingestSeconds: Double = 0
        var eventsPerSecond: Double { Double(events) / seconds }
        var deliveriesPerSecond: Double { Double(deliveries) / seconds }
    }

    /// The value of the first `"id":"…"` in a body.
    static func eventID(_ body: [UInt8]) -> String? {
        let marker = Array(#""id":""#.utf8)
        guard body.count > marker.count else { return nil }
        for start in 0...(body.count - marker.count) where body[start..<(start + marker.count)].elementsEqual(marker) {
            let from = start + marker.count
            guard let end = body[from...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
            return String(decoding: body[from..<end], as: UTF8.self)
        }
        return nil
    }

    /// Runs `body(index)` for `0..<count` on as many threads (the socket client blocks), and waits.
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) async {
        await concurrentForEach(count) { index in await BlockingBridge.onOwnThread { body(index) } }
    }

    /// - Parameter rate: events per second offered on a fixed schedule (open loop: each event is sent at
    ///   its time, whatever happened to the ones before); nil sends as fast as the server answers.
    static func run(events: Int, clients: Int, webhookCount: Int, rate: Double? = nil) async throws -> Result {
        let directory = NSTemporaryDirectory() + "hookapply-serve-bench-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let arrivals = Arrivals(webhooks: webhookCount)
        // The receiver pulls out only the event id and is as cheap as the raw round trip's echo: it shares
        // the two cores with serve, so a costly receiver would be billed to serve.
        let receiver = try RawReceiver { body in
            if let id = eventID(body) { arrivals.record(id) }
        }
        let receiverURL = "http://127.0.0.1:\(receiver.port)"
        defer { receiver.stop() }
        let webhooks = (0..<webhookCount).map {
            WebhookState(name: "benchhook\($0)", serviceUri: receiverURL + "/hook\($0)", customHeaders: [ResolvedHeader(name: "Authorization", value: "Bearer x")],
                         actions: [.push], scope: "demo/hello:*")
        }
        // The webhooks live in a local registry's state file, read for every batch as serve reads them,
        // beside 200 webhooks of other repositories (a registry of realistic size to parse).
        let provider = LocalRegistryProvider(path: directory + "/dev.json")
        for webhook in webhooks { try await provider.create(webhook) }
        for index in 0..<200 {
            try await provider.create(WebhookState(name: "otherhook\(index)", serviceUri: receiverURL + "/other", actions: [.push], scope: "other/app\(index):*"))
        }
        let queue = try DeliveryQueue(path: directory + "/queue.jsonl")
        let engine = DeliveryEngine(queue: queue, webhooks: { try provider.currentWebhooks() }, log: EventLog(path: directory + "/events.jsonl"))
        let service = ServeService(engine: engine, token: "t")
        let server = try HTTPServer.batching(host: "127.0.0.1", port: 0, headCheck: service.precheck, handler: service.handle(batch:))
        server.start()
        let deliveries = Task { await service.runDeliveries() }
        // The load generator is the socket client (as cheap as Distribution's Go client), not URLSession,
        // whose CPU per request would otherwise be billed to serve.
        let client = PlainHTTPClient()
        let accepted = Accepted()
        let start = DispatchTime.now().uptimeNanoseconds
        let uri = HTTPEndpoint(host: "127.0.0.1", port: Int(server.port), target: "/events")
        let headers = [(name: "Content-Type", value: "application/vnd.docker.distribution.events.v1+json"), (name: "Authorization", value: "Bearer t")]
        await onThreads(clients) { client_ in
            var index = client_
            while index < events {
                if let rate {
                    let due = start + UInt64(Double(index) / rate * 1e9)
                    let now = DispatchTime.now().uptimeNanoseconds
                    if due > now { usleep(useconds_t((due - now) / 1000)) }
                }
                let id = "bench-\(index)"
                let body = #"{"events":[{"id":"\#(id)","timestamp":"2026-11-29T00:00:00Z","action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:\#(index)","length":1,"repository":"demo/hello","tag":"v\#(index)"},"request":{"id":"r","host":"h","method":"PUT","useragent":"u"}}]}"#
                if case .success(let response) = client.post(uri, headers: headers, body: Array(body.utf8), timeout: 10), response.status == 200 {
                    accepted.record(id)
                }
                index += clients
            }
        }
        while arrivals.count < events && DispatchTime.now().uptimeNanoseconds - start < 120_000_000_000 {
            try await Task.sleep(nanoseconds: 5_000_000)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        server.stop()
        service.stop()
        await deliveries.value
        let acceptedTimes = accepted.all
        let latencies = arrivals.all.compactMap { id, arrived -> Double? in
            acceptedTimes[id].map { arrived > $0 ? Double(arrived - $0) / 1e6 : 0 }
        }.sorted()
        func percentile(_ p: Double) -> Double { latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        return Result(webhooks: webhookCount, deliveries: arrivals.deliveries, events: arrivals.count, seconds: seconds,
                      p50: percentile(0.5), p99: percentile(0.99), max: latencies.last ?? 0,
                      ingestSeconds: Double((acceptedTimes.values.max() ?? start) - start) / 1e9)
    }
}

/// A receiver of the same kind as the raw round trip's echo: a thread per connection blocking in `recv`,
/// requests framed by Content-Length, each answered `200` with no body. The ceiling assumes a receiver
/// that costs no more than that echo; the product's event-loop server as the receiver (polls, the strict
/// parser, a response built per request) billed its own cost to serve's delivery lane.
final class RawReceiver: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let connections = Locked<[Int32]>([])

    /// - Parameter onBody: called with each request's body, on the connection's thread.
    init(onBody: @escaping @Sendable ([UInt8]) -> Void) throws {
        let (listener, port) = try Socket.listen(host: "127.0.0.1", port: 0)
        self.listener = listener
        self.port = port
        let connections = self.connections
        Thread {
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 {
                    if errno == EINTR { continue }
                    return  // the listener was shut down
                }
                var yes: Int32 = 1
                setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
                connections.withLock { $0.append(client) }
                Thread { RawReceiver.serve(client, onBody) }.start()
            }
        }.start()
    }

    private static let answer = Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8)
    private static let headEnd = Array("\r\n\r\n".utf8)
    private static let contentLength = Array("content-length:".utf8)

    private static func serve(_ client: Int32, _ onBody: @Sendable ([UInt8]) -> Void) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            while let (bodyStart, length) = frame(buffer), buffer.count >= bodyStart + length {
                onBody(Array(buffer[bodyStart..<(bodyStart + length)]))
                buffer.removeFirst(bodyStart + length)
                guard Socket.sendAll(client, answer) else {
                    close(client)
                    return
                }
            }
            let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                close(client)
                return
            }
            buffer += chunk[0..<count]
        }
    }

    /// Where the body starts and how long it is, once the head is complete.
    private static func frame(_ buffer: [UInt8]) -> (Int, Int)? {
        guard let end = buffer.firstIndex(of: headEnd, from: 0) else { return nil }
        let head = buffer[..<end].map(ASCII.lowercased)
        guard let field = head.firstIndex(of: contentLength, from: 0) else { return (end + 4, 0) }
        var length = 0
        for byte in head[(field + contentLength.count)...] {
            if byte == 0x20 { continue }
            guard byte >= 0x30 && byte <= 0x39 else { break }
            length = length * 10 + Int(byte - 0x30)
        }
        return (end + 4, length)
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))  // wakes the accept
        close(listener)
        for client in connections.value { shutdown(client, Int32(SHUT_RDWR)) }  // wakes each recv; its thread closes it
    }
}

/// The delivery side alone: a queue already holding `events` events for one webhook, drained to the
/// loopback receiver. What one lane (one delivery at a time, in order) can do, with no ingest beside it.
enum LaneBenchmark {
    /// A receiver as people write one with Python's stock `http.server` (HTTP/1.1 keep-alive, headers
    /// and body written in two sends, Nagle on): each answer's second send waits for the client's ACK.
    static let stockReceiver = """
        import http.server, sys
        class Receiver(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass
        server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    /// Deliveries per second of one lane to Python's stock receiver (a process of its own).
    static func runStock(events: Int) async throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", stockReceiver]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // SIGKILL: the child does not always see a SIGTERM sent while its parent holds signals blocked.
        defer {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        var line: [UInt8] = []
        while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != 0x0A { line.append(byte) }
        guard let port = UInt16(String(decoding: line, as: UTF8.self)) else { throw BenchError("the Python receiver did not start") }
        return try await run(events: events, serviceUri: "http://127.0.0.1:\(port)/hook0", arrivals: nil)
    }

    static func run(events: Int, signingSecrets: [String] = [], payloadFormat: PayloadFormat = .acr) async throws -> Double {
        let arrivals = ServeBenchmark.Arrivals(webhooks: 1)
        let receiver = try RawReceiver { body in
            if let id = ServeBenchmark.eventID(body) { arrivals.record(id) }
        }
        defer { receiver.stop() }
        return try await run(events: events, serviceUri: "http://127.0.0.1:\(receiver.port)/hook0", arrivals: arrivals,
                             signingSecrets: signingSecrets, payloadFormat: payloadFormat)
    }

    static func run(events: Int, serviceUri: String, arrivals: ServeBenchmark.Arrivals?, signingSecrets: [String] = [],
                    payloadFormat: PayloadFormat = .acr) async throws -> Double {
        let directory = NSTemporaryDirectory() + "hookapply-lane-bench-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let webhook = WebhookState(name: "benchhook0", serviceUri: serviceUri, customHeaders: [ResolvedHeader(name: "Authorization", value: "Bearer x")],
                                   actions: [.push], scope: "demo/hello:*", signingSecrets: signingSecrets, payloadFormat: payloadFormat)
        let queue = try DeliveryQueue(path: directory + "/queue.jsonl")
        let log = EventLog(path: directory + "/events.jsonl")
        let engine = DeliveryEngine(queue: queue, webhooks: { [webhook] }, log: log)
        var batch: [RegistryNotification] = []
        for index in 0..<events {
            let body = #"{"action":"push","id":"bench-\#(index)","request":{"host":"h","id":"r","method":"PUT","useragent":"u"},"target":{"digest":"sha256:\#(index)","length":1,"mediaType":"application/vnd.oci.image.manifest.v1+json","repository":"demo/hello","size":1,"tag":"v\#(index)"},"timestamp":"2026-11-29T00:00:00Z"}"#
            batch.append(RegistryNotification(id: "bench-\(index)", action: .push, repository: "demo/hello", tag: "v\(index)", body: Array(body.utf8)))
            if batch.count == 1000 || index == events - 1 {
                _ = try engine.accept(batch)
                batch = []
            }
        }
        let start = DispatchTime.now().uptimeNanoseconds
        try await engine.drain()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if let arrivals { return Double(arrivals.count) / seconds }
        // A receiver of its own process: count the deliveries it answered 2xx in the delivery log.
        let delivered = log.read(webhook: webhook.name, limit: events + 10).filter(\.isSuccess).count
        return Double(delivered) / seconds
    }
}

/// Where one delivery's time goes: each step alone, in a loop, medians of `runs` rounds, side by side.
enum DeliveryBreakdown {
    struct Step {
        var name: String
        var microseconds: Double
    }

    static func run(rounds: Int, perRound: Int) async throws -> [Step] {
        let directory = NSTemporaryDirectory() + "hookapply-breakdown-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let receiver = try HTTPServer(host: "127.0.0.1", port: 0) { _ in HTTPServer.Response(status: 200) }
        receiver.start()
        defer { receiver.stop() }
        let webhook = WebhookState(name: "bench", serviceUri: "http://127.0.0.1:\(receiver.port)/hook?code=secret-code", customHeaders: [ResolvedHeader(name: "Authorization", value: "Bearer x")],
                                   actions: [.push], scope: "demo/hello:*")
        let body = Array(#"{"id":"e1","timestamp":"2026-11-29T00:00:00Z","action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:1","length":1,"repository":"demo/hello","tag":"v1"},"request":{"id":"r","host":"h","method":"PUT","useragent":"u"}}"#.utf8)
        let uri = HTTPEndpoint(host: "127.0.0.1", port: Int(receiver.port), target: "/hook?code=secret-code")
        let client = PlainHTTPClient()
        let delivery = WebhookDelivery()
        let log = EventLog(path: directory + "/events.jsonl")
        let queue = try DeliveryQueue(path: directory + "/queue.jsonl")
        let record = await delivery.send(body, to: webhook, eventID: "e1", action: "push")
        let target = delivery.target(webhook)
        var samples: [String: [Double]] = [:]
        let session = URLSession(configuration: .ephemeral)
        var urlRequest = URLRequest(url: URL(fileURLWithPath: "/"))
        if let url = URL(string: webhook.serviceUri) { urlRequest = URLRequest(url: url) }
        urlRequest.httpMethod = "POST"
        urlRequest.httpBody = Data(body)
        urlRequest.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let raw = try RawRoundTrip(size: body.count + 160)  // the event and a typical request head
        defer { raw.stop() }
        let names = ["socket round trip (blocking)", "HTTP round trip (the product's client and event-loop server)", "URLSession round trip (what https deliveries use)", "WebhookDelivery.send (round trip, record, masking)", "WebhookDelivery.sendBlocking (what a serve lane calls)", "event log append", "queue markDone", "queue enqueue (one event, fsync)"]
        for _ in 0..<rounds {
            for name in names {
                let start = DispatchTime.now().uptimeNanoseconds
                for index in 0..<perRound {
                    switch name {
                    case names[0]: raw.exchange()
                    case names[1]: _ = client.post(uri, headers: [("Content-Type", "application/json")], body: body, timeout: 5)
                    case names[2]: _ = try? await session.data(for: urlRequest)
                    case names[3]: _ = await delivery.send(body, to: webhook, eventID: "e1", action: "push")
                    case names[4]: _ = delivery.sendBlocking(body, to: target, eventID: "e1", action: "push")
                    case names[5]: try? log.append(record)
                    case names[6]: try? queue.markDone("e\(index)", webhook: "bench")
                    default:
                        _ = try? queue.enqueue([QueuedEvent(RegistryNotification(id: "q\(samples[name, default: []].count)-\(index)", action: .push, repository: "demo/hello", tag: "v1", body: body), targets: ["bench"])])
                    }
                }
                samples[name, default: []].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(perRound))
            }
        }
        return names.map { Step(name: $0, microseconds: median(samples[$0] ?? [])) }
    }
}

/// The raw loopback round trip the serve ceiling is computed from: a request-sized message over one TCP
/// connection, echoed by a thread blocking in recv, with nothing of the product in the path (so the
/// ceiling does not move when the product's server or client changes).
final class RawRoundTrip: @unchecked Sendable {
    private let client: Int32
    private let server: Int32
    private let size: Int
    private var buffer: [UInt8]

    /// - Parameter echoCPU: the vCPU the echo thread is confined to (nil: wherever the scheduler puts it).
    init(size: Int, echoCPU: Int? = nil) throws {
        self.size = max(1, size)
        buffer = [UInt8](repeating: 0x61, count: max(1, size))
        let (listener, port) = try Socket.listen(host: "127.0.0.1", port: 0)
        defer { close(listener) }
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.client = client
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        let server = accept(listener, nil, nil)
        self.server = server
        guard connected == 0, server >= 0 else { throw HTTPError.socket("cannot connect the raw round trip") }
        var yes: Int32 = 1
        for descriptor in [client, server] { setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size)) }
        let (echo, length) = (server, self.size)
        Thread {
            if let echoCPU { CPUAffinity.confine(to: echoCPU) }
            var chunk = [UInt8](repeating: 0, count: length)
            while RawRoundTrip.readFully(echo, &chunk) { _ = Socket.sendAll(echo, chunk) }
            close(echo)
        }.start()
    }

    /// The median round trip (µs) of `rounds` rounds of `perRound` exchanges, with both ends confined to
    /// the given vCPUs, measured on a thread of its own (a task's thread must not be confined).
    static func pinned(client: Int, echo: Int, size: Int, rounds: Int = 9, perRound: Int = 2000) async throws -> Double {
        let raw = try RawRoundTrip(size: size, echoCPU: echo)
        defer { raw.stop() }
        let samples = Locked<[Double]>([])
        await BlockingBridge.onOwnThread {
            CPUAffinity.confine(to: client)
            for _ in 0..<rounds {
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<perRound { raw.exchange() }
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(perRound)
                samples.withLock { $0.append(elapsed) }
            }
        }
        return median(samples.value)
    }

    /// One message there and back.
    func exchange() {
        _ = Socket.sendAll(client, buffer)
        _ = Self.readFully(client, &buffer)
    }

    func stop() {
        shutdown(client, Int32(SHUT_RDWR))
        close(client)
    }

    static func readFully(_ descriptor: Int32, _ buffer: inout [UInt8]) -> Bool {
        var offset = 0
        while offset < buffer.count {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress.map { $0 + offset }, $0.count - offset, 0) }
            if count <= 0 {
                if count < 0 && errno == EINTR { continue }
                return false
            }
            offset += count
        }
        return true
    }
}

/// Confines the calling thread to one vCPU, to time a round trip with both ends on one vCPU and with
/// them on two. `pthread_setaffinity_np` is a GNU extension that Glibc's Swift module does not export, so
/// it is looked up at run time; without it nothing is confined (and the figures say so by not differing).
enum CPUAffinity {
    static var available: Bool { function != nil }

    private typealias SetAffinity = @convention(c) (pthread_t, Int, UnsafeRawPointer) -> Int32
    private static var function: SetAffinity? {
        dlsym(dlopen(nil, RTLD_NOW), "pthread_setaffinity_np").map { unsafeBitCast($0, to: SetAffinity.self) }
    }

    static func confine(to cpu: Int) {
        guard let set = function, cpu >= 0, cpu < 8 * MemoryLayout<cpu_set_t>.size else { return }
        var mask = cpu_set_t()
        withUnsafeMutableBytes(of: &mask) { $0[cpu / 8] = UInt8(1 << (cpu % 8)) }
        _ = withUnsafeBytes(of: &mask) { raw in raw.baseAddress.map { set(pthread_self(), MemoryLayout<cpu_set_t>.size, $0) } }
    }
}

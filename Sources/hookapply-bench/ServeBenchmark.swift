import Foundation
import HookSpec
import Reconciler
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Events per second through `serve` (ingest, fsync, translate, match, deliver) to a loopback receiver,
/// and the added latency from the end of ingest to arrival. One event per POST, as Distribution sends them.
enum ServeBenchmark {
    /// Arrival time of each event's last delivery (an event is done when every webhook has it).
    final class Arrivals: @unchecked Sendable {
        private let lock = NSLock()
        private var times: [String: UInt64] = [:]
        private var counts: [String: Int] = [:]
        private var total = 0
        let webhooks: Int
        init(webhooks: Int) { self.webhooks = webhooks }
        func record(_ id: String) {
            lock.withLock {
                counts[id, default: 0] += 1
                total += 1
                if counts[id] == webhooks { times[id] = DispatchTime.now().uptimeNanoseconds }
            }
        }
        var count: Int { lock.withLock { times.count } }
        var deliveries: Int { lock.withLock { total } }
        var all: [String: UInt64] { lock.withLock { times } }
    }

    final class Accepted: @unchecked Sendable {
        private let lock = NSLock()
        private var times: [String: UInt64] = [:]
        func record(_ id: String) { lock.withLock { times[id] = DispatchTime.now().uptimeNanoseconds } }
        var all: [String: UInt64] { lock.withLock { times } }
    }

    struct Result {
        var webhooks: Int
        var deliveries: Int
        var events: Int
        var seconds: Double
        var p50: Double
        var p99: Double
    }

    static func run(events: Int, clients: Int, webhookCount: Int) async throws -> Result {
        let directory = NSTemporaryDirectory() + "hookapply-serve-bench-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let arrivals = Arrivals(webhooks: webhookCount)
        let receiver = try LoopbackReceiver(handler: { request in
            if let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any], let id = object["id"] as? String {
                arrivals.record(id)
            }
            return LoopbackReceiver.Response(status: 200)
        })
        defer { receiver.stop() }
        let webhooks = (0..<webhookCount).map {
            WebhookState(name: "benchhook\($0)", serviceUri: receiver.url + "/hook\($0)", customHeaders: [ResolvedHeader(name: "Authorization", value: "Bearer x")],
                         actions: [.push], scope: "demo/hello:*")
        }
        let queue = try DeliveryQueue(path: directory + "/queue.jsonl")
        let engine = DeliveryEngine(queue: queue, webhooks: { webhooks }, log: EventLog(path: directory + "/events.jsonl"))
        let service = ServeService(queue: queue, engine: engine, token: "t")
        let server = try HTTPServer(host: "127.0.0.1", port: 0, handler: service.handle)
        server.start()
        let deliveries = Task { await service.runDeliveries() }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = clients
        let session = URLSession(configuration: configuration)
        let accepted = Accepted()
        let start = DispatchTime.now().uptimeNanoseconds
        let url = URL(string: "http://127.0.0.1:\(server.port)/events")
        await concurrentForEach(clients) { client in
            var index = client
            while index < events {
                let id = "bench-\(index)"
                let body = #"{"events":[{"id":"\#(id)","timestamp":"2026-11-29T00:00:00Z","action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:\#(index)","length":1,"repository":"demo/hello","tag":"v\#(index)"},"request":{"id":"r","host":"h","method":"PUT","useragent":"u"}}]}"#
                if let url {
                    var request = URLRequest(url: url)
                    request.httpMethod = "POST"
                    request.httpBody = Data(body.utf8)
                    request.setValue("application/vnd.docker.distribution.events.v1+json", forHTTPHeaderField: "Content-Type")
                    request.setValue("Bearer t", forHTTPHeaderField: "Authorization")
                    if let (_, response) = try? await session.data(for: request), (response as? HTTPURLResponse)?.statusCode == 200 {
                        accepted.record(id)
                    }
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
                      p50: percentile(0.5), p99: percentile(0.99))
    }
}

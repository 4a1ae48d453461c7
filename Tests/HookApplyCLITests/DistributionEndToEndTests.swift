import Delivery
import Foundation
import HTTP1
import HookKit
import HookSpec
import LocalRegistry
import Reconciler
import Serve
import TestSupport
import Testing

@testable import HookApplyCLI

/// The real thing: Debian's docker-registry sends its notifications to `serve`, skopeo pushes two tags
/// of a tiny OCI image and deletes one by digest, and a loopback receiver must get exactly ACR's events
/// for the matching webhooks, with their headers. Runs when `docker-registry` and `skopeo` are installed
/// (`.ci/run` installs them).
let distributionToolsPresent = ["/usr/bin/docker-registry", "/usr/bin/skopeo"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }

@Suite(.enabled(if: distributionToolsPresent, "needs docker-registry and skopeo (apt-get install docker-registry skopeo)"))
struct DistributionEndToEndTests {
    /// A free loopback port (bind 0, read it back, release it).
    static func freePort() throws -> UInt16 {
        let server = try HTTPServer(host: "127.0.0.1", port: 0, handler: { _ in .text(200, "") })
        let port = server.port
        server.stop(timeout: 0)
        return port
    }

    static func sha256(_ bytes: [UInt8]) -> String { "sha256:" + SHA256.hexDigest(bytes) }

    /// An OCI image layout with one image (an empty, uncompressed layer), tagged `tag`; returns the manifest digest.
    static func writeImage(at directory: String, tag: String, label: String) throws -> String {
        let blobs = directory + "/blobs/sha256"
        try FileManager.default.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        func blob(_ bytes: [UInt8]) throws -> String {
            let digest = sha256(bytes)
            try Data(bytes).write(to: URL(fileURLWithPath: blobs + "/" + digest.dropFirst(7)))
            return digest
        }
        let layer = [UInt8](repeating: 0, count: 1024)  // an empty tar archive
        let layerDigest = try blob(layer)
        let config = Array(#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["\#(layerDigest)"]},"config":{"Labels":{"variant":"\#(label)"}}}"#.utf8)
        let configDigest = try blob(config)
        let manifest = Array(#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\#(configDigest)","size":\#(config.count)},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"\#(layerDigest)","size":\#(layer.count)}]}"#.utf8)
        let manifestDigest = try blob(manifest)
        try #"{"imageLayoutVersion":"1.0.0"}"#.write(toFile: directory + "/oci-layout", atomically: true, encoding: .utf8)
        try #"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\#(manifestDigest)","size":\#(manifest.count),"annotations":{"org.opencontainers.image.ref.name":"\#(tag)"}}]}"#
            .write(toFile: directory + "/index.json", atomically: true, encoding: .utf8)
        return manifestDigest
    }

    /// An OCI layout holding a Helm chart as Helm 3 pushes one: a config of media type
    /// `application/vnd.cncf.helm.config.v1+json` and one `…chart.content.v1.tar+gzip` layer.
    static func writeChart(at directory: String, name: String, version: String) throws {
        let blobs = directory + "/blobs/sha256"
        try FileManager.default.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        func blob(_ bytes: [UInt8]) throws -> String {
            let digest = sha256(bytes)
            try Data(bytes).write(to: URL(fileURLWithPath: blobs + "/" + digest.dropFirst(7)))
            return digest
        }
        // A gzip member holding an empty tar archive: what a chart layer is made of, minus the chart.
        let layer: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x63, 0x60, 0x18, 0x05, 0xA3, 0x60, 0x14, 0x0C, 0x77, 0x00, 0x00,
                              0xF9, 0xA5, 0xB6, 0xC3, 0x00, 0x04, 0x00, 0x00]
        let layerDigest = try blob(layer)
        let config = Array(#"{"apiVersion":"v2","name":"\#(name)","version":"\#(version)"}"#.utf8)
        let configDigest = try blob(config)
        let manifest = Array(#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"\#(configDigest)","size":\#(config.count)},"layers":[{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":"\#(layerDigest)","size":\#(layer.count)}]}"#.utf8)
        let manifestDigest = try blob(manifest)
        try #"{"imageLayoutVersion":"1.0.0"}"#.write(toFile: directory + "/oci-layout", atomically: true, encoding: .utf8)
        try #"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\#(manifestDigest)","size":\#(manifest.count),"annotations":{"org.opencontainers.image.ref.name":"\#(version)"}}]}"#
            .write(toFile: directory + "/index.json", atomically: true, encoding: .utf8)
    }

    /// Debian's docker-registry on a free loopback port, notifying serve at `servePort` with its token,
    /// ready to take pushes; `includeReferences` makes push events list the manifest's references (the
    /// only place Distribution shows a chart's config media type).
    struct RunningRegistry {
        let process: Process
        let port: UInt16

        func stop() {
            process.terminate()
            process.waitUntilExit()
        }
    }

    static func startRegistry(in directory: String, servePort: UInt16, includeReferences: Bool = false) async throws -> RunningRegistry {
        let port = try freePort()
        let events = includeReferences ? "  events: {includereferences: true}\n" : ""
        try """
            version: 0.1
            log: {level: warn}
            storage: {cache: {blobdescriptor: inmemory}, filesystem: {rootdirectory: \(directory)/registry}, delete: {enabled: true}}
            http: {addr: 127.0.0.1:\(port)}
            notifications:
            \(events)  endpoints:
                - name: hookapply
                  url: http://127.0.0.1:\(servePort)/events
                  headers: {Authorization: [Bearer registry-token]}
                  timeout: 2s
                  threshold: 5
                  backoff: 1s
            """.write(toFile: directory + "/config.yml", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/docker-registry")
        process.arguments = ["serve", directory + "/config.yml"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let registry = RunningRegistry(process: process, port: port)
        var ready = false
        for _ in 0..<100 where !ready {
            ready = (try? Data(contentsOf: try #require(URL(string: "http://127.0.0.1:\(port)/v2/")))) != nil
            if !ready { try await Task.sleep(nanoseconds: 50_000_000) }
        }
        if !ready { registry.stop() }
        try #require(ready, "docker-registry did not start")
        return registry
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("push two tags and delete one: matching webhooks get exactly ACR's events, others nothing", .timeLimit(.minutes(2)))
    func pushAndDelete() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let receiver = try LoopbackReceiver()
        defer { receiver.stop() }
        // The webhooks, applied to a local registry like any spec.
        let spec = """
            {"version": 1, "registries": [{"name": "selfhosted", "local": {}, "webhooks": [
              {"name": "allofhello", "serviceUri": "\(receiver.url)/all", "customHeaders": {"X-Hook": "all"}, "actions": ["push", "delete"], "scope": "demo/hello:*"},
              {"name": "onlyvone", "serviceUri": "\(receiver.url)/v1", "customHeaders": {"X-Hook": "v1"}, "actions": ["push"], "scope": "demo/hello:v1"},
              {"name": "otherrepo", "serviceUri": "\(receiver.url)/other", "actions": ["push", "delete"], "scope": "other/app:*"},
              {"name": "pausedhook", "serviceUri": "\(receiver.url)/paused", "actions": ["push"], "status": "disabled"}]}]}
            """
        try spec.write(toFile: directory + "/webhooks.json", atomically: true, encoding: .utf8)
        let applied = await hookapply(["apply", "--auto-approve"], directory: directory)
        #expect(applied.code == .success, "\(applied.stderr)")
        // serve, in process, on a free port.
        let provider = LocalRegistryProvider(path: directory + "/.hookapply/selfhosted.json")
        let queue = try DeliveryQueue(path: directory + "/.hookapply/selfhosted.queue.jsonl")
        let engine = DeliveryEngine(queue: queue, webhooks: { try provider.currentWebhooks() }, log: EventLog(path: provider.eventLogPath))
        let service = ServeService(engine: engine, token: "registry-token")
        let server = try HTTPServer(host: "127.0.0.1", port: 0, handler: service.handle)
        server.start()
        let deliveries = Task { await service.runDeliveries() }
        defer {
            server.stop()
            service.stop()
        }
        // docker-registry on another free port, notifying serve.
        let registry = try await Self.startRegistry(in: directory, servePort: UInt16(server.port))
        defer { registry.stop() }
        // Push v1 and v2, then delete v1's manifest by digest (v2 is a different image, different digest).
        let layoutV1 = try Self.writeImage(at: directory + "/oci-v1", tag: "v1", label: "one")
        // skopeo compresses the uncompressed layer on the way to a registry, so the pushed manifest (and its
        // digest) differ from the layout's: ask skopeo for the digest it pushed.
        let pushV1 = try Self.run("/usr/bin/skopeo", ["copy", "--dest-tls-verify=false", "--digestfile", directory + "/v1.digest",
                                                      "oci:\(directory)/oci-v1:v1", "docker://127.0.0.1:\(registry.port)/demo/hello:v1"])
        #expect(pushV1.0 == 0, "\(pushV1.1)")
        let v1 = try String(contentsOfFile: directory + "/v1.digest", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(v1.hasPrefix("sha256:") && !layoutV1.isEmpty)
        let v2Directory = directory + "/oci-v2"
        // A second, distinct image: a different config makes a different manifest digest.
        let v2 = try Self.writeImage(at: v2Directory, tag: "v2", label: "two")
        #expect(v2 != layoutV1)
        let pushV2 = try Self.run("/usr/bin/skopeo", ["copy", "--dest-tls-verify=false", "oci:\(v2Directory):v2", "docker://127.0.0.1:\(registry.port)/demo/hello:v2"])
        #expect(pushV2.0 == 0, "\(pushV2.1)")
        let deleted = try Self.run("/usr/bin/skopeo", ["delete", "--tls-verify=false", "docker://127.0.0.1:\(registry.port)/demo/hello@\(v1)"])
        #expect(deleted.0 == 0, "\(deleted.1)")
        // Expected: /all gets push v1, push v2, delete; /v1 gets push v1; /other and /paused nothing.
        for _ in 0..<200 where receiver.requests.count < 4 { try await Task.sleep(nanoseconds: 25_000_000) }
        try await Task.sleep(nanoseconds: 300_000_000)  // anything extra would have arrived by now
        let requests = receiver.requests
        func events(_ target: String) -> [[String: Any]] {
            requests.filter { $0.target == target }.compactMap { try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any] }
        }
        let all = events("/all")
        #expect(all.map { $0["action"] as? String ?? "" } == ["push", "push", "delete"], "\(all)")
        #expect(all.compactMap { ($0["target"] as? [String: Any])?["tag"] as? String } == ["v1", "v2"])
        let delete = try #require(all.last?["target"] as? [String: Any])
        #expect(delete["digest"] as? String == v1 && delete["repository"] as? String == "demo/hello" && delete["tag"] == nil)
        let push = try #require(all.first?["target"] as? [String: Any])
        #expect(Set(push.keys) == ["mediaType", "size", "digest", "length", "repository", "tag"])
        #expect(events("/v1").map { ($0["target"] as? [String: Any])?["tag"] as? String } == ["v1"])
        #expect(events("/other").isEmpty && events("/paused").isEmpty)
        #expect(requests.filter { $0.target == "/all" }.allSatisfy { $0.headers["x-hook"] == "all" && $0.headers["content-type"] == "application/json" })
        #expect(requests.filter { $0.target == "/v1" }.allSatisfy { $0.headers["x-hook"] == "v1" })
        service.stop()
        await deliveries.value
    }

    @Test("the real binary: a chart and an image pushed, the image deleted; a signed CloudEvents webhook gets ChartPushed, ImagePushed, ImageDeleted, each verifiable",
          .timeLimit(.minutes(2)))
    func signedCloudEvents() async throws {
        let binary = try #require(BuiltBinary("hookapply"), "build the hookapply product first (swift build)")
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let secret = "whsec_" + Data([UInt8](repeating: 0x5A, count: 32)).base64EncodedString()
        let key = try #require(SigningSecret.key(secret))
        let verified = Locked<[(type: String, subject: String, ok: Bool)]>([])
        let receiver = try LoopbackReceiver { request in
            let id = request.headers["webhook-id"] ?? ""
            let stamp = request.headers["webhook-timestamp"] ?? ""
            let expected = "v1," + Data(HMAC(key: key).code(Array("\(id).\(stamp).".utf8) + request.body)).base64EncodedString()
            let event = (try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any]) ?? [:]
            let ok = request.headers["webhook-signature"] == expected && request.headers["content-type"] == "application/cloudevents+json"
                && event["id"] as? String == id && event["specversion"] as? String == "1.0"
            verified.withLock { $0.append((event["type"] as? String ?? "", event["subject"] as? String ?? "", ok)) }
            return LoopbackReceiver.Response(status: ok ? 200 : 401)
        }
        defer { receiver.stop() }
        try """
            {"version": 1, "registries": [{"name": "selfhosted", "local": {}, "webhooks": [
              {"name": "eventgrid", "serviceUri": "\(receiver.url)/ce", "actions": ["push", "delete"], "signingSecret": "${env:SIGNING_SECRET}", "payloadFormat": "cloudevents"}]}]}
            """.write(toFile: directory + "/webhooks.json", atomically: true, encoding: .utf8)
        let environment = ["SIGNING_SECRET": secret, "REGISTRY_TOKEN": "registry-token"]
        #expect(try binary.start(["apply", "--auto-approve"], environment: environment, directory: directory).wait(timeout: 30) == 0)
        let serve = try binary.start(["serve", "--listen", "127.0.0.1:0", "--token-env", "REGISTRY_TOKEN"], environment: environment, directory: directory)
        defer { serve.send(SIGKILL); _ = serve.wait(timeout: 5) }
        #expect(serve.wait(until: { serve.stderr.contains("serving registry") }, timeout: 20), "\(serve.stderr)")
        let servePort = try #require(serve.stderr.range(of: #"127\.0\.0\.1:(\d+)/events"#, options: .regularExpression)
            .flatMap { UInt16(serve.stderr[$0].dropFirst("127.0.0.1:".count).dropLast("/events".count)) })
        let registry = try await Self.startRegistry(in: directory, servePort: servePort, includeReferences: true)
        defer { registry.stop() }
        try Self.writeChart(at: directory + "/chart", name: "web", version: "1.2.0")
        let chart = try Self.run("/usr/bin/skopeo", ["copy", "--dest-tls-verify=false", "oci:\(directory)/chart:1.2.0", "docker://127.0.0.1:\(registry.port)/charts/web:1.2.0"])
        #expect(chart.0 == 0, "\(chart.1)")
        _ = try Self.writeImage(at: directory + "/image", tag: "v1", label: "one")
        let image = try Self.run("/usr/bin/skopeo", ["copy", "--dest-tls-verify=false", "--digestfile", directory + "/image.digest",
                                                     "oci:\(directory)/image:v1", "docker://127.0.0.1:\(registry.port)/demo/hello:v1"])
        #expect(image.0 == 0, "\(image.1)")
        let digest = try String(contentsOfFile: directory + "/image.digest", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let deleted = try Self.run("/usr/bin/skopeo", ["delete", "--tls-verify=false", "docker://127.0.0.1:\(registry.port)/demo/hello@\(digest)"])
        #expect(deleted.0 == 0, "\(deleted.1)")
        for _ in 0..<200 where verified.value.count < 3 { try await Task.sleep(nanoseconds: 25_000_000) }
        try await Task.sleep(nanoseconds: 300_000_000)
        let seen = verified.value
        #expect(seen.map(\.type) == ["Microsoft.ContainerRegistry.ChartPushed", "Microsoft.ContainerRegistry.ImagePushed", "Microsoft.ContainerRegistry.ImageDeleted"],
                "\(seen)")
        #expect(seen.map(\.subject) == ["charts/web:1.2.0", "demo/hello:v1", "demo/hello@\(digest)"])
        #expect(seen.allSatisfy { $0.ok }, "every delivery verifies with the key: \(seen)")
        serve.send(SIGTERM)
        #expect(serve.wait(timeout: 20) == 0)
        #expect(!serve.stderr.contains(String(secret.dropFirst(6))))
    }
}

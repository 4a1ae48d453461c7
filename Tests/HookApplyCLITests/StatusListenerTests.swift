import Foundation
import HookKit
import TestSupport
import Testing

/// `reconcile --listen` through the real binary: IPv6 and `localhost` addresses, HEAD wherever GET
/// works, and a listener that trickling clients cannot starve (the Deployment uses /healthz as its
/// liveness probe, so a starved listener gets the pod restarted).
@Suite(.serialized) struct StatusListenerTests {
    typealias Workspace = ReconcileCommandTests.Workspace

    /// Starts reconcile with `--listen address` and returns it with the port it logged.
    static func start(_ listen: String, shown: String, extra: [String] = [], in workspace: Workspace) throws -> (BuiltBinary.Running, UInt16) {
        let binary = try #require(BuiltBinary("hookapply"), "build the hookapply product first (swift build)")
        let running = try binary.start(["reconcile", "--interval", "1h", "--listen", listen] + extra, environment: [:], directory: workspace.directory)
        var port: UInt16 = 0
        _ = running.wait(until: {
            guard let range = running.stderr.range(of: "serving http://\(shown):") else { return false }
            port = UInt16(running.stderr[range.upperBound...].prefix { $0.isNumber }) ?? 0
            return port != 0
        }, timeout: 10)
        if port == 0 { _ = running.wait(timeout: 1) }
        try #require(port != 0, "reconcile did not listen on \(listen): \(running.stderr)")
        return (running, port)
    }

    static func exchange(_ connection: RawConnection, _ request: String) -> String {
        defer { connection.close() }
        connection.send(Array(request.utf8))
        return connection.readAll().text
    }

    @Test("--listen [::1]:PORT serves over IPv6; HEAD answers GET's headers without a body")
    func ipv6AndHead() throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let (running, port) = try Self.start("[::1]:0", shown: "[::1]", in: workspace)
        defer {
            running.send(SIGTERM)
            _ = running.wait(timeout: 10)
        }
        let get = Self.exchange(try RawConnection(port: port, ipv6: "::1"), "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(get.hasPrefix("HTTP/1.1 200") && get.contains("\r\n\r\nok"), "\(get)")
        for path in ["/healthz", "/readyz", "/metrics"] {
            let head = Self.exchange(try RawConnection(port: port, ipv6: "::1"), "HEAD \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(head.hasPrefix("HTTP/1.1 200") || head.hasPrefix("HTTP/1.1 503"), "\(path): \(head)")
            #expect(head.hasSuffix("\r\n\r\n"), "a HEAD answer has no body: \(head)")
            let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }.map { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0 }
            #expect((length ?? 0) > 0, "\(path): GET's Content-Length: \(head)")
        }
    }

    @Test("--listen localhost:PORT binds both loopbacks at one port")
    func localhostBindsBoth() throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let (running, port) = try Self.start("localhost:0", shown: "localhost", in: workspace)
        defer {
            running.send(SIGTERM)
            _ = running.wait(timeout: 10)
        }
        let request = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        #expect(Self.exchange(try RawConnection(port: port), request).hasPrefix("HTTP/1.1 200"))
        #expect(Self.exchange(try RawConnection(port: port, ipv6: "::1"), request).hasPrefix("HTTP/1.1 200"))
    }

    @Test("nine addresses of trickling connections cannot starve /healthz: per-client and total limits refuse them, the 5 s head deadline drops them")
    func trickleCannotStarve() throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let (running, port) = try Self.start("127.0.0.1:0", shown: "127.0.0.1", in: workspace)
        defer {
            running.send(SIGTERM)
            _ = running.wait(timeout: 10)
        }
        var trickling: [RawConnection] = []
        for source in 2...10 {
            for _ in 0..<32 {
                if let connection = try? RawConnection(port: port, timeout: 1, source: "127.0.0.\(source)") { trickling.append(connection) }
            }
        }
        defer { for connection in trickling { connection.close() } }
        #expect(trickling.count > 64, "the test needs more connections than the listener takes")
        // Every connection sends a byte of a request head every half second, never finishing it.
        let head = Array("GET /healthz HTTP/1.1\r\nX-Slow: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 64)
        let started = Date()
        var healthy = false
        var step = 0
        while Date().timeIntervalSince(started) < 8 {
            for connection in trickling where step < head.count { connection.send([head[step]]) }
            step += 1
            if Date().timeIntervalSince(started) > 5.5 {
                let answer = (try? RawConnection(port: port, timeout: 2)).map { Self.exchange($0, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") } ?? ""
                if answer.hasPrefix("HTTP/1.1 200") {
                    healthy = true
                    break
                }
            }
            usleep(500_000)
        }
        #expect(healthy, "/healthz still refused after \(Date().timeIntervalSince(started)) s of trickling")
        #expect(Date().timeIntervalSince(started) < 7.5)
    }

    @Test("--listen refuses what is not an address and a port, naming the forms it takes", arguments: ["::1:9090", "[::1]9090", "[nothex]:9090", "host", "127.0.0.1:", "[::1]:99999"])
    func badListen(_ value: String) async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let result = await workspace.run(["reconcile", "--listen", value])
        #expect(result.code == .usage, "\(value): \(result.stderr)")
        #expect(result.stderr.contains("[::1]:9090 for IPv6, or localhost:9090"), "\(result.stderr)")
    }

    static func post(_ port: UInt16, headers: [String: String], body: String = "{}") -> String {
        guard let connection = try? RawConnection(port: port) else { return "" }
        var request = "POST /reconcile HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        return exchange(connection, request + "\r\n" + body)
    }

    @Test("POST /reconcile starts a cycle when it proves the secret (Bearer, X-Gitlab-Token, X-Hub-Signature-256), 401 otherwise; absent without a secret")
    func trigger() throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let secret = "trigger-secret-\(UUID().uuidString)"
        let binary = try #require(BuiltBinary("hookapply"))
        let running = try binary.start(["reconcile", "--interval", "1h", "--listen", "127.0.0.1:0", "--trigger-token-env", "TRIGGER"],
                                       environment: ["TRIGGER": secret], directory: workspace.directory)
        defer {
            running.send(SIGTERM)
            _ = running.wait(timeout: 10)
        }
        var port: UInt16 = 0
        _ = running.wait(until: {
            guard let range = running.stderr.range(of: "serving http://127.0.0.1:") else { return false }
            port = UInt16(running.stderr[range.upperBound...].prefix { $0.isNumber }) ?? 0
            return port != 0 && running.stderr.contains("cycle 1 finished")
        }, timeout: 10)
        try #require(port != 0, "\(running.stderr)")
        let body = #"{"ref": "refs/heads/main"}"#
        let signature = "sha256=" + SHA256.hex(HMAC(key: Array(secret.utf8)).code(Array(body.utf8)))
        let refused: [[String: String]] = [[:], ["Authorization": "Bearer wrong"], ["X-Gitlab-Token": secret + "x"],
                                           ["X-Hub-Signature-256": "sha256=" + String(repeating: "0", count: 64)], ["Authorization": secret]]
        for headers in refused {
            let answer = Self.post(port, headers: headers, body: body)
            #expect(answer.hasPrefix("HTTP/1.1 401"), "\(headers): \(answer)")
        }
        var cycle = 1
        for headers in [["Authorization": "Bearer \(secret)"], ["X-Gitlab-Token": secret], ["X-Hub-Signature-256": signature]] {
            let answer = Self.post(port, headers: headers, body: body)
            #expect(answer.hasPrefix("HTTP/1.1 202"), "\(headers.keys): \(answer)")
            cycle += 1
            let expected = "cycle \(cycle) finished"
            #expect(running.wait(until: { running.stderr.contains(expected) }, timeout: 10), "no \(expected): \(running.stderr.suffix(500))")
        }
        #expect(!running.stderr.contains(secret), "the trigger secret reached the log")
        // Without a secret there is no such route.
        let plain = try Self.start("127.0.0.1:0", shown: "127.0.0.1", in: workspace)
        defer {
            plain.0.send(SIGTERM)
            _ = plain.0.wait(timeout: 10)
        }
        #expect(Self.post(plain.1, headers: ["Authorization": "Bearer \(secret)"]).hasPrefix("HTTP/1.1 404"))
    }

    @Test("GET /status is JSON that the status schema accepts: readiness, the last cycle, each registry's drift")
    func status() async throws {
        let workspace = try Workspace(ReconcileCommandTests.spec)
        defer { workspace.remove() }
        let (running, port) = try Self.start("127.0.0.1:0", shown: "127.0.0.1", extra: [], in: workspace)
        defer {
            running.send(SIGTERM)
            _ = running.wait(timeout: 10)
        }
        #expect(running.wait(until: { running.stderr.contains("cycle 1 finished") }, timeout: 10))
        let answer = Self.exchange(try RawConnection(port: port), "GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 200") && answer.contains("Content-Type: application/json"), "\(answer)")
        let body = String(answer[try #require(answer.range(of: "\r\n\r\n")).upperBound...])
        let schema = try SchemaCheck(schemaText: String(contentsOfFile: repositoryRoot + "/schema/hookapply-status.schema.json", encoding: .utf8))
        let problems = try schema.problems(body)
        #expect(problems.isEmpty, "\(problems)\n\(body)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect((object["last_cycle"] as? [String: Any])?["number"] as? Int == 1)
        let registries = try #require(object["registries"] as? [[String: Any]])
        #expect(registries.map { $0["name"] as? String } == ["dev", "prod"])
        #expect(registries.first?["drift"] as? Int == 2, "the spec's two dev webhooks are not created without --apply: \(registries)")
        #expect(object["ready"] as? Bool == true)
    }
}

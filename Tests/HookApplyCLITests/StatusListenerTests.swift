import Foundation
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
}

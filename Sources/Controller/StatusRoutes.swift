import Foundation
import HTTP1
import HookKit

/// What `reconcile --listen` answers: `GET /healthz` (alive), `GET /readyz` (the last cycle reached every
/// registry, and one finished within three intervals), `GET /metrics` (Prometheus text), `GET /status`
/// (the last cycle and each registry, as JSON), and `HEAD` of each (the server sends GET's headers
/// without the body). With a trigger secret, `POST /reconcile` starts a cycle now (a git host's push
/// webhook, as Flux's Receiver takes one); without one that route does not exist.
public enum StatusRoutes {
    /// The secret a `POST /reconcile` must prove, in one of the ways git hosts and scripts send it:
    /// `Authorization: Bearer <secret>`, GitLab's `X-Gitlab-Token: <secret>`, or GitHub's
    /// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`. Every comparison is constant-time.
    public struct TriggerSecret: Sendable {
        private let secret: [UInt8]
        private let hmac: HMAC

        /// Nil for an empty secret: a route anyone could call is not offered.
        public init?(_ secret: String) {
            guard !secret.isEmpty else { return nil }
            self.secret = Array(secret.utf8)
            self.hmac = HMAC(key: Array(secret.utf8))
        }

        public func accepts(_ request: HTTPRequest) -> Bool {
            if let authorization = request.header("Authorization"), authorization.utf8.count > 7,
                ASCII.equalIgnoringCase(Array(authorization.utf8.prefix(7)), Array("bearer ".utf8)),
                HMAC.constantTimeEqual(Array(authorization.utf8.dropFirst(7)), secret)
            {
                return true
            }
            if let token = request.header("X-Gitlab-Token"), HMAC.constantTimeEqual(Array(token.utf8), secret) { return true }
            if let signature = request.header("X-Hub-Signature-256"), signature.hasPrefix("sha256=") {
                let expected = "sha256=" + SHA256.hex(hmac.code(request.body))
                return HMAC.constantTimeEqual(Array(signature.lowercased().utf8), Array(expected.utf8))
            }
            return false
        }
    }

    public static func respond(_ request: HTTPRequest, loop: ReconcileLoop, trigger: TriggerSecret? = nil) -> HTTPServer.Response {
        let path = String(request.target.split(separator: "?", maxSplits: 1).first ?? "")
        // HEAD is GET without the body, which the server leaves out.
        let method: HTTPMethod = request.method == .head ? .get : request.method
        switch (method, path) {
        case (.get, "/healthz"):
            return .text(200, "ok\n")
        case (.get, "/readyz"):
            let readiness = loop.readiness
            return .text(readiness.ready ? 200 : 503, readiness.reason + "\n")
        case (.get, "/metrics"):
            return HTTPServer.Response(status: 200, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                                       body: Array(loop.metrics.render().utf8))
        case (.get, "/status"):
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let body = (try? encoder.encode(loop.status)).map { Array($0) + [0x0A] } ?? Array("{}\n".utf8)
            return HTTPServer.Response(status: 200, headers: ["Content-Type": "application/json"], body: body)
        case (.post, "/reconcile") where trigger != nil:
            guard let trigger, trigger.accepts(request) else {
                return HTTPServer.Response(status: 401, headers: ["Content-Type": "text/plain; charset=utf-8", "WWW-Authenticate": "Bearer"],
                                           body: Array("a valid Authorization: Bearer, X-Gitlab-Token or X-Hub-Signature-256 is required\n".utf8))
            }
            loop.trigger()
            return .text(202, "a cycle starts now\n")
        case (_, "/healthz"), (_, "/readyz"), (_, "/metrics"), (_, "/status"):
            return .text(405, "method not allowed\n")
        case (_, "/reconcile") where trigger != nil:
            return .text(405, "method not allowed; POST starts a cycle\n")
        default:
            return .text(404, "not found; hookapply reconcile answers GET /healthz, /readyz, /metrics and /status\(trigger == nil ? "" : ", and POST /reconcile")\n")
        }
    }
}

import HTTP1

/// What `reconcile --listen` answers: `GET /healthz` (alive), `GET /readyz` (the last cycle reached every
/// registry, and one finished within three intervals), `GET /metrics` (Prometheus text), and `HEAD` of
/// each (the server sends GET's headers without the body). Nothing else, and nothing that changes state.
public enum StatusRoutes {
    public static func respond(_ request: HTTPRequest, loop: ReconcileLoop) -> HTTPServer.Response {
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
        case (_, "/healthz"), (_, "/readyz"), (_, "/metrics"):
            return .text(405, "method not allowed\n")
        default:
            return .text(404, "not found; hookapply reconcile answers GET /healthz, /readyz and /metrics\n")
        }
    }
}

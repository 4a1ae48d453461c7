import HTTP1
import HookSpec

/// `http://` deliveries over the socket client: kept-alive connections, about a tenth of URLSession's
/// CPU per request, which is what bounds `serve`'s throughput.
public struct SocketTransport: DeliveryTransport {
    private let client: PlainHTTPClient

    public init(client: PlainHTTPClient = PlainHTTPClient()) {
        self.client = client
    }

    public func canSend(to uri: ServiceURI) -> Bool {
        uri.scheme == "http" && PlainHTTPClient.canSend(toHost: uri.host)
    }

    public func send(_ request: OutgoingDelivery, timeout: Double, keptBody: Int) -> TransportOutcome {
        guard let uri = request.parsed else { return .failure("the service URI is not a valid http URI") }
        let endpoint = HTTPEndpoint(host: uri.host, port: uri.port, target: uri.path + (uri.query.map { "?" + $0 } ?? ""),
                                    userinfo: uri.userinfo)
        switch client.post(endpoint, headers: request.headers, body: request.body, timeout: timeout, keptBody: keptBody) {
        case .success(let response):
            return .response(status: response.status.rawValue, headers: response.headers.map { ($0.name, $0.value) },
                             body: response.body, truncated: response.bodyTruncated)
        case .failure(let problem):
            return .failure(problem.message(timeout: timeout))
        }
    }
}

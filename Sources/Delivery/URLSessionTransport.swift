import Foundation
import HookKit
import HookSpec

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Deliveries through Foundation's URLSession: `https://`, and any URI the socket client does not take.
/// One session for every delivery, so connections to a receiver are reused.
public struct URLSessionTransport: DeliveryTransport {
    private let session: URLSession

    public init(timeout: Double) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
    }

    public func canSend(to uri: ServiceURI) -> Bool { true }

    public func send(_ request: OutgoingDelivery, timeout: Double, keptBody: Int) -> TransportOutcome {
        let outcome = Locked<TransportOutcome>(.failure("no answer was recorded"))
        let session = self.session
        BlockingBridge.wait { outcome.set(await Self.send(request, session: session, timeout: timeout)) }
        return outcome.value
    }

    private static func send(_ request: OutgoingDelivery, session: URLSession, timeout: Double) async -> TransportOutcome {
        guard let url = URL(string: request.uri) else { return .failure("the service URI is not a URL this platform can send to") }
        var urlRequest = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        urlRequest.httpMethod = "POST"
        for header in request.headers { urlRequest.setValue(header.value, forHTTPHeaderField: header.name) }
        urlRequest.httpBody = Data(request.body)
        do {
            let (data, response) = try await session.data(for: urlRequest)
            guard let http = response as? HTTPURLResponse else { return .failure("the response was not HTTP") }
            let headers = http.allHeaderFields.map { (String(describing: $0.key), String(describing: $0.value)) }
            return .response(status: http.statusCode, headers: headers, body: Array(data), truncated: false)
        } catch let error as URLError {
            return .failure(error.reason(timeout: timeout))
        } catch {
            return .failure("the request failed (\(type(of: error))); check the service URI and the network")
        }
    }
}

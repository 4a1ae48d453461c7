import Foundation
import HookKit
import HookSpec
import Reconciler

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A response from Azure Resource Manager.
public struct ARMResponse: Sendable {
    public var status: Int
    /// Header names lowercased.
    public var headers: [String: String]
    public var body: [UInt8]
    /// The access token the request carried: an error message quoting the request must not show it.
    var sentToken = ""

    /// The body as `type`, nil when it is not that JSON.
    func decode<Value: Decodable>(_ type: Value.Type) -> Value? { ARMWire.decode(type, body) }
}

/// Talks to ARM: bearer tokens, `api-version`, `x-ms-client-request-id` on every call, retries for
/// throttling and transient failures (honouring `Retry-After`), and polling of long-running operations.
///
/// Errors it throws are final: it has already retried what may be retried, so they are `.fatal` and
/// the applier does not multiply the attempts.
public final class ARMClient: Sendable {
    public static let apiVersion = "2025-11-01"
    /// Statuses worth retrying (ARM's throttling and transient failures).
    static let retryableStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]

    public let endpoint: URL
    private let credential: any TokenCredential
    private let session: URLSession
    private let retry: RetryPolicy
    /// Bounds how many ARM calls are in flight across every registry of a run.
    private let budget: AsyncSemaphore
    /// Shared by every client of a run: the buckets are per subscription, not per registry.
    public let pacer: ARMPacer
    /// Calls made and retried, for `--verbose` and the benchmark.
    private let counters = Locked<CallStatistics>(CallStatistics(unit: "ARM calls", calls: 0, retries: 0))
    /// Polling interval when an operation gives no Retry-After (tests shorten it).
    let defaultPollInterval: Double

    /// Sleeps as the client's retry policy does (instantly in tests that inject a sleep).
    func pause(_ seconds: Double) async { await retry.sleep(seconds) }
    /// How long one call may take before it counts as a (retryable) timeout.
    let requestTimeout: Double
    /// `--verbose`: told about every call and every retry (method, path, status, time; never a secret).
    let trace: (@Sendable (String) -> Void)?
    /// Attempts at an endpoint that refuses connections: a wrong or down endpoint fails fast.
    static let refusedAttempts = 2

    public init(
        endpoint: URL, credential: any TokenCredential, budget: AsyncSemaphore, retry: RetryPolicy = RetryPolicy(maxAttempts: 8),
        session: URLSession? = nil, defaultPollInterval: Double = 2, pacer: ARMPacer = ARMPacer(), requestTimeout: Double = 60,
        trace: (@Sendable (String) -> Void)? = nil
    ) {
        self.trace = trace
        self.pacer = pacer
        self.requestTimeout = requestTimeout
        self.endpoint = endpoint
        self.credential = credential
        self.budget = budget
        self.retry = retry
        self.session = session ?? ARMClient.makeSession(timeout: requestTimeout)
        self.defaultPollInterval = defaultPollInterval
    }

    static func makeSession(timeout: Double = 60) -> URLSession {
        let configuration = URLSessionConfiguration.ephemeral
        // On Linux the session's timeout governs, whatever the request says.
        configuration.timeoutIntervalForRequest = timeout
        configuration.httpMaximumConnectionsPerHost = 16
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        return URLSession(configuration: configuration)
    }

    /// Calls and retries made so far (for `--verbose` and the benchmark).
    public var statistics: CallStatistics { counters.value }

    /// A token for this endpoint's audience (cached by the credential): who the client signs in as.
    public func signIn() async throws -> AccessToken { try await credential.token(scope: scope) }

    /// The token audience for this endpoint: `https://management.azure.com/.default` for the public cloud.
    public var scope: String {
        var text = "\(endpoint.scheme ?? "https")://\(endpoint.host ?? "")"
        if let port = endpoint.port { text += ":\(port)" }
        return text + "/.default"
    }

    /// Sends one request, retrying throttling and transient failures; returns any final response
    /// (the caller decides what a non-2xx means). `target` is a path under the endpoint, or an absolute
    /// URL on the endpoint's host (nextLink, operation status).
    public func send(_ method: String, _ target: String, what: @autoclosure () -> String) async throws -> ARMResponse {
        try await send(method, target, payload: nil, what: what())
    }

    /// ``send(_:_:what:)`` with a JSON body.
    func send(_ method: String, _ target: String, body: some Encodable, what: @autoclosure () -> String) async throws -> ARMResponse {
        let payload: Data
        do {
            payload = try ARMWire.encode(body)
        } catch {
            throw ProviderError.fatal(.internal, "\(what()): the request body could not be written as JSON")
        }
        return try await send(method, target, payload: payload, what: what())
    }

    private func send(_ method: String, _ target: String, payload: Data?, what: @autoclosure () -> String) async throws -> ARMResponse {
        let url = try resolve(target)
        let shown = "\(method) \(url.path)"  // the path holds ids only; the query (api-version) is left out
        var attempt = 1
        while true {
            let requestID = UUID().uuidString.lowercased()
            do {
                let started = DispatchTime.now().uptimeNanoseconds
                let response = try await perform(method, url, payload, requestID: requestID)
                trace?("ARM \(shown) -> \(response.status) in \((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000) ms (attempt \(attempt))")
                if ARMClient.retryableStatuses.contains(response.status), attempt < retry.maxAttempts {
                    counters.withLock { $0.retries += 1 }
                    let delay = retry.delay(afterAttempt: attempt, retryAfter: ARMClient.retryAfter(response.headers))
                    trace?("ARM \(shown): retrying after \(response.status) in \(String(format: "%.1f", delay)) s")
                    await retry.sleep(delay)
                    attempt += 1
                    continue
                }
                return response
            } catch let error as URLError where !(error.code == .timedOut || error.code == .networkConnectionLost
                || error.code == .cannotConnectToHost)
            {
                // Not worth retrying (the name does not resolve, TLS fails): say so in a sentence, not as an NSError.
                throw ProviderError.fatal(.transport, "\(what()): \(error.reason(timeout: requestTimeout)) (\(endpoint.host ?? "the ARM endpoint"); check --arm-endpoint, HOOKAPPLY_ARM_ENDPOINT or the spec's azure.endpoint, and the network)")
            } catch let error as URLError {
                // Transport failures: the request may or may not have been applied; every call here is idempotent.
                // A refused connection means the endpoint itself is wrong or down: two tries, then say so.
                let limit = error.code == .cannotConnectToHost ? min(Self.refusedAttempts, retry.maxAttempts) : retry.maxAttempts
                trace?("ARM \(shown): \(error.reason(timeout: requestTimeout)) (attempt \(attempt) of \(limit))")
                if error.code == .cannotConnectToHost && attempt >= limit {
                    throw ProviderError.fatal(.transport, "\(what()): the ARM endpoint \(endpoint.absoluteString) refused the connection after \(attempt) attempts; check --arm-endpoint, HOOKAPPLY_ARM_ENDPOINT or the spec's azure.endpoint")
                }
                if attempt >= retry.maxAttempts {
                    throw ProviderError.fatal(.transport, "\(what()): \(error.reason(timeout: requestTimeout)) after \(attempt) attempts (x-ms-client-request-id \(requestID))")
                }
                counters.withLock { $0.retries += 1 }
                await retry.sleep(retry.delay(afterAttempt: attempt, retryAfter: nil))
                attempt += 1
            }
        }
    }

    private func perform(_ method: String, _ url: URL, _ payload: Data?, requestID: String) async throws -> ARMResponse {
        let kind: ARMPacer.Kind = method == "GET" ? .reads : .writes
        let pause = pacer.delay(kind)
        if pause > 0 { await retry.sleep(pause) }
        let token = try await credential.token(scope: scope)
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: requestTimeout)
        request.httpMethod = method
        request.setValue("Bearer \(token.token)", forHTTPHeaderField: "Authorization")
        request.setValue(requestID, forHTTPHeaderField: "x-ms-client-request-id")
        request.setValue(Product.userAgent, forHTTPHeaderField: "User-Agent")
        if let payload {
            request.httpBody = payload
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if method == "POST" || method == "PUT" || method == "PATCH" {
            request.httpBody = Data()
            request.setValue("0", forHTTPHeaderField: "Content-Length")
        }
        await budget.acquire()
        counters.withLock { $0.calls += 1 }
        let result: (Data, URLResponse)
        do {
            result = try await session.data(for: request)
        } catch {
            await budget.release()
            throw error
        }
        await budget.release()
        guard let http = result.1 as? HTTPURLResponse else {
            throw ProviderError.fatal(.transport, "ARM answered with something other than HTTP")
        }
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields { headers[String(describing: key).lowercased()] = String(describing: value) }
        headers["x-ms-client-request-id"] = headers["x-ms-client-request-id"] ?? requestID
        pacer.record(headers, kind: kind)
        return ARMResponse(status: http.statusCode, headers: headers, body: Array(result.0), sentToken: token.token)
    }

    /// `target` as a URL on the endpoint. An absolute URL must be on the endpoint's host: a token is
    /// sent with it, and a nextLink or operation URL pointing elsewhere is refused rather than followed.
    func resolve(_ target: String) throws -> URL {
        if target.hasPrefix("http://") || target.hasPrefix("https://") {
            guard let url = URL(string: target), url.host == endpoint.host, url.port == endpoint.port, url.scheme == endpoint.scheme else {
                throw ProviderError.fatal(.foreignLink, "ARM returned a link to another host (\(Redaction.maskURI(target))); refusing to send credentials there")
            }
            return url
        }
        var base = endpoint.absoluteString
        if base.hasSuffix("/") { base.removeLast() }
        let separator = target.contains("?") ? "&" : "?"
        guard let url = URL(string: base + target + separator + "api-version=\(ARMClient.apiVersion)") else {
            throw ProviderError.fatal(.badURL, "cannot build an ARM URL for \(target)")
        }
        return url
    }

    /// The longest wait a `Retry-After` can ask for: a registry asking for more (or for an absurd number)
    /// gets this, so an apply never sleeps for days nor traps converting the number.
    public static let maxRetryAfter: Double = 300

    /// Seconds from a `Retry-After` header: delay-seconds (digits only, RFC 9110 §10.2.3) or an HTTP date,
    /// capped at ``maxRetryAfter``.
    static func retryAfter(_ headers: [String: String]) -> Double? {
        guard let value = headers["retry-after"]?.trimmingCharacters(in: .whitespaces) else { return nil }
        if !value.isEmpty, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            // Too many digits for a Double to matter: it is far past the cap either way.
            return value.utf8.count > 9 ? maxRetryAfter : min(maxRetryAfter, Double(value) ?? maxRetryAfter)
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return min(maxRetryAfter, Seconds.clamped(date.timeIntervalSinceNow))
    }

    /// Follows a long-running operation to its end: an `Azure-AsyncOperation` status URL (until
    /// `Succeeded`, or `Failed`/`Canceled` as an error) or a `Location` URL (until 200/204).
    func waitForOperation(_ response: ARMResponse, what: String) async throws {
        if let status = response.headers["azure-asyncoperation"] {
            var delay = ARMClient.retryAfter(response.headers) ?? defaultPollInterval
            for _ in 0..<600 {
                await retry.sleep(delay)
                let poll = try await send("GET", status, what: what)
                guard (200..<300).contains(poll.status) else { throw ARMClient.error(poll, what: what) }
                let operation = poll.decode(ARMWire.OperationStatus.self)
                let state = operation?.status ?? ""
                switch state.lowercased() {
                case "succeeded": return
                case "failed", "canceled", "cancelled":
                    let code = operation?.error?.code ?? state
                    let message = operation?.error?.message ?? "the operation ended as \(state)"
                    throw ProviderError.fatal(.service(code), "\(what): \(code): \(message)")
                default:
                    delay = ARMClient.retryAfter(poll.headers) ?? defaultPollInterval
                }
            }
            throw ProviderError.fatal(.timeout, "\(what): the operation did not finish")
        }
        if let location = response.headers["location"] {
            var delay = ARMClient.retryAfter(response.headers) ?? defaultPollInterval
            for _ in 0..<600 {
                await retry.sleep(delay)
                let poll = try await send("GET", location, what: what)
                switch poll.status {
                case 200, 204: return
                case 202: delay = ARMClient.retryAfter(poll.headers) ?? defaultPollInterval
                default: throw ARMClient.error(poll, what: what)
                }
            }
            throw ProviderError.fatal(.timeout, "\(what): the operation did not finish")
        }
    }

    /// A failed response as a clear error: ARM's `code: message`, a hint where one helps, and the ids a
    /// support case needs. Never the request body (it may hold secrets).
    static func error(_ response: ARMResponse, what: String, hint: String? = nil) -> ProviderError {
        let inner = response.decode(ARMWire.ErrorBody.self)?.error
        let code = inner?.code ?? "HTTP\(response.status)"
        // The message is the service's own text: it can quote URLs with keys in them and the request's
        // headers, the access token included (the applier scrubs the change's own secrets on top).
        let scrubber = SecretScrubber(secrets: [response.sentToken])
        let message = inner?.message.map { scrubber.scrub(Redaction.scrubURLs($0)) } ?? "HTTP status \(response.status)"
        var text = "\(what): \(code): \(message)"
        switch response.status {
        case 401:
            text += " (hint: the sign-in was refused or has expired: check AZURE_ACCESS_TOKEN, or the AZURE_TENANT_ID, AZURE_CLIENT_ID and secret or federated token, or run 'az login' again)"
        case 403:
            text += " (hint: the identity needs Microsoft.ContainerRegistry/registries/webhooks/read, write and delete, and webhooks/getCallbackConfig/action, e.g. the Contributor role on the registry)"
        default:
            break
        }
        if let hint { text += " (hint: \(hint))" }
        let ids = ["x-ms-client-request-id", "x-ms-correlation-request-id"].compactMap { key in response.headers[key].map { "\(key) \($0)" } }
        if !ids.isEmpty { text += " [\(ids.joined(separator: ", "))]" }
        return .fatal(.service(code), text)
    }
}

extension Redaction {
    /// Masks every URL inside free text (an ARM message can quote a URL with a key in it).
    public static func scrubURLs(_ text: String) -> String {
        text.split(separator: " ", omittingEmptySubsequences: false).map { word in
            word.hasPrefix("http://") || word.hasPrefix("https://") ? maskURI(String(word)) : String(word)
        }.joined(separator: " ")
    }
}

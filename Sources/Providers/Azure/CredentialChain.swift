import Foundation
import HookKit
import HookSpec
import Reconciler

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The first configured way to sign in, in the order of azure-identity's DefaultAzureCredential:
/// `AZURE_ACCESS_TOKEN`; a service principal secret; workload identity; managed identity; the Azure CLI.
/// Tokens are cached until five minutes before they expire. No token, secret or assertion is ever put
/// in an error message.
public final class CredentialChain: TokenCredential, Sendable {
    private let environment: [String: String]
    private let session: URLSession
    /// Tokens by scope.
    private let cache = Locked<[String: AccessToken]>([:])
    private let gate = AsyncSemaphore(1)
    /// How long to wait for the instance metadata service before deciding there is none.
    private let metadataTimeout: Double

    public init(environment: [String: String], session: URLSession? = nil, metadataTimeout: Double = 2) {
        self.environment = environment
        self.session = session ?? ARMClient.makeSession()
        self.metadataTimeout = metadataTimeout
    }

    public func token(scope: String) async throws -> AccessToken {
        if let cached = usable(scope) { return cached }
        // One sign-in at a time: concurrent first calls wait for it instead of each signing in.
        await gate.acquire()
        if let cached = usable(scope) {
            await gate.release()
            return cached
        }
        do {
            let fresh = try await fetch(scope: scope)
            cache.withLock { $0[scope] = fresh }
            await gate.release()
            return fresh
        } catch {
            await gate.release()
            throw error
        }
    }

    /// A cached token with more than five minutes left.
    private func usable(_ scope: String) -> AccessToken? {
        cache.withLock { $0[scope].flatMap { $0.expiresAt.timeIntervalSinceNow > 300 ? $0 : nil } }
    }

    /// Which way the chain will use, for messages (never a secret).
    public var method: String {
        if value("AZURE_ACCESS_TOKEN") != nil { return "AZURE_ACCESS_TOKEN" }
        if value("AZURE_TENANT_ID") != nil, value("AZURE_CLIENT_ID") != nil, value("AZURE_CLIENT_SECRET") != nil { return "client secret" }
        if value("AZURE_FEDERATED_TOKEN_FILE") != nil { return "workload identity" }
        if value("IDENTITY_ENDPOINT") != nil, value("IDENTITY_HEADER") != nil { return "managed identity (App Service)" }
        return "managed identity (instance metadata) or the Azure CLI"
    }

    private func value(_ name: String) -> String? {
        guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    private var authority: String {
        var host = value("AZURE_AUTHORITY_HOST") ?? "https://login.microsoftonline.com"
        while host.hasSuffix("/") { host.removeLast() }
        return host
    }

    /// The endpoints a sign-in may take from the environment, and whether each may be the instance
    /// metadata service's own link-local address (which only speaks http).
    static let environmentEndpoints: [(name: String, allowsMetadataAddress: Bool)] = [
        ("AZURE_AUTHORITY_HOST", false), ("IDENTITY_ENDPOINT", false), ("AZURE_POD_IDENTITY_AUTHORITY_HOST", true),
    ]

    /// Why an endpoint from the environment is refused, or nil. The rule ARM endpoints follow, stricter
    /// about names: https, or http to a loopback address written as an IP literal. A token request
    /// carries a client secret, an assertion or an identity header, which must never cross a network in
    /// clear, and `localhost` is a name that /etc/hosts can point anywhere.
    static func endpointProblem(_ name: String, _ value: String, allowsMetadataAddress: Bool) -> String? {
        let uri: ServiceURI
        do {
            uri = try ServiceURI(parsing: value)
        } catch {
            return "\(name) is not an http(s) URL (\(error.message)); unset it or give a URL such as https://login.microsoftonline.com"
        }
        if uri.userinfo != nil || uri.query != nil { return "\(name) must not hold credentials or a query; give the endpoint's URL alone" }
        if uri.scheme == "https" { return nil }
        let host = uri.host.lowercased()
        let isLoopbackLiteral = host == "[::1]" || (host.hasPrefix("127.") && uri.isLoopback)
        if isLoopbackLiteral || (allowsMetadataAddress && host == "169.254.169.254") { return nil }
        return "\(name) is \(uri.masked), plain http to a host that is not a loopback address: endpoints taken from the environment must use https, or http to a loopback IP literal (127.0.0.1 or [::1]), because a sign-in sends credentials to them. Nothing was sent"
    }

    /// The first endpoint of the environment that is refused, as a message; checked before any request.
    func environmentEndpointProblem() -> String? {
        for endpoint in Self.environmentEndpoints {
            if let text = value(endpoint.name), let problem = Self.endpointProblem(endpoint.name, text, allowsMetadataAddress: endpoint.allowsMetadataAddress) {
                return problem
            }
        }
        return nil
    }

    private func fetch(scope: String) async throws -> AccessToken {
        if let problem = environmentEndpointProblem() { throw ProviderError.fatal(.credentials, problem) }
        var tried: [String] = []
        if let token = value("AZURE_ACCESS_TOKEN") {
            return AccessToken(token: token, expiresAt: Date().addingTimeInterval(3600), source: "AZURE_ACCESS_TOKEN")
        }
        tried.append("AZURE_ACCESS_TOKEN (not set)")
        if let tenant = value("AZURE_TENANT_ID"), let client = value("AZURE_CLIENT_ID"), let secret = value("AZURE_CLIENT_SECRET") {
            return try await clientCredentials(tenant: tenant, form: [
                ("grant_type", "client_credentials"), ("client_id", client), ("client_secret", secret), ("scope", scope),
            ], what: "client secret")
        }
        tried.append("a client secret (AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET not all set)")
        if let file = value("AZURE_FEDERATED_TOKEN_FILE") {
            guard let tenant = value("AZURE_TENANT_ID"), let client = value("AZURE_CLIENT_ID") else {
                throw ProviderError.fatal(.credentials, "AZURE_FEDERATED_TOKEN_FILE is set but AZURE_TENANT_ID and AZURE_CLIENT_ID are not both set; workload identity needs all three")
            }
            guard let bytes = try? FileBytes.read(file, limit: 1024 * 1024),
                case let assertion = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), !assertion.isEmpty
            else {
                throw ProviderError.fatal(.credentials, "cannot read the federated token file '\(file)' (AZURE_FEDERATED_TOKEN_FILE)")
            }
            return try await clientCredentials(tenant: tenant, form: [
                ("grant_type", "client_credentials"), ("client_id", client),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ("client_assertion", assertion), ("scope", scope),
            ], what: "workload identity")
        }
        tried.append("workload identity (AZURE_FEDERATED_TOKEN_FILE not set)")
        let resource = String(scope.dropLast(scope.hasSuffix("/.default") ? 8 : 0))
        if let endpoint = value("IDENTITY_ENDPOINT"), let header = value("IDENTITY_HEADER") {
            return try await managedIdentity(url: "\(endpoint)?api-version=2019-08-01&resource=\(escape(resource))" + clientIDParameter,
                                             headers: ["X-IDENTITY-HEADER": header], what: "managed identity (App Service)")
        }
        let imds = value("AZURE_POD_IDENTITY_AUTHORITY_HOST") ?? "http://169.254.169.254"
        do {
            return try await managedIdentity(
                url: "\(imds)/metadata/identity/oauth2/token?api-version=2018-02-01&resource=\(escape(resource))" + clientIDParameter,
                headers: ["Metadata": "true"], what: "managed identity (instance metadata)", timeout: metadataTimeout)
        } catch {
            tried.append("managed identity (no IDENTITY_ENDPOINT; the instance metadata service did not answer)")
        }
        if let token = try? azureCLI(resource: resource) { return token }
        tried.append("the Azure CLI ('az account get-access-token' failed or az is not installed)")
        throw ProviderError.fatal(.credentials,
                            "no Azure credentials worked; tried " + tried.joined(separator: "; ") + ". Set AZURE_ACCESS_TOKEN, or AZURE_TENANT_ID with AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or sign in with 'az login'")
    }

    private var clientIDParameter: String {
        value("AZURE_CLIENT_ID").map { "&client_id=\(escape($0))" } ?? ""
    }

    private func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// OAuth 2.0 client credentials at `{authority}/{tenant}/oauth2/v2.0/token`.
    private func clientCredentials(tenant: String, form: [(String, String)], what: String) async throws -> AccessToken {
        guard let url = URL(string: "\(authority)/\(escape(tenant))/oauth2/v2.0/token") else {
            throw ProviderError.fatal(.credentials, "AZURE_AUTHORITY_HOST is not a URL")
        }
        var request = URLRequest(url: url, timeoutInterval: 30)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(form.map { "\($0.0)=\(escape($0.1))" }.joined(separator: "&").utf8)
        return try await tokenResponse(request, what: what)
    }

    private func managedIdentity(url: String, headers: [String: String], what: String, timeout: Double = 30) async throws -> AccessToken {
        guard let url = URL(string: url) else { throw ProviderError.fatal(.credentials, "\(what): the endpoint is not a URL") }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        return try await tokenResponse(request, what: what)
    }

    private func tokenResponse(_ request: URLRequest, what: String) async throws -> AccessToken {
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch let error as URLError {
            throw ProviderError.fatal(.credentials, "\(what): could not reach the token endpoint \(request.url?.host.map { "at \($0)" } ?? ""): \(error.reason(timeout: request.timeoutInterval))")
        }
        let answer = ARMWire.decode(ARMWire.TokenAnswer.self, Array(data))
        guard let http = response as? HTTPURLResponse, (200..<300).contains(http.statusCode),
            let token = answer?.accessToken, !token.isEmpty, let answer
        else {
            // AAD's error code and the first sentence of its description; never the request.
            let code = answer?.error ?? "HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0)"
            let description = answer?.errorDescription?.split(separator: "\n").first.map(String.init) ?? ""
            // A token endpoint (or something posing as one) may quote what it was sent: the client secret,
            // the federated assertion, the identity header. Those never reach the message.
            let scrubber = SecretScrubber(secrets: credentialSecrets(request))
            throw ProviderError.fatal(.credentials, scrubber.scrub("\(what): sign-in failed: \(code)\(description.isEmpty ? "" : ": " + description)"))
        }
        return AccessToken(token: token, expiresAt: answer.expiry, source: what)
    }

    /// Every secret a token request can carry: the form's client secret and assertion, and header values.
    private func credentialSecrets(_ request: URLRequest) -> [String] {
        var values = ["AZURE_CLIENT_SECRET", "AZURE_ACCESS_TOKEN", "IDENTITY_HEADER"].compactMap { value($0) }
        for (name, headerValue) in request.allHTTPHeaderFields ?? [:] where name.lowercased() != "content-type" && name.lowercased() != "metadata" {
            values.append(headerValue)
        }
        for pair in String(decoding: request.httpBody ?? Data(), as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, ["client_secret", "client_assertion"].contains(String(parts[0])) {
                values.append(String(parts[1]))
                values.append(String(parts[1]).removingPercentEncoding ?? "")
            }
        }
        return values
    }

    /// `az account get-access-token --resource <audience> --output json`.
    private func azureCLI(resource: String) throws -> AccessToken {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["az", "account", "get-access-token", "--resource", resource, "--output", "json"]
        // The command's environment (PATH, AZURE_CONFIG_DIR), not necessarily this process's.
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let answer = ARMWire.decode(ARMWire.TokenAnswer.self, Array(data)),
            let token = answer.accessToken
        else { throw ProviderError.fatal(.credentials, "the Azure CLI gave no token") }
        return AccessToken(token: token, expiresAt: answer.expiry, source: "the Azure CLI")
    }
}

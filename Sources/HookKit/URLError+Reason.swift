import Foundation

extension URLError {
    /// A short reason without the URL: URLError's own description quotes it, query (often a key) and all.
    /// `timeout` is the deadline the request had, for the timed-out case.
    public func reason(timeout: Double) -> String {
        switch code {
        case .timedOut: "no answer within \(Self.seconds(timeout)) seconds (timed out)"
        case .cannotConnectToHost: "connection refused"
        case .cannotFindHost, .dnsLookupFailed: "the host name did not resolve"
        case .networkConnectionLost: "the connection was closed before a response arrived"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateNotYetValid,
            .serverCertificateHasUnknownRoot:
            "the TLS connection failed (certificate or handshake)"
        case .notConnectedToInternet: "no network"
        default: "the request failed (URLError \(code.rawValue))"
        }
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

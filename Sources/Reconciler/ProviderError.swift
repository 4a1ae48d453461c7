import Foundation
import HookKit

/// A provider failure: what happened (never a secret), and whether trying again may help.
public struct ProviderError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// Throttling, a 5xx, a timeout: retrying may succeed.
        case retryable
        /// Bad input, permissions, a conflict: retrying will not help.
        case fatal
    }

    /// A stable code: hookapply's own (the static members) or one a registry's service returned, such
    /// as ARM's `QuotaExceeded`, passed through with ``service(_:)``.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A code from the registry's own API (ARM's `error.code`), kept as the service spelt it.
        public static func service(_ code: String) -> Code { Code(rawValue: code) }

        // The local registry.
        public static let locked = Code(rawValue: "locked")
        public static let lockFailed = Code(rawValue: "lock-failed")
        public static let unreadableState = Code(rawValue: "unreadable-state")
        public static let corruptState = Code(rawValue: "corrupt-state")
        public static let newerStateFormat = Code(rawValue: "newer-state-format")
        public static let writeFailed = Code(rawValue: "write-failed")
        public static let eventLog = Code(rawValue: "event-log")
        // Any registry.
        public static let notFound = Code(rawValue: "NotFound")
        public static let quotaExceeded = Code(rawValue: "QuotaExceeded")
        public static let unsupported = Code(rawValue: "unsupported")
        public static let timeout = Code(rawValue: "timeout")
        public static let transport = Code(rawValue: "transport")
        // Azure.
        public static let credentials = Code(rawValue: "credentials")
        public static let foreignLink = Code(rawValue: "foreign-link")
        public static let badURL = Code(rawValue: "bad-url")
        public static let paging = Code(rawValue: "paging")
        public static let classicRegistry = Code(rawValue: "ClassicRegistry")
        public static let pingNotLogged = Code(rawValue: "PingNotLogged")
        // The applier and callers.
        public static let noProvider = Code(rawValue: "no-provider")
        public static let noDesiredState = Code(rawValue: "no-desired-state")
        public static let `internal` = Code(rawValue: "internal")
        public static let unexpected = Code(rawValue: "unexpected")
    }

    public var kind: Kind
    public var code: Code
    public var message: String
    /// How long the registry asked us to wait before retrying, in seconds.
    public var retryAfter: Double?

    public init(_ kind: Kind, code: Code, _ message: String, retryAfter: Double? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    /// A failure that retrying will not mend.
    public static func fatal(_ code: Code, _ message: String) -> ProviderError { ProviderError(.fatal, code: code, message) }

    public var isRetryable: Bool { kind == .retryable }

    /// Any error as a ProviderError: providers throw ProviderError, and anything else is a fatal surprise.
    public static func from(_ error: any Error) -> ProviderError {
        if let error = error as? ProviderError { return error }
        if let error = error as? any MessageError { return .fatal(.unexpected, error.message) }
        // Never a raw NSError dump ("NSCocoaErrorDomain error 256"): the system's reason in a sentence.
        let system = error as NSError
        let posix = (system.userInfo[NSUnderlyingErrorKey] as? NSError).flatMap { $0.domain == NSPOSIXErrorDomain ? $0.code : nil }
            ?? (system.domain == NSPOSIXErrorDomain ? system.code : nil)
        let reason = posix.map { FileBytes.reason(Int32(truncatingIfNeeded: $0)) } ?? "\(system.domain) code \(system.code)"
        return .fatal(.unexpected, "an unexpected error: \(reason)")
    }
    public var description: String { "\(code): \(message)" }
}

import HookSpec

/// An accepted event and its audience: the webhooks (lowercased names) it matched when it was accepted.
///
/// The audience is fixed at ingest, as ACR fixes it at push time: a webhook created later does not
/// receive events from before it existed, and a restart does not resend history to anyone.
public struct QueuedEvent: Hashable, Sendable {
    public var notification: RegistryNotification
    public var targets: [String]

    public init(_ notification: RegistryNotification, targets: [String]) {
        self.notification = notification
        self.targets = targets.map { $0.lowercased() }
    }
}

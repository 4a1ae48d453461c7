import HookKit

/// The durable queue could not be read, written or synced. Serve answers 503 and does not acknowledge
/// the batch, so the registry sends it again.
public struct QueueError: MessageError, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        /// The file could not be opened.
        case open
        /// A line could not be written whole.
        case append
        /// fsync failed: nothing written since the last good sync can be vouched for.
        case sync
        /// An earlier fsync failed; the queue accepts nothing until serve restarts and reloads it.
        case broken
    }

    public var code: Code
    public var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

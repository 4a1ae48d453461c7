import Foundation
import HookKit

/// Slows calls down before ARM's per-subscription token buckets run dry, instead of collecting a storm of
/// 429s: ARM reports what is left in `x-ms-ratelimit-remaining-subscription-reads` / `-writes`, and the
/// buckets refill at known rates (reads 250 at 25/s, writes and deletes 200 at 10/s). When fewer than a
/// tenth remain, callers of that kind wait for the bucket to refill back to a tenth.
public final class ARMPacer: Sendable {
    public enum Kind: String, Sendable {
        case reads
        case writes

        var bucket: Double { self == .reads ? 250 : 200 }
        var refillPerSecond: Double { self == .reads ? 25 : 10 }
    }

    private struct State {
        /// Per kind, when calls may go again.
        var resumeAt: [Kind: Date] = [:]
        /// How many calls waited.
        var paced = 0
    }
    private let state = Locked(State())

    public init() {}

    /// Reads the remaining-budget header of a response.
    public func record(_ headers: [String: String], kind: Kind, now: Date = Date()) {
        guard let text = headers["x-ms-ratelimit-remaining-subscription-\(kind.rawValue)"], let remaining = Double(text) else { return }
        let floor = kind.bucket / 10
        guard remaining < floor else { return }
        let wait = (floor - remaining) / kind.refillPerSecond
        let candidate = now.addingTimeInterval(wait)
        state.withLock { state in
            if candidate > (state.resumeAt[kind] ?? .distantPast) { state.resumeAt[kind] = candidate }
        }
    }

    /// How long a call of this kind should wait before it is sent.
    public func delay(_ kind: Kind, now: Date = Date()) -> Double {
        state.withLock { state in
            guard let until = state.resumeAt[kind] else { return 0 }
            let wait = until.timeIntervalSince(now)
            if wait > 0 { state.paced += 1 }
            return max(0, wait)
        }
    }

    /// How many calls waited.
    public var pacedCalls: Int { state.value.paced }
}

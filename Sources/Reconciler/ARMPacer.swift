import Foundation

/// Slows calls down before ARM's per-subscription token buckets run dry, instead of collecting a storm of
/// 429s: ARM reports what is left in `x-ms-ratelimit-remaining-subscription-reads` / `-writes`, and the
/// buckets refill at known rates (reads 250 at 25/s, writes and deletes 200 at 10/s). When fewer than a
/// tenth remain, callers of that kind wait for the bucket to refill back to a tenth.
public final class ARMPacer: @unchecked Sendable {
    public enum Kind: String, Sendable {
        case reads
        case writes

        var bucket: Double { self == .reads ? 250 : 200 }
        var refillPerSecond: Double { self == .reads ? 25 : 10 }
    }

    private let lock = NSLock()
    private var resumeAt: [Kind: Date] = [:]
    private var paced = 0

    public init() {}

    /// Reads the remaining-budget header of a response.
    public func record(_ headers: [String: String], kind: Kind, now: Date = Date()) {
        guard let text = headers["x-ms-ratelimit-remaining-subscription-\(kind.rawValue)"], let remaining = Double(text) else { return }
        let floor = kind.bucket / 10
        guard remaining < floor else { return }
        let wait = (floor - remaining) / kind.refillPerSecond
        lock.withLock {
            let candidate = now.addingTimeInterval(wait)
            if candidate > (resumeAt[kind] ?? .distantPast) { resumeAt[kind] = candidate }
        }
    }

    /// How long a call of this kind should wait before it is sent.
    public func delay(_ kind: Kind, now: Date = Date()) -> Double {
        lock.withLock {
            guard let until = resumeAt[kind] else { return 0 }
            let wait = until.timeIntervalSince(now)
            if wait > 0 { paced += 1 }
            return max(0, wait)
        }
    }

    /// How many calls waited.
    public var pacedCalls: Int { lock.withLock { paced } }
}

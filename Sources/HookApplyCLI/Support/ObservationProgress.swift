import Foundation
import HookKit

/// While registries are read (plan, apply, list, export…), a line every interval on a terminal saying
/// which are still being read: `Reading 3 of 12 registries (dev, prod, stage)… [10s elapsed]`, as apply
/// says "Still creating… [10s elapsed]" for a slow change. Nothing when stderr is piped: a log needs no
/// ticker. HOOKAPPLY_PROGRESS_SECONDS sets the interval (default 10).
final class ObservationProgress: Sendable {
    private let remaining: Locked<[String]>
    private let ticker: Task<Void, Never>?

    init(_ names: [String], _ context: Context) {
        let remaining = Locked(names)
        self.remaining = remaining
        guard context.isStandardErrorTerminal, !names.isEmpty else {
            ticker = nil
            return
        }
        let interval = context.environment["HOOKAPPLY_PROGRESS_SECONDS"].flatMap(Seconds.parsePlain) ?? 10
        let total = names.count
        let output = context.standardError
        let started = DispatchTime.now().uptimeNanoseconds
        ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: Seconds.nanoseconds(interval))
                if Task.isCancelled { break }
                let left = remaining.value
                guard !left.isEmpty else { break }
                let elapsed = Int(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
                output.line(Self.line(left, total: total, elapsed: elapsed))
            }
        }
    }

    static func line(_ left: [String], total: Int, elapsed: Int) -> String {
        let shown = left.prefix(3).joined(separator: ", ") + (left.count > 3 ? ", …" : "")
        let what = total == 1 ? "registry '\(left[0])'" : "\(left.count) of \(total) registries (\(shown))"
        return "Reading \(what)… [\(elapsed)s elapsed]"
    }

    /// `name` has been read (or failed).
    func finished(_ name: String) {
        remaining.withLock { $0.removeAll { $0 == name } }
    }

    func stop() { ticker?.cancel() }
}

import Foundation
import HookKit

/// What SIGINT (Ctrl-C) and SIGTERM do during `plan` and `apply`.
///
/// Before any change has started (reading the spec, observing, waiting for a lock or an answer), the
/// first signal ends the command at once: nothing was changed, and saying so is the whole truth.
/// Once changes run, the first signal only stops new ones from starting; those in flight finish (or
/// time out), and the command prints what was and was not done and exits 130 (143 for SIGTERM). A
/// second signal exits at once, saying that changes in flight may or may not have been made.
final class Interruption: Sendable {
    enum Phase: Sendable {
        case preparing
        case applying
    }

    private struct State {
        var signal: Int32? = nil
        var phase = Phase.preparing
        var watcher: SignalWatcher? = nil
    }

    private let state = Locked(State())
    private let standardError: OutputStream
    private let command: String

    /// Takes over the signals when the context allows it (the real process); otherwise does nothing.
    init(_ context: Context, command: String) {
        standardError = context.standardError
        self.command = command
        guard context.handlesSignals else { return }
        let watcher = SignalWatcher { [weak self] number in self?.received(number) }
        state.withLock { $0.watcher = watcher }
    }

    /// From now on, the first signal lets changes in flight finish.
    func beginApplying() {
        state.withLock { $0.phase = .applying }
    }

    /// The signal received, if any.
    var signal: Int32? { state.withLock { $0.signal } }

    var isInterrupted: Bool { signal != nil }

    /// Gives the signals back to the system (the default: exit at once).
    func end() {
        let watcher = state.withLock { state -> SignalWatcher? in
            defer { state.watcher = nil }
            return state.watcher
        }
        watcher?.cancel()
    }

    private func received(_ number: Int32) {
        let (isFirst, phase) = state.withLock { state -> (Bool, Phase) in
            let isFirst = state.signal == nil
            if isFirst { state.signal = number }
            return (isFirst, state.phase)
        }
        let name = number == SIGTERM ? "SIGTERM" : "SIGINT"
        guard isFirst else {
            standardError.line("\n\(name) again: exiting now. Changes in flight may or may not have been made; run 'hookapply plan' to see where the registries stand.")
            exit(ExitCode.stopped(by: number).rawValue)
        }
        switch phase {
        case .preparing:
            standardError.line("\n\(name): \(command) stopped before any change was made. Nothing was changed.")
            exit(ExitCode.stopped(by: number).rawValue)
        case .applying:
            standardError.line("\n\(name): no new changes will start; waiting for the changes in flight to finish. Press Ctrl-C again to exit at once.")
        }
    }
}

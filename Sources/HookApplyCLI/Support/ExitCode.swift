import Foundation

/// Process exit codes, as documented in docs/commands.md.
public enum ExitCode: Int32, Sendable {
    /// Success (validate: valid, warnings allowed; plan: no changes, or changes without --detailed-exitcode).
    case success = 0
    /// Invalid input, an unreadable file, or a failed operation.
    case failure = 1
    /// plan --detailed-exitcode: there are changes.
    case changes = 2
    /// apply --verify: the apply succeeded, but a receiver failed verification.
    case verifyFailed = 3
    /// A mistake in the command line.
    case usage = 64
    /// Stopped by SIGINT (Ctrl-C), 128 + 2 as shells report it.
    case interrupted = 130
    /// Stopped by SIGTERM, 128 + 15.
    case terminated = 143

    /// The code for a process stopped by `signal`.
    static func stopped(by signal: Int32) -> ExitCode { signal == SIGTERM ? .terminated : .interrupted }
}

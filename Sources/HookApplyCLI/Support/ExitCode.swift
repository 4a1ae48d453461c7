/// Process exit codes, as documented in the README.
public enum ExitCode: Int32, Sendable {
    /// Success (validate: valid, warnings allowed; plan: no changes, or changes without --detailed-exitcode).
    case success = 0
    /// Invalid input, an unreadable file, or a failed operation.
    case failure = 1
    /// plan --detailed-exitcode: there are changes.
    case changes = 2
    /// A mistake in the command line.
    case usage = 64
}

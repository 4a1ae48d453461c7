import Foundation
import HookKit
import HookSpec
import Reconciler

/// Everything a command may touch from the outside world, so tests can run commands in process
/// with their own arguments, environment, input and captured output.
public struct Context: Sendable {
    public var arguments: [String]
    public var environment: [String: String]
    /// Relative paths are taken from here.
    public var currentDirectory: String
    public var standardOutput: OutputStream
    public var standardError: OutputStream
    public var readStandardInput: @Sendable () -> [UInt8]
    /// Reads one line typed at the terminal (the apply prompt); nil at end of input.
    public var readLine: @Sendable () -> String?
    public var isStandardInputTerminal: Bool
    public var isStandardOutputTerminal: Bool
    public var isStandardErrorTerminal: Bool
    /// Whether commands may take over SIGINT and SIGTERM (the real process). In-process tests leave it
    /// off: a test runner must keep its own signal handling, and a handler that exits would end it.
    public var handlesSignals: Bool

    public init(
        arguments: [String], environment: [String: String], currentDirectory: String,
        standardOutput: OutputStream, standardError: OutputStream,
        readStandardInput: @escaping @Sendable () -> [UInt8] = { [] },
        readLine: @escaping @Sendable () -> String? = { nil },
        isStandardInputTerminal: Bool = false, isStandardOutputTerminal: Bool = false,
        isStandardErrorTerminal: Bool = false, handlesSignals: Bool = false
    ) {
        self.arguments = arguments
        self.environment = environment
        self.currentDirectory = currentDirectory
        self.standardOutput = standardOutput
        self.standardError = standardError
        self.readStandardInput = readStandardInput
        self.readLine = readLine
        self.isStandardInputTerminal = isStandardInputTerminal
        self.isStandardOutputTerminal = isStandardOutputTerminal
        self.isStandardErrorTerminal = isStandardErrorTerminal
        self.handlesSignals = handlesSignals
    }

    /// Colour is for people at a terminal: never when NO_COLOR is set (no-color.org) or TERM is dumb.
    func usesColor(terminal: Bool) -> Bool {
        guard terminal else { return false }
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
        return environment["TERM"] != "dumb"
    }

    /// `path` made absolute against ``currentDirectory``.
    func absolutePath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return (currentDirectory.hasSuffix("/") ? currentDirectory : currentDirectory + "/") + path
    }
}

/// A text sink: the process's stdout or stderr, or a buffer in tests.
public final class OutputStream: Sendable {
    private let fileDescriptor: Int32?
    /// What a buffer collected; for a descriptor, held while writing so lines from threads never interleave.
    private let buffer = Locked("")
    /// Values no output may show (the raw `${env:…}` values of the spec): the last line of defence
    /// behind masking and per-webhook scrubbing, for a secret that turns up somewhere unexpected.
    private let hidden = Locked(SecretScrubber(secrets: []))
    /// What a failing `--format json` command prints on stdout instead of nothing: every `error:` line and
    /// every reported diagnostic, scrubbed as the text was (see ``HookApply/jsonFailure(_:_:)``).
    private let reported = Locked<[DiagnosticRenderer.Record]>([])
    private let wroteAnything = Locked(false)

    /// Writes through to a file descriptor.
    public init(fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
    }

    /// Collects text (for tests).
    public init() {
        self.fileDescriptor = nil
    }

    /// From now on, replaces these values wherever they appear in what is written.
    public func hide(_ secrets: [String]) {
        guard !secrets.isEmpty else { return }
        hidden.set(SecretScrubber(secrets: secrets))
    }

    public func write(_ text: String) {
        let hidden = self.hidden.value
        let text = hidden.isEmpty ? text : hidden.scrub(text)
        if !text.isEmpty { wroteAnything.set(true) }
        let fileDescriptor = self.fileDescriptor
        buffer.withLock { buffer in
            guard let fileDescriptor else {
                buffer += text
                return
            }
            var bytes = Array(text.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeMutableBytes { raw in
                    Foundation.write(fileDescriptor, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                }
                if written <= 0 { break }  // a closed pipe: nothing sensible to do but stop
                offset += written
            }
        }
    }

    /// Writes one line of plain text. Every control character in it is shown escaped (except the line
    /// breaks between its lines): messages quote registries, receivers and files, and an escape sequence
    /// or a forged line must not reach the terminal. Styled text is written with ``write(_:)``, its
    /// values escaped by the renderer that styled it.
    public func line(_ text: String = "") {
        let safe = text.split(separator: "\n", omittingEmptySubsequences: false).map { TerminalText.line(String($0)) }.joined(separator: "\n")
        write(safe + "\n")
        if text.hasPrefix("error: ") {
            let hidden = self.hidden.value
            let message = String(text.dropFirst("error: ".count))
            reported.withLock { $0.append(.failure(hidden.isEmpty ? message : hidden.scrub(message))) }
        }
    }

    /// Keeps structured diagnostics for a JSON failure document (the text form is written separately).
    func report(_ diagnostics: [Diagnostic], file: String) {
        let hidden = self.hidden.value
        reported.withLock { records in
            for diagnostic in diagnostics {
                var record = DiagnosticRenderer.Record(diagnostic, file: file)
                if !hidden.isEmpty { record.message = hidden.scrub(record.message) }
                records.append(record)
            }
        }
    }

    /// The `error:` lines and diagnostics written so far, in order.
    var reportedFailures: [DiagnosticRenderer.Record] { reported.value }

    /// Whether anything at all was written.
    var hasWritten: Bool { wroteAnything.value }

    /// What was written, for buffers.
    public var text: String { buffer.value }
}

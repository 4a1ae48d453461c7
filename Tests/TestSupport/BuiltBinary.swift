import Foundation

/// Runs a product executable of this package (`hookapply`) as a real process, for what only a real
/// process shows: signals, exit codes, file descriptors.
public struct BuiltBinary: Sendable {
    /// The executable next to the running test bundle (SwiftPM builds products and tests into one folder).
    public let path: String

    /// - Returns: nil when the product has not been built (run `swift build` first; `.ci/run` does).
    public init?(_ product: String) {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var folder = URL(fileURLWithPath: executable).deletingLastPathComponent()
        // On Linux the test runner is `<Package>PackageTests.xctest` in the build folder itself.
        if folder.lastPathComponent.hasSuffix(".xctest") { folder.deleteLastPathComponent() }
        let candidate = folder.appendingPathComponent(product).path
        guard FileManager.default.isExecutableFile(atPath: candidate) else { return nil }
        path = candidate
    }

    /// Any executable, by its path (`/bin/sh`, to run the product under a chosen umask).
    public init(executable path: String) {
        self.path = path
    }

    /// A started process whose standard output and error are collected as they arrive.
    public final class Running: @unchecked Sendable {
        public let process: Process
        private let lock = NSLock()
        private var out = Data()
        private var err = Data()

        /// Signalled by each reader thread when its pipe reaches end of file.
        private let finished = DispatchSemaphore(value: 0)
        private var drained = false

        init(process: Process, stdout: Pipe, stderr: Pipe) {
            self.process = process
            // One blocking reader per pipe, until end of file: nothing the process wrote before exiting is lost.
            for (pipe, isOut) in [(stdout, true), (stderr, false)] {
                let handle = pipe.fileHandleForReading
                Thread { [self] in
                    while true {
                        let data = handle.availableData
                        if data.isEmpty { break }
                        lock.withLock { if isOut { out.append(data) } else { err.append(data) } }
                    }
                    finished.signal()
                }.start()
            }
        }

        public var stdout: String { lock.withLock { String(decoding: out, as: UTF8.self) } }
        public var stderr: String { lock.withLock { String(decoding: err, as: UTF8.self) } }

        /// Sends `signal` (SIGINT, SIGTERM) to the process.
        public func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

        /// Waits for the exit, up to `timeout` seconds (then kills it and returns nil).
        public func wait(timeout: Double) -> Int32? {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning {
                process.terminate()
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return nil
            }
            process.waitUntilExit()
            // Both readers at end of file, once (a second wait would find the signals already taken).
            let first = lock.withLock { () -> Bool in
                defer { drained = true }
                return !drained
            }
            // Generous: on a machine busy with the rest of the suite a reader can lag; it returns at end of file.
            if first { for _ in 0..<2 { _ = finished.wait(timeout: .now() + 30) } }
            return process.terminationStatus
        }

        /// Waits until `condition` holds, up to `timeout` seconds.
        public func wait(until condition: () -> Bool, timeout: Double) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while !condition() {
                if Date() > deadline || !process.isRunning { return condition() }
                usleep(5_000)
            }
            return true
        }
    }

    /// Starts the binary in `directory` with exactly `environment` (plus this process's PATH, unless it has one).
    public func start(_ arguments: [String], environment: [String: String], directory: String) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = environment
        if env["PATH"] == nil { env["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin" }
        process.environment = env
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        let running = Running(process: process, stdout: stdout, stderr: stderr)
        try process.run()
        return running
    }
}

import Foundation
import HookKit
import Reconciler

/// The append-only delivery log: one JSON record per line, secrets already masked by ``WebhookDelivery``.
public struct EventLog: Sendable {
    /// Why the log could not be written.
    public struct Failure: MessageError, Hashable, Sendable, CustomStringConvertible {
        public enum Code: String, Hashable, Sendable {
            case open
            case append
        }

        public var code: Code
        public var message: String
        public var description: String { message }
    }

    public var path: String
    /// The size past which the log is rotated: `<path>` becomes `<path>.1`, `.1` becomes `.2`, and so on.
    public var maxBytes: Int
    /// How many rotated files are kept besides the current one (the oldest is dropped).
    public var keep: Int

    /// 16 MiB and 3 rotated files by default: at most 64 MiB on disk, tens of thousands of attempts.
    public init(path: String, maxBytes: Int = 16 * 1024 * 1024, keep: Int = 3) {
        self.path = path
        self.maxBytes = max(4096, maxBytes)
        self.keep = max(1, keep)
    }

    /// The files that make up the log, newest first: `<path>`, `<path>.1`, … `<path>.<keep>`.
    public var files: [String] { [path] + (1...keep).map { "\(path).\($0)" } }

    /// Serialises rotations within the process (serve's lanes append concurrently); appends themselves
    /// need no lock (O_APPEND), and an external rotation (logrotate's move or copytruncate) is simply
    /// followed: the file is opened by name for every append.
    private static let rotation = Locked(0)

    /// Rotates when the open file (`descriptor`) is too big to take `count` more bytes; true when it did
    /// (the caller then opens the new file).
    private func rotateIfNeeded(_ descriptor: Int32, adding count: Int) -> Bool {
        var info = stat()
        guard fstat(descriptor, &info) == 0, Int(info.st_size) > 0, Int(info.st_size) + count > maxBytes else { return false }
        rotate(adding: count)
        return true
    }

    private func rotate(adding count: Int) {
        Self.rotation.withLock { _ in
            // Another lane may have rotated while this one waited: look again.
            var again = stat()
            guard stat(path, &again) == 0, Int(again.st_size) > 0, Int(again.st_size) + count > maxBytes else { return }
            for index in stride(from: keep - 1, through: 1, by: -1) { rename("\(path).\(index)", "\(path).\(index + 1)") }
            rename(path, "\(path).1")
        }
    }

    public func append(_ record: DeliveryRecord) throws(Failure) {
        try append(contentsOf: [record])
    }

    /// Appends records in one write (serve's lanes write what a few deliveries did at once).
    public func append(contentsOf records: [DeliveryRecord]) throws(Failure) {
        guard !records.isEmpty else { return }
        var line: [UInt8] = []
        for record in records { line += record.jsonLine() + [0x0A] }
        // Never blocks: a log path that is a FIFO or a device is refused, not waited on.
        func open() -> Result<Int32, FileBytes.ReadError> {
            do { return .success(try FileBytes.openForAppending(path)) } catch { return .failure(error) }
        }
        var opened = open()
        if case .success(let descriptor) = opened, rotateIfNeeded(descriptor, adding: line.count) {
            close(descriptor)
            opened = open()
        }
        if case .failure(let problem) = opened, problem.kind == .missing {  // the folder is made on first use only: serve appends per attempt
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty { try? PrivateFolder.create(directory) }
            opened = open()
        }
        let descriptor: Int32
        switch opened {
        case .success(let value): descriptor = value
        case .failure(let problem): throw Failure(code: .open, message: "cannot open the event log '\(path)': \(problem.reason)")
        }
        defer { close(descriptor) }
        // One write for the lines: with O_APPEND, lines from concurrent writers never interleave.
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == line.count else {
            throw Failure(code: .append, message: "cannot append to the event log '\(path)'")
        }
        // No fsync: the log records what happened; losing its last lines in a power cut loses no event
        // (the delivery queue is what must be durable, and it is synced before every acknowledgement).
    }

    /// The records of one webhook (all when nil), newest first. Lines that do not parse are skipped:
    /// a torn last line after a crash must not hide the rest of the log.
    /// Reads the current file first, then the rotated ones, until `limit` records are found.
    public func read(webhook: String?, limit: Int) -> [DeliveryRecord] {
        let decoder = JSONDecoder()
        var newestFirst: [DeliveryRecord] = []
        for file in files {
            guard newestFirst.count < limit else { break }
            guard let data = try? FileBytes.read(file, limit: max(maxBytes, 1) * 4) else { continue }
            var records: [DeliveryRecord] = []
            for line in data.split(separator: 0x0A) where !line.isEmpty {
                guard let record = try? decoder.decode(DeliveryRecord.self, from: Data(line)) else { continue }
                if let webhook, record.webhook.lowercased() != webhook.lowercased() { continue }
                records.append(record)
            }
            newestFirst += records.reversed()
        }
        return Array(newestFirst.prefix(max(0, limit)))
    }
}

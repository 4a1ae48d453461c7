import Foundation
import Reconciler

/// The append-only delivery log: one JSON record per line, secrets already masked by ``WebhookDelivery``.
public struct EventLog: Sendable {
    /// Why the log could not be written.
    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        public enum Code: String, Hashable, Sendable {
            case open
            case append
        }

        public var code: Code
        public var message: String
        public var description: String { message }
    }

    public var path: String

    public init(path: String) {
        self.path = path
    }

    public func append(_ record: DeliveryRecord) throws(Failure) {
        var descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        if descriptor < 0 && errno == ENOENT {  // the folder is made on first use only: serve appends per attempt
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        }
        guard descriptor >= 0 else {
            throw Failure(code: .open, message: "cannot open the event log '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        // One write per line: with O_APPEND, lines from concurrent writers never interleave.
        let line = record.jsonLine() + [0x0A]
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == line.count else {
            throw Failure(code: .append, message: "cannot append to the event log '\(path)'")
        }
        // No fsync: the log records what happened; losing its last lines in a power cut loses no event
        // (the delivery queue is what must be durable, and it is synced before every acknowledgement).
    }

    /// The records of one webhook (all when nil), newest first. Lines that do not parse are skipped:
    /// a torn last line after a crash must not hide the rest of the log.
    public func read(webhook: String?, limit: Int) -> [DeliveryRecord] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let decoder = JSONDecoder()
        var records: [DeliveryRecord] = []
        for line in data.split(separator: 0x0A) where !line.isEmpty {
            guard let record = try? decoder.decode(DeliveryRecord.self, from: Data(line)) else { continue }
            if let webhook, record.webhook.lowercased() != webhook.lowercased() { continue }
            records.append(record)
        }
        return Array(records.reversed().prefix(max(0, limit)))
    }
}

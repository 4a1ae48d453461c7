import Delivery
import Foundation
import HookKit
import HookSpec
import Reconciler

/// A delivery `serve` gave up on after its last attempt: the event, the webhook, and the last answer,
/// scrubbed (it comes from a masked ``DeliveryRecord``). `serve replay` queues it again.
public struct DeadLetter: Hashable, Sendable {
    /// Unique per dead letter (an event can die, be replayed, and die again: two letters).
    public var key: String
    /// The event id deliveries carry.
    public var eventID: String
    public var webhook: String
    public var action: WebhookAction
    public var repository: String
    public var tag: String?
    public var isChart: Bool
    /// The ACR body, as queued (never wrapped or signed: that happens per attempt).
    public var body: [UInt8]
    public var attempts: Int
    /// The last answer's status, or nil when there was none (a transport error).
    public var status: Int?
    /// The last transport error, or the last answer's body (scrubbed, at most 4 KiB).
    public var answer: String
    /// When it was given up (RFC 3339).
    public var deadAt: String
    /// The queue's key of the delivery that died (in memory only: the queue forgets it once the letter is written).
    var queueID: String = ""

    public var subject: String { tag.map { "\(repository):\($0)" } ?? repository }
}

/// The dead letters of one queue: `<queue stem>.queue.dead.jsonl`, append-only JSON lines, each fsynced
/// before the queue forgets the delivery. `{"kind":"dead",…}` records a letter, `{"kind":"replayed","key":…}`
/// that `serve replay` queued it again (so each letter is replayed once). A torn last line is ignored.
///
/// Thread-safe: appends happen under one lock (a lane's journal, a replay), reads take the same lock.
public final class DeadLetterFile: Sendable {
    public let path: String
    /// Guards the file; holds how many letters are not replayed yet, once the file was read.
    private let lock = Locked<Int?>(nil)

    public init(path: String) {
        self.path = path
    }

    /// The file beside a queue file: `dev.queue.jsonl` → `dev.queue.dead.jsonl`.
    public static func path(forQueue queue: String) -> String {
        (queue.hasSuffix(".jsonl") ? String(queue.dropLast(6)) : queue) + ".dead.jsonl"
    }

    public struct Failure: MessageError, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The letters in the order they died, each with whether it was replayed already.
    public func read() throws -> [(letter: DeadLetter, replayed: Bool)] {
        try lock.withLock { pending in
            let all = try readUnlocked()
            pending = all.filter { !$0.replayed }.count
            return all
        }
    }

    /// Letters not replayed yet: counted from the file once, then kept up to date by this process.
    public func pendingCount() throws -> Int {
        if let known = lock.withLock({ $0 }) { return known }
        return try read().filter { !$0.replayed }.count
    }

    private func readUnlocked() throws(Failure) -> [(letter: DeadLetter, replayed: Bool)] {
        let data: [UInt8]
        do {
            data = try FileBytes.read(path, limit: Int(Int32.max))
        } catch {
            if error.kind == .missing { return [] }
            throw Failure(message: "cannot read the dead letters '\(path)': \(error.reason)")
        }
        var letters: [DeadLetter] = []
        var replayed: Set<String> = []
        for line in data.split(separator: 0x0A) where !line.isEmpty {
            // A torn line (a crash mid-append) or a line of another version is skipped, not fatal.
            guard let root = try? JSONReader.read(Array(line)), case .object(let members) = root.value else { continue }
            var strings: [String: String] = [:]
            var numbers: [String: Int] = [:]
            var flags: [String: Bool] = [:]
            for member in members {
                switch member.value.value {
                case .string(let text): strings[member.key] = text
                case .number(let text): numbers[member.key] = Int(text)
                case .bool(let flag): flags[member.key] = flag
                default: continue
                }
            }
            switch strings["kind"] {
            case "dead":
                guard let key = strings["key"], let id = strings["id"], let webhook = strings["webhook"],
                      let action = strings["action"].flatMap(WebhookAction.init(rawValue:)), let repository = strings["repository"],
                      let body = strings["body"], !key.isEmpty, !id.isEmpty, !webhook.isEmpty else { continue }
                letters.append(DeadLetter(key: key, eventID: id, webhook: webhook, action: action, repository: repository, tag: strings["tag"],
                                          isChart: flags["chart"] ?? false, body: Array(body.utf8), attempts: numbers["attempts"] ?? 0,
                                          status: numbers["status"], answer: strings["answer"] ?? "", deadAt: strings["dead_at"] ?? ""))
            case "replayed":
                if let key = strings["key"] { replayed.insert(key) }
            default:
                continue
            }
        }
        return letters.map { ($0, replayed.contains($0.key)) }
    }

    /// Records letters, durably, before the caller lets the queue forget them.
    public func append(_ letters: [DeadLetter]) throws {
        guard !letters.isEmpty else { return }
        var bytes: [UInt8] = []
        for letter in letters {
            var members: [String: CompactJSON.Value] = [
                "kind": .string("dead"), "key": .string(letter.key), "id": .string(letter.eventID), "webhook": .string(letter.webhook),
                "action": .string(letter.action.rawValue), "repository": .string(letter.repository), "chart": .bool(letter.isChart),
                "subject": .string(letter.subject), "body": .string(String(decoding: letter.body, as: UTF8.self)),
                "attempts": .number(String(letter.attempts)), "answer": .string(letter.answer), "dead_at": .string(letter.deadAt),
            ]
            if let tag = letter.tag { members["tag"] = .string(tag) }
            members["status"] = letter.status.map { .number(String($0)) } ?? .null
            bytes += CompactJSON.value(.object(members)) + [0x0A]
        }
        try lock.withLock { pending in
            try appendUnlocked(bytes)
            pending = pending.map { $0 + letters.count }
        }
    }

    /// The letters not replayed yet that `select` takes, in the order they died. Unless `dryRun`, hands
    /// them to `requeue` (which must make them durable in the queue) and then marks them replayed, all
    /// under the file's lock, so two replays never take the same letter. A crash between the two
    /// leaves them queued but unmarked: a later replay would queue them again (at least once).
    public func replay(selecting select: (DeadLetter) -> Bool, dryRun: Bool, requeue: ([DeadLetter]) throws -> Void) throws -> [DeadLetter] {
        try lock.withLock { pending in
            let all = try readUnlocked()
            pending = all.filter { !$0.replayed }.count
            let chosen = all.filter { !$0.replayed && select($0.letter) }.map(\.letter)
            guard !dryRun, !chosen.isEmpty else { return chosen }
            try requeue(chosen)
            let time = Timestamp.now()
            var bytes: [UInt8] = []
            for letter in chosen { bytes += CompactJSON.object(["kind": "replayed", "key": letter.key, "at": time]) + [0x0A] }
            try appendUnlocked(bytes)
            pending = pending.map { $0 - chosen.count }
            return chosen
        }
    }

    /// O_APPEND, then fsync: a letter the queue has forgotten must be on disk. Never follows a link at
    /// the last component, and refuses anything but a regular file (a FIFO would block serve's lane).
    private func appendUnlocked(_ bytes: [UInt8]) throws(Failure) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o600)
        guard descriptor >= 0 else {
            let reason = errno == ELOOP ? "it is a symbolic link; hookapply writes its own files only" : String(cString: strerror(errno))
            throw Failure(message: "cannot write the dead letters '\(path)': \(reason)")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw Failure(message: "cannot write the dead letters '\(path)': it is not a regular file")
        }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw Failure(message: "cannot write the dead letters '\(path)': \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        guard fsync(descriptor) == 0 else {
            throw Failure(message: "cannot write the dead letters '\(path)': fsync failed: \(String(cString: strerror(errno)))")
        }
    }
}

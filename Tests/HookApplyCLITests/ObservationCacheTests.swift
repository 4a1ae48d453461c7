import Foundation
import HookKit
import TestSupport
import Testing

@testable import HookApplyCLI

/// The Azure observation cache: a warm plan reads no secret it already knows unchanged (same ARM id,
/// same systemData.lastModifiedAt), and still sees every change made through ARM; what it cannot see (a
/// change that did not move lastModifiedAt) `--refresh full` does.
@Suite struct ObservationCacheTests {
    typealias Setup = AzureCommandTests.Setup

    /// A setup whose commands use a cache folder of their own.
    static func cached(_ setup: Setup) -> [String: String] { ["HOOKAPPLY_CACHE_DIR": setup.directory + "/cache", "HOOKAPPLY_CACHE_KEY": key] }

    /// A cache key as CI would set it (32 bytes, hex); the cache is sealed with it.
    static let key = String(repeating: "5a", count: 32)

    /// Writes a spec of `webhooks` webhooks and applies it with the cache on; `warm` then plans once, so
    /// that the cache holds every webhook.
    static func apply(_ setup: Setup, webhooks: Int, warm: Bool = false) async throws {
        try setup.write(AzureCommandTests.spec(endpoint: setup.emulator.endpoint, webhooks: webhooks))
        #expect(await setup.run(["apply", "--auto-approve"], environment: cached(setup)).code == .success)
        if warm { _ = await setup.run(["plan"], environment: cached(setup)) }
    }

    static func cacheFiles(_ setup: Setup) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: setup.directory + "/cache")) ?? []).map { setup.directory + "/cache/" + $0 }
    }

    @Test("a warm plan reads no secret: same plan, zero getCallbackConfig calls; the cache is 0600 and holds no secret")
    func warmPlan() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try await Self.apply(setup, webhooks: 12)
        let cold = setup.emulator.callbackConfigReads
        let first = await setup.run(["plan", "--detailed-exitcode"], environment: Self.cached(setup))
        #expect(first.code == .success, "\(first.stdout)\(first.stderr)")
        let afterFirst = setup.emulator.callbackConfigReads
        #expect(afterFirst - cold == 12, "the apply's observation read nothing into the cache, so the first plan reads all 12")
        let written = try #require(Self.cacheFiles(setup).first)
        let writtenAt = try FileManager.default.attributesOfItem(atPath: written)[.modificationDate] as? Date
        usleep(20_000)
        let warm = await setup.run(["plan", "--detailed-exitcode", "--format", "json"], environment: Self.cached(setup))
        #expect(warm.code == .success)
        #expect(setup.emulator.callbackConfigReads == afterFirst, "a warm plan without drift read secrets")
        #expect(try FileManager.default.attributesOfItem(atPath: written)[.modificationDate] as? Date == writtenAt, "a warm plan without drift rewrote the cache")
        let full = await setup.run(["plan", "--detailed-exitcode", "--format", "json", "--refresh", "full"], environment: Self.cached(setup))
        #expect(full.stdout == warm.stdout)
        #expect(setup.emulator.callbackConfigReads == afterFirst + 12)
        let files = Self.cacheFiles(setup)
        #expect(files.count == 1)
        for file in files {
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let text = try String(contentsOfFile: file, encoding: .utf8)
            #expect(!text.contains("c0de-secret") && !text.contains("t0ken-secret") && !text.contains("hooks.example.com"), "a secret in the cache")
        }
        let folder = try FileManager.default.attributesOfItem(atPath: setup.directory + "/cache")
        #expect((folder[.posixPermissions] as? NSNumber)?.intValue == 0o700)
    }

    @Test("property: changes made through ARM between plans are always seen, and only they are read", arguments: [3, 17, 29])
    func changesAreSeen(seed: UInt64) async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try await Self.apply(setup, webhooks: 10, warm: true)
        var random = SeededRandom(state: seed)
        for round in 0..<4 {
            var touched: Set<Int> = []
            for _ in 0..<(1 + random.below(3)) {
                let index = random.below(10)
                touched.insert(index)
                switch random.below(3) {
                case 0: try setup.armPatch(webhook: "hook\(index)x", properties: ["serviceUri": "https://other.example.com/\(round)?code=x\(random.below(1000))"])
                case 1: try setup.armPatch(webhook: "hook\(index)x", properties: ["customHeaders": ["Authorization": "Bearer rotated-\(random.below(1000))"]])
                default: try setup.armPatch(webhook: "hook\(index)x", properties: ["actions": ["push", "delete"]])
                }
            }
            let before = setup.emulator.callbackConfigReads
            let warm = await setup.run(["plan", "--format", "json"], environment: Self.cached(setup))
            let reads = setup.emulator.callbackConfigReads - before
            let full = await setup.run(["plan", "--format", "json", "--refresh", "full"], environment: Self.cached(setup))
            #expect(warm.stdout == full.stdout, "round \(round): the warm plan differs from a full observation")
            #expect(reads == touched.count, "round \(round): read \(reads) secrets for \(touched.count) changed webhooks")
            for index in touched { #expect(warm.stdout.contains("\"webhook\" : \"hook\(index)x\""), "round \(round): hook\(index)x's change was missed") }
            #expect(await setup.run(["apply", "--auto-approve"], environment: Self.cached(setup)).code == .success)
            #expect(await setup.run(["plan", "--detailed-exitcode"], environment: Self.cached(setup)).code == .success)
        }
    }

    @Test("without systemData (as Microsoft's examples show webhooks) every secret is read, every time")
    func withoutSystemData() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        setup.emulator.omitsSystemData = true
        try await Self.apply(setup, webhooks: 4)
        let before = setup.emulator.callbackConfigReads
        #expect(await setup.run(["plan", "--detailed-exitcode"], environment: Self.cached(setup)).code == .success)
        #expect(await setup.run(["plan", "--detailed-exitcode"], environment: Self.cached(setup)).code == .success)
        #expect(setup.emulator.callbackConfigReads - before == 8)
    }

    @Test("a damaged, foreign or newer cache is a note, never an error: the plan is right and the cache is written anew", arguments: [
        ("{not json", "is not one hookapply wrote"),
        (#"{"format_version": 99, "resource_id": "x", "webhooks": {}}"#, "has format 99"),
        (#"{"format_version": 1, "resource_id": "x", "webhooks": {}}"#, "has format 1"),
        (#"{"format_version": 2, "resource_id": "/subscriptions/other", "webhooks": {}}"#, "belongs to another registry"),
        (#"{"format_version": 2, "resource_id": 5}"#, "is damaged"),
    ])
    func damagedCache(content: String, note: String) async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try await Self.apply(setup, webhooks: 3, warm: true)
        let file = try #require(Self.cacheFiles(setup).first)
        try content.write(toFile: file, atomically: true, encoding: .utf8)
        let planned = await setup.run(["plan", "--detailed-exitcode"], environment: Self.cached(setup))
        #expect(planned.code == .success, "\(planned.stderr)")
        #expect(planned.stderr.contains("note: registry 'prod': the observation cache") && planned.stderr.contains(note), "\(planned.stderr)")
        let before = setup.emulator.callbackConfigReads
        let again = await setup.run(["plan", "--detailed-exitcode"], environment: Self.cached(setup))
        #expect(again.code == .success && !again.stderr.contains("note:"), "\(again.stderr)")
        #expect(setup.emulator.callbackConfigReads == before, "the cache was not written anew")
    }

    @Test("a cache edited by hand (one header spelling under two names, a digest that matches nothing) cannot crash or mislead a plan")
    func editedCache() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try await Self.apply(setup, webhooks: 2, warm: true)
        let file = try #require(Self.cacheFiles(setup).first)
        var root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
        var webhooks = try #require(root["webhooks"] as? [String: Any])
        var entry = try #require(webhooks["hook0x"] as? [String: Any])
        var secrets = try #require(entry["secrets"] as? [String: Any])
        secrets["headerNames"] = ["authorization": "Authorization", "x-other": "Authorization"]
        secrets["headers"] = ["authorization": String(repeating: "0", count: 64), "x-other": String(repeating: "1", count: 64)]
        entry["secrets"] = secrets
        webhooks["hook0x"] = entry
        root["webhooks"] = webhooks
        try JSONSerialization.data(withJSONObject: root).write(to: URL(fileURLWithPath: file))
        let before = setup.emulator.callbackConfigReads
        let planned = await setup.run(["plan", "--detailed-exitcode"], environment: Self.cached(setup))
        #expect(planned.code == .success, "no drift: the edited entry matches nothing, so its webhook is read for real\n\(planned.stdout)\(planned.stderr)")
        #expect(setup.emulator.callbackConfigReads == before + 1, "only the edited webhook is read")
    }

    @Test("what the cache trusts: a change that did not move lastModifiedAt is missed by a warm plan and seen with --refresh full")
    func trustBoundary() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try await Self.apply(setup, webhooks: 2, warm: true)
        setup.emulator.tamper(subscription: AzureCommandTests.subscription, group: "rg-prod", name: "contosoprod", webhook: "hook0x",
                              serviceUri: "https://tampered.example.com/")
        #expect(await setup.run(["plan", "--detailed-exitcode"], environment: Self.cached(setup)).code == .success)
        let full = await setup.run(["plan", "--detailed-exitcode", "--refresh", "full"], environment: Self.cached(setup))
        #expect(full.code == .changes, "\(full.stdout)")
        #expect(full.stdout.contains("hook0x"))
    }

    @Test("a sealed webhook that is replaced is read first: a failed create puts back its real secrets")
    func replacementRestoresRealSecrets() async throws {
        let setup = try Setup(replicas: ["westeurope"])
        defer { setup.finish() }
        func spec(location: String, code: String) -> String {
            AzureCommandTests.spec(endpoint: setup.emulator.endpoint, webhooks: 1, extra: #", "location": "\#(location)""#)
                .replacingOccurrences(of: "${env:CODE}", with: code)
        }
        try setup.write(spec(location: "westus", code: "original-code"))
        #expect(await setup.run(["apply", "--auto-approve"], environment: Self.cached(setup)).code == .success)
        _ = await setup.run(["plan"], environment: Self.cached(setup))  // the cache now knows hook0x
        let before = try #require(setup.emulator.hooks(subscription: AzureCommandTests.subscription, group: "rg-prod", name: "contosoprod").first)
        // Both the location (a replacement) and the secret (so the digests do not match) change.
        try setup.write(spec(location: "westeurope", code: "new-code"))
        setup.emulator.failNextCreates = 1
        let applied = await setup.run(["apply", "--auto-approve"], environment: Self.cached(setup))
        #expect(applied.code == .failure)
        #expect(applied.stdout.contains("the old webhook was put back as it was"), "\(applied.stdout)")
        let after = try #require(setup.emulator.hooks(subscription: AzureCommandTests.subscription, group: "rg-prod", name: "contosoprod").first)
        #expect(after.serviceUri == before.serviceUri && after.serviceUri.contains("original-code"), "restored with \(after.serviceUri)")
        #expect(after.customHeaders == before.customHeaders && after.location == "westus")
    }

    @Test("another owner's unchanged webhooks stay sealed: a warm plan reads none of them")
    func othersStaySealed() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        for index in 0..<5 {
            setup.emulator.seed(subscription: AzureCommandTests.subscription, group: "rg-prod", name: "contosoprod", hook: ARMEmulator.Hook(
                name: "theirs\(index)x", location: "westus", tags: ["hookapply-owner": "other-team"], status: "enabled", scope: "",
                actions: ["push"], serviceUri: "https://theirs.example.com/\(index)?key=their-secret", customHeaders: ["X-Key": "their-secret"]))
        }
        try await Self.apply(setup, webhooks: 2, warm: true)
        let before = setup.emulator.callbackConfigReads
        let warm = await setup.run(["plan", "--detailed-exitcode", "--strict"], environment: Self.cached(setup))
        #expect(warm.code == .changes, "strict: the unmanaged webhooks count as drift")
        #expect(warm.stdout.contains("theirs0x"))
        #expect(setup.emulator.callbackConfigReads == before)
        #expect(!warm.stdout.contains("their-secret"))
    }

    @Test("HOOKAPPLY_CACHE_DIR naming a file gets a sentence, not a Cocoa error code; the plan still works")
    func cacheFolderIsAFile() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try await Self.apply(setup, webhooks: 1)
        try "not a folder".write(toFile: setup.directory + "/cachefile", atomically: true, encoding: .utf8)
        let result = await setup.run(["plan"], environment: ["HOOKAPPLY_CACHE_DIR": setup.directory + "/cachefile", "HOOKAPPLY_CACHE_KEY": Self.key])
        #expect(result.code == .success, "\(result.stderr)")
        #expect(result.stderr.contains("cachefile is a file, not a folder; point HOOKAPPLY_CACHE_DIR at a folder"), "\(result.stderr)")
        #expect(!result.stderr.contains("NSCocoaErrorDomain") && !result.stderr.contains("code 5"), "\(result.stderr)")
        #expect(try String(contentsOfFile: setup.directory + "/cachefile", encoding: .utf8) == "not a folder")
    }

    /// Rewrites one entry of the cache file.
    static func editEntry(_ setup: Setup, _ webhook: String, _ edit: (inout [String: Any]) -> Void) throws {
        let file = try #require(Self.cacheFiles(setup).first)
        var root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
        var webhooks = try #require(root["webhooks"] as? [String: Any])
        var entry = try #require(webhooks[webhook] as? [String: Any])
        edit(&entry)
        webhooks[webhook] = entry
        root["webhooks"] = webhooks
        try JSONSerialization.data(withJSONObject: root).write(to: URL(fileURLWithPath: file))
    }

    @Test("someone who can write the cache cannot hide drift made through ARM: an entry claiming the new lastModifiedAt fails authentication and is read")
    func forgedEntryCannotHideDrift() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try await Self.apply(setup, webhooks: 2, warm: true)
        try setup.armPatch(webhook: "hook0x", properties: ["serviceUri": "https://attacker.example.com/steal"])
        let now = try #require(setup.emulator.lastModifiedAt(subscription: AzureCommandTests.subscription, group: "rg-prod", name: "contosoprod", webhook: "hook0x"))
        // The forger keeps the old digests (those of the spec's values) and claims the webhook unchanged since.
        try Self.editEntry(setup, "hook0x") { $0["lastModifiedAt"] = now }
        let planned = await setup.run(["plan", "--detailed-exitcode"], environment: Self.cached(setup))
        #expect(planned.code == .changes, "the forged entry hid the drift:\n\(planned.stdout)\(planned.stderr)")
        #expect(planned.stdout.contains("hook0x"))
        #expect(planned.stderr.contains("1 entry of the observation cache") && planned.stderr.contains("failed authentication"), "\(planned.stderr)")
        // With another key the whole cache is someone else's: every entry is read again, nothing is trusted.
        let otherKey = await setup.run(["plan", "--detailed-exitcode"], environment: Self.cached(setup).merging(["HOOKAPPLY_CACHE_KEY": String(repeating: "ab", count: 32)]) { $1 })
        #expect(otherKey.code == .changes)
        #expect(otherKey.stderr.contains("failed authentication"), "\(otherKey.stderr)")
    }

    @Test("the cache keeps keyed digests only: no plain SHA-256 of a secret, and no secret")
    func noPlainDigests() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try await Self.apply(setup, webhooks: 2, warm: true)
        let text = try String(contentsOfFile: try #require(Self.cacheFiles(setup).first), encoding: .utf8)
        for secret in ["c0de-secret", "t0ken-secret", "Bearer t0ken-secret", "https://hooks.example.com/0?code=c0de-secret"] {
            #expect(!text.contains(secret))
            #expect(!text.contains(SHA256.hexDigest(secret)), "a plain digest of '\(secret)' is in the cache")
        }
        #expect(text.contains("\"mac\""))
    }

    @Test("a cache folder that others can write, or that is not the user's, is not used: a note, and every secret is read")
    func untrustedFolder() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try await Self.apply(setup, webhooks: 2, warm: true)
        let folder = setup.directory + "/cache"
        #expect(chmod(folder, 0o777) == 0)
        let before = setup.emulator.callbackConfigReads
        let open = await setup.run(["plan", "--detailed-exitcode"], environment: Self.cached(setup))
        #expect(open.code == .success)
        #expect(open.stderr.contains("can be written by others") && open.stderr.contains("not using it"), "\(open.stderr)")
        #expect(setup.emulator.callbackConfigReads == before + 2)
        #expect(chmod(folder, 0o700) == 0)
        if geteuid() == 0 {
            // Root can give the folder away: a folder of another user is refused the same way.
            #expect(chown(folder, 65534, 65534) == 0)
            let foreign = await setup.run(["plan", "--detailed-exitcode"], environment: Self.cached(setup))
            #expect(foreign.stderr.contains("belongs to another user"), "\(foreign.stderr)")
            #expect(setup.emulator.callbackConfigReads == before + 4)
        }
    }

    @Test("without a key to keep, the cache stays in memory: one note, no file, and a one-shot plan is cold")
    func ephemeralKey() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try setup.write(AzureCommandTests.spec(endpoint: setup.emulator.endpoint, webhooks: 2))
        let environment = ["HOOKAPPLY_CACHE_DIR": setup.directory + "/cache"]  // no key, no HOME, no XDG_CONFIG_HOME
        #expect(await setup.run(["apply", "--auto-approve"], environment: environment).code == .success)
        let before = setup.emulator.callbackConfigReads
        let planned = await setup.run(["plan", "--detailed-exitcode"], environment: environment)
        #expect(planned.code == .success)
        #expect(planned.stderr.components(separatedBy: "held in memory for this process only").count == 2, "one note: \(planned.stderr)")
        #expect(setup.emulator.callbackConfigReads == before + 2, "a one-shot command without a key is cold")
        #expect(Self.cacheFiles(setup).isEmpty, "an entry sealed with a key that dies with the process was written")
    }

    @Test("a key file is made 0600 on first use in XDG_CONFIG_HOME and reused; a key file others can read is refused")
    func keyFile() async throws {
        let setup = try Setup()
        defer { setup.finish() }
        try setup.write(AzureCommandTests.spec(endpoint: setup.emulator.endpoint, webhooks: 2))
        let config = setup.directory + "/config"
        let environment = ["HOOKAPPLY_CACHE_DIR": setup.directory + "/cache", "XDG_CONFIG_HOME": config]
        #expect(await setup.run(["apply", "--auto-approve"], environment: environment).code == .success)
        _ = await setup.run(["plan"], environment: environment)
        let keyPath = config + "/hookapply/cache.key"
        var info = stat()
        #expect(stat(keyPath, &info) == 0 && info.st_mode & 0o777 == 0o600)
        let before = setup.emulator.callbackConfigReads
        let warm = await setup.run(["plan", "--detailed-exitcode"], environment: environment)
        #expect(warm.code == .success && !warm.stderr.contains("note:"), "\(warm.stderr)")
        #expect(setup.emulator.callbackConfigReads == before, "the key file's key did not keep the cache warm")
        #expect(chmod(keyPath, 0o644) == 0)
        let exposed = await setup.run(["plan", "--detailed-exitcode"], environment: environment)
        #expect(exposed.stderr.contains("can be read or written by others"), "\(exposed.stderr)")
        #expect(setup.emulator.callbackConfigReads == before + 2)
        // The key itself is in no output.
        let key = try String(contentsOfFile: keyPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!(warm.stdout + warm.stderr + exposed.stdout + exposed.stderr).contains(key))
    }
}

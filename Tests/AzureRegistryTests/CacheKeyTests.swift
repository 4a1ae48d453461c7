import Foundation
import HookKit
import Testing

@testable import AzureRegistry

/// Where the observation cache's key comes from, and what is accepted as one.
@Suite struct CacheKeyTests {
    @Test("HOOKAPPLY_CACHE_KEY: 32 bytes or more as hex or base64 (standard or URL-safe, padding optional); anything else is held in memory with a note",
          arguments: [
        (String(repeating: "0f", count: 32), true),
        (String(repeating: "0F", count: 40), true),
        (Data(repeating: 7, count: 32).base64EncodedString(), true),
        (Data(repeating: 0xFB, count: 33).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: ""), true),
        (String(repeating: "0f", count: 31), false),
        (Data(repeating: 7, count: 31).base64EncodedString(), false),
        ("not a key at all!", false),
    ])
    func environmentKey(_ value: String, _ accepted: Bool) {
        let key = CacheKey.find(environment: ["HOOKAPPLY_CACHE_KEY": value])
        #expect((key.source == .environment) == accepted, "\(value)")
        #expect(key.isEphemeral == !accepted)
        if !accepted {
            #expect(key.note?.contains("HOOKAPPLY_CACHE_KEY is not a key of at least 32 bytes") == true)
            #expect(key.note?.contains(value) == false, "the note quoted the variable's value")
        }
    }

    @Test("two keys seal the same value differently; one key the same way every time")
    func sealing() {
        let one = CacheKey.find(environment: ["HOOKAPPLY_CACHE_KEY": String(repeating: "01", count: 32)])
        let two = CacheKey.find(environment: ["HOOKAPPLY_CACHE_KEY": String(repeating: "02", count: 32)])
        #expect(one.hmac.hexCode("secret") == one.hmac.hexCode("secret"))
        #expect(one.hmac.hexCode("secret") != two.hmac.hexCode("secret"))
    }

    @Test("no variable and no folder for a key file: the process key, one note for the whole run")
    func memoryKey() {
        let store = CacheKeyStore(environment: [:])
        #expect(store.key.isEphemeral)
        #expect(store.takeNote() != nil)
        #expect(store.takeNote() == nil)
        #expect(CacheKey.find(environment: [:]).hmac == store.key.hmac, "one key per process")
    }

    @Test("two processes making the key file at once end with one key (the file is linked into place whole)")
    func concurrentCreation() throws {
        let folder = NSTemporaryDirectory() + "hookapply-key-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let found = Locked<[CacheKey]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let key = CacheKey.find(environment: ["XDG_CONFIG_HOME": folder])
            found.withLock { $0.append(key) }
        }
        let keys = found.value
        #expect(Set(keys.map { $0.hmac.hexCode("x") }).count == 1)
        #expect(keys.allSatisfy { $0.source == .file(folder + "/hookapply/cache.key") })
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder + "/hookapply").filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }
}

import HookSpec
import TestSupport
import Testing

@testable import Serve

/// The index only narrows the webhooks an event is checked against: it must return exactly what the
/// plain scan over every webhook returns, for any webhooks and any event.
@Suite struct WebhookIndexTests {
    static let repositories = ["demo/hello", "demo/other", "team/app", "é/ünïcode", "demo"]
    static let scopes: [String] = ["", "demo/hello", "demo/hello:*", "demo/hello:v1", "demo/hello:latest", "demo/other:*", "team/app:v2",
                                   "é/ünïcode:*", "demo:*", "demo/hel", "demo/hello:", ":v1", "nothing/here:*"]

    @Test("property: the index returns exactly what the plain scan returns, in webhook order")
    func sameAsScan() {
        var random = SeededRandom(state: 0x5EED_1DE)
        for _ in 0..<300 {
            let webhooks = (0..<random.below(40)).map { number in
                WebhookState(name: "hook\(number)", serviceUri: "https://h.example.com/", actions: (0..<(1 + random.below(3))).map { _ in random.pick(WebhookAction.allCases) },
                             status: random.chance(80) ? .enabled : .disabled, scope: random.pick(Self.scopes))
            }
            let index = WebhookIndex(webhooks)
            for _ in 0..<20 {
                let action = random.pick([WebhookAction.push, .delete, .chartPush])
                let event = RegistryNotification(id: "e", action: action, repository: random.pick(Self.repositories),
                                                 tag: action == .delete ? nil : random.pick(["v1", "v2", "latest", ""]), body: [])
                #expect(index.indices(for: event) == WebhookMatcher.indices(for: event, among: webhooks), "\(event) \(webhooks.map(\.scope))")
            }
        }
    }

    @Test("the index is reused only for the very array it was built from")
    func identity() {
        let webhooks = [WebhookState(name: "a1", serviceUri: "https://h.example.com/", actions: [.push], scope: "demo/hello:*")]
        let index = WebhookIndex(webhooks)
        let same = webhooks
        #expect(index.isBuilt(from: same))
        var changed = webhooks
        changed[0].scope = "demo/other:*"  // copied on write: another array
        #expect(!index.isBuilt(from: changed))
        #expect(!index.isBuilt(from: webhooks.map { $0 }))
        #expect(!index.isBuilt(from: []))
    }
}

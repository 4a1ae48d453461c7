import HookSpec
import Testing

@testable import Reconciler

/// Masking of secrets in text bound for logs and output.
@Suite struct SecretScrubberTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var id: String
        var secrets: [String]
        var text: String
        var expected: String
        var testDescription: String { id }
    }

    static let masked = Redaction.sensitiveValue

    @Test("every occurrence is replaced, longest secret first", arguments: [
        Case(id: "none", secrets: ["s3cret"], text: "nothing here", expected: "nothing here"),
        Case(id: "once", secrets: ["s3cret"], text: "token=s3cret&x=1", expected: "token=\(masked)&x=1"),
        Case(id: "at both ends, twice", secrets: ["s3cret"], text: "s3cret and s3cret", expected: "\(masked) and \(masked)"),
        Case(id: "adjacent", secrets: ["s3cret"], text: "s3crets3cret", expected: masked + masked),
        Case(id: "a secret containing another", secrets: ["abcd", "abcdefgh"], text: "x abcdefgh y abcd", expected: "x \(masked) y \(masked)"),
        Case(id: "too short to hide by substring", secrets: ["abc"], text: "abc", expected: "abc"),
        Case(id: "non-ASCII secret", secrets: ["pässwörd"], text: "p=pässwörd.", expected: "p=\(masked)."),
        Case(id: "followed by a combining mark", secrets: ["s3cret"], text: "k=s3cret\u{301}", expected: "k=\(masked)\u{301}"),
    ])
    func scrub(_ testCase: Case) {
        #expect(SecretScrubber(secrets: testCase.secrets).scrub(testCase.text) == testCase.expected)
    }

    @Test("a webhook's header values, full URI, query and userinfo are its secrets; Content-Type is not")
    func webhookSecrets() {
        let webhook = WebhookState(name: "w", serviceUri: "https://user:pw-secret@hooks.example.com/x?code=query-secret",
                                   customHeaders: [ResolvedHeader(name: "Authorization", value: "Bearer header-secret"),
                                                   ResolvedHeader(name: "Content-Type", value: "application/json")],
                                   actions: [.push], scope: "")
        let text = "Bearer header-secret code=query-secret user:pw-secret application/json"
        let scrubbed = SecretScrubber(webhook: webhook).scrub(text)
        for secret in ["header-secret", "query-secret", "pw-secret"] { #expect(!scrubbed.contains(secret)) }
        #expect(scrubbed.contains("application/json"))
    }
}

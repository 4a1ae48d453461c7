import Foundation
import HookSpec
import Reconciler
import Testing

@testable import Serve

/// Translation of CNCF Distribution notifications into ACR events, and which webhooks they reach.
/// The bodies are the ones Debian's docker-registry 2.8.2 sent on this kind of machine (shared/docs).
@Suite struct DistributionTranslatorTests {
    static let manifestPush = """
        {"events": [{"id": "83352be4-774b-4607-b7b1-05dafccb3de8", "timestamp": "2026-11-29T03:55:18.024411146Z", "action": "push",
          "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 418,
            "digest": "sha256:1f3e703365b002f03b8016fe9fd128f5d6bb2547eb6559bf11336e1553287a9d", "length": 418, "repository": "demo/hello",
            "url": "http://127.0.0.1:5000/v2/demo/hello/manifests/sha256:1f3e", "tag": "v2",
            "references": [{"mediaType": "application/vnd.oci.image.config.v1+json", "size": 190, "digest": "sha256:b0e7"}]},
          "request": {"id": "94aefbf6-b140-4c1d-92ab-f4bcb2b48ea8", "addr": "127.0.0.1:32880", "host": "127.0.0.1:5000", "method": "PUT", "useragent": "skopeo/1.9.3"},
          "actor": {}, "source": {"addr": "vm:5000", "instanceID": "a938c512-edef-4f2a-9015-d1c3a986252b"}}]}
        """

    static let manifestDelete = """
        {"events": [{"id": "492626a3-299c-4b3d-8580-ec3aa66738b0", "timestamp": "2026-11-29T03:55:26.514778178Z", "action": "delete",
          "target": {"digest": "sha256:1f3e703365b002f03b8016fe9fd128f5d6bb2547eb6559bf11336e1553287a9d", "repository": "demo/hello"},
          "request": {"id": "a174d391-f9ca-47b5-a07a-4ecd3fc8c5f0", "addr": "127.0.0.1:58432", "host": "127.0.0.1:5000", "method": "DELETE", "useragent": "skopeo/1.9.3"},
          "actor": {}, "source": {"addr": "vm:5000", "instanceID": "a938c512"}}]}
        """

    @Test("a manifest push with a tag becomes ACR's push event")
    func push() throws {
        let events = try DistributionTranslator.translate(Array(Self.manifestPush.utf8))
        let event = try #require(events.first)
        #expect(events.count == 1)
        #expect(event.id == "83352be4-774b-4607-b7b1-05dafccb3de8")
        #expect(event.action == .push && event.repository == "demo/hello" && event.tag == "v2")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(event.body)) as? [String: Any])
        #expect(Set(body.keys) == ["id", "timestamp", "action", "target", "request", "actor", "source"])
        // ACR's event model carries both, as Event Grid's data does (a CloudEvents delivery's `data`).
        #expect((body["actor"] as? [String: Any])?.isEmpty == true)
        #expect(body["source"] as? [String: String] == ["addr": "vm:5000", "instanceID": "a938c512-edef-4f2a-9015-d1c3a986252b"])
        #expect(!event.isChart)
        let target = try #require(body["target"] as? [String: Any])
        #expect(Set(target.keys) == ["mediaType", "size", "digest", "length", "repository", "tag"])
        #expect(target["size"] as? Int == 418)
        let request = try #require(body["request"] as? [String: Any])
        #expect(Set(request.keys) == ["id", "host", "method", "useragent"])  // no client address: ACR does not send it
    }

    @Test("a manifest whose references hold a Helm config is a chart; without references it is not")
    func chart() throws {
        let chart = Self.manifestPush.replacingOccurrences(of: "application/vnd.oci.image.config.v1+json", with: "application/vnd.cncf.helm.config.v1+json")
        #expect(try DistributionTranslator.translate(Array(chart.utf8)).first?.isChart == true)
        let noReferences = Self.manifestPush.replacingOccurrences(of: "\"references\"", with: "\"other\"")
        #expect(try DistributionTranslator.translate(Array(noReferences.utf8)).first?.isChart == false)
    }

    @Test("a manifest delete by digest becomes ACR's delete event, with no tag")
    func delete() throws {
        let event = try #require(try DistributionTranslator.translate(Array(Self.manifestDelete.utf8)).first)
        #expect(event.action == .delete && event.tag == nil)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(event.body)) as? [String: Any])
        let target = try #require(body["target"] as? [String: Any])
        #expect(Set(target.keys) == ["digest", "repository"])
    }

    @Test("blob pushes, tagless pushes, tag deletes, pulls and mounts are not forwarded", arguments: [
        #"{"id": "1", "action": "push", "target": {"mediaType": "application/octet-stream", "digest": "sha256:a", "repository": "r", "size": 1}}"#,
        #"{"id": "2", "action": "push", "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:a", "repository": "r"}}"#,
        #"{"id": "3", "action": "delete", "target": {"repository": "r", "tag": "v2"}}"#,
        #"{"id": "4", "action": "pull", "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "repository": "r", "tag": "v2"}}"#,
        #"{"id": "5", "action": "mount", "target": {"digest": "sha256:a", "repository": "r", "fromRepository": "x"}}"#,
    ])
    func ignored(_ event: String) throws {
        #expect(try DistributionTranslator.translate(Array(#"{"events": [\#(event)]}"#.utf8)).isEmpty)
    }

    @Test("bodies that are not notification envelopes are refused whole", arguments: ["", "[]", "{}", #"{"events": 3}"#, #"{"events": [1]}"#, "{\"events\": [}"])
    func malformed(_ body: String) {
        #expect(throws: DistributionTranslator.Failure.self) { try DistributionTranslator.translate(Array(body.utf8)) }
    }

    struct ScopeCase: Sendable, CustomTestStringConvertible {
        var scope: String
        var tag: String?
        var matches: Bool
        var testDescription: String { "scope '\(scope)' and \(tag.map { "tag \($0)" } ?? "a delete")" }
    }

    @Test("scope matching (ACR's rules; a delete names no tag)", arguments: [
        ScopeCase(scope: "", tag: "v2", matches: true),
        ScopeCase(scope: "", tag: nil, matches: true),
        ScopeCase(scope: "demo/hello:*", tag: "v2", matches: true),
        ScopeCase(scope: "demo/hello:*", tag: nil, matches: true),
        ScopeCase(scope: "demo/hello:v2", tag: "v2", matches: true),
        ScopeCase(scope: "demo/hello:v2", tag: "v3", matches: false),
        ScopeCase(scope: "demo/hello:v2", tag: nil, matches: false),
        ScopeCase(scope: "demo/hello", tag: "latest", matches: true),
        ScopeCase(scope: "demo/hello", tag: "v2", matches: false),
        ScopeCase(scope: "demo/hello", tag: nil, matches: false),
        ScopeCase(scope: "demo/other:*", tag: "v2", matches: false),
        ScopeCase(scope: "demo:*", tag: "v2", matches: false),
        ScopeCase(scope: "demo/hell:*", tag: "v2", matches: false),
        ScopeCase(scope: "demo/hello2:*", tag: "v2", matches: false),
        ScopeCase(scope: "demo/hello:", tag: "v2", matches: false),
        ScopeCase(scope: "demo/hello:v2*", tag: "v2", matches: false),
    ])
    func scopes(_ testCase: ScopeCase) {
        #expect(WebhookMatcher.scope(testCase.scope, matchesRepository: "demo/hello", tag: testCase.tag) == testCase.matches)
    }

    @Test("an event reaches enabled webhooks whose actions and scope match, and no others")
    func selection() throws {
        let push = try #require(try DistributionTranslator.translate(Array(Self.manifestPush.utf8)).first)
        let webhooks = [
            WebhookState(name: "all", serviceUri: "https://a.example.com", actions: [.push, .delete]),
            WebhookState(name: "scoped", serviceUri: "https://a.example.com", actions: [.push], scope: "demo/hello:*"),
            WebhookState(name: "othertag", serviceUri: "https://a.example.com", actions: [.push], scope: "demo/hello:v9"),
            WebhookState(name: "deletesonly", serviceUri: "https://a.example.com", actions: [.delete]),
            WebhookState(name: "paused", serviceUri: "https://a.example.com", actions: [.push], status: .disabled),
        ]
        #expect(WebhookMatcher.webhooks(for: push, among: webhooks).map(\.name) == ["all", "scoped"])
        let delete = try #require(try DistributionTranslator.translate(Array(Self.manifestDelete.utf8)).first)
        #expect(WebhookMatcher.webhooks(for: delete, among: webhooks).map(\.name) == ["all", "deletesonly"])
    }
}

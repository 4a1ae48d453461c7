import Testing

@testable import HookSpec

/// Every validation rule, valid and invalid, as (pointer, code) pairs. Wording is pinned by the CLI's golden file.
@Suite struct SpecValidationTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var id: String
        var json: String
        var expected: Set<Expected>
        var testDescription: String { id }

        init(_ id: String, _ json: String, _ expected: [(String, String)] = []) {
            self.id = id
            self.json = json
            self.expected = Set(expected.map { Expected(pointer: $0.0, code: $0.1) })
        }
    }

    struct Expected: Hashable, Sendable, CustomStringConvertible {
        var pointer: String
        var code: String
        var description: String { "(\(pointer), \(code))" }
    }

    /// A spec with one local registry holding the given webhook objects.
    static func hooks(_ webhooks: String...) -> String {
        #"{"version": 1, "registries": [{"name": "dev", "local": {}, "webhooks": [\#(webhooks.joined(separator: ","))]}]}"#
    }

    /// A webhook object with sensible defaults and `extra` members appended (later keys must not repeat these).
    static func hook(name: String = "myhook", uri: String = "https://hooks.example.com/x", actions: String = #"["push"]"#, _ extra: String = "") -> String {
        #"{"name": "\#(name)", "serviceUri": "\#(uri)", "actions": \#(actions)\#(extra.isEmpty ? "" : ", " + extra)}"#
    }

    static func azure(_ body: String, webhooks: String = "") -> String {
        #"{"version": 1, "registries": [{"name": "prod", "azure": {\#(body)}, "webhooks": [\#(webhooks)]}]}"#
    }

    static let goodAzure = #""subscriptionId": "6e9ef8d4-3c07-4a07-9d7e-1c4f3a7e2b11", "resourceGroup": "rg-prod", "registry": "contosoprod""#
    static let w0 = "/registries/0/webhooks/0"

    static let cases: [Case] = [
        // The whole document
        Case("minimal valid spec", hooks(hook())),
        Case("valid spec with every field",
             hooks(hook(#", "customHeaders": {"Authorization": "Bearer x", "Content-Type": "application/json"}, "status": "disabled", "scope": "web/app:v1.2", "description": "d""#.dropFirst(2).description))),
        Case("$schema is allowed at the top", #"{"$schema": "x", "version": 1, "registries": [{"name": "dev", "local": {}, "webhooks": []}]}"#),
        Case("not an object", "[]", [("", "not-a-spec")]),
        Case("a string, not a spec", #""SECRET-FROM-ELSEWHERE""#, [("", "not-a-spec")]),
        Case("missing version and registries: not a spec", "{}", [("", "not-a-spec")]),
        Case("another file's object: not a spec", #"{"token": "SECRET-VALUE"}"#, [("", "not-a-spec")]),
        Case("missing registries", #"{"version": 1}"#, [("/registries", "missing-key")]),
        Case("version 2 is refused and nothing else is checked", #"{"version": 2, "registries": 5, "bogus": 1}"#, [("/version", "unsupported-version")]),
        Case("version 0", #"{"version": 0, "registries": [{"name": "dev", "local": {}, "webhooks": []}]}"#, [("/version", "invalid-version")]),
        Case("version as a string", #"{"version": "1", "registries": [{"name": "dev", "local": {}, "webhooks": []}]}"#, [("/version", "invalid-version")]),
        Case("version 1.5", #"{"version": 1.5, "registries": [{"name": "dev", "local": {}, "webhooks": []}]}"#, [("/version", "invalid-version")]),
        Case("empty registries", #"{"version": 1, "registries": []}"#, [("/registries", "no-registries")]),
        Case("unknown top-level key", #"{"version": 1, "owners": "x", "registries": [{"name": "dev", "local": {}, "webhooks": []}]}"#, [("/owners", "unknown-key")]),
        Case("owner empty", #"{"version": 1, "owner": "", "registries": [{"name": "dev", "local": {}, "webhooks": []}]}"#, [("/owner", "invalid-owner")]),
        Case("owner with a control character", #"{"version": 1, "owner": "a\u0007", "registries": [{"name": "dev", "local": {}, "webhooks": []}]}"#, [("/owner", "invalid-owner")]),
        Case("owner wrong type", #"{"version": 1, "owner": 3, "registries": [{"name": "dev", "local": {}, "webhooks": []}]}"#, [("/owner", "wrong-type")]),

        // Registries
        Case("registry without a target", #"{"version": 1, "registries": [{"name": "dev", "webhooks": []}]}"#, [("/registries/0", "missing-target")]),
        Case("registry with both targets", azure(goodAzure).replacing(#""azure""#, with: #""local": {}, "azure""#), [("/registries/0/azure", "conflicting-targets")]),
        Case("registry missing webhooks", #"{"version": 1, "registries": [{"name": "dev", "local": {}}]}"#, [("/registries/0/webhooks", "missing-key")]),
        Case("registry name with a space", #"{"version": 1, "registries": [{"name": "my dev", "local": {}, "webhooks": []}]}"#, [("/registries/0/name", "invalid-registry-name")]),
        Case("registry name empty", #"{"version": 1, "registries": [{"name": "", "local": {}, "webhooks": []}]}"#, [("/registries/0/name", "invalid-registry-name")]),
        Case("duplicate registry names, case-insensitively", #"{"version": 1, "registries": [{"name": "dev", "local": {}, "webhooks": []}, {"name": "DEV", "local": {}, "webhooks": []}]}"#, [("/registries/1/name", "duplicate-registry-name")]),
        Case("prune values", #"{"version": 1, "registries": [{"name": "a", "local": {}, "prune": "all", "webhooks": []}, {"name": "b", "local": {}, "prune": "none", "webhooks": []}, {"name": "c", "local": {}, "prune": "owned", "webhooks": []}]}"#),
        Case("unknown prune mode", #"{"version": 1, "registries": [{"name": "dev", "local": {}, "prune": "some", "webhooks": []}]}"#, [("/registries/0/prune", "invalid-prune")]),
        Case("local path empty", #"{"version": 1, "registries": [{"name": "dev", "local": {"path": ""}, "webhooks": []}]}"#, [("/registries/0/local/path", "invalid-local-path")]),
        Case("unknown key in local", #"{"version": 1, "registries": [{"name": "dev", "local": {"file": "x"}, "webhooks": []}]}"#, [("/registries/0/local/file", "unknown-key")]),
        Case("too many webhooks", hooks((0..<501).map { hook(name: "hook\(padded($0))") }.joined(separator: ",")), [("/registries/0/webhooks", "too-many-webhooks")]),
        Case("500 webhooks are allowed", hooks((0..<500).map { hook(name: "hook\(padded($0))") }.joined(separator: ","))),

        // Webhook names
        Case("name too short", hooks(hook(name: "abcd")), [("\(w0)/name", "invalid-webhook-name")]),
        Case("name of 5 is the minimum", hooks(hook(name: "abcde"))),
        Case("name of 50 is the maximum", hooks(hook(name: String(repeating: "a", count: 50)))),
        Case("name too long", hooks(hook(name: String(repeating: "a", count: 51))), [("\(w0)/name", "invalid-webhook-name")]),
        Case("name with a dash", hooks(hook(name: "my-hook")), [("\(w0)/name", "invalid-webhook-name")]),
        Case("name with uppercase", hooks(hook(name: "MyHook")), [("\(w0)/name", "webhook-name-uppercase")]),
        Case("name with non-ASCII letter", hooks(hook(name: "héllohook")), [("\(w0)/name", "invalid-webhook-name")]),
        Case("duplicate webhook names, case-insensitively", hooks(hook(name: "myhook"), hook(name: "MYHOOK")),
             [("/registries/0/webhooks/1/name", "duplicate-webhook-name"), ("/registries/0/webhooks/1/name", "webhook-name-uppercase")]),
        Case("duplicate webhook names", hooks(hook(name: "myhook"), hook(name: "myhook")),
             [("/registries/0/webhooks/1/name", "duplicate-webhook-name")]),
        Case("two registries on one state file", #"{"version": 1, "registries": [{"name": "a", "local": {"path": "s.json"}, "webhooks": []}, {"name": "b", "local": {"path": "./s.json"}, "webhooks": []}]}"#,
             [("/registries/1/local/path", "duplicate-registry-target")]),
        Case("same webhook name in two registries is fine", #"{"version": 1, "registries": [{"name": "a", "local": {}, "webhooks": [\#(hook())]}, {"name": "b", "local": {}, "webhooks": [\#(hook())]}]}"#),
        Case("name missing", hooks(#"{"serviceUri": "https://h.example.com", "actions": ["push"]}"#), [("\(w0)/name", "missing-key")]),
        Case("name wrong type", hooks(#"{"name": 12345, "serviceUri": "https://h.example.com", "actions": ["push"]}"#), [("\(w0)/name", "wrong-type")]),

        // Service URIs
        Case("https with port, path and query", hooks(hook(uri: "https://hooks.example.com:8443/a/b?x=1&y=2"))),
        Case("http is a warning", hooks(hook(uri: "http://hooks.example.com/x")), [("\(w0)/serviceUri", "insecure-service-uri")]),
        Case("uppercase scheme is fine", hooks(hook(uri: "HTTPS://hooks.example.com/x"))),
        Case("IPv6 host", hooks(hook(uri: "https://[2001:db8::1]:8443/x"))),
        Case("relative URI", hooks(hook(uri: "/hooks/x")), [("\(w0)/serviceUri", "invalid-service-uri")]),
        Case("no scheme", hooks(hook(uri: "hooks.example.com/x")), [("\(w0)/serviceUri", "invalid-service-uri")]),
        Case("ftp scheme", hooks(hook(uri: "ftp://hooks.example.com/x")), [("\(w0)/serviceUri", "invalid-service-uri")]),
        Case("no host", hooks(hook(uri: "https:///x")), [("\(w0)/serviceUri", "invalid-service-uri")]),
        Case("scheme without slashes", hooks(hook(uri: "https:hooks.example.com")), [("\(w0)/serviceUri", "invalid-service-uri")]),
        Case("whitespace", hooks(hook(uri: "https://hooks.example.com/a b")), [("\(w0)/serviceUri", "invalid-service-uri")]),
        Case("fragment", hooks(hook(uri: "https://hooks.example.com/a#top")), [("\(w0)/serviceUri", "invalid-service-uri")]),
        Case("bad port", hooks(hook(uri: "https://hooks.example.com:99999/a")), [("\(w0)/serviceUri", "invalid-service-uri")]),
        Case("empty", hooks(hook(uri: "")), [("\(w0)/serviceUri", "invalid-service-uri")]),
        Case("2048 characters is the limit", hooks(hook(uri: "https://h.example.com/" + String(repeating: "a", count: 2048 - 22)))),
        Case("2049 characters is too long", hooks(hook(uri: "https://h.example.com/" + String(repeating: "a", count: 2049 - 22))), [("\(w0)/serviceUri", "service-uri-too-long")]),
        Case("env reference in the query", hooks(hook(uri: "https://h.example.com/x?code=${env:KEY}"))),
        Case("whole URI from the environment is checked only after resolution", hooks(hook(uri: "${env:HOOK_URL}"))),
        Case("env reference does not hide a bad literal part", hooks(hook(uri: "ftp://h.example.com/${env:X}")), [("\(w0)/serviceUri", "invalid-service-uri")]),
        Case("malformed env reference", hooks(hook(uri: "https://h.example.com/${env:KEY")), [("\(w0)/serviceUri", "invalid-env-reference")]),
        Case("unsupported reference kind", hooks(hook(uri: "https://h.example.com/${file:x}")), [("\(w0)/serviceUri", "invalid-env-reference")]),
        Case("invalid variable name", hooks(hook(uri: "https://h.example.com/${env:1X}")), [("\(w0)/serviceUri", "invalid-env-reference")]),
        Case("escaped dollar brace is literal", hooks(hook(uri: "https://h.example.com/$${env:X}"))),
        Case("serviceUri wrong type", hooks(#"{"name": "myhook", "serviceUri": ["https://h.example.com"], "actions": ["push"]}"#), [("\(w0)/serviceUri", "wrong-type")]),
        Case("serviceURI typo", hooks(#"{"name": "myhook", "serviceURI": "https://h.example.com", "actions": ["push"]}"#), [("\(w0)/serviceURI", "unknown-key"), ("\(w0)/serviceUri", "missing-key")]),

        // Custom headers
        Case("header names are tokens", hooks(hook(#""customHeaders": {"X-Api_Key.v2!": "value"}"#))),
        Case("header name with a space", hooks(hook(#""customHeaders": {"X Key": "value"}"#)), [("\(w0)/customHeaders/X Key", "invalid-header-name")]),
        Case("header name with a colon", hooks(hook(#""customHeaders": {"X-Key:": "value"}"#)), [("\(w0)/customHeaders/X-Key:", "invalid-header-name")]),
        Case("empty header name", hooks(hook(#""customHeaders": {"": "value"}"#)), [("\(w0)/customHeaders/", "invalid-header-name")]),
        Case("header value with CRLF", hooks(hook(#""customHeaders": {"X-Key": "a\r\nX-Injected: 1"}"#)), [("\(w0)/customHeaders/X-Key", "invalid-header-value")]),
        Case("header value with LF", hooks(hook(#""customHeaders": {"X-Key": "abc\ndef"}"#)), [("\(w0)/customHeaders/X-Key", "invalid-header-value")]),
        Case("header value with NUL", hooks(hook(#""customHeaders": {"X-Key": "abc\u0000def"}"#)), [("\(w0)/customHeaders/X-Key", "invalid-header-value")]),
        Case("duplicate header names, case-insensitively", hooks(hook(#""customHeaders": {"X-Key": "value-a", "x-key": "value-b"}"#)), [("\(w0)/customHeaders/x-key", "duplicate-header")]),
        Case("Host refused", hooks(hook(#""customHeaders": {"host": "example"}"#)), [("\(w0)/customHeaders/host", "forbidden-header")]),
        Case("Content-Length refused", hooks(hook(#""customHeaders": {"Content-Length": "1234"}"#)), [("\(w0)/customHeaders/Content-Length", "forbidden-header")]),
        Case("Transfer-Encoding refused", hooks(hook(#""customHeaders": {"Transfer-Encoding": "chunked"}"#)), [("\(w0)/customHeaders/Transfer-Encoding", "forbidden-header")]),
        Case("Connection refused", hooks(hook(#""customHeaders": {"CONNECTION": "close"}"#)), [("\(w0)/customHeaders/CONNECTION", "forbidden-header")]),
        Case("header value with DEL", hooks(hook(#""customHeaders": {"X-Key": "abc\u007fdef"}"#)), [("\(w0)/customHeaders/X-Key", "invalid-header-value")]),
        Case("header value with ESC", hooks(hook(#""customHeaders": {"X-Key": "abc\u001b[31mdef"}"#)), [("\(w0)/customHeaders/X-Key", "invalid-header-value")]),
        Case("header value with U+0001", hooks(hook(#""customHeaders": {"X-Key": "abc\u0001def"}"#)), [("\(w0)/customHeaders/X-Key", "invalid-header-value")]),
        Case("header value with a tab is sendable", hooks(hook(#""customHeaders": {"X-Key": "abc\tdef"}"#))),
        Case("a header value too short to scrub is warned about", hooks(hook(#""customHeaders": {"X-Key": "abc"}"#)), [("\(w0)/customHeaders/X-Key", "short-secret")]),
        Case("a short Content-Type is not a secret", hooks(hook(#""customHeaders": {"Content-Type": "a/b"}"#))),
        Case("Content-Type allowed", hooks(hook(#""customHeaders": {"Content-Type": "application/cloudevents+json"}"#))),
        Case("header value from the environment", hooks(hook(#""customHeaders": {"Authorization": "Bearer ${env:TOKEN}"}"#))),
        Case("header value wrong type", hooks(hook(#""customHeaders": {"X-Key": 5}"#)), [("\(w0)/customHeaders/X-Key", "wrong-type")]),
        Case("headers as an array", hooks(hook(#""customHeaders": ["X-Key: a"]"#)), [("\(w0)/customHeaders", "wrong-type")]),

        // Actions
        Case("every action", hooks(hook(actions: #"["push", "delete", "quarantine", "chart_push", "chart_delete"]"#))),
        Case("no actions", hooks(hook(actions: "[]")), [("\(w0)/actions", "empty-actions")]),
        Case("unknown action", hooks(hook(actions: #"["push", "pull"]"#)), [("\(w0)/actions/1", "unknown-action")]),
        Case("action in the wrong case", hooks(hook(actions: #"["Push"]"#)), [("\(w0)/actions/0", "unknown-action")]),
        Case("duplicate action", hooks(hook(actions: #"["push", "delete", "push"]"#)), [("\(w0)/actions/2", "duplicate-action")]),
        Case("actions as a string", hooks(hook(actions: #""push""#)), [("\(w0)/actions", "wrong-type")]),
        Case("action not a string", hooks(hook(actions: #"[1]"#)), [("\(w0)/actions/0", "wrong-type")]),

        // Status
        Case("status enabled", hooks(hook(#""status": "enabled""#))),
        Case("status disabled", hooks(hook(#""status": "disabled""#))),
        Case("status unknown", hooks(hook(#""status": "paused""#)), [("\(w0)/status", "invalid-status")]),
        Case("status as a boolean", hooks(hook(#""status": true"#)), [("\(w0)/status", "wrong-type")]),

        // Scope
        Case("empty scope", hooks(hook(#""scope": """#))),
        Case("repository scope", hooks(hook(#""scope": "webapp""#))),
        Case("repository:tag scope", hooks(hook(#""scope": "team/web-app:v1.2.3""#))),
        Case("repository:* scope", hooks(hook(#""scope": "team/web.app:*""#))),
        Case("separators in repository names", hooks(hook(#""scope": "a__b/c---d/e.f_g""#))),
        Case("tag of 128 characters", hooks(hook(#""scope": "repo:\#(String(repeating: "t", count: 128))""#))),
        Case("tag of 129 characters", hooks(hook(#""scope": "repo:\#(String(repeating: "t", count: 129))""#)), [("\(w0)/scope", "invalid-scope")]),
        Case("uppercase repository", hooks(hook(#""scope": "WebApp:latest""#)), [("\(w0)/scope", "scope-uppercase")]),
        Case("uppercase tag is fine", hooks(hook(#""scope": "webapp:Latest""#))),
        Case("space around the colon", hooks(hook(#""scope": "webapp : latest""#)), [("\(w0)/scope", "scope-spaced-colon")]),
        Case("space after the colon", hooks(hook(#""scope": "webapp: latest""#)), [("\(w0)/scope", "scope-spaced-colon")]),
        Case("tag starting with a dot", hooks(hook(#""scope": "webapp:.hidden""#)), [("\(w0)/scope", "invalid-scope")]),
        Case("empty tag", hooks(hook(#""scope": "webapp:""#)), [("\(w0)/scope", "invalid-scope")]),
        Case("two colons", hooks(hook(#""scope": "webapp:v1:v2""#)), [("\(w0)/scope", "invalid-scope")]),
        Case("repository with a trailing dash", hooks(hook(#""scope": "webapp-""#)), [("\(w0)/scope", "invalid-scope")]),
        Case("triple underscore", hooks(hook(#""scope": "a___b""#)), [("\(w0)/scope", "invalid-scope")]),
        Case("empty path component", hooks(hook(#""scope": "team//app""#)), [("\(w0)/scope", "invalid-scope")]),
        Case("wildcard repository", hooks(hook(#""scope": "*""#)), [("\(w0)/scope", "invalid-scope")]),
        Case("env reference not allowed in scope", hooks(hook(#""scope": "${env:REPO}""#)), [("\(w0)/scope", "env-reference-not-allowed")]),

        // Location and description
        Case("location on a local registry", hooks(hook(#""location": "westus""#)), [("\(w0)/location", "location-requires-azure")]),
        Case("location on azure", azure(goodAzure, webhooks: hook(#""location": "westeurope""#))),
        Case("location in display form", azure(goodAzure, webhooks: hook(#""location": "West Europe""#)), [("\(w0)/location", "invalid-location")]),
        Case("description is free text", hooks(hook(#""description": "anything ${env:X} goes""#))),

        // Signing (Standard Webhooks) and payload formats: local registries only
        Case("signing secret from the environment", hooks(hook(#""signingSecret": "${env:HOOK_SIGNING_SECRET}""#))),
        Case("two signing secrets while rotating", hooks(hook(#""signingSecret": ["${env:NEW_SECRET}", "${env:OLD_SECRET}"]"#))),
        Case("a literal signing secret is valid, with a warning", hooks(hook(#""signingSecret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw""#)),
             [("\(w0)/signingSecret", "literal-signing-secret")]),
        Case("a 64-byte signing secret", hooks(hook(#""signingSecret": ["whsec_\#(String(repeating: "A", count: 84))AA=="]"#)),
             [("\(w0)/signingSecret/0", "literal-signing-secret")]),
        Case("signing secret without its prefix", hooks(hook(#""signingSecret": "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw""#)), [("\(w0)/signingSecret", "invalid-signing-secret")]),
        Case("signing secret that is not base64", hooks(hook(#""signingSecret": "whsec_not base64 at all, is it?!""#)), [("\(w0)/signingSecret", "invalid-signing-secret")]),
        Case("signing secret of 23 bytes", hooks(hook(#""signingSecret": "whsec_\#(String(repeating: "A", count: 28))AAA=""#)), [("\(w0)/signingSecret", "invalid-signing-secret")]),
        Case("signing secret of 65 bytes", hooks(hook(#""signingSecret": "whsec_\#(String(repeating: "A", count: 84))AAA=""#)), [("\(w0)/signingSecret", "invalid-signing-secret")]),
        Case("signing secret as a number", hooks(hook(#""signingSecret": 5"#)), [("\(w0)/signingSecret", "wrong-type")]),
        Case("empty list of signing secrets", hooks(hook(#""signingSecret": []"#)), [("\(w0)/signingSecret", "empty-signing-secret")]),
        Case("six signing secrets", hooks(hook(#""signingSecret": ["${env:A}", "${env:B}", "${env:C}", "${env:D}", "${env:E}", "${env:F}"]"#)),
             [("\(w0)/signingSecret", "too-many-signing-secrets")]),
        Case("the same signing secret twice", hooks(hook(#""signingSecret": ["${env:A}", "${env:A}"]"#)), [("\(w0)/signingSecret/1", "duplicate-signing-secret")]),
        Case("a signing secret on azure", azure(goodAzure, webhooks: hook(#""signingSecret": "${env:HOOK_SIGNING_SECRET}""#)), [("\(w0)/signingSecret", "signing-not-supported")]),
        Case("a custom webhook-signature header beside signing", hooks(hook(#""signingSecret": "${env:S}", "customHeaders": {"Webhook-Signature": "v1,x"}"#)),
             [("\(w0)/customHeaders/Webhook-Signature", "signing-header")]),
        Case("a webhook-id header without signing is the user's own", hooks(hook(#""customHeaders": {"webhook-id": "mine"}"#))),
        Case("cloudevents payload format", hooks(hook(#""payloadFormat": "cloudevents""#))),
        Case("acr payload format written out", hooks(hook(#""payloadFormat": "acr""#))),
        Case("unknown payload format", hooks(hook(#""payloadFormat": "cloudevent""#)), [("\(w0)/payloadFormat", "invalid-payload-format")]),
        Case("payload format on azure", azure(goodAzure, webhooks: hook(#""payloadFormat": "cloudevents""#)), [("\(w0)/payloadFormat", "payload-format-not-supported")]),
        Case("a custom Content-Type with cloudevents", hooks(hook(#""payloadFormat": "cloudevents", "customHeaders": {"content-type": "text/plain"}"#)),
             [("\(w0)/customHeaders/content-type", "content-type-with-cloudevents")]),
        Case("signed cloudevents", hooks(hook(#""payloadFormat": "cloudevents", "signingSecret": "${env:S}""#))),

        // Azure targets
        Case("valid azure target", azure(goodAzure + #", "endpoint": "https://management.usgovcloudapi.net""#)),
        Case("subscription from the environment", azure(#""subscriptionId": "${env:AZURE_SUBSCRIPTION_ID}", "resourceGroup": "rg", "registry": "contosoprod""#)),
        Case("subscription not a UUID", azure(#""subscriptionId": "my-subscription", "resourceGroup": "rg", "registry": "contosoprod""#), [("/registries/0/azure/subscriptionId", "invalid-subscription-id")]),
        Case("resource group ending in a dot", azure(#""subscriptionId": "6e9ef8d4-3c07-4a07-9d7e-1c4f3a7e2b11", "resourceGroup": "rg.", "registry": "contosoprod""#), [("/registries/0/azure/resourceGroup", "invalid-resource-group")]),
        Case("resource group with parentheses and dots", azure(#""subscriptionId": "6e9ef8d4-3c07-4a07-9d7e-1c4f3a7e2b11", "resourceGroup": "rg.(prod)_1-a", "registry": "contosoprod""#)),
        Case("resource group of 91 characters", azure(#""subscriptionId": "6e9ef8d4-3c07-4a07-9d7e-1c4f3a7e2b11", "resourceGroup": "\#(String(repeating: "r", count: 91))", "registry": "contosoprod""#), [("/registries/0/azure/resourceGroup", "invalid-resource-group")]),
        Case("resource group with a slash", azure(#""subscriptionId": "6e9ef8d4-3c07-4a07-9d7e-1c4f3a7e2b11", "resourceGroup": "rg/x", "registry": "contosoprod""#), [("/registries/0/azure/resourceGroup", "invalid-resource-group")]),
        Case("registry name with a dash", azure(#""subscriptionId": "6e9ef8d4-3c07-4a07-9d7e-1c4f3a7e2b11", "resourceGroup": "rg", "registry": "contoso-prod""#), [("/registries/0/azure/registry", "invalid-azure-registry-name")]),
        Case("registry name too short", azure(#""subscriptionId": "6e9ef8d4-3c07-4a07-9d7e-1c4f3a7e2b11", "resourceGroup": "rg", "registry": "acr1""#), [("/registries/0/azure/registry", "invalid-azure-registry-name")]),
        Case("http endpoint on loopback", azure(goodAzure + #", "endpoint": "http://127.0.0.1:8080""#)),
        Case("http endpoint elsewhere", azure(goodAzure + #", "endpoint": "http://arm.example.com""#), [("/registries/0/azure/endpoint", "insecure-endpoint")]),
        Case("endpoint not a URL", azure(goodAzure + #", "endpoint": "management.azure.com""#), [("/registries/0/azure/endpoint", "invalid-endpoint")]),
        Case("azure missing keys", azure(#""registry": "contosoprod""#), [("/registries/0/azure/subscriptionId", "missing-key"), ("/registries/0/azure/resourceGroup", "missing-key")]),
        Case("azure key typo", azure(goodAzure + #", "endpiont": "https://x.example.com""#), [("/registries/0/azure/endpiont", "unknown-key")]),
        Case("env reference not allowed in resourceGroup", azure(#""subscriptionId": "6e9ef8d4-3c07-4a07-9d7e-1c4f3a7e2b11", "resourceGroup": "${env:RG}", "registry": "contosoprod""#), [("/registries/0/azure/resourceGroup", "env-reference-not-allowed")]),

        // Every problem at once
        Case("problems in different webhooks are all reported",
             hooks(hook(name: "Bad-Name"), hook(name: "goodname", uri: "nope"), hook(name: "other", actions: #"["x"]"#)),
             [("\(w0)/name", "invalid-webhook-name"), ("/registries/0/webhooks/1/serviceUri", "invalid-service-uri"), ("/registries/0/webhooks/2/actions/0", "unknown-action")]),
    ]

    @Test("validation rules", arguments: cases)
    func rule(_ testCase: Case) {
        let document = SpecLoader.load(Array(testCase.json.utf8))
        let found = Set(document.diagnostics.map { Expected(pointer: $0.pointer.description, code: $0.code) })
        #expect(found == testCase.expected, "\(document.diagnostics.map { "\($0.pointer) \($0.code): \($0.message)" })")
        // A spec is returned exactly when there is no error.
        #expect((document.spec == nil) == document.diagnostics.hasErrors)
        // Every diagnostic from a file has a position.
        #expect(document.diagnostics.allSatisfy { $0.position != nil })
        // Nothing of a file that is not a spec is quoted: it may be some other file's secret.
        #expect(!document.diagnostics.contains { $0.message.contains("SECRET") })
    }

    @Test("did-you-mean suggestions for keys and values")
    func suggestions() {
        let document = SpecLoader.load(Array(Self.hooks(#"{"nmae": "myhook", "serviceURI": "https://h.example.com", "actions": ["psuh"], "staus": "enabled"}"#).utf8))
        let messages = document.diagnostics.map(\.message)
        #expect(messages.contains { $0.contains("'nmae'") && $0.contains("did you mean 'name'") })
        #expect(messages.contains { $0.contains("'serviceURI'") && $0.contains("did you mean 'serviceUri'") })
        #expect(messages.contains { $0.contains("'psuh'") && $0.contains("did you mean 'push'") })
        #expect(messages.contains { $0.contains("'staus'") && $0.contains("did you mean 'status'") })
    }

    @Test("uppercase and spaced forms suggest the fixed value")
    func fixHints() {
        let document = SpecLoader.load(Array(Self.hooks(Self.hook(name: "DeployBot", #""scope": "Team/WebApp : v1""#)).utf8))
        let messages = document.diagnostics.map(\.message)
        #expect(messages.contains { $0.contains("use 'deploybot'") })
        #expect(messages.contains { $0.contains("write 'Team/WebApp:v1'") })
        let upper = SpecLoader.load(Array(Self.hooks(Self.hook(#""scope": "Team/WebApp:v1""#)).utf8))
        #expect(upper.diagnostics.map(\.message).contains { $0.contains("write 'team/webapp:v1'") })
    }

    @Test("diagnostics point at the offending value's line and column")
    func positions() throws {
        let json = """
            {
              "version": 1,
              "registries": [
                {
                  "name": "dev",
                  "local": {},
                  "webhooks": [
                    { "name": "Hook1", "serviceUri": "https://h.example.com", "actions": ["push"],
                      "colour": "red" }
                  ]
                }
              ]
            }
            """
        let document = SpecLoader.load(Array(json.utf8))
        let name = try #require(document.diagnostics.first { $0.code == "webhook-name-uppercase" })
        #expect(name.position == SourcePosition(line: 8, column: 19))
        let unknown = try #require(document.diagnostics.first { $0.code == "unknown-key" })
        #expect(unknown.position == SourcePosition(line: 9, column: 11))
        // Sorted by position.
        #expect(document.diagnostics.map(\.code) == ["webhook-name-uppercase", "unknown-key"])
    }

    @Test("the model keeps every field, with defaults for omitted ones")
    func model() throws {
        let json = Self.hooks(Self.hook(#""customHeaders": {"B": "2", "A": "${env:T:-x}"}, "scope": "web:*""#), Self.hook(name: "second"))
        let spec = try #require(SpecLoader.load(Array(json.utf8)).spec)
        #expect(spec.owner == "hookapply")
        let registry = try #require(spec.registries.first)
        #expect(registry.prune == .owned)
        #expect(registry.target == .local(path: nil))
        let first = registry.webhooks[0]
        #expect(first.customHeaders.map(\.name) == ["B", "A"])
        #expect(first.customHeaders[1].value.parts == [.environment(name: "T", fallback: "x")])
        #expect(first.scope == "web:*")
        #expect(first.status == .enabled)
        #expect(registry.webhooks[1].scope == "")
        #expect(spec.environmentReferences == [EnvironmentReference(name: "T", pointers: ["/registries/0/webhooks/0/customHeaders/A"])])
    }

    @Test("a spec built in code is held to the same rules")
    func validatorOnModel() {
        let spec = Spec(registries: [
            Registry(name: "dev", target: .local(path: nil), webhooks: [
                Webhook(name: "x", serviceUri: Template(literal: "https://h.example.com"), actions: [.push]),
            ]),
        ])
        #expect(SpecValidator.validate(spec).map(\.code) == ["invalid-webhook-name"])
    }
}

/// Three-digit, zero-padded numbers for generated webhook names ("hook007").
func padded(_ value: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, 3 - digits.count)) + digits
}

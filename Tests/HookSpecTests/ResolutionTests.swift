import Testing
import TestSupport

@testable import HookSpec

/// `${env:...}` templates, resolution against an environment, and masking of secrets in messages.
@Suite struct ResolutionTests {
    @Test("templates parse literals, references, fallbacks and escapes", arguments: [
        ("plain", [Template.Part.literal("plain")]),
        ("", []),
        ("a${env:X}b", [.literal("a"), .environment(name: "X", fallback: nil), .literal("b")]),
        ("${env:_A1}${env:B}", [.environment(name: "_A1", fallback: nil), .environment(name: "B", fallback: nil)]),
        ("${env:X:-}", [.environment(name: "X", fallback: "")]),
        ("${env:X:-dev token}", [.environment(name: "X", fallback: "dev token")]),
        ("$${env:X}", [.literal("${env:X}")]),
        ("cost $5 or $$", [.literal("cost $5 or $$")]),
    ])
    func parse(_ raw: String, _ parts: [Template.Part]) throws {
        #expect(try Template(parsing: raw).parts == parts)
    }

    @Test("malformed references are errors", arguments: ["${env:X", "${X}", "${env:}", "${env:A-B}", "${env:9A}", "${file:/etc/passwd}"])
    func malformed(_ raw: String) {
        #expect(throws: TemplateError.self) { try Template(parsing: raw) }
    }

    @Test("a literal template round-trips through its raw form")
    func literalRoundTrip() throws {
        let template = Template(literal: "a ${b} $c")
        #expect(try Template(parsing: template.raw).rendered { _, _ in "" } == "a ${b} $c")
    }

    static let spec = """
        {"version": 1, "owner": "team", "registries": [
          {"name": "prod", "azure": {"subscriptionId": "${env:SUB}", "resourceGroup": "rg", "registry": "contosoprod"}, "webhooks": [
            {"name": "first", "serviceUri": "https://h.example.com/x?code=${env:KEY}", "actions": ["push"],
             "customHeaders": {"Authorization": "Bearer ${env:TOKEN}", "X-Env": "${env:STAGE:-dev}"}},
            {"name": "second", "serviceUri": "${env:URL}", "actions": ["delete"], "customHeaders": {"Authorization": "Bearer ${env:TOKEN}"}}
          ]}
        ]}
        """

    static let fullEnvironment = [
        "SUB": "6e9ef8d4-3c07-4a07-9d7e-1c4f3a7e2b11", "KEY": "k3y", "TOKEN": "t0ken", "URL": "https://other.example.com/hook",
    ]

    @Test("resolution substitutes values and uses fallbacks for unset or empty variables")
    func resolves() throws {
        let document = SpecLoader.load(Array(Self.spec.utf8))
        let resolved = try #require(document.resolve(environment: Self.fullEnvironment).spec)
        let registry = try #require(resolved.registries.first)
        #expect(registry.target == .azure(subscriptionId: "6e9ef8d4-3c07-4a07-9d7e-1c4f3a7e2b11", resourceGroup: "rg", registry: "contosoprod", endpoint: nil))
        #expect(registry.webhooks[0].serviceUri == "https://h.example.com/x?code=k3y")
        #expect(registry.webhooks[0].customHeaders == [ResolvedHeader(name: "Authorization", value: "Bearer t0ken"), ResolvedHeader(name: "X-Env", value: "dev")])
        #expect(registry.webhooks[1].serviceUri == "https://other.example.com/hook")
        var withStage = Self.fullEnvironment
        withStage["STAGE"] = "prod"
        #expect(try #require(document.resolve(environment: withStage).spec).registries[0].webhooks[0].customHeaders[1].value == "prod")
        withStage["STAGE"] = ""
        #expect(try #require(document.resolve(environment: withStage).spec).registries[0].webhooks[0].customHeaders[1].value == "dev")
    }

    @Test("a missing variable is one error naming it and every place it is used")
    func missingVariable() throws {
        var environment = Self.fullEnvironment
        environment["TOKEN"] = nil
        environment["KEY"] = ""
        let document = SpecLoader.load(Array(Self.spec.utf8))
        let result = document.resolve(environment: environment)
        #expect(result.spec == nil)
        let missing = result.diagnostics.filter { $0.code == "missing-env-variable" }
        #expect(missing.count == 1)
        let message = try #require(missing.first?.message)
        #expect(message.contains("'TOKEN'"))
        #expect(message.contains("/registries/0/webhooks/0/customHeaders/Authorization"))
        #expect(message.contains("/registries/0/webhooks/1/customHeaders/Authorization"))
        #expect(missing.first?.position != nil)
        #expect(result.diagnostics.contains { $0.code == "empty-env-variable" && $0.message.contains("'KEY'") })
        // STAGE has a fallback, so it is not required.
        #expect(!result.diagnostics.contains { $0.message.contains("'STAGE'") })
    }

    @Test("resolved values are checked again, and the messages never contain them")
    func recheckWithoutLeaking() throws {
        let secret = "s3cr3t-\(UInt64.random(in: 1...UInt64.max))"
        var environment = Self.fullEnvironment
        environment["URL"] = "ftp://user:\(secret)@h.example.com/x?sig=\(secret)"
        environment["TOKEN"] = "\(secret)\r\nX-Injected: 1"
        environment["SUB"] = "not-a-uuid-\(secret)"
        let result = SpecLoader.load(Array(Self.spec.utf8)).resolve(environment: environment)
        #expect(result.spec == nil)
        let codes = Set(result.diagnostics.map(\.code))
        // STAGE falls back to "dev", too short to scrub: a warning beside the errors.
        #expect(codes == ["invalid-service-uri", "invalid-header-value", "invalid-subscription-id", "short-secret"])
        for diagnostic in result.diagnostics {
            #expect(!diagnostic.message.contains(secret), "leaked: \(diagnostic.message)")
            #expect(diagnostic.message.contains("${env:"), "should name the variable: \(diagnostic.message)")
        }
        // An http URI from the environment is a warning that shows the URI masked.
        environment = Self.fullEnvironment
        environment["URL"] = "http://user:\(secret)@h.example.com/hook?key=\(secret)"
        let warned = SpecLoader.load(Array(Self.spec.utf8)).resolve(environment: environment)
        #expect(warned.spec != nil)
        let warning = try #require(warned.diagnostics.first { $0.code == "insecure-service-uri" })
        #expect(!warning.message.contains(secret))
        #expect(warning.message.contains("http://h.example.com/hook?…"))
    }

    @Test("masking hides userinfo and query, and hides unparseable text whole", arguments: [
        ("https://hooks.example.com/acr?code=abc", "https://hooks.example.com/acr?…"),
        ("https://user:pass@hooks.example.com:8443/a/b", "https://hooks.example.com:8443/a/b"),
        ("HTTP://h.example.com", "http://h.example.com"),
        ("https://h.example.com/x#frag", "https://h.example.com/x"),
        ("not a uri with secret", "(unparseable URI hidden)"),
        ("https://h.example.com/a b?k=secret", "(unparseable URI hidden)"),
    ])
    func masking(_ uri: String, _ masked: String) {
        #expect(Redaction.maskURI(uri) == masked)
    }

    @Test("JSON pointers escape and unescape ~ and / and order numerically")
    func pointers() {
        let pointer = JSONPointer.root.appending("a/b").appending("c~d").appending(3)
        #expect(pointer.description == "/a~1b/c~0d/3")
        #expect(JSONPointer(pointer.description) == pointer)
        #expect(JSONPointer("/~01").tokens == ["~1"])
        #expect(JSONPointer("/x/9") < JSONPointer("/x/10"))
        #expect(JSONPointer.root.description == "")
    }

    @Test("loopback means a loopback literal, not a name that starts like one", arguments: [
        ("http://localhost:8080", true), ("http://LOCALHOST", true), ("http://127.0.0.1:9", true), ("http://127.1.2.3", true),
        ("http://[::1]:80", true), ("http://127.0.0.1.nip.io", false), ("http://127.evil.com", false), ("http://127.0.0.256", false),
        ("http://127.0.0", false), ("http://0127.0.0.1", false), ("http://127.0.0.01x", false), ("http://localhost.evil.com", false),
        ("http://128.0.0.1", false), ("http://[::2]", false),
    ])
    func loopback(_ text: String, _ expected: Bool) throws {
        #expect(try ServiceURI(parsing: text).isLoopback == expected)
    }
}

/// The fast path of URI masking gives what parsing gives, or steps aside (property, seeded).
@Suite struct MaskURITests {
    @Test("maskedSimply agrees with parsing on 20,000 generated URIs and on the hard cases")
    func agrees() {
        var random = SeededRandom(state: 0xA5C0_FFEE)
        let pieces = ["https://", "http://", "HTTPS://", "h", "host", ".example.com", "-", "_", "~", ":8443", ":99999", "@", "user:pw@", "/", "/path",
                      "?", "?code=abc", "&x=1", "#frag", " ", "\t", "é", "%2F", "[::1]", "$", "?…", "//", "A", "0", "ftp://"]
        var cases = ["https://h.example.com/x?k=1", "http://127.0.0.1:8080/h", "https://user:pw@h.example.com/", "https://h.example.com/a#b",
                     "https://", "http:///x", "https://h.example.com?q", "https://H.Example.COM/x", "https://h.example.com/é", "https://-/"]
        for _ in 0..<20_000 {
            let count = 1 + Int(random.next() % 7)
            let body = (0..<count).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
            // Half start as a service URI does, so the fast path is exercised as much as the refusals.
            cases.append(random.next() % 2 == 0 ? "https://host" + body : body)
        }
        var fast = 0
        for text in cases {
            let parsed = Redaction.maskedByParsing(text)
            if let simple = Redaction.maskedSimply(text) {
                fast += 1
                #expect(simple == parsed, "\(text)")
            }
            #expect(Redaction.maskURI(text) == parsed, "\(text)")
        }
        #expect(fast > 1_000, "the fast path takes the common shapes (\(fast) of \(cases.count))")
    }
}

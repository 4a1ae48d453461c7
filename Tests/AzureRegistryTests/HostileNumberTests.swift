import Foundation
import HookKit
import Reconciler
import TestSupport
import Testing

@testable import AzureRegistry

/// Numbers from outside (a registry's Retry-After, environment variables) are bounded before they
/// reach a sleep or an integer conversion: nothing traps, nothing waits for years.
@Suite struct HostileNumberTests {
    @Test("Retry-After is capped at five minutes, whatever the registry asks", arguments: [
        ("100000000000", ARMClient.maxRetryAfter), ("301", ARMClient.maxRetryAfter), ("299", 299),
        ("99999999999999999999999999999999", ARMClient.maxRetryAfter), ("Fri, 31 Dec 9999 23:59:59 GMT", ARMClient.maxRetryAfter),
    ] as [(String, Double)])
    func retryAfterCapped(_ header: String, _ expected: Double) {
        #expect(ARMClient.retryAfter(["retry-after": header]) == expected)
    }

    @Test("a Retry-After that is not delay-seconds or a date is ignored", arguments: ["1e30", "nan", "inf", "-5", "+5", "0x10", " ", "5 seconds"])
    func retryAfterRefused(_ header: String) {
        #expect(ARMClient.retryAfter(["retry-after": header]) == nil)
    }

    @Test("the retry policy never waits longer than the cap, even when told to", arguments: [1e30, Double.infinity, Double.nan, -1, 1e9])
    func policyCap(_ asked: Double) {
        let policy = RetryPolicy(maxAttempts: 3, baseDelay: 1, maxDelay: 8, sleep: { _ in }, random: { $0 })
        let delay = policy.delay(afterAttempt: 1, retryAfter: asked)
        #expect(delay >= 0 && delay <= RetryPolicy.maxRetryAfter)
    }

    @Test("durations become nanoseconds and timevals without trapping", arguments: [1e30, Double.infinity, Double.nan, -5, 0, 0.25, 1e300])
    func secondsConversions(_ seconds: Double) {
        let nanoseconds = Seconds.nanoseconds(seconds)
        #expect(nanoseconds <= UInt64(Seconds.maximum * 1e9))
        let parts = Seconds.parts(seconds)
        #expect(parts.seconds >= 0 && parts.microseconds >= 0 && parts.microseconds < 1_000_000)
    }

    final class Sleeps: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Double] = []
        func record(_ value: Double) { lock.withLock { values.append(value) } }
        var all: [Double] { lock.withLock { values } }
    }

    @Test("a registry asking for 100000000000 seconds of patience is retried after at most five minutes")
    func hostileRegistry() async throws {
        let emulator = try ARMEmulator()
        defer { emulator.stop() }
        emulator.addRegistry(subscription: "s", group: "g", name: "registry")
        emulator.throttleEvery = 1_000_000  // not yet
        emulator.throttleRetryAfter = "100000000000"
        let sleeps = Sleeps()
        struct Token: TokenCredential {
            let value: String
            func token(scope: String) async throws -> AccessToken { AccessToken(token: value, expiresAt: .distantFuture) }
        }
        let client = ARMClient(endpoint: try #require(URL(string: emulator.endpoint)), credential: Token(value: emulator.token),
                               budget: AsyncSemaphore(2), retry: RetryPolicy(maxAttempts: 3, sleep: { sleeps.record($0) }))
        emulator.throttleEvery = 1  // every request is throttled now
        let response = try await client.send("GET", "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerRegistry/registries/registry", what: "reading")
        #expect(response.status == 429)
        #expect(sleeps.all.count == 2)
        #expect(sleeps.all.allSatisfy { $0 <= ARMClient.maxRetryAfter })
    }

    @Test("timing variables are parsed strictly, naming the variable and never echoing its value", arguments: [
        ("HOOKAPPLY_ARM_TIMEOUT", "1e30"), ("HOOKAPPLY_ARM_TIMEOUT", "0"), ("HOOKAPPLY_ARM_POLL_INTERVAL", "-1"),
        ("HOOKAPPLY_ARM_RETRY_BASE", "abc"), ("HOOKAPPLY_ARM_TIMEOUT", "nan"),
    ])
    func environment(_ name: String, _ value: String) {
        do {
            _ = try AzureSettings(environment: [name: value], parallelism: 4, endpointFlag: nil)
            Issue.record("\(name)=\(value) was accepted")
        } catch {
            #expect(error.message.contains(name))
            #expect(!error.message.contains("'\(value)'"))
        }
    }

    @Test("sane timing variables are accepted")
    func saneEnvironment() throws {
        let settings = try AzureSettings(environment: ["HOOKAPPLY_ARM_TIMEOUT": "30", "HOOKAPPLY_ARM_POLL_INTERVAL": "0.5", "HOOKAPPLY_ARM_RETRY_BASE": ""],
                                         parallelism: 4, endpointFlag: nil)
        #expect(settings.requestTimeout == 30 && settings.pollInterval == 0.5 && settings.retryBase == 0.5)
    }
}

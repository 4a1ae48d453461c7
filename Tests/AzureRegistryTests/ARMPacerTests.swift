import Foundation
import Testing

@testable import AzureRegistry

@Suite struct ARMPacerTests {
    @Test("no wait while more than a tenth of a bucket remains; then a wait long enough to refill to a tenth")
    func pacing() {
        let pacer = ARMPacer()
        let now = Date()
        pacer.record(["x-ms-ratelimit-remaining-subscription-writes": "150"], kind: .writes, now: now)
        #expect(pacer.delay(.writes, now: now) == 0)
        // Writes: a bucket of 200 refilled at 10/s; 5 left is 15 short of a tenth, so 1.5 s.
        pacer.record(["x-ms-ratelimit-remaining-subscription-writes": "5"], kind: .writes, now: now)
        #expect(abs(pacer.delay(.writes, now: now) - 1.5) < 0.001)
        #expect(pacer.delay(.reads, now: now) == 0)  // reads are a separate bucket
        // Reads: a bucket of 250 refilled at 25/s; 0 left is 25 short, so 1 s.
        pacer.record(["x-ms-ratelimit-remaining-subscription-reads": "0"], kind: .reads, now: now)
        #expect(abs(pacer.delay(.reads, now: now) - 1) < 0.001)
        #expect(pacer.delay(.writes, now: now.addingTimeInterval(2)) == 0)  // the wait is over
        #expect(pacer.pacedCalls == 2)
        pacer.record(["x-ms-ratelimit-remaining-subscription-writes": "not a number"], kind: .writes, now: now)
    }
}

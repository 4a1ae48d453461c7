import Foundation
import Testing

@testable import HookKit

/// The one locked box, under the load that exposed the Swift 6.3.1 release-mode miscompile: many tasks
/// of a task group storing composite values (strings, optionals, nested arrays) at once. The release
/// smoke test runs this suite in an optimised build, where the miscompile showed.
@Suite struct LockedTests {
    struct Composite: Sendable, Equatable {
        var name: String
        var tags: [String: String]
        var note: String?
    }

    @Test("concurrent writers lose nothing and corrupt nothing")
    func concurrentWriters() async {
        let box = Locked<[Int: Composite]>([:])
        let counter = Locked(0)
        await concurrentForEach(2_000) { index in
            let value = Composite(name: "webhook-\(index)-" + String(repeating: "x", count: index % 40), tags: ["owner": "team-\(index % 7)"],
                                  note: index % 3 == 0 ? nil : "note \(index)")
            box.withLock { $0[index] = value }
            counter.withLock { $0 += 1 }
        }
        let all = box.value
        #expect(counter.value == 2_000)
        #expect(all.count == 2_000)
        for index in 0..<2_000 {
            #expect(all[index]?.name == "webhook-\(index)-" + String(repeating: "x", count: index % 40))
            #expect(all[index]?.tags["owner"] == "team-\(index % 7)")
            #expect(all[index]?.note == (index % 3 == 0 ? nil : "note \(index)"))
        }
    }

    @Test("withLock returns what the body returns and rethrows what it throws")
    func returnsAndThrows() {
        struct Refused: Error {}
        let box = Locked([1, 2, 3])
        #expect(box.withLock { $0.reduce(0, +) } == 6)
        #expect(throws: Refused.self) { try box.withLock { _ in throw Refused() } }
        box.set([4])
        #expect(box.value == [4])
    }

    @Test("a parallel collector keeps each slot's value")
    func parallelCollector() {
        let collector = ParallelCollector<String?>(count: 500, empty: nil)
        DispatchQueue.concurrentPerform(iterations: 500) { collector.set($0, "slot \($0)") }
        #expect(collector.values == (0..<500).map { "slot \($0)" })
    }
}

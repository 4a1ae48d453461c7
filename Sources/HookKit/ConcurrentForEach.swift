/// Runs `body(index)` for every index in `0..<count` concurrently, in a task group, and returns when all
/// have finished.
///
/// Results go into a concrete, locked container the caller owns; nothing generic travels back through
/// the group. With Swift 6.3.1 on Linux, release builds corrupted memory when task-group children
/// returned composite values (tuples holding Strings, Result, optionals of structs) that the runtime then
/// copied generically: reproduced in hookapply-bench (100 concurrent registry reads crashed every run;
/// debug builds, AddressSanitizer and ThreadSanitizer reported nothing earlier), and gone with this shape.
public func concurrentForEach(_ count: Int, _ body: @escaping @Sendable (Int) async -> Void) async {
    await withTaskGroup(of: Void.self) { group in
        for index in 0..<count {
            group.addTask { await body(index) }
        }
        for await _ in group {}
    }
}

import Foundation

/// Turns signals (SIGINT and SIGTERM unless told otherwise; `reconcile` adds SIGHUP) into a callback,
/// instead of the default immediate exit.
///
/// `@unchecked Sendable` because `DispatchSourceSignal` is not marked Sendable on Linux, though dispatch
/// sources are thread-safe; the list is written once, in `init`, and only read after.
final class SignalWatcher: @unchecked Sendable {
    private let sources: [DispatchSourceSignal]
    private let numbers: [Int32]

    init(signals numbers: [Int32] = [SIGINT, SIGTERM], _ handler: @escaping @Sendable (Int32) -> Void) {
        self.numbers = numbers
        var sources: [DispatchSourceSignal] = []
        for number in numbers {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(number) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func cancel() {
        for source in sources { source.cancel() }
        for number in numbers { signal(number, SIG_DFL) }
    }
}

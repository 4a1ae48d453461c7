import Foundation

/// Turns SIGINT and SIGTERM into a callback (once), instead of the default immediate exit.
///
/// `@unchecked Sendable` because `DispatchSourceSignal` is not marked Sendable on Linux, though dispatch
/// sources are thread-safe; the list is written once, in `init`, and only read after.
final class SignalWatcher: @unchecked Sendable {
    private let sources: [DispatchSourceSignal]

    init(_ handler: @escaping @Sendable (Int32) -> Void) {
        var sources: [DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
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
        for number in [SIGINT, SIGTERM] { signal(number, SIG_DFL) }
    }
}

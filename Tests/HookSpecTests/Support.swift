import Foundation

/// The repository root, found from this file's path (tests read the examples and docs of the checkout).
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

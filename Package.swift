// swift-tools-version: 6.0
// hookapply: keeps container-registry webhooks exactly as declared in git.
// No package dependencies by design: a CI tool should be one binary with nothing to fetch.
import PackageDescription

let package = Package(
    name: "hookapply",
    products: [
        .executable(name: "hookapply", targets: ["hookapply"]),
        .library(name: "HookSpec", targets: ["HookSpec"]),
        .library(name: "Reconciler", targets: ["Reconciler"]),
    ],
    dependencies: [],
    targets: [
        // Pure: bytes in, model and diagnostics out. No printing, environment, file system or network.
        .target(name: "HookSpec", exclude: ["README.md"]),
        // Provider seam, planner, applier, providers. Imports HookSpec only.
        .target(name: "Reconciler", dependencies: ["HookSpec"], exclude: ["README.md"]),
        // The commands as a library, so tests run them in process.
        .target(name: "HookApplyCLI", dependencies: ["HookSpec", "Reconciler"], exclude: ["README.md"]),
        // The thin executable: builds a context from the process and calls HookApplyCLI.
        .executableTarget(name: "hookapply", dependencies: ["HookApplyCLI"]),
        // Benchmarks, run in release mode: `swift run -c release hookapply-bench`.
        .executableTarget(name: "hookapply-bench", dependencies: ["HookSpec", "Reconciler", "HookApplyCLI", "TestSupport"]),
        // Test helpers shared by the test targets (a loopback HTTP receiver); not part of any product.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "HookSpecTests", dependencies: ["HookSpec", "TestSupport"]),
        .testTarget(name: "ReconcilerTests", dependencies: ["Reconciler", "HookSpec", "TestSupport"]),
        .testTarget(
            name: "HookApplyCLITests",
            dependencies: ["HookApplyCLI", "HookSpec", "Reconciler", "TestSupport"],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

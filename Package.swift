// swift-tools-version: 6.0
// hookapply: keeps container-registry webhooks exactly as declared in git.
// No package dependencies by design: a CI tool should be one binary with nothing to fetch.
//
// Dependencies point one way; `scripts/check-imports.sh` (run by CI) checks this graph and every
// `import` in Sources against it:
//   HookKit ← HookSpec ← Reconciler ← Delivery, LocalRegistry, AzureRegistry, Serve, Controller ← HookApplyCLI ← hookapply
//   HookKit ← HTTP1 ← Delivery, Serve
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
        // Foundation pieces with no knowledge of webhooks: SHA-256, atomic writes, file locks, one locked box, concurrency helpers.
        .target(name: "HookKit", exclude: ["README.md"]),
        // Pure: bytes in, model and diagnostics out. No printing, environment, file system or network.
        .target(name: "HookSpec", dependencies: ["HookKit"], exclude: ["README.md"]),
        // The reconcile core: provider seam, plan, planner, applier, retry policy, secret scrubber. No I/O of its own.
        .target(name: "Reconciler", dependencies: ["HookSpec", "HookKit"], exclude: ["README.md"]),
        // HTTP/1.1 on POSIX sockets: request and response parsers, server, client. Knows nothing of webhooks.
        .target(name: "HTTP1", dependencies: ["HookKit"], exclude: ["README.md"]),
        // Sending an event to a webhook the way ACR does, over a transport per scheme, and the delivery log.
        .target(name: "Delivery", dependencies: ["Reconciler", "HookSpec", "HTTP1", "HookKit"], exclude: ["README.md"]),
        // The embedded local registry: a state file, a lock, an event log.
        .target(name: "LocalRegistry", dependencies: ["Reconciler", "Delivery", "HookSpec", "HookKit"], path: "Sources/Providers/Local",
                exclude: ["README.md"]),
        // Azure Container Registry over the ARM REST API: client, pacer, sign-in, wire types.
        .target(name: "AzureRegistry", dependencies: ["Reconciler", "HookSpec", "HookKit"], path: "Sources/Providers/Azure",
                exclude: ["README.md"]),
        // `hookapply serve`: Distribution notifications to ACR events, matching, durable queue, delivery engine.
        .target(name: "Serve", dependencies: ["Reconciler", "Delivery", "HTTP1", "HookSpec", "HookKit"], exclude: ["README.md"]),
        // `hookapply reconcile`: the GitOps loop (cycles, backoff, git pull, metrics, notifications). Knows no provider.
        .target(name: "Controller", dependencies: ["Reconciler", "Delivery", "HTTP1", "HookSpec", "HookKit"], exclude: ["README.md"]),
        // The commands as a library, so tests run them in process; the provider factory is the one place that knows every provider.
        .target(
            name: "HookApplyCLI",
            dependencies: ["HookSpec", "HookKit", "Reconciler", "Delivery", "LocalRegistry", "AzureRegistry", "Serve", "Controller", "HTTP1"],
            exclude: ["README.md"]),
        // The thin executable: builds a context from the process and calls HookApplyCLI.
        .executableTarget(name: "hookapply", dependencies: ["HookApplyCLI"]),
        // Benchmarks, run in release mode: `swift run -c release hookapply-bench`.
        .executableTarget(
            name: "hookapply-bench",
            dependencies: ["HookSpec", "HookKit", "Reconciler", "Delivery", "LocalRegistry", "AzureRegistry", "Serve", "HTTP1", "HookApplyCLI",
                           "TestSupport"]),
        // Test doubles beside the seams (an in-memory provider, one fixture, loopback servers, an ARM emulator); not in any product.
        .target(name: "TestSupport", dependencies: ["HookSpec", "HookKit", "Reconciler", "HTTP1"], path: "Tests/TestSupport",
                exclude: ["README.md"]),
        .testTarget(name: "HookKitTests", dependencies: ["HookKit"]),
        .testTarget(name: "HookSpecTests", dependencies: ["HookSpec", "HookKit", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "ReconcilerTests", dependencies: ["Reconciler", "HookSpec", "HookKit", "TestSupport"]),
        .testTarget(name: "HTTP1Tests", dependencies: ["HTTP1", "HookKit", "TestSupport"]),
        .testTarget(name: "DeliveryTests", dependencies: ["Delivery", "Reconciler", "HookSpec", "HookKit", "TestSupport"]),
        .testTarget(name: "LocalRegistryTests", dependencies: ["LocalRegistry", "Delivery", "Reconciler", "HookSpec", "HookKit", "TestSupport"]),
        .testTarget(name: "AzureRegistryTests", dependencies: ["AzureRegistry", "Reconciler", "HookSpec", "HookKit", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "ControllerTests", dependencies: ["Controller", "Reconciler", "Delivery", "HTTP1", "HookSpec", "HookKit", "TestSupport"]),
        .testTarget(name: "ServeTests", dependencies: ["Serve", "Delivery", "LocalRegistry", "Reconciler", "HTTP1", "HookSpec", "HookKit", "TestSupport"]),
        .testTarget(
            name: "HookApplyCLITests",
            dependencies: ["HookApplyCLI", "HookSpec", "HookKit", "Reconciler", "Delivery", "HTTP1", "LocalRegistry", "Serve", "Controller", "TestSupport"],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

import AzureRegistry
import Delivery
import Foundation
import HookSpec
import LocalRegistry
import Reconciler

/// The composition root: the one place that knows every kind of registry and builds its provider.
/// A new provider (Harbor, ECR) is a new case of `ResolvedTarget` in HookSpec, a target under
/// `Sources/Providers`, and a case here; nothing else in the CLI names provider types.
enum ProviderFactory {
    struct Unsupported: Error {
        var message: String
    }

    /// - Parameter hiddenValues: the spec's raw `${env:…}` values, kept out of every delivery record.
    /// - Parameter workingDirectory: where the user is: a state path is shown relative to it, so that it
    ///   can be pasted into a command there (the spec's own folder may be elsewhere).
    static func make(
        _ registry: ResolvedRegistry, specDirectory: String, workingDirectory: String? = nil, azure: AzureSettings, hiddenValues: [String] = [],
        deliveryTimeout: Double = 5
    ) -> Result<any WebhookProvider, Unsupported> {
        switch registry.target {
        case .local(let path):
            let absolute = localStatePath(path, specDirectory: specDirectory)
            return .success(LocalRegistryProvider(path: absolute, displayPath: shown(absolute, from: workingDirectory),
                                                  delivery: WebhookDelivery(timeout: deliveryTimeout, hiddenValues: hiddenValues,
                                                                            eventSource: CloudEvent.source(registry: registry.name))))
        case .azure(let subscriptionId, let resourceGroup, let name, let endpoint):
            let chosen = azure.endpointOverride ?? endpoint ?? AzureSettings.defaultEndpoint
            if let problem = SpecValidator.validateEndpoint(chosen, at: .root).first {
                return .failure(Unsupported(message: "ARM endpoint: \(problem.message)"))
            }
            guard let url = URL(string: chosen) else { return .failure(Unsupported(message: "ARM endpoint is not a URL")) }
            return .success(azure.provider(endpoint: url, subscriptionId: subscriptionId, resourceGroup: resourceGroup, registry: name))
        }
    }

    /// Every file the registries keep (a local registry's state, lock, delivery log and serve's queue),
    /// which no output path may name.
    static func files(of registries: [ResolvedRegistry], specDirectory: String) -> [OutputPath.Protected] {
        var files: [OutputPath.Protected] = []
        for registry in registries {
            guard case .local(let path) = registry.target else { continue }
            let paths = LocalRegistryPaths(state: localStatePath(path, specDirectory: specDirectory))
            files += [
                OutputPath.Protected(path: paths.state, what: "the state file of local registry '\(registry.name)'"),
                OutputPath.Protected(path: paths.lock, what: "the lock file of local registry '\(registry.name)'"),
                OutputPath.Protected(path: paths.events, what: "the delivery log of local registry '\(registry.name)'"),
                OutputPath.Protected(path: paths.queue, what: "serve's delivery queue of local registry '\(registry.name)'"),
                OutputPath.Protected(path: paths.deadLetters, what: "serve's dead letters of local registry '\(registry.name)'"),
                OutputPath.Protected(path: paths.queue + ".lock", what: "the lock of serve's delivery queue of local registry '\(registry.name)'"),
                OutputPath.Protected(path: paths.queue + ".listen", what: "where serve listens, beside the delivery queue of local registry '\(registry.name)'"),
            ]
        }
        return files
    }

    /// `path` relative to `directory` when it is inside it, else as it is (absolute).
    static func shown(_ path: String, from directory: String?) -> String {
        guard let directory else { return path }
        let folder = directory.hasSuffix("/") ? directory : directory + "/"
        return path.hasPrefix(folder) ? String(path.dropFirst(folder.count)) : path
    }

    /// A local registry's state file as an absolute path, relative paths taken from the spec's folder.
    static func localStatePath(_ path: String, specDirectory: String) -> String {
        let absolute = path.hasPrefix("/") ? path : (specDirectory as NSString).appendingPathComponent(path)
        return (absolute as NSString).standardizingPath
    }

    /// The registry that already uses the same state file as another, after resolving symbolic links
    /// (`validate` catches two spellings of one path; this catches an absolute and a relative one, or a link).
    static func sharedStateFile(_ registries: [ResolvedRegistry], specDirectory: String) -> (first: String, second: String)? {
        var seen: [String: String] = [:]
        for registry in registries {
            guard case .local(let path) = registry.target else { continue }
            let absolute = localStatePath(path, specDirectory: specDirectory)
            // Resolve the folder's links (the file itself may not exist yet).
            let folder = URL(fileURLWithPath: (absolute as NSString).deletingLastPathComponent).resolvingSymlinksInPath().path
            var key = (folder as NSString).appendingPathComponent((absolute as NSString).lastPathComponent)
            key = URL(fileURLWithPath: key).resolvingSymlinksInPath().path
            if let first = seen[key] { return (first, registry.name) }
            seen[key] = registry.name
        }
        return nil
    }
}

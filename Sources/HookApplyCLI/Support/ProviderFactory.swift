import AzureRegistry
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

    static func make(_ registry: ResolvedRegistry, specDirectory: String, azure: AzureSettings) -> Result<any WebhookProvider, Unsupported> {
        switch registry.target {
        case .local(let path):
            let absolute = path.hasPrefix("/") ? path : (specDirectory as NSString).appendingPathComponent(path)
            return .success(LocalRegistryProvider(path: (absolute as NSString).standardizingPath, displayPath: path))
        case .azure(let subscriptionId, let resourceGroup, let name, let endpoint):
            let chosen = azure.endpointOverride ?? endpoint ?? AzureSettings.defaultEndpoint
            if let problem = SpecValidator.validateEndpoint(chosen, at: .root).first {
                return .failure(Unsupported(message: "ARM endpoint: \(problem.message)"))
            }
            guard let url = URL(string: chosen) else { return .failure(Unsupported(message: "ARM endpoint is not a URL")) }
            return .success(azure.provider(endpoint: url, subscriptionId: subscriptionId, resourceGroup: resourceGroup, registry: name))
        }
    }
}

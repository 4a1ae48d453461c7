import HookSpec

extension Planner {
    /// Plans registries whose observations may hold sealed secrets (``SealedSecrets``), producing exactly
    /// the plan a full observation would:
    /// 1. sealed webhooks whose digests match the spec are filled in with the spec's values;
    /// 2. a first plan shows which still-sealed webhooks it touches (a change, or a dependency of a
    ///    saved plan), and their providers read those for real;
    /// 3. the final plan is made from observations in which nothing it depends on is sealed.
    ///
    /// Only webhooks the plan leaves alone (another owner's, unchanged) can stay sealed.
    /// - Returns: the plan, its diagnostics, and the observations it was made from.
    public static func planHydrating(
        _ spec: ResolvedSpec, specDigest: String, observed: [String: ObservedRegistry], providers: [String: any WebhookProvider],
        targets: [String: String] = [:], options: PlanOptions = PlanOptions()
    ) async throws -> (plan: Plan?, diagnostics: [Diagnostic], observed: [String: ObservedRegistry]) {
        var current = observed
        for registry in spec.registries {
            if let state = current[registry.name] { current[registry.name] = SealedSecrets.unseal(state, declared: registry.webhooks) }
        }
        guard current.values.contains(where: { !$0.sealed.isEmpty }) else {
            let result = plan(spec, specDigest: specDigest, observed: current, targets: targets, options: options)
            return (result.plan, result.diagnostics, current)
        }
        let first = plan(spec, specDigest: specDigest, observed: current, targets: targets, options: options)
        guard let draft = first.plan else { return (nil, first.diagnostics, current) }
        for registry in draft.registries {
            guard let state = current[registry.name], !state.sealed.isEmpty else { continue }
            let names = touched(registry).intersection(state.sealed.keys)
            guard !names.isEmpty else { continue }
            guard let provider = providers[registry.name] as? any SecretHydrating else {
                throw ProviderError.fatal(.internal, "registry '\(registry.name)' returned sealed secrets but cannot read them")
            }
            current[registry.name] = try await provider.hydrate(state, names: names)
        }
        let result = plan(spec, specDigest: specDigest, observed: current, targets: targets, options: options)
        // Never a plan that touches a webhook whose secrets are unknown (a restore would put back nothing).
        for registry in result.plan?.registries ?? [] {
            let sealed = Set(current[registry.name]?.sealed.keys ?? [:].keys)
            if let name = touched(registry).intersection(sealed).sorted().first {
                throw ProviderError.fatal(.internal, "registry '\(registry.name)': webhook '\(name)' is still sealed after its secrets were read; plan again with --refresh full")
            }
        }
        return (result.plan, result.diagnostics, current)
    }

    /// The webhooks (lowercased) a registry's plan depends on: those it changes, and those a saved plan
    /// records as dependencies.
    private static func touched(_ registry: RegistryPlan) -> Set<String> {
        Set(registry.changes.map { $0.webhook.lowercased() }).union(registry.dependencies?.keys ?? [:].keys)
    }
}

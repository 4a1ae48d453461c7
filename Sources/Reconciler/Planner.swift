import Dispatch
import HookKit
import HookSpec

/// Options that change what a plan may do.
public struct PlanOptions: Hashable, Sendable {
    /// Take over declared webhooks that carry another owner's tag instead of failing.
    public var adoptConflicts: Bool
    /// Record what a saved plan is checked against: each registry's facts digest and
    /// per-webhook dependencies (three SHA-256 digests per webhook). A plan only rendered for people,
    /// applied at once, or reconciled in a loop needs none of it, and at 50,000 webhooks it is a third
    /// of the planning time.
    public var recordsEvidence: Bool
    /// `--target`: plan only these webhooks (declared or present), and depend only on them; nil plans everything.
    public var targets: [PlanTarget]?

    public init(adoptConflicts: Bool = false, recordsEvidence: Bool = true, targets: [PlanTarget]? = nil) {
        self.adoptConflicts = adoptConflicts
        self.recordsEvidence = recordsEvidence
        self.targets = targets
    }
}

/// Computes a ``Plan`` from a resolved spec and the observed state of its registries. Pure: no I/O.
///
/// Values are normalised before comparing so that a plan made right after a successful apply is
/// always empty: actions as a set, header names case-insensitively (values exactly), webhook names
/// case-insensitively, `scope` absent as `""`; `serviceUri` exactly.
public enum Planner {
    /// - Parameters:
    ///   - observed: the registries to plan, by name (registries of the spec not in it are skipped).
    ///   - targets: how to show each registry, without secrets.
    /// - Returns: the plan, or nil with errors (ownership conflicts, tier limits). Warnings may come with a plan.
    public static func plan(
        _ spec: ResolvedSpec, specDigest: String, observed: [String: ObservedRegistry], targets: [String: String] = [:],
        options: PlanOptions = PlanOptions()
    ) -> (plan: Plan?, diagnostics: [Diagnostic]) {
        var registries: [RegistryPlan] = []
        var diagnostics: [Diagnostic] = []
        // Registries plan independently: spread them over every core (pure work, no I/O).
        let plans = ParallelCollector<RegistryPlan?>(count: spec.registries.count, empty: nil)
        let problems = ParallelCollector<[Diagnostic]>(count: spec.registries.count, empty: [])
        DispatchQueue.concurrentPerform(iterations: spec.registries.count) { index in
            let registry = spec.registries[index]
            guard let state = observed[registry.name] else { return }
            let result = plan(registry, index: index, owner: spec.owner, observed: state,
                              target: targets[registry.name] ?? registry.name, options: options)
            plans.set(index, result.plan)
            problems.set(index, result.diagnostics)
        }
        for plan in plans.values { if let plan { registries.append(plan) } }
        for found in problems.values { diagnostics += found }
        registries.sort { $0.name < $1.name }
        if diagnostics.hasErrors { return (nil, diagnostics) }
        var result = Plan(specDigest: specDigest, owner: spec.owner, registries: registries)
        result.targets = options.targets.map { Array(Set($0)).sorted().map(\.description) }
        return (result, diagnostics)
    }

    static func plan(
        _ registry: ResolvedRegistry, index: Int, owner: String, observed: ObservedRegistry, target: String,
        options: PlanOptions
    ) -> (plan: RegistryPlan, diagnostics: [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        var changes: [Change] = []
        var unmanaged: [UnmanagedWebhook] = []
        var present: [String: WebhookState] = [:]
        for webhook in observed.webhooks { present[webhook.name.lowercased()] = webhook }
        var declared: Set<String> = []
        var untargetedUnmanaged = 0
        let registryPointer = JSONPointer.root.appending("registries").appending(index)

        // --target: only these webhooks are planned and depended on; the others are left as they are.
        let targeted: Set<String>? = options.targets.map { Set($0.filter { $0.registry == registry.name }.map(\.webhook)) }
        func isTargeted(_ key: String) -> Bool { targeted?.contains(key) ?? true }
        if let targeted {
            let known = registry.webhooks.map { $0.name.lowercased() } + observed.webhooks.map { $0.name.lowercased() }
            for name in targeted.sorted() where !known.contains(name) {
                var message = "--target \(registry.name)/\(name) matches no webhook declared for registry '\(registry.name)' or present in it; it plans nothing"
                if let match = Suggestion.closest(to: name, among: known) { message += "; did you mean '\(registry.name)/\(match)'?" }
                diagnostics.append(.warning("target-matches-nothing", at: registryPointer.appending("webhooks"), message))
            }
        }

        let allowedLocations = observed.facts.locations.map { Set($0.map(normaliseLocation)) }
        for (webhookIndex, webhook) in registry.webhooks.enumerated() {
            let key = webhook.name.lowercased()
            declared.insert(key)
            guard isTargeted(key) else { continue }
            let webhookPointer = registryPointer.appending("webhooks").appending(webhookIndex)
            var desired = webhook.owned(by: owner)
            if let location = desired.location, let allowed = observed.facts.locations, let allowedSet = allowedLocations,
                !allowedSet.contains(normaliseLocation(location))
            {
                // Caught here, before anything is deleted: ARM refuses a webhook outside the registry's regions
                // only when it is created, which for a replacement is after the old one is gone.
                var message = "location '\(location)' of webhook '\(webhook.name)' is not a region of registry '\(registry.name)'; "
                    + "a webhook must be in the registry's own region or one of its replicas: \(allowed.map { "'\($0)'" }.joined(separator: ", "))"
                if let match = Suggestion.closest(to: normaliseLocation(location), among: allowed.map(normaliseLocation)) {
                    message += "; did you mean '\(match)'?"
                }
                diagnostics.append(.error("location-not-in-registry", at: webhookPointer.appending("location"), message))
                continue
            }
            if desired.location == nil { desired.location = observed.facts.location }
            if let state = observed.provisioning[key], state.isInProgress {
                diagnostics.append(.error(
                    "webhook-in-progress", at: webhookPointer.appending("name"),
                    "webhook '\(webhook.name)' in registry '\(registry.name)' is still \(state.rawValue) (an operation started elsewhere has not finished); wait for it to finish, then plan again"))
                continue
            }
            guard let current = present[key] else {
                changes.append(create(desired, registry: registry.name))
                continue
            }
            var reasons: [String] = []
            switch current.owner {
            case nil:
                reasons.append("adopt: it exists without a \(WebhookState.ownerTag) tag; it will be tagged \(WebhookState.ownerTag)=\(owner)")
            case let other? where other != owner:
                if options.adoptConflicts {
                    reasons.append("take over: it is owned by '\(other)'; --adopt-conflicts hands it to '\(owner)'")
                } else {
                    diagnostics.append(.error(
                        "owner-conflict", at: webhookPointer.appending("name"),
                        "webhook '\(webhook.name)' in registry '\(registry.name)' is owned by '\(other)', not by this spec's owner '\(owner)'; remove it from this spec, change 'owner', or pass --adopt-conflicts to take it over"))
                    continue
                }
            default:
                break
            }
            // Keep tags other tools set; only our owner tag is ours to write.
            if current.owner == owner {
                desired.tags = current.tags  // already ours: nothing to merge (the common case, and a large plan's hot path)
            } else {
                desired.tags = current.tags.merging([WebhookState.ownerTag: owner]) { _, new in new }
            }
            // Keep the registry's spelling of the name: names are case-insensitive and cannot be renamed in place.
            desired.name = current.name
            if let state = observed.provisioning[key] {  // failed or canceled: whatever it holds, it is not settled
                reasons.append("its last operation ended \(state.rawValue); it is sent again in full")
            }
            if let change = compare(current: current, desired: desired, registry: registry.name, reasons: reasons,
                                    provisioning: observed.provisioning[key]) {
                changes.append(change)
            }
        }

        for webhook in observed.webhooks.sorted(by: { $0.name.lowercased() < $1.name.lowercased() })
        where !declared.contains(webhook.name.lowercased()) {
            let isOurs = webhook.owner == owner
            if observed.provisioning[webhook.name.lowercased()] == .deleting { continue }  // already going away
            guard isTargeted(webhook.name.lowercased()) else {
                // Not planned, so not pruned either: it keeps its place in the registry (the tier limit below).
                untargetedUnmanaged += 1
                continue
            }
            switch registry.prune {
            case .all:
                let why = isOurs ? "not in the spec" : "not in the spec and prune is 'all'; " + (webhook.owner.map { "owned by '\($0)'" } ?? "not managed by hookapply")
                changes.append(delete(webhook, registry: registry.name, reason: why))
            case .owned where isOurs:
                changes.append(delete(webhook, registry: registry.name, reason: "not in the spec; owned by '\(owner)'"))
            case .owned:
                unmanaged.append(UnmanagedWebhook(name: webhook.name, owner: webhook.owner,
                                                  reason: webhook.owner.map { "owned by '\($0)'" } ?? "not managed by hookapply"))
            case .none:
                unmanaged.append(UnmanagedWebhook(name: webhook.name, owner: webhook.owner,
                                                  reason: "prune is 'none'" + (webhook.owner.map { "; owned by '\($0)'" } ?? "")))
            }
        }

        if let limit = observed.facts.maxWebhooks {
            let total = registry.webhooks.count + unmanaged.count + untargetedUnmanaged
            if total > limit {
                let tier = observed.facts.tier.map { "its tier '\($0)'" } ?? "the registry"
                diagnostics.append(.error(
                    "too-many-webhooks-for-tier", at: registryPointer.appending("webhooks"),
                    "registry '\(registry.name)' would hold \(total) webhooks (\(registry.webhooks.count) declared, \(unmanaged.count) left alone), but \(tier) allows \(limit)"))
            }
        }

        changes.sort { ($0.action.order, $0.webhook.lowercased()) < ($1.action.order, $1.webhook.lowercased()) }
        // What this plan relies on: declared webhooks (present or absent) and live ones it manages or may
        // prune; other owners' webhooks it leaves alone are not among them, so their changes do not make it stale.
        guard options.recordsEvidence else {
            return (RegistryPlan(name: registry.name, target: target, changes: changes, unmanaged: unmanaged), diagnostics)
        }
        let leftAlone = Set(unmanaged.map { $0.name.lowercased() })
        var dependencies: [String: WebhookDependency] = [:]
        for key in declared where isTargeted(key) { dependencies[key] = .absent }
        var interning = WebhookDependency.Interning()
        dependencies.reserveCapacity(observed.webhooks.count)
        for webhook in observed.webhooks where !leftAlone.contains(webhook.name.lowercased()) && isTargeted(webhook.name.lowercased()) {
            let key = webhook.name.lowercased()
            dependencies[key] = WebhookDependency(webhook, provisioning: observed.provisioning[key], interning: &interning)
        }
        let facts = [observed.facts.maxWebhooks.map(String.init) ?? "", observed.facts.tier ?? "", observed.facts.location ?? ""]
            + (observed.facts.locations ?? [])
        let factsDigest = SHA256.hexDigest(facts.joined(separator: "\u{0}"))
        let plan = RegistryPlan(name: registry.name, target: target, changes: changes, unmanaged: unmanaged,
                                dependencies: dependencies, factsDigest: factsDigest)
        return (plan, diagnostics)
    }

    static func create(_ desired: WebhookState, registry: String) -> Change {
        var fields = [FieldChange(field: .serviceUri, old: nil, new: quoted(Redaction.maskURI(desired.serviceUri)), isSensitive: true)]
        for header in desired.customHeaders {
            if Redaction.isSecretHeader(header.name) {
                fields.append(FieldChange(field: .customHeaders, key: header.name, old: nil, new: .masked, isSensitive: true))
            } else {
                fields.append(FieldChange(field: .customHeaders, key: header.name, old: nil, new: quoted(header.value)))
            }
        }
        fields.append(FieldChange(field: .actions, old: nil, new: list(desired.normalisedActions)))
        fields.append(FieldChange(field: .status, old: nil, new: quoted(desired.status.rawValue)))
        fields.append(FieldChange(field: .scope, old: nil, new: quoted(desired.scope)))
        if let location = desired.location { fields.append(FieldChange(field: .location, old: nil, new: quoted(location))) }
        if !desired.signingSecrets.isEmpty {
            fields.append(FieldChange(field: .signingSecret, old: nil, new: .masked, isSensitive: true))
        }
        if desired.payloadFormat != .acr {
            fields.append(FieldChange(field: .payloadFormat, old: nil, new: quoted(desired.payloadFormat.rawValue)))
        }
        return Change(registry: registry, webhook: desired.name, action: .create, reasons: [], fields: fields,
                      unchangedCount: 0, before: nil, after: MaskedWebhook(desired),
                      desired: desired)
    }

    static func delete(_ current: WebhookState, registry: String, reason: String) -> Change {
        Change(registry: registry, webhook: current.name, action: .delete, reasons: [reason], fields: [], unchangedCount: 0,
               before: MaskedWebhook(current), after: nil, desired: nil)
    }

    /// The change that turns `current` into `desired`, or nil when they match.
    static func compare(
        current: WebhookState, desired: WebhookState, registry: String, reasons: [String], provisioning: ProvisioningState? = nil
    ) -> Change? {
        var fields: [FieldChange] = []
        var unchanged = 0
        var reasons = reasons
        if current.serviceUri != desired.serviceUri {
            let old = Redaction.maskURI(current.serviceUri)
            let new = Redaction.maskURI(desired.serviceUri)
            fields.append(FieldChange(field: .serviceUri, old: quoted(old), new: quoted(new), isSensitive: true, isHiddenChange: old == new))
        } else {
            unchanged += 1
        }
        if !current.hasSameHeaders(as: desired) {
            let oldHeaders = current.normalisedHeaders
            let newHeaders = desired.normalisedHeaders
            var names: [String: String] = [:]  // lowercased → the spelling to show
            for header in current.customHeaders { names[header.name.lowercased()] = header.name }
            for header in desired.customHeaders { names[header.name.lowercased()] = header.name }
            for key in names.keys.sorted() {
                let display = names[key] ?? key
                if !Redaction.isSecretHeader(key) {
                    // Not a secret: shown as it is, like any other field.
                    if oldHeaders[key] != newHeaders[key] {
                        fields.append(FieldChange(field: .customHeaders, key: display, old: oldHeaders[key].map(quoted), new: newHeaders[key].map(quoted)))
                    }
                    continue
                }
                switch (oldHeaders[key], newHeaders[key]) {
                case (nil, _?):
                    fields.append(FieldChange(field: .customHeaders, key: display, old: nil, new: .masked, isSensitive: true))
                case (_?, nil):
                    fields.append(FieldChange(field: .customHeaders, key: display, old: .masked, new: nil, isSensitive: true))
                case let (old?, new?) where old != new:
                    fields.append(FieldChange(field: .customHeaders, key: display, old: .masked,
                                              new: .masked, isSensitive: true, isHiddenChange: true))
                default:
                    break
                }
            }
        } else {
            unchanged += 1
        }
        if !current.hasSameActions(as: desired) {
            fields.append(FieldChange(field: .actions, old: list(current.normalisedActions), new: list(desired.normalisedActions)))
        } else {
            unchanged += 1
        }
        if current.status != desired.status {
            fields.append(FieldChange(field: .status, old: quoted(current.status.rawValue), new: quoted(desired.status.rawValue)))
        } else {
            unchanged += 1
        }
        if current.scope != desired.scope {
            fields.append(FieldChange(field: .scope, old: quoted(current.scope), new: quoted(desired.scope)))
        } else {
            unchanged += 1
        }
        var action = ChangeAction.update
        if let old = current.location, let new = desired.location, normaliseLocation(old) != normaliseLocation(new) {
            fields.append(FieldChange(field: .location, old: quoted(old), new: quoted(new), forcesReplacement: true))
            reasons.append("the location cannot change in place, so the webhook is deleted and created again")
            action = .replace
        } else if current.location != nil || desired.location != nil {
            unchanged += 1
        }
        // Counted as unchanged only where set, like location: a webhook that never signs has no such field.
        switch (current.signingSecrets.isEmpty, desired.signingSecrets.isEmpty) {
        case (true, true): break
        case (true, false): fields.append(FieldChange(field: .signingSecret, old: nil, new: .masked, isSensitive: true))
        case (false, true): fields.append(FieldChange(field: .signingSecret, old: .masked, new: nil, isSensitive: true))
        case (false, false):
            if current.hasSameSigningSecrets(as: desired) {
                unchanged += 1
            } else {
                fields.append(FieldChange(field: .signingSecret, old: .masked, new: .masked, isSensitive: true, isHiddenChange: true))
            }
        }
        if current.payloadFormat != desired.payloadFormat {
            fields.append(FieldChange(field: .payloadFormat, old: quoted(current.payloadFormat.rawValue), new: quoted(desired.payloadFormat.rawValue)))
        } else if desired.payloadFormat != .acr {
            unchanged += 1
        }
        if current.owner != desired.owner {
            fields.append(FieldChange(field: .tags, key: WebhookState.ownerTag, old: current.owner.map(quoted), new: desired.owner.map(quoted)))
        }
        if let provisioning, !provisioning.isInProgress {
            fields.append(FieldChange(field: .provisioningState, old: quoted(provisioning.rawValue), new: quoted("Succeeded")))
        }
        if fields.isEmpty { return nil }
        var target = desired
        if action == .replace {
            // A new webhook gets only our tag, like any create.
            target.tags = [WebhookState.ownerTag: desired.owner ?? ""]
        }
        return Change(registry: registry, webhook: current.name, action: action, reasons: reasons, fields: fields,
                      unchangedCount: unchanged, before: MaskedWebhook(current), after: MaskedWebhook(target),
                      desired: target, previous: action == .replace ? current : nil)
    }

    /// Azure accepts "West Europe" and returns "westeurope"; compare the forms that mean the same region.
    public static func normaliseLocation(_ location: String) -> String {
        String(location.lowercased().filter { !$0.isWhitespace })
    }

    static func quoted(_ text: String) -> FieldValue { .text(text) }
    static func list(_ actions: [WebhookAction]) -> FieldValue { .list(actions.map(\.rawValue)) }
}

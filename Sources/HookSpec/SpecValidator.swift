import Dispatch
import HookKit

/// Checks what a spec means: names, service URIs, headers, scopes, Azure coordinates and counts.
///
/// Returns every problem it finds and never throws (``SpecDecoder`` has already checked shape and types).
/// It works on a ``Spec`` value, not on JSON, so that specs built in code (by `export`, by tests) are held
/// to the same rules; positions are attached by ``SpecLoader`` from each diagnostic's pointer.
public enum SpecValidator {
    /// The most webhooks any registry tier allows (Premium).
    public static let maxWebhooksPerRegistry = 500

    public static func validate(_ spec: Spec) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        diagnostics += validateOwner(spec.owner)
        var registryNames: [String: JSONPointer] = [:]
        for (index, registry) in spec.registries.enumerated() {
            let pointer = JSONPointer.root.appending("registries").appending(index)
            let key = registry.name.lowercased()
            if let first = registryNames[key] {
                diagnostics.append(.error("duplicate-registry-name", at: pointer.appending("name"),
                                          "registry name '\(registry.name)' is already used at \(first); registry names must be unique"))
            } else if !registry.name.isEmpty {
                registryNames[key] = pointer
            }
        }
        diagnostics += validateDistinctTargets(spec)
        // Registries are independent: validate them on every core (large specs hold hundreds).
        let perRegistry = ParallelCollector<[Diagnostic]>(count: spec.registries.count, empty: [])
        DispatchQueue.concurrentPerform(iterations: spec.registries.count) { index in
            let pointer = JSONPointer.root.appending("registries").appending(index)
            perRegistry.set(index, validate(spec.registries[index], at: pointer))
        }
        for found in perRegistry.values { diagnostics += found }
        return diagnostics
    }

    /// Two registries of one spec must never be the same registry: each apply would prune the other's
    /// webhooks, and a local one would wait for its own lock. Local paths are compared after lexical
    /// normalisation (`s.json` is `./s.json` is `x/../s.json`); Azure registries by their coordinates,
    /// case-insensitively as ARM compares them.
    static func validateDistinctTargets(_ spec: Spec) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        var seen: [String: (name: String, pointer: JSONPointer)] = [:]
        for (index, registry) in spec.registries.enumerated() {
            let pointer = JSONPointer.root.appending("registries").appending(index)
            let key: String
            let what: String
            let at: JSONPointer
            switch registry.target {
            case .local(let path):
                if let path, path.isEmpty { continue }
                key = "local\u{0}" + Target.normalisedPath(path ?? Target.defaultLocalPath(registry: registry.name))
                what = "the same local state file"
                at = path == nil ? pointer.appending("name") : pointer.appending("local").appending("path")
            case .azure(let azure):
                key = "azure\u{0}\(azure.subscriptionId.raw.lowercased())\u{0}\(azure.resourceGroup.lowercased())\u{0}\(azure.registry.lowercased())"
                what = "the same Azure registry"
                at = pointer.appending("azure").appending("registry")
            }
            if let first = seen[key] {
                diagnostics.append(.error("duplicate-registry-target", at: at,
                                          "registry '\(registry.name)' is \(what) as registry '\(first.name)' (\(first.pointer)); each apply would delete the other's webhooks. Give each registry its own target, or merge them"))
            } else {
                seen[key] = (registry.name, pointer)
            }
        }
        return diagnostics
    }

    static func validateOwner(_ owner: String) -> [Diagnostic] {
        let pointer = JSONPointer.root.appending("owner")
        if owner.isEmpty || owner.count > 256 || owner.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return [.error("invalid-owner", at: pointer,
                           "'owner' must be 1 to 256 characters without control characters; it is written as a tag on every webhook this spec owns")]
        }
        return []
    }

    static func validate(_ registry: Registry, at pointer: JSONPointer) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        let name = registry.name
        let isValidName = (1...63).contains(name.count)
            && name.unicodeScalars.first.map { $0.isASCIILetter || $0.isASCIIDigit } == true
            && name.unicodeScalars.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || "._-".unicodeScalars.contains($0) }
        if !isValidName {
            diagnostics.append(.error("invalid-registry-name", at: pointer.appending("name"),
                                      "registry name '\(name)' must be 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit (it names the local state file)"))
        }
        var isAzure = false
        switch registry.target {
        case .local(let path):
            if let path, path.isEmpty || path.contains("\u{0}") {
                diagnostics.append(.error("invalid-local-path", at: pointer.appending("local").appending("path"),
                                          "'path' must be a non-empty file path; omit it for the default \(Target.defaultLocalPath(registry: name))"))
            }
        case .azure(let azure):
            isAzure = true
            diagnostics += validate(azure, at: pointer.appending("azure"))
        }
        let webhooksPointer = pointer.appending("webhooks")
        if registry.webhooks.count > maxWebhooksPerRegistry {
            diagnostics.append(.error("too-many-webhooks", at: webhooksPointer,
                                      "registry '\(name)' declares \(registry.webhooks.count) webhooks; no registry tier allows more than \(maxWebhooksPerRegistry)"))
        }
        var names: [String: JSONPointer] = [:]
        for (index, webhook) in registry.webhooks.enumerated() {
            let webhookPointer = webhooksPointer.appending(index)
            let key = webhook.name.lowercased()
            if let first = names[key] {
                diagnostics.append(.error("duplicate-webhook-name", at: webhookPointer.appending("name"),
                                          "webhook name '\(webhook.name)' is already used at \(first) in registry '\(name)'; names are compared case-insensitively"))
            } else if !webhook.name.isEmpty {
                names[key] = webhookPointer
            }
            diagnostics += validate(webhook, at: webhookPointer, isAzure: isAzure)
        }
        return diagnostics
    }

    static func validate(_ azure: AzureTarget, at pointer: JSONPointer) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        if !azure.subscriptionId.hasReferences, !isUUID(azure.subscriptionId.raw) {
            diagnostics.append(.error("invalid-subscription-id", at: pointer.appending("subscriptionId"),
                                      "'subscriptionId' must be a UUID such as 00000000-0000-0000-0000-000000000000, or ${env:NAME}"))
        }
        diagnostics += validateResourceGroup(azure.resourceGroup, at: pointer.appending("resourceGroup"))
        let registry = azure.registry
        if !(5...50).contains(registry.count) || !registry.unicodeScalars.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit }) {
            diagnostics.append(.error("invalid-azure-registry-name", at: pointer.appending("registry"),
                                      "Azure registry name '\(registry)' must be 5 to 50 letters and digits"))
        }
        if let endpoint = azure.endpoint {
            diagnostics += validateEndpoint(endpoint, at: pointer.appending("endpoint"))
        }
        return diagnostics
    }

    static func validateResourceGroup(_ group: String, at pointer: JSONPointer) -> [Diagnostic] {
        let allowed = group.unicodeScalars.allSatisfy { scalar in
            scalar.properties.isAlphabetic || scalar.properties.numericType != nil || "-_.()".unicodeScalars.contains(scalar)
        }
        if !(1...90).contains(group.count) || !allowed || group.hasSuffix(".") {
            return [.error("invalid-resource-group", at: pointer,
                           "resource group '\(group)' must be 1 to 90 letters, digits, '-', '_', '.', '(' or ')' and must not end with '.'")]
        }
        return []
    }

    /// ARM endpoints: https, or http for a loopback host (emulators and tests); no credentials, query or fragment.
    public static func validateEndpoint(_ endpoint: String, at pointer: JSONPointer) -> [Diagnostic] {
        do {
            let uri = try ServiceURI(parsing: endpoint)
            if uri.userinfo != nil || uri.query != nil {
                return [.error("invalid-endpoint", at: pointer, "endpoint must not contain credentials or a query")]
            }
            if uri.scheme == "http" && !uri.isLoopback {
                return [.error("insecure-endpoint", at: pointer,
                               "endpoint '\(uri.masked)' uses http; ARM endpoints must use https (http is accepted only for localhost, [::1] and 127.x.x.x addresses)")]
            }
        } catch {
            return [.error("invalid-endpoint", at: pointer, "endpoint \(error.message)")]
        }
        return []
    }

    static func validate(_ webhook: Webhook, at pointer: JSONPointer, isAzure: Bool) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        diagnostics += validateWebhookName(webhook.name, at: pointer.appending("name"))
        diagnostics += validateServiceURI(webhook.serviceUri, at: pointer.appending("serviceUri"), hasHeaders: !webhook.customHeaders.isEmpty)
        diagnostics += validateHeaders(webhook.customHeaders, at: pointer.appending("customHeaders"))
        diagnostics += validateScope(webhook.scope, at: pointer.appending("scope"))
        if let location = webhook.location {
            let locationPointer = pointer.appending("location")
            if !isAzure {
                diagnostics.append(.error("location-requires-azure", at: locationPointer,
                                          "'location' applies only to webhooks of an azure registry; remove it"))
            } else if location.isEmpty || !location.unicodeScalars.allSatisfy(\.isASCIILowercaseLetterOrDigit) {
                let fixed = String(location.lowercased().unicodeScalars.filter(\.isASCIILowercaseLetterOrDigit))
                diagnostics.append(.error("invalid-location", at: locationPointer,
                                          "location '\(location)' must be an Azure region name such as 'westus'" + (fixed.isEmpty ? "" : "; did you mean '\(fixed)'?")))
            }
        }
        diagnostics += validateSigning(webhook, at: pointer, isAzure: isAzure)
        if let format = webhook.payloadFormat {
            let formatPointer = pointer.appending("payloadFormat")
            if isAzure {
                diagnostics.append(.error("payload-format-not-supported", at: formatPointer,
                                          "'payloadFormat' applies only to webhooks of a local registry: ACR always sends its own JSON, and its API has no such property; remove it (Event Grid is ACR's way to get CloudEvents)"))
            } else if format == .cloudevents, let header = webhook.customHeaders.first(where: { $0.name.lowercased() == "content-type" }) {
                diagnostics.append(.error("content-type-with-cloudevents", at: pointer.appending("customHeaders").appending(header.name),
                                          "a CloudEvents delivery is sent as 'application/cloudevents+json'; remove the custom '\(header.name)' header, or set payloadFormat to 'acr'"))
            }
        }
        return diagnostics
    }

    /// Headers that signing sets on every delivery: a custom one of the same name would send two.
    public static let signingHeaders = ["webhook-id", "webhook-timestamp", "webhook-signature"]

    static func validateSigning(_ webhook: Webhook, at pointer: JSONPointer, isAzure: Bool) -> [Diagnostic] {
        guard !webhook.signingSecrets.isEmpty else { return [] }
        if isAzure {
            return [.error("signing-not-supported", at: pointer.appending("signingSecret"),
                           "'signingSecret' applies only to webhooks of a local registry: ACR sends its deliveries unsigned, and its API has no such property; remove it, and authenticate with a custom header instead")]
        }
        var diagnostics: [Diagnostic] = []
        var seen: Set<String> = []
        for (index, secret) in webhook.signingSecrets.enumerated() {
            let secretPointer = webhook.signingSecretPointer(pointer, index)
            if !seen.insert(secret.raw).inserted {
                diagnostics.append(.error("duplicate-signing-secret", at: secretPointer, "this signing secret is listed twice; keep one"))
                continue
            }
            if secret.hasReferences {
                // A literal prefix with a reference after it is checked once resolved.
                continue
            }
            let text = secret.rendered { _, fallback in fallback ?? "" }
            if let problem = SigningSecret.problem(text) {
                diagnostics.append(.error("invalid-signing-secret", at: secretPointer, "the signing secret \(problem)"))
            } else {
                diagnostics.append(.warning("literal-signing-secret", at: secretPointer,
                                            "the signing secret is written in the spec, so everyone who can read the repository can forge deliveries; write it as ${env:NAME} and set the variable where hookapply runs"))
            }
        }
        for header in webhook.customHeaders where signingHeaders.contains(header.name.lowercased()) {
            diagnostics.append(.error("signing-header", at: pointer.appending("customHeaders").appending(header.name),
                                      "header '\(header.name)' is set by signing on every delivery; remove the custom header"))
        }
        return diagnostics
    }

    public static func validateWebhookName(_ name: String, at pointer: @autoclosure () -> JSONPointer) -> [Diagnostic] {
        let isLowerAlnum = name.unicodeScalars.allSatisfy(\.isASCIILowercaseLetterOrDigit)
        let lowered = name.lowercased()
        if (5...50).contains(name.count) && isLowerAlnum { return [] }
        if (5...50).contains(name.count), lowered.unicodeScalars.allSatisfy(\.isASCIILowercaseLetterOrDigit) {
            return [.error("webhook-name-uppercase", at: pointer(),
                           "webhook name '\(name)' has uppercase letters; use '\(lowered)' (names are lowercase letters and digits)")]
        }
        let cleaned = String(lowered.unicodeScalars.filter(\.isASCIILowercaseLetterOrDigit).prefix(50))
        var message = "webhook name '\(name)' must be 5 to 50 lowercase letters and digits"
        if !isLowerAlnum {
            message += ", with no other characters"
        } else {
            message += " (it has \(name.count))"
        }
        if cleaned.count >= 5 && cleaned != name { message += "; try '\(cleaned)'" }
        return [.error("invalid-webhook-name", at: pointer(), message)]
    }

    /// Service URI rules; a template whose host part comes from the environment is checked after resolution.
    public static func validateServiceURI(_ template: Template, at pointer: @autoclosure () -> JSONPointer, hasHeaders: Bool = false) -> [Diagnostic] {
        if let first = template.parts.first, case .environment = first { return [] }
        // References elsewhere stand in as a harmless placeholder so the literal parts are still checked.
        let text = template.rendered { _, _ in "placeholder" }
        return validateServiceURIText(text, at: pointer(), context: "serviceUri", hasHeaders: hasHeaders)
    }

    /// The same rules on a resolved value; messages never contain the value, only its masked form.
    public static func validateServiceURIText(
        _ text: String, at pointer: @autoclosure () -> JSONPointer, context: @autoclosure () -> String, hasHeaders: Bool = false
    ) -> [Diagnostic] {
        if text.isEmpty {
            return [.error("invalid-service-uri", at: pointer(), "\(context()) is empty; write it as https://host/path")]
        }
        do {
            let uri = try ServiceURI(parsing: text)
            // Plain http to this machine never leaves it: no warning for loopback receivers.
            if uri.scheme == "http" && !uri.isLoopback {
                let what = hasHeaders ? "the event and its custom headers would travel" : "the event would travel"
                return [.warning("insecure-service-uri", at: pointer(), "\(context()) '\(uri.masked)' uses http, so \(what) in clear text; use https")]
            }
            return []
        } catch {
            let code = if case .tooLong = error { "service-uri-too-long" } else { "invalid-service-uri" }
            return [.error(code, at: pointer(), "\(context()) \(error.message)")]
        }
    }

    /// Headers that the HTTP client sets itself, or that would break framing if a webhook overrode them.
    public static let forbiddenHeaders = ["host", "content-length", "transfer-encoding", "connection"]

    static func validateHeaders(_ headers: [Header], at pointer: @autoclosure () -> JSONPointer) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        var seen: [String: String] = [:]
        for header in headers {
            let before = diagnostics.count
            let headerPointer = pointer().appending(header.name)
            let lowered = header.name.lowercased()
            if !isToken(header.name) {
                diagnostics.append(.error("invalid-header-name", at: headerPointer,
                                          "header name '\(header.name)' is not a valid HTTP field name; use letters, digits and !#$%&'*+-.^_`|~ only"))
            } else if forbiddenHeaders.contains(lowered) {
                diagnostics.append(.error("forbidden-header", at: headerPointer,
                                          "header '\(header.name)' is set by the HTTP client and cannot be a custom header; remove it"))
            }
            if let first = seen[lowered] {
                diagnostics.append(.error("duplicate-header", at: headerPointer,
                                          "header '\(header.name)' duplicates '\(first)'; header names are case-insensitive, keep one"))
            } else {
                seen[lowered] = header.name
            }
            for case .literal(let text) in header.value.parts {
                if let problem = headerValueProblem(text) {
                    diagnostics.append(.error("invalid-header-value", at: headerPointer,
                                              "the value of header '\(header.name)' \(problem)"))
                    break
                }
            }
            if diagnostics.count == before, !header.value.hasReferences, Redaction.isSecretHeader(lowered),
                header.value.raw.count < Redaction.minimumScrubbableLength
            {
                diagnostics.append(.warning("short-secret", at: headerPointer,
                                            "the value of header '\(header.name)' is shorter than \(Redaction.minimumScrubbableLength) characters; header values are treated as secrets, and values that short cannot be hidden where a receiver or an error echoes them. Use a longer value"))
            }
        }
        return diagnostics
    }

    /// Why a header value is unsafe to send, or nil. CR and LF would let a value inject headers.
    public static func headerValueProblem(_ value: String) -> String? {
        if value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) {
            return "contains a line break (CR or LF), which would inject extra headers; remove it"
        }
        if value.unicodeScalars.contains("\u{0}") { return "contains a NUL character; remove it" }
        // Exactly what the HTTP client refuses to send (RFC 9110 §5.5): any control character but tab, and DEL.
        if let bad = value.unicodeScalars.first(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
            let hex = String(bad.value, radix: 16, uppercase: true)
            return "contains the control character U+\(String(repeating: "0", count: 4 - hex.count))\(hex), which an HTTP header cannot carry; remove it"
        }
        return nil
    }

    /// RFC 9110 §5.6.2 token.
    public static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || "!#$%&'*+-.^_`|~".unicodeScalars.contains($0) }
    }

    static func validateScope(_ scope: String, at pointer: @autoclosure () -> JSONPointer) -> [Diagnostic] {
        if scope.isEmpty { return [] }
        // Cheap test first: the spacing rules matter only when the scope has a space at all.
        if scope.utf8.contains(0x20), scope.contains(":") && (scope.contains(" :") || scope.contains(": ")) || scope != scope.trimmingSpaces {
            let fixed = scope.split(separator: ":", omittingEmptySubsequences: false).map { String($0).trimmingSpaces }.joined(separator: ":")
            return [.error("scope-spaced-colon", at: pointer(), "scope '\(scope)' has spaces around the repository and tag; write '\(fixed)'")]
        }
        let pieces = scope.split(separator: ":", omittingEmptySubsequences: false)
        guard pieces.count <= 2 else {
            return [.error("invalid-scope", at: pointer(), "scope '\(scope)' has more than one ':'; write 'repository', 'repository:tag' or 'repository:*'")]
        }
        let repository = String(pieces[0])
        if pieces.count == 2 {
            let tag = pieces[1]
            if tag != "*" && !isTag(tag) {
                return [.error("invalid-scope", at: pointer(),
                               "scope '\(scope)' has an invalid tag '\(tag)'; a tag is 1 to 128 letters, digits, '_', '.' or '-' not starting with '.' or '-', or '*' for every tag")]
            }
        }
        if isRepository(repository) { return [] }
        if isRepository(repository.lowercased()) {
            let fixed = pieces.count == 2 ? repository.lowercased() + ":" + pieces[1] : repository.lowercased()
            return [.error("scope-uppercase", at: pointer(), "scope '\(scope)': repository names are lowercase; write '\(fixed)'")]
        }
        let hint = repository == "*" ? "; leave scope empty (\"\") for every repository" : ""
        return [.error("invalid-scope", at: pointer(),
                       "scope '\(scope)' has an invalid repository '\(repository)'; use lowercase path components of letters and digits separated by '/', joined within by '.', '_', '__' or '-'\(hint)")]
    }

    /// An OCI distribution repository name: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`.
    public static func isRepository(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255 else { return false }
        return name.split(separator: "/", omittingEmptySubsequences: false).allSatisfy(isPathComponent)
    }

    private static func isPathComponent(_ component: Substring) -> Bool {
        // Works on UTF-8 bytes: any non-ASCII byte is simply not allowed.
        let bytes = Array(component.utf8)
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard let first = bytes.first, let last = bytes.last, isAlphanumeric(first), isAlphanumeric(last) else { return false }
        var index = 0
        while index < bytes.count {
            if isAlphanumeric(bytes[index]) {
                index += 1
                continue
            }
            // A separator run: ".", "_", "__" or one or more "-", always between alphanumerics.
            var end = index
            while end < bytes.count, !isAlphanumeric(bytes[end]) { end += 1 }
            let run = bytes[index..<end]
            let isDashes = run.allSatisfy { $0 == UInt8(ascii: "-") }
            let isSeparator = run.elementsEqual([UInt8(ascii: ".")]) || run.elementsEqual([UInt8(ascii: "_")])
                || run.elementsEqual([UInt8(ascii: "_"), UInt8(ascii: "_")]) || isDashes
            guard isSeparator else { return false }
            index = end
        }
        return true
    }

    /// `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
    public static func isTag(_ tag: Substring) -> Bool {
        guard let first = tag.unicodeScalars.first, (1...128).contains(tag.unicodeScalars.count),
            first.isASCIILetter || first.isASCIIDigit || first == "_"
        else { return false }
        return tag.unicodeScalars.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || "._-".unicodeScalars.contains($0) }
    }

    public static func isUUID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.map(\.count) == [8, 4, 4, 4, 12] else { return false }
        return groups.allSatisfy { $0.unicodeScalars.allSatisfy { $0.isASCIIDigit || ("a"..."f").contains($0) || ("A"..."F").contains($0) } }
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

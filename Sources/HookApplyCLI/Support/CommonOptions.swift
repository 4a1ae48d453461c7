/// Options several commands share, written once so their names and help never drift apart.
extension OptionSpec {
    /// `-f`: the spec, for the commands that read it only from a file.
    static let specFile = OptionSpec(long: "file", short: "f", valueName: "file", help: "The spec to read. Default: webhooks.json.")

    /// `-f`: the spec, for validate, plan and apply, which also read it from standard input.
    static let specFileOrStandardInput = OptionSpec(long: "file", short: "f", valueName: "file",
                                                    help: "The spec to read; '-' reads standard input. Default: webhooks.json.")

    /// `--target REGISTRY/WEBHOOK` on plan and apply (and verify): narrow to these webhooks, as terraform's -target.
    static let target = OptionSpec(long: "target", valueName: "registry/webhook",
                                   help: "Plan only this webhook (repeatable), declared or present; the others are left as they are. For exceptional use.",
                                   isRepeatable: true)

    /// Every command that calls ARM: each call and retry as it happens, and the totals per registry.
    static let verbose = OptionSpec(long: "verbose", help: "Report ARM calls and retries per Azure registry on stderr.")

    static let armEndpoint = OptionSpec(long: "arm-endpoint", valueName: "url",
                                        help: "Azure Resource Manager endpoint (overrides the spec and HOOKAPPLY_ARM_ENDPOINT).")

    /// plan, apply and reconcile: bypass the Azure observation cache.
    static let refresh = OptionSpec(
        long: "refresh", valueName: "mode",
        help: "cached (default): read only the secrets of Azure webhooks changed since the observation cache saw them; full: read every webhook's.",
        allowedValues: ["cached", "full"])
}

/// `HOST:PORT` for a listener (`serve`, `reconcile`): exactly one colon, a port of digits only (`:0`
/// picks a free one).
/// `--listen HOST:PORT`: an IPv4 literal, an IPv6 literal in brackets (`[::1]:9090`, `[::]:9090`), or
/// `localhost`, which is both loopbacks (127.0.0.1 and ::1) at one port.
struct ListenAddress {
    /// What to bind, each an IP literal.
    var hosts: [String]
    /// How logs show it (`[::1]`, `localhost`).
    var shown: String
    var port: UInt16

    static func parse(_ text: String) -> ListenAddress? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
            guard host.contains(":"), host.utf8.allSatisfy({ $0 == 0x3A || $0 == 0x2E || ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }) else { return nil }
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 else { return nil }
            host = parts[0]
            portText = parts[1]
        }
        guard !host.isEmpty, !portText.isEmpty, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let port = UInt16(portText) else { return nil }
        if host.lowercased() == "localhost" { return ListenAddress(hosts: ["127.0.0.1", "::1"], shown: "localhost", port: port) }
        if host.contains(":") { return ListenAddress(hosts: [String(host)], shown: "[\(host)]", port: port) }
        return ListenAddress(hosts: [String(host)], shown: String(host), port: port)
    }
}

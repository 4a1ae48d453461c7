/// Options several commands share, written once so their names and help never drift apart.
extension OptionSpec {
    /// `-f`: the spec, for the commands that read it only from a file.
    static let specFile = OptionSpec(long: "file", short: "f", valueName: "file", help: "The spec to read. Default: webhooks.json.")

    /// `-f`: the spec, for validate, plan and apply, which also read it from standard input.
    static let specFileOrStandardInput = OptionSpec(long: "file", short: "f", valueName: "file",
                                                    help: "The spec to read; '-' reads standard input. Default: webhooks.json.")

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
enum ListenAddress {
    static func parse(_ text: String) -> (host: String, port: UInt16)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, parts[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let port = UInt16(parts[1]) else { return nil }
        return (String(parts[0]), port)
    }
}

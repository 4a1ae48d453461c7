/// hookapply's own name and version, for `version`, saved plans and the User-Agent of what it sends.
public enum Product {
    public static let version = "0.1.0"

    /// What ARM calls and other requests of hookapply's own carry.
    public static let userAgent = "hookapply/\(version)"

    /// What deliveries in ACR's format carry, unless a webhook sets its own: receivers built for ACR
    /// recognise ACR by `AzureContainerRegistry` in the agent (Kargo refuses anything else with 400).
    public static let deliveryUserAgent = "AzureContainerRegistry/1.0 (compatible; hookapply/\(version))"
}

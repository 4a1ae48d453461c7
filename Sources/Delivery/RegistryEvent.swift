import Foundation
import HookKit

/// The events a registry POSTs, in ACR's shape.
public enum RegistryEvent {
    /// ACR's ping body: `{"id", "timestamp", "action": "ping"}`, keys sorted.
    public static func ping(id: String = UUID().uuidString.lowercased(), timestamp: String = Timestamp.now()) -> [UInt8] {
        CompactJSON.object(["id": id, "timestamp": timestamp, "action": "ping"])
    }
}

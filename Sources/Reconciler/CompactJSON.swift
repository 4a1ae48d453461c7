import Foundation
import HookSpec

/// Compact JSON written by hand, keys sorted, slashes unescaped, for `serve`'s per-event paths (the ACR
/// body of each event, each queue line, each event-log record).
///
/// Foundation's `JSONSerialization` with `.sortedKeys` spent a third of `serve`'s CPU sorting
/// `AnyHashable` keys; these writers produce the same JSON (tests decode it back and compare) for the
/// few shapes those paths use.
enum CompactJSON {
    static func appendString(_ text: String, to output: inout [UInt8]) { JSONText.appendQuoted(text, to: &output) }

    /// A flat object of strings, keys sorted.
    static func object(_ members: [String: String]) -> [UInt8] {
        var output: [UInt8] = [0x7B]
        for (index, key) in members.keys.sorted().enumerated() {
            if index > 0 { output.append(0x2C) }
            appendString(key, to: &output)
            output.append(0x3A)
            appendString(members[key] ?? "", to: &output)
        }
        output.append(0x7D)
        return output
    }

    /// A value built from JSON (`JSONNode.plain`): objects with keys sorted, arrays, strings, integers,
    /// doubles, booleans and null. Anything else is written as null.
    static func value(_ value: Any) -> [UInt8] {
        var output: [UInt8] = []
        append(value, to: &output)
        return output
    }

    private static func append(_ value: Any, to output: inout [UInt8]) {
        switch value {
        case let text as String: appendString(text, to: &output)
        case let number as Int64: output += Array(String(number).utf8)
        case let number as Int: output += Array(String(number).utf8)
        case let flag as Bool: output += Array((flag ? "true" : "false").utf8)
        case let number as Double:
            if !number.isFinite {
                output += Array("null".utf8)
            } else if number == number.rounded(), abs(number) < 1e15 {
                output += Array(String(Int64(number)).utf8)
            } else {
                output += Array(String(number).utf8)
            }
        case let object as [String: Any]:
            output.append(0x7B)
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { output.append(0x2C) }
                appendString(key, to: &output)
                output.append(0x3A)
                append(object[key] ?? NSNull(), to: &output)
            }
            output.append(0x7D)
        case let array as [Any]:
            output.append(0x5B)
            for (index, element) in array.enumerated() {
                if index > 0 { output.append(0x2C) }
                append(element, to: &output)
            }
            output.append(0x5D)
        default:
            output += Array("null".utf8)
        }
    }
}

extension DeliveryRecord {
    /// The record as one JSON line (what `JSONEncoder` with sorted keys writes, without its cost).
    func jsonLine() -> [UInt8] {
        var output: [UInt8] = []
        func key(_ name: String, first: Bool = false) {
            if !first { output.append(0x2C) }
            CompactJSON.appendString(name, to: &output)
            output.append(0x3A)
        }
        output.append(0x7B)
        key("action", first: true)
        CompactJSON.appendString(action, to: &output)
        key("attempt")
        output += Array(String(attempt).utf8)
        key("durationMilliseconds")
        output += Array(String(durationMilliseconds).utf8)
        if let error {
            key("error")
            CompactJSON.appendString(error, to: &output)
        }
        key("id")
        CompactJSON.appendString(id, to: &output)
        key("request")
        output.append(0x7B)
        key("body", first: true)
        CompactJSON.appendString(request.body, to: &output)
        key("headers")
        output += CompactJSON.object(request.headers)
        key("method")
        CompactJSON.appendString(request.method, to: &output)
        key("uri")
        CompactJSON.appendString(request.uri, to: &output)
        output.append(0x7D)
        if let response {
            key("response")
            output.append(0x7B)
            key("body", first: true)
            CompactJSON.appendString(response.body, to: &output)
            key("bodyTruncated")
            output += Array((response.bodyTruncated ? "true" : "false").utf8)
            key("headers")
            output += CompactJSON.object(response.headers)
            key("status")
            output += Array(String(response.status).utf8)
            output.append(0x7D)
        }
        key("timestamp")
        CompactJSON.appendString(timestamp, to: &output)
        key("webhook")
        CompactJSON.appendString(webhook, to: &output)
        output.append(0x7D)
        return output
    }
}

import Reconciler

extension DeliveryRecord {
    /// The record as one JSON line (what `JSONEncoder` with sorted keys writes, without its cost).
    public func jsonLine() -> [UInt8] {
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
        key("duration_ms")
        output += Array(String(durationMilliseconds).utf8)
        if let error {
            key("error")
            CompactJSON.appendString(error, to: &output)
        }
        if let gaveUp {
            key("gave_up")
            output += Array((gaveUp ? "true" : "false").utf8)
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
            key("body_truncated")
            output += Array((response.bodyTruncated ? "true" : "false").utf8)
            key("headers")
            output += CompactJSON.object(response.headers)
            key("status")
            output += Array(String(response.status).utf8)
            output.append(0x7D)
        }
        if let subject {
            key("subject")
            CompactJSON.appendString(subject, to: &output)
        }
        key("timestamp")
        CompactJSON.appendString(timestamp, to: &output)
        key("webhook")
        CompactJSON.appendString(webhook, to: &output)
        output.append(0x7D)
        return output
    }
}

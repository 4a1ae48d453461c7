extension Array where Element == UInt8 {
    /// Where `needle` first occurs at or after `start` (a plain scan: needles here are a few bytes, or a
    /// secret searched for in a few KiB). Shared by the HTTP request parser and the secret scrubber.
    public func firstIndex(of needle: [UInt8], from start: Int) -> Int? {
        guard let head = needle.first, start >= 0, count - start >= needle.count else { return nil }
        return withUnsafeBufferPointer { hay in
            needle.withUnsafeBufferPointer { pin in
                var index = start
                let last = hay.count - pin.count
                while index <= last {
                    if hay[index] == head {
                        var offset = 1
                        while offset < pin.count && hay[index + offset] == pin[offset] { offset += 1 }
                        if offset == pin.count { return index }
                    }
                    index += 1
                }
                return nil
            }
        }
    }
}

/// SplitMix64: a small, fast, reproducible generator, so that a failing property or fuzz run can be replayed.
public struct SeededRandom: Sendable {
    public var state: UInt64

    public init(state: UInt64) {
        self.state = state
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(1, bound))) }
    public mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    public mutating func pick<T>(_ values: [T]) -> T { values[below(values.count)] }
}

extension SeededRandom {
    /// `input` with one to four mutations for fuzzing a parser: a byte overwritten, a byte removed, one of
    /// `pieces` inserted (fragments that steer towards interesting syntax), or the rest cut off.
    public mutating func mutate(_ input: [UInt8], pieces: [String]) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + below(4)) {
            let position = below(bytes.count + 1)
            switch below(4) {
            case 0 where !bytes.isEmpty: bytes[min(position, bytes.count - 1)] = UInt8(truncatingIfNeeded: next())
            case 1 where !bytes.isEmpty: bytes.remove(at: min(position, bytes.count - 1))
            case 2: bytes.insert(contentsOf: Array(pick(pieces).utf8), at: position)
            default: bytes = Array(bytes.prefix(position))
            }
        }
        return bytes
    }

    /// `bytes` cut into consecutive chunks of 1 to `maxChunk` bytes, as a network might deliver them.
    public mutating func split(_ bytes: [UInt8], maxChunk: Int) -> [[UInt8]] {
        var chunks: [[UInt8]] = []
        var index = 0
        while index < bytes.count {
            let size = 1 + below(maxChunk)
            chunks.append(Array(bytes[index..<min(bytes.count, index + size)]))
            index += size
        }
        return chunks
    }
}

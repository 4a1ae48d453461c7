/// Case rules for ASCII protocol text (HTTP field names, auth schemes, media types), on bytes: these are
/// compared for every request, and `lowercased()` copies a string each time. Inlinable, so callers in
/// other modules get a version specialised to their byte collections instead of a generic one.
public enum ASCII {
    @inlinable public static func lowercased(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte }

    /// Equal bytes, letters compared without case. Non-ASCII bytes must match exactly.
    @inlinable public static func equalIgnoringCase<Left: Collection<UInt8>, Right: Collection<UInt8>>(_ left: Left, _ right: Right) -> Bool {
        left.count == right.count && zip(left, right).allSatisfy { lowercased($0) == lowercased($1) }
    }
}

extension Array {
    /// Whether `other` is this very array: the same storage, hence the same elements. Cheaper than
    /// comparing elements, and safe as long as the caller keeps this array alive (its storage cannot be
    /// reused for another array meanwhile, and shared storage is never written: arrays copy on write).
    /// Serve uses it to reuse what it derived from a provider's webhooks while the provider hands out
    /// the array it holds. An equal array with other storage answers false: the caller derives again.
    @inlinable public func hasSameStorage(as other: [Element]) -> Bool {
        count == other.count && withUnsafeBufferPointer { mine in other.withUnsafeBufferPointer { theirs in mine.baseAddress == theirs.baseAddress } }
    }
}

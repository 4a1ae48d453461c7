/// An error whose `message` is a sentence fit to show as it is (no secret, no raw dump): what the
/// commands print after `error: `, rather than a generic "unexpected error" with a type name.
public protocol MessageError: Error {
    var message: String { get }
}

/// A spec read from bytes: the model when it is valid, and every diagnostic with its position.
public struct SpecDocument: Sendable {
    /// The spec, or nil when any diagnostic is an error.
    public var spec: Spec?
    /// Sorted by position.
    public var diagnostics: [Diagnostic]
    private let root: JSONNode?
    private let locator: SourceLocator?

    init(spec: Spec?, diagnostics: [Diagnostic], root: JSONNode?, locator: SourceLocator?) {
        self.spec = spec
        self.diagnostics = diagnostics
        self.root = root
        self.locator = locator
    }

    /// Resolves the spec's `${env:...}` references; diagnostics carry positions in this document.
    public func resolve(environment: [String: String], scope: ResolutionScope = .all) -> (spec: ResolvedSpec?, diagnostics: [Diagnostic]) {
        guard let spec else { return (nil, diagnostics) }
        let result = SpecResolver.resolve(spec, environment: environment, scope: scope)
        return (result.spec, locate(result.diagnostics))
    }

    /// Checks that every referenced variable is set and non-empty, with positions in this document.
    public func checkEnvironment(_ environment: [String: String]) -> [Diagnostic] {
        guard let spec else { return [] }
        return locate(SpecResolver.checkEnvironment(spec, environment: environment))
    }

    /// Attaches positions to diagnostics that have none, from their pointers.
    public func locate(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        guard let root, let locator else { return diagnostics }
        return diagnostics.map { diagnostic in
            guard diagnostic.position == nil else { return diagnostic }
            var located = diagnostic
            var pointer = diagnostic.pointer
            // The nearest node that exists: a missing key points at its parent object.
            while root.node(at: pointer) == nil && !pointer.isRoot { pointer = pointer.removingLast() }
            if let node = root.node(at: pointer) {
                // Object-valued places are easiest to find by their key; scalars by their value.
                let offset: Int
                switch node.value {
                case .object, .array: offset = root.keyOffset(at: pointer) ?? node.offset
                default: offset = node.offset
                }
                located.position = locator.position(of: offset)
            }
            return located
        }.sorted(by: Diagnostic.presentationOrder)
    }
}

/// Reads a spec: strict JSON, then shape and types, then meaning.
public enum SpecLoader {
    public static func load(_ bytes: [UInt8], limits: JSONReader.Limits = JSONReader.Limits()) -> SpecDocument {
        let root: JSONNode
        do {
            root = try JSONReader.read(bytes, limits: limits)
        } catch let error as JSONSyntaxError {
            let locator = SourceLocator(bytes)
            let diagnostic = Diagnostic(.error, code: error.code, pointer: .root, message: error.message,
                                        position: locator.position(of: error.offset))
            return SpecDocument(spec: nil, diagnostics: [diagnostic], root: nil, locator: nil)
        } catch {
            let diagnostic = Diagnostic.error("invalid-json", at: .root, "\(error)")
            return SpecDocument(spec: nil, diagnostics: [diagnostic], root: nil, locator: nil)
        }
        return load(root, source: bytes)
    }

    static func load(_ root: JSONNode, source: [UInt8]) -> SpecDocument {
        let locator = SourceLocator(source)
        var decoder = SpecDecoder()
        let spec = decoder.decode(root)
        var diagnostics: [Diagnostic] = decoder.diagnostics.enumerated().map { index, diagnostic in
            var located = diagnostic
            if let offset = decoder.offsets[index] { located.position = locator.position(of: offset) }
            return located
        }
        if let spec {
            let reported = decoder.reported
            // Drop what the decoder already reported at the same place or above it (a placeholder stood in).
            diagnostics += SpecValidator.validate(spec).filter { diagnostic in
                var pointer = diagnostic.pointer
                while true {
                    if reported.contains(pointer) { return false }
                    if pointer.isRoot { return true }
                    pointer = pointer.removingLast()
                }
            }
        }
        let document = SpecDocument(spec: nil, diagnostics: [], root: root, locator: locator)
        let located = document.locate(diagnostics)
        return SpecDocument(spec: located.hasErrors ? nil : spec, diagnostics: located, root: root, locator: locator)
    }
}

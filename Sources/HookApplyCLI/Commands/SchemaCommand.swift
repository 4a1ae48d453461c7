import HookKit
import HookSpec

/// `hookapply schema`: prints the spec's JSON Schema for editors.
enum SchemaCommand {
    static let spec = CommandSpec(
        name: "schema",
        abstract: "Print the JSON Schema (draft 2020-12) of the webhook spec.",
        discussion: "Point an editor at it (\"$schema\" in the spec) to complete and check the file as you type.")

    static func run(_ arguments: ParsedArguments, _ context: Context) -> ExitCode {
        context.standardOutput.write(SpecSchema.text.hasSuffix("\n") ? SpecSchema.text : SpecSchema.text + "\n")
        return .success
    }
}

/// `hookapply version`.
enum VersionCommand {
    static let version = Product.version
    static let spec = CommandSpec(
        name: "version", abstract: "Print the version of hookapply.",
        options: [OptionSpec(long: "format", short: "o", valueName: "format", help: "Output format.", allowedValues: OutputFormat.records.names)])

    static func run(_ arguments: ParsedArguments, _ context: Context) -> ExitCode {
        if OutputFormat.from(arguments) == .json {
            struct Version: Encodable {
                var version: String
                var spec_version: Int
                var plan_format_version: Int
            }
            context.standardOutput.write(JSONOutput.encode(Version(version: version, spec_version: Spec.currentVersion,
                                                                   plan_format_version: SavedPlan.currentFormatVersion)))
            return .success
        }
        context.standardOutput.line("hookapply \(version) (spec version \(Spec.currentVersion))")
        return .success
    }
}

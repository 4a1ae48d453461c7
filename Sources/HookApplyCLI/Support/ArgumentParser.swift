import HookKit

/// A command-line option. `valueName` nil means a flag that takes no value.
struct OptionSpec: Sendable {
    var long: String
    var short: Character? = nil
    var valueName: String? = nil
    var help: String
    var allowedValues: [String]? = nil
    var isRepeatable: Bool = false
    /// A numeric option's rule, checked while parsing so that every command refuses a bad number the same way.
    var number: NumberRule? = nil
}

/// What a numeric option accepts. Plain decimal digits only: no sign, exponent, hex, `inf` or `nan`,
/// so `-0`, `1e30` and `abc` are all refused, with the range in the message.
enum NumberRule: Sendable {
    /// A whole number in the range.
    case integer(ClosedRange<Int>)
    /// A duration in the range: plain seconds (`30`, `0.5`) or with units like every duration option
    /// (`30s`, `5m`, `1h30m`, `250ms`).
    case seconds(ClosedRange<Double>)

    /// A duration option's value in seconds: plain digits are seconds, anything else a duration with units.
    static func seconds(_ text: String) -> Double? {
        Seconds.parsePlain(text) ?? Seconds.parseDuration(text)
    }

    /// The value, or why it is not acceptable.
    func check(_ text: String) -> String? {
        switch self {
        case .integer(let range):
            guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(text) else {
                return "a whole number from \(range.lowerBound) to \(range.upperBound)"
            }
            return range.contains(value) ? nil : "a whole number from \(range.lowerBound) to \(range.upperBound)"
        case .seconds(let range):
            let limits = "a duration from \(NumberRule.format(range.lowerBound)) to \(NumberRule.format(range.upperBound)) seconds (like 30, 30s, 5m or 250ms)"
            guard let value = NumberRule.seconds(text), value.isFinite, range.contains(value) else { return limits }
            return nil
        }
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// A positional argument.
struct PositionalSpec: Sendable {
    var name: String
    var help: String
    var isOptional: Bool = true
}

/// A subcommand's interface: the one table that parsing, usage errors and `--help` all come from.
struct CommandSpec: Sendable {
    var name: String
    var abstract: String
    var discussion: String = ""
    var positionals: [PositionalSpec] = []
    var options: [OptionSpec] = []

    var usage: String {
        var parts = ["hookapply", name]
        for option in options {
            var text = option.short.map { "-\($0)" } ?? "--\(option.long)"
            if let valueName = option.valueName { text += " <\(valueName)>" }
            parts.append("[\(text)]" + (option.isRepeatable ? "..." : ""))
        }
        for positional in positionals {
            parts.append(positional.isOptional ? "[<\(positional.name)>]" : "<\(positional.name)>")
        }
        return parts.joined(separator: " ")
    }

    var help: String {
        var lines = ["OVERVIEW: \(abstract)", ""]
        if !discussion.isEmpty { lines += [discussion, ""] }
        lines += ["USAGE: \(usage)", ""]
        if !positionals.isEmpty {
            lines.append("ARGUMENTS:")
            for positional in positionals { lines.append(pad("  <\(positional.name)>", positional.help)) }
            lines.append("")
        }
        lines.append("OPTIONS:")
        for option in options {
            var left = "  " + (option.short.map { "-\($0), " } ?? "") + "--\(option.long)"
            if let valueName = option.valueName { left += " <\(valueName)>" }
            var text = option.help
            if let allowed = option.allowedValues { text += " (values: \(allowed.joined(separator: ", ")))" }
            lines.append(pad(left, text))
        }
        lines.append(pad("  -h, --help", "Show help information."))
        let examples = CommandExamples.byCommand[name] ?? []
        if !examples.isEmpty {
            lines += ["", "EXAMPLES:"]
            for example in examples { lines += ["  \(example.command)", "      \(example.what)"] }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func pad(_ left: String, _ right: String) -> String {
        left.count < 26 ? left + String(repeating: " ", count: 26 - left.count) + right : left + "\n" + String(repeating: " ", count: 26) + right
    }
}

/// The parsed command line of one subcommand.
struct ParsedArguments: Sendable {
    var values: [String: [String]] = [:]
    var flags: Set<String> = []
    var positionals: [String] = []
    var wantsHelp = false

    func value(_ long: String) -> String? { values[long]?.last }
    /// A numeric option's value; the parser has already checked it against the option's ``NumberRule``.
    func integer(_ long: String) -> Int? { value(long).flatMap { Int($0) } }
    func seconds(_ long: String) -> Double? { value(long).flatMap(NumberRule.seconds) }
    func allValues(_ long: String) -> [String] { values[long] ?? [] }
    func has(_ flag: String) -> Bool { flags.contains(flag) }
}

/// A mistake in the command line: exit 64 with the message and the usage line.
struct UsageError: Error, Sendable {
    var message: String
}

enum ArgumentParser {
    static func parse(_ arguments: [String], for command: CommandSpec) throws(UsageError) -> ParsedArguments {
        var parsed = ParsedArguments()
        // Help wins over every other mistake on the line, as in swift-argument-parser.
        let options = arguments.prefix { $0 != "--" }
        if options.contains("--help") || options.contains("-h") {
            parsed.wantsHelp = true
            return parsed
        }
        var index = 0
        var onlyPositionals = false
        func option(named long: String) -> OptionSpec? { command.options.first { $0.long == long } }
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if onlyPositionals || argument == "-" || !argument.hasPrefix("-") {
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" {
                onlyPositionals = true
                continue
            }
            if argument == "--help" || argument == "-h" {
                parsed.wantsHelp = true
                continue
            }
            var name: String
            var inlineValue: String? = nil
            let spec: OptionSpec?
            if argument.hasPrefix("--") {
                name = String(argument.dropFirst(2))
                if let equals = name.firstIndex(of: "=") {
                    inlineValue = String(name[name.index(after: equals)...])
                    name = String(name[..<equals])
                }
                spec = option(named: name)
            } else {
                let letters = argument.dropFirst()
                guard letters.count == 1, let letter = letters.first else {
                    throw UsageError(message: "unknown option '\(argument)'" + suggestion(for: String(letters), in: command))
                }
                spec = command.options.first { $0.short == letter }
                name = spec?.long ?? String(letter)
            }
            guard let spec else {
                // Habits from kubectl and az: -o and --output pick a format there.
                if argument == "-o", command.name == "export" {
                    throw UsageError(message: "export always writes JSON; write it to a file with --out FILE")
                }
                if name == "output" {
                    let formats = option(named: "format") != nil ? "--format (-o) for the output format" : nil
                    let file = option(named: "out") != nil ? "--out for a file" : nil
                    let choices = [formats, file].compactMap { $0 }
                    throw UsageError(message: "unknown option '--output'" + (choices.isEmpty ? "" : "; use " + choices.joined(separator: ", or ")))
                }
                throw UsageError(message: "unknown option '\(argument.split(separator: "=").first.map(String.init) ?? argument)'" + suggestion(for: name, in: command))
            }
            guard spec.valueName != nil else {
                if inlineValue != nil { throw UsageError(message: "option '--\(spec.long)' takes no value") }
                parsed.flags.insert(spec.long)
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                // A numeric option takes its next word even when it starts with '-', so that '-0' or '-5'
                // is refused as a number instead of being taken for a missing value.
                guard index < arguments.count, arguments[index] == "-" || !arguments[index].hasPrefix("-") || spec.number != nil else {
                    throw UsageError(message: "option '--\(spec.long)' needs a value: --\(spec.long) <\(spec.valueName ?? "value")>")
                }
                value = arguments[index]
                index += 1
            }
            if let allowed = spec.allowedValues, !allowed.contains(value) {
                let hint = Suggestion.closestWord(to: value, among: allowed).map { "; did you mean '\($0)'?" } ?? ""
                throw UsageError(message: "invalid value '\(value)' for '--\(spec.long)'; valid values are \(allowed.map { "'\($0)'" }.joined(separator: ", "))\(hint)")
            }
            if let rule = spec.number, let expected = rule.check(value) {
                throw UsageError(message: "invalid value '\(value)' for '--\(spec.long)': it needs \(expected)")
            }
            if !spec.isRepeatable, parsed.values[spec.long] != nil {
                throw UsageError(message: "option '--\(spec.long)' is given more than once")
            }
            parsed.values[spec.long, default: []].append(value)
        }
        if parsed.wantsHelp { return parsed }
        let required = command.positionals.filter { !$0.isOptional }
        if parsed.positionals.count < required.count {
            throw UsageError(message: "missing argument <\(required[parsed.positionals.count].name)>")
        }
        if parsed.positionals.count > command.positionals.count {
            throw UsageError(message: "unexpected argument '\(parsed.positionals[command.positionals.count])'")
        }
        return parsed
    }

    private static func suggestion(for name: String, in command: CommandSpec) -> String {
        let longs = command.options.map(\.long) + ["help"]
        if let match = Suggestion.closestWord(to: name, among: longs) { return "; did you mean '--\(match)'?" }
        return "; see 'hookapply \(command.name) --help'"
    }
}

import HookSpec

extension Suggestion {
    static func closestWord(to word: String, among candidates: [String]) -> String? {
        closest(to: word, among: candidates)
    }
}

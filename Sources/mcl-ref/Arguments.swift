import Foundation

/// A bad command line or bad input: printed as one line `mcl-ref: error: <message>` on stderr,
/// and the process exits with `exitCode` (2 for usage and input errors).
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32 = 2
    init(_ message: String, exitCode: Int32 = 2) {
        self.message = message
        self.exitCode = exitCode
    }
    var description: String { message }
}

/// One `--name [VALUE]` option a command accepts. `valueName == nil` makes it a flag.
struct OptionSpec {
    var name: String
    var valueName: String?
    var help: String
    var defaultValue: String? = nil
    var repeatable: Bool = false
    /// The value of a bare `--name` (next word absent or another option): `--sparse-head` means
    /// `--sparse-head 1e-4`. nil: a value is required.
    var implicitValue: String? = nil

    static func flag(_ name: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, valueName: nil, help: help)
    }
    static func value(_ name: String, _ valueName: String, _ help: String, default def: String? = nil,
                      repeatable: Bool = false) -> OptionSpec {
        OptionSpec(name: name, valueName: valueName, help: help, defaultValue: def, repeatable: repeatable)
    }
    /// An option whose value may be left out: `--name` alone stands for `--name implicit`.
    static func optionalValue(_ name: String, _ valueName: String, _ help: String, implicit: String) -> OptionSpec {
        OptionSpec(name: name, valueName: valueName, help: help, implicitValue: implicit)
    }
}

/// A command: its words (`["bench", "matmul"]`), a one-line summary, options and the code it runs.
/// `run` returns the process exit code.
struct CommandSpec {
    var words: [String]
    var summary: String
    var discussion: String = ""
    var options: [OptionSpec]
    var run: (ParsedArguments) throws -> Int32
    /// A command's one positional argument (`mcl-ref report DIR`): stored as the value of `name`.
    var positional: (name: String, valueName: String)? = nil

    var name: String { words.joined(separator: " ") }
}

/// Options every command accepts.
let globalOptions: [OptionSpec] = [
    .value("threads", "N", "worker threads for parallel kernels (results do not depend on it)",
           default: "all cores"),
    .value("seed", "S", "seed of the random number generator (xoshiro256**, unsigned 64-bit)", default: "0"),
    .flag("help", "show this help and exit"),
]

/// The parsed command line of one command: option values by name (without `--`) and flags.
struct ParsedArguments {
    var command: String
    var values: [String: [String]] = [:]
    var flags: Set<String> = []

    func has(_ flag: String) -> Bool { flags.contains(flag) }

    /// The last value given for `--name`, or nil.
    func string(_ name: String) -> String? { values[name]?.last }

    /// Every value given for a repeatable `--name`, in order.
    func strings(_ name: String) -> [String] { values[name] ?? [] }

    func int(_ name: String, default def: Int? = nil, min lowest: Int? = nil, max highest: Int? = nil) throws -> Int? {
        guard let s = string(name) else { return def }
        guard let v = Int(s.trimmingCharacters(in: .whitespaces)) else {
            throw CLIError("--\(name): expected an integer, got '\(s)'")
        }
        if let lowest, v < lowest { throw CLIError("--\(name): must be at least \(lowest), got \(v)") }
        if let highest, v > highest { throw CLIError("--\(name): must be at most \(highest), got \(v)") }
        return v
    }

    func uint64(_ name: String, default def: UInt64) throws -> UInt64 {
        guard let s = string(name) else { return def }
        guard let v = UInt64(s.trimmingCharacters(in: .whitespaces)) else {
            throw CLIError("--\(name): expected an unsigned 64-bit integer, got '\(s)'")
        }
        return v
    }

    /// A finite number; `check` returns nil when valid or the requirement it violates.
    func double(_ name: String, default def: Double? = nil, _ check: ((Double) -> String?)? = nil) throws -> Double? {
        guard let s = string(name) else { return def }
        guard let v = Double(s.trimmingCharacters(in: .whitespaces)), v.isFinite else {
            throw CLIError("--\(name): expected a finite number, got '\(s)'")
        }
        if let check, let problem = check(v) { throw CLIError("--\(name): \(problem), got \(s)") }
        return v
    }

    /// A comma-separated list of integers, e.g. `--sizes 256,512`.
    func intList(_ name: String, min lowest: Int = Int.min) throws -> [Int]? {
        guard let s = string(name) else { return nil }
        let parts = s.split(separator: ",", omittingEmptySubsequences: false)
        var out: [Int] = []
        for p in parts {
            guard let v = Int(p.trimmingCharacters(in: .whitespaces)) else {
                throw CLIError("--\(name): expected comma-separated integers, got '\(s)'")
            }
            if v < lowest { throw CLIError("--\(name): every value must be at least \(lowest), got \(v)") }
            out.append(v)
        }
        return out
    }

    /// One of `choices`, e.g. `--sampler mask|cluster-batch`.
    func choice(_ name: String, _ choices: [String], default def: String) throws -> String {
        guard let s = string(name) else { return def }
        guard choices.contains(s) else {
            throw CLIError("--\(name): unknown value '\(s)' (expected one of: \(choices.joined(separator: ", ")))")
        }
        return s
    }
}

/// Parses `argv` (without the program name) against `commands`.
/// Returns the command and its arguments, or throws `CLIError` naming the offending word.
func parseCommandLine(_ argv: [String], commands: [CommandSpec]) throws -> (CommandSpec, ParsedArguments) {
    // The command is the longest run of leading words that names one.
    var leading: [String] = []
    for word in argv { if word.hasPrefix("-") { break }; leading.append(word) }
    var match: CommandSpec?
    for count in stride(from: leading.count, through: 1, by: -1) {
        if let c = commands.first(where: { $0.words == Array(leading.prefix(count)) }) { match = c; break }
    }
    guard let command = match else {
        if leading.isEmpty { throw CLIError("missing command (see 'mcl-ref --help')") }
        let family = commands.filter { $0.words.first == leading[0] }
        if !family.isEmpty {
            let subs = family.map { $0.name }.joined(separator: ", ")
            throw CLIError("unknown command '\(leading.joined(separator: " "))' (expected one of: \(subs))")
        }
        throw CLIError("unknown command '\(leading[0])' (see 'mcl-ref --help')")
    }
    let rest = Array(argv.dropFirst(command.words.count))
    let specs = command.options + globalOptions
    var parsed = ParsedArguments(command: command.name)
    var i = 0
    while i < rest.count {
        let word = rest[i]
        if word == "-h" { parsed.flags.insert("help"); i += 1; continue }
        if let p = command.positional, !word.hasPrefix("-"), parsed.values[p.name] == nil {
            parsed.values[p.name] = [word]
            i += 1
            continue
        }
        guard word.hasPrefix("--"), word.count > 2 else {
            throw CLIError("unexpected argument '\(word)' for '\(command.name)' (see 'mcl-ref \(command.name) --help')")
        }
        var name = String(word.dropFirst(2))
        var inlineValue: String?
        if let eq = name.firstIndex(of: "=") {
            inlineValue = String(name[name.index(after: eq)...])
            name = String(name[..<eq])
        }
        guard let spec = specs.first(where: { $0.name == name }) else {
            throw CLIError("unknown option '--\(name)' for '\(command.name)' (see 'mcl-ref \(command.name) --help')")
        }
        if spec.valueName == nil {
            if inlineValue != nil { throw CLIError("--\(name) is a flag and takes no value") }
            parsed.flags.insert(name)
            i += 1
            continue
        }
        let value: String
        if let inlineValue {
            value = inlineValue
            i += 1
        } else if let implicit = spec.implicitValue, i + 1 == rest.count || rest[i + 1].hasPrefix("--") {
            value = implicit
            i += 1
        } else {
            guard i + 1 < rest.count else { throw CLIError("--\(name): missing value \(spec.valueName!)") }
            value = rest[i + 1]
            i += 2
        }
        if !spec.repeatable, parsed.values[name] != nil {
            throw CLIError("--\(name) given more than once")
        }
        parsed.values[name, default: []].append(value)
    }
    return (command, parsed)
}

/// The `--help` text of one command.
func helpText(for command: CommandSpec) -> String {
    var s = "USAGE: mcl-ref \(command.name)\(command.positional.map { " " + $0.valueName } ?? "") [options]\n\n\(command.summary)\n"
    if !command.discussion.isEmpty { s += "\n\(command.discussion)\n" }
    func block(_ title: String, _ specs: [OptionSpec]) {
        guard !specs.isEmpty else { return }
        s += "\n\(title):\n"
        let lefts = specs.map { spec in
            "--\(spec.name)" + (spec.valueName.map { spec.implicitValue == nil ? " \($0)" : " [\($0)]" } ?? "")
        }
        let width = min(28, (lefts.map { $0.count }.max() ?? 0) + 2)
        for (left, spec) in zip(lefts, specs) {
            var line = "  " + left.padding(toLength: max(width, left.count + 2), withPad: " ", startingAt: 0) + spec.help
            if let d = spec.defaultValue { line += " (default: \(d))" }
            if let v = spec.implicitValue { line += " (alone: \(v))" }
            if spec.repeatable { line += " (repeatable)" }
            s += line + "\n"
        }
    }
    block("OPTIONS", command.options)
    block("GLOBAL OPTIONS", globalOptions)
    return s
}

/// The top-level `mcl-ref --help` text.
func overviewText(commands: [CommandSpec]) -> String {
    var s = """
    mcl-ref — a reference implementation of Multistage Contrastive Learning (MCL, ECCV 2024).

    USAGE: mcl-ref <command> [options]
           mcl-ref --version

    COMMANDS:

    """
    let width = (commands.map { $0.name.count }.max() ?? 0) + 4
    for c in commands {
        s += "  " + c.name.padding(toLength: width, withPad: " ", startingAt: 0) + c.summary + "\n"
    }
    s += "\nRun 'mcl-ref <command> --help' for a command's options.\n"
    return s
}

/// Writes `text` to standard error (progress and errors never go to stdout).
func printError(_ text: String) {
    FileHandle.standardError.write((text + "\n").data(using: .utf8)!)
}

/// The first word of `argv` when it names a family of commands (e.g. `bench`) and the rest is only
/// `--help`/`-h`: `mcl-ref bench --help` lists the family instead of failing.
func familyAskingForHelp(_ argv: [String], commands: [CommandSpec]) -> String? {
    guard argv.count == 2, ["--help", "-h"].contains(argv[1]) else { return nil }
    let family = commands.filter { $0.words.count > 1 && $0.words.first == argv[0] }
    return family.isEmpty ? nil : argv[0]
}

/// The `--help` text of a command family: its commands and their summaries.
func familyHelpText(_ family: String, commands: [CommandSpec]) -> String {
    let members = commands.filter { $0.words.first == family }
    let width = (members.map { $0.name.count }.max() ?? 0) + 4
    var s = "USAGE: mcl-ref \(family) <command> [options]\n\nCOMMANDS:\n\n"
    for c in members { s += "  " + c.name.padding(toLength: width, withPad: " ", startingAt: 0) + c.summary + "\n" }
    s += "\nRun 'mcl-ref \(family) <command> --help' for a command's options.\n"
    return s
}

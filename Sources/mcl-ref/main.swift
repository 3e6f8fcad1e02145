import Foundation
import MCLNumerics
import MCLReference

/// Every command of mcl-ref, in the order `mcl-ref --help` lists them.
let allCommands: [CommandSpec] = [
    demoCommand,
    trainCommand,
    benchMatmulCommand,
    benchMLPCommand,
    benchTrainCommand,
    fixturesCommand,
    checkCommand,
    reportCommand,
    traceCommand,
    encodeCommand,
    showCommand,
]

/// Parses the command line, applies the global options and runs the command.
/// Exit codes: 0 success, 1 a check failed (e.g. `check`), 2 bad usage or bad input.
/// Bare `mcl-ref` is a usage error like any missing command: the overview goes to stderr, exit 2
/// (so a script that forgot its command fails); `mcl-ref --help` prints it on stdout, exit 0.
func runMain(_ argv: [String]) -> Int32 {
    if argv == ["--help"] || argv == ["-h"] || argv == ["help"] {
        print(overviewText(commands: allCommands), terminator: "")
        return 0
    }
    if argv.isEmpty {
        printError("mcl-ref: error: missing command\n\n" + overviewText(commands: allCommands))
        return 2
    }
    if argv == ["--version"] || argv == ["version"] {
        print("mcl-ref \(MCLReference.version)")
        return 0
    }
    if let family = familyAskingForHelp(argv, commands: allCommands) {
        print(familyHelpText(family, commands: allCommands), terminator: "")
        return 0
    }
    do {
        let (command, args) = try parseCommandLine(argv, commands: allCommands)
        if args.has("help") {
            print(helpText(for: command), terminator: "")
            return 0
        }
        if let threads = try args.int("threads", min: 1) { Parallel.maxThreads = threads }
        return try command.run(args)
    } catch let error as CLIError {
        printError("mcl-ref: error: \(error.message)")
        return error.exitCode
    } catch let error as TrainingError {
        let flags = error.settings.map { "--" + flagName(of: $0) }
        printError("mcl-ref: error: \(error.message)" + (flags.isEmpty ? "" : " (\(flags.joined(separator: ", ")))"))
        return 2
    } catch {
        printError("mcl-ref: error: \(error)")
        return 2
    }
}

keepFreedMemoryForReuse()
exit(runMain(Array(CommandLine.arguments.dropFirst())))

import Foundation
import MCLReference

/// Data options that would do nothing where they are given are refused, not ignored: a user who
/// passes `--labels Y.npy` without `--data` would otherwise train on `easy-hard` and never know.
/// Called before anything is read or written.
func refuseDataOptionsWithoutEffect(_ args: ParsedArguments) throws {
    let userData = args.string("data") != nil
    if !userData {
        for name in ["labels", "test-data", "test-labels", "feature-names"] where args.string(name) != nil {
            throw CLIError("--\(name) applies to --data only (a built-in data set has its own labels and test set)")
        }
        if args.has("no-standardize") {
            throw CLIError("--no-standardize applies to --data only (built-in data are not standardised)")
        }
    } else {
        if args.string("samples") != nil {
            throw CLIError("--samples applies to built-in data only (--data has as many samples as its file)")
        }
    }
    if args.string("test-labels") != nil && args.string("test-data") == nil {
        throw CLIError("--test-labels applies to --test-data only")
    }
    let imageSet = args.string("dataset").map { builtInImageDatasets.contains($0) } ?? false
    if args.string("size") != nil && !imageSet {
        throw CLIError("--size applies to the built-in image sets only (--dataset \(builtInImageDatasets.joined(separator: " | ")))")
    }
}

/// `--feature-names A,B`: non-empty names, each once; nil when not given.
func featureNamesOption(_ args: ParsedArguments) throws -> [String]? {
    guard let s = args.string("feature-names") else { return nil }
    let names = s.split(separator: ",", omittingEmptySubsequences: false).map {
        String($0).trimmingCharacters(in: .whitespaces)
    }
    if names.contains(where: { $0.isEmpty }) {
        throw CLIError("--feature-names: expected comma-separated non-empty names, got '\(s)'")
    }
    var seen: Set<String> = []
    for n in names where !seen.insert(n).inserted {
        throw CLIError("--feature-names: '\(n)' given more than once (each label column needs its own name)")
    }
    return names
}

/// `--out DIR` must name a directory: an empty string is refused.
func outOption(_ args: ParsedArguments) throws -> String? {
    guard let out = args.string("out") else { return nil }
    if out.trimmingCharacters(in: .whitespaces).isEmpty {
        throw CLIError("--out: expected a directory path, got '\(out)'")
    }
    return out
}

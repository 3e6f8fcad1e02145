import XCTest
import MCLNumerics
@testable import mcl_ref

/// The defaults `--help` advertises are the values a command uses when the flag is absent.
/// (`allCommands` lives in main.swift, whose globals are not initialised in a test bundle: use the specs.)
final class DefaultsTests: XCTestCase {
    /// For every MCL option with a documented default: the configuration parsed without the flag equals
    /// the one parsed with `--flag <documented default>`.
    func testEveryAdvertisedMCLDefaultIsTheBehaviour() throws {
        let base = try mclConfiguration(try parseCommandLine(["train"], commands: [trainCommand]).1)
        var checked = 0
        for option in mclOptions {
            guard let def = option.defaultValue else { continue }
            let (_, args) = try parseCommandLine(["train", "--\(option.name)", def], commands: [trainCommand])
            let explicit = try mclConfiguration(args)
            XCTAssertEqual(JSONValue.object(explicit.json), JSONValue.object(base.json),
                           "--\(option.name): help says default \(def), but the default run differs")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 15)
    }

    /// MoCo's own options (refused without `--method moco`) default to what their help says, and
    /// MoCo's temperature defaults to 0.2.
    func testMoCoDefaultsAreTheAdvertisedOnes() throws {
        let base = try mclConfiguration(try parseCommandLine(["train", "--method", "moco"], commands: [trainCommand]).1)
        let explicit = try mclConfiguration(try parseCommandLine(
            ["train", "--method", "moco", "--momentum", "0.99", "--queue-size", "4096", "--temperature", "0.2"],
            commands: [trainCommand]).1)
        XCTAssertEqual(JSONValue.object(explicit.json), JSONValue.object(base.json))
        for name in ["momentum", "queue-size"] {
            XCTAssert(mclOptions.first { $0.name == name }?.help.contains(name == "momentum" ? "default 0.99" : "default 4096") == true)
        }
    }

    /// Where CLIP's default differs, the option's help says "(clip: V)"; V is what `train --method clip`
    /// (and `demo --clip`, the same `clipConfiguration`) uses when the flag is absent.
    func testCLIPDefaultsAreTheAdvertisedOnes() throws {
        func configuration(_ extra: [String]) throws -> JSONValue {
            let (_, args) = try parseCommandLine(["train", "--method", "clip"] + extra, commands: [trainCommand])
            return JSONValue.object(try clipConfiguration(args, sampleShape: [3, 16, 16]).json)
        }
        let base = try configuration([])
        var checked: [String] = []
        for option in mclOptions {
            guard let match = option.help.firstMatch(of: #/clip: ([0-9.]+)/#) else { continue }
            XCTAssertEqual(try configuration(["--\(option.name)", String(match.1)]), base,
                           "--\(option.name): help says clip's default is \(match.1), but the default run differs")
            checked.append(option.name)
        }
        XCTAssertEqual(Set(checked), ["clusters", "epochs", "batch-size", "lr", "hidden", "rep-width"])
    }

    func testDemoDefaultSeedsAreTheAdvertisedOnes() throws {
        let seeds = demoCommand.options.first { $0.name == "seeds" }?.defaultValue
        XCTAssertEqual(seeds, "0,1,2")
        XCTAssertEqual(seeds, demoDefaultSeeds.map(String.init).joined(separator: ","))
    }
}

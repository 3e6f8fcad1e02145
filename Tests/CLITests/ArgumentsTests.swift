import XCTest
@testable import mcl_ref

final class ArgumentsTests: XCTestCase {
    let commands = [
        CommandSpec(words: ["bench", "matmul"], summary: "b", options: [
            .value("sizes", "LIST", "sizes"), .value("shape", "S", "shape", repeatable: true), .flag("json", "json"),
        ], run: { _ in 0 }),
        CommandSpec(words: ["train"], summary: "t", options: [.value("temperature", "T", "tau")], run: { _ in 0 }),
    ]

    func testParsesMultiWordCommandValuesFlagsAndEquals() throws {
        let (cmd, args) = try parseCommandLine(["bench", "matmul", "--sizes=1,2", "--json", "--shape", "2x3x4",
                                                "--shape", "5x5x5", "--threads", "3"], commands: commands)
        XCTAssertEqual(cmd.name, "bench matmul")
        XCTAssertEqual(try args.intList("sizes"), [1, 2])
        XCTAssertTrue(args.has("json"))
        XCTAssertEqual(args.strings("shape"), ["2x3x4", "5x5x5"])
        XCTAssertEqual(try args.int("threads", min: 1), 3)
    }

    func testErrorsNameTheOffendingWord() {
        func message(_ argv: [String]) -> String {
            do { _ = try parseCommandLine(argv, commands: commands); return "no error" } catch {
                return (error as? CLIError)?.message ?? "\(error)"
            }
        }
        XCTAssert(message(["train", "--bogus", "1"]).contains("--bogus"))
        XCTAssert(message(["trian"]).contains("trian"))
        XCTAssert(message(["bench", "matmull"]).contains("bench matmul"))
        XCTAssert(message(["train", "--temperature"]).contains("missing value"))
        XCTAssert(message(["train", "--temperature", "1", "--temperature", "2"]).contains("more than once"))
        XCTAssert(message(["bench", "matmul", "--json=1"]).contains("takes no value"))
        XCTAssert(message(["train", "stray"]).contains("stray"))
    }

    func testTypedGettersValidate() throws {
        let (_, args) = try parseCommandLine(["train", "--temperature", "-0.5", "--threads", "x"], commands: commands)
        XCTAssertThrowsError(try args.double("temperature") { $0 > 0 ? nil : "must be > 0" }) { error in
            XCTAssert((error as! CLIError).message.contains("--temperature: must be > 0"))
        }
        XCTAssertThrowsError(try args.int("threads")) { error in
            XCTAssert((error as! CLIError).message.contains("'x'"))
        }
        let (_, nan) = try parseCommandLine(["train", "--temperature", "nan"], commands: commands)
        XCTAssertThrowsError(try nan.double("temperature"))
    }

    func testHelpListsOptionsWithDefaults() {
        let text = helpText(for: commands[0])
        XCTAssert(text.contains("USAGE: mcl-ref bench matmul"))
        XCTAssert(text.contains("--sizes LIST"))
        XCTAssert(text.contains("--threads N"))
        XCTAssert(text.contains("(repeatable)"))
    }

    /// `--sparse-head` alone is the paper's λ = 1e-4; with a value (also `=`, or a negative number to be
    /// refused later) it is that value; a following option is not taken as its value.
    func testAnOptionalValueTakesItsImplicitValueWhenLeftOut() throws {
        func value(_ argv: [String]) throws -> String? {
            try parseCommandLine(["train"] + argv, commands: [trainCommand]).1.string("sparse-head")
        }
        XCTAssertEqual(try value(["--sparse-head"]), "1e-4")
        XCTAssertEqual(try value(["--sparse-head", "--quiet"]), "1e-4")
        XCTAssertEqual(try value(["--sparse-head", "0.01"]), "0.01")
        XCTAssertEqual(try value(["--sparse-head=0.5"]), "0.5")
        XCTAssertEqual(try value(["--sparse-head", "-1"]), "-1")
        XCTAssertNil(try value([]))
        let parsed = try parseCommandLine(["train", "--sparse-head", "--epochs", "3"], commands: [trainCommand]).1
        XCTAssertEqual(parsed.string("epochs"), "3")
        XCTAssertEqual(try mclConfiguration(parsed).sparseHeadLambda, 1e-4)
        XCTAssert(helpText(for: trainCommand).contains("--sparse-head [LAMBDA]"))
    }
}

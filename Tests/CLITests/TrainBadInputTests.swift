import Foundation
import XCTest
import MCLNumerics

/// `mcl-ref train` on bad input: exit 2, exactly one line `mcl-ref: error: …` on stderr naming the
/// file or flag and the problem, nothing on stdout, and the `--out` directory never created.
/// Every case is rejected before training starts, so each run takes milliseconds.
final class TrainBadInputTests: XCTestCase {
    var scratch = ""
    var out: String { scratch + "/out" }
    var x: String { scratch + "/x.npy" }
    var y: String { scratch + "/y.npy" }
    /// Samples of the good data set: 40 rows of 3 values, labels (40, 2) with 2 and 3 classes.
    let n = 40, d = 3

    override func setUpWithError() throws {
        scratch = try makeScratchDirectory()
        try NPY.write(floats: goodX, shape: [n, d], to: x)
        try NPY.write(ints: goodY, shape: [n, 2], to: y)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    var goodX: [Float] { (0..<(n * d)).map { Float(($0 * 37) % 11) - 5 } }
    var goodY: [Int] { (0..<n).flatMap { [$0 % 2, ($0 / 2) % 3] } }

    /// Tiny settings, so a case that slipped through would still finish quickly (and fail the test).
    let small: [(String, String)] = [("stages", "2"), ("clusters", "2"), ("epochs", "1"), ("batch-size", "8"),
                                     ("hidden", "8"), ("rep-width", "4"), ("threads", "1")]

    /// Runs `train` with the good data (unless `data: false` or the arguments name their own),
    /// `--out` and the small settings unless overridden, and checks the bad-input contract.
    func assertBadInput(_ arguments: [String], data: Bool = true, mentions: [String],
                        file: StaticString = #filePath, line: UInt = #line) throws {
        var args = ["train"] + arguments
        if data && !arguments.contains("--data") { args += ["--data", x] }
        if data && !arguments.contains("--labels") { args += ["--labels", y] }
        for (name, value) in small where !arguments.contains("--" + name) { args += ["--" + name, value] }
        if !arguments.contains("--out") { args += ["--out", out] }
        let r = try runMCLRef(args)
        let shown = "mcl-ref \(args.joined(separator: " "))\nstderr: \(r.stderr)"
        XCTAssertEqual(r.status, 2, shown, file: file, line: line)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "expected exactly one line on stderr — \(shown)", file: file, line: line)
        XCTAssert(r.stderr.hasPrefix("mcl-ref: error: "), shown, file: file, line: line)
        for m in mentions {
            XCTAssert(r.stderr.contains(m), "the message does not mention '\(m)' — \(shown)", file: file, line: line)
        }
        XCTAssertEqual(r.stdout, "", shown, file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(out) was created — \(shown)", file: file, line: line)
    }

    // MARK: Crafted .npy files

    /// A version-1 .npy file with the given header fields and payload, built byte by byte.
    func npy(descr: String = "<f4", fortran: Bool = false, shape: String, payload: [UInt8],
             version: UInt8 = 1, magic: [UInt8] = [0x93] + Array("NUMPY".utf8)) -> Data {
        var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
        let unpadded = magic.count + 4 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let length = UInt16(header.utf8.count)
        return Data(magic + [version, 0, UInt8(length & 0xff), UInt8(length >> 8)] + Array(header.utf8) + payload)
    }

    func floatBytes(_ values: [Float]) -> [UInt8] { values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }

    /// Writes `data` to `name` in the scratch directory and returns its path.
    func file(_ name: String, _ data: Data) -> String {
        let path = scratch + "/" + name
        XCTAssert(FileManager.default.createFile(atPath: path, contents: data), path)
        return path
    }

    func testNPYDefectsNameTheFileAndTheProblem() throws {
        let payload = floatBytes(goodX)
        let shape = "(\(n), \(d))"
        let cases: [(String, Data, [String])] = [
            ("magic.npy", Data("this is not a numpy file, just text".utf8), ["bad magic"]),
            ("version.npy", npy(shape: shape, payload: payload, version: 9), ["unsupported .npy format version 9.0"]),
            ("short_header.npy", npy(shape: shape, payload: payload).prefix(30), ["truncated header"]),
            ("short_data.npy", npy(shape: shape, payload: Array(payload.dropLast(8))), ["truncated data", "(40, 3)"]),
            ("long_data.npy", npy(shape: shape, payload: payload + [0, 0, 0, 0]), ["trailing data", "(40, 3)"]),
            ("shape_vs_bytes.npy", npy(shape: "(41, 3)", payload: payload), ["truncated data", "(41, 3)"]),
            ("big_endian.npy", npy(descr: ">f4", shape: shape, payload: payload), ["big-endian", ">f4"]),
            ("object.npy", npy(descr: "|O", shape: shape, payload: payload), ["unsupported dtype", "object"]),
            ("complex.npy", npy(descr: "<c8", shape: "(\(n), 1)", payload: payload.prefix(n * 8).map { $0 }), ["unsupported dtype", "<c8"]),
            ("empty.npy", npy(shape: "(0, 3)", payload: []), ["empty", "(0, 3)"]),
            ("one_d.npy", npy(shape: "(\(n * d),)", payload: payload), ["expected a 2-D array"]),
            ("ints.npy", npy(descr: "<i4", shape: shape, payload: payload), ["expected float32 or float64", "<i4"]),
        ]
        for (name, data, mentions) in cases {
            let path = file(name, data)
            try assertBadInput(["--data", path], mentions: [path] + mentions)
        }
        try assertBadInput(["--data", scratch + "/absent.npy"], mentions: [scratch + "/absent.npy"])
    }

    func testBadLabelFilesNameTheFileAndTheProblem() throws {
        let cases: [(String, Data, [String])] = [
            ("labels_magic.npy", Data([0x93, 0x4e, 0x55]), ["truncated header"]),
            ("labels_3d.npy", npy(descr: "<i8", shape: "(\(n), 1, 2)", payload: [UInt8](repeating: 0, count: n * 16)),
             ["labels must be 1-D (N,) or 2-D (N, F)", "(40, 1, 2)"]),
            ("labels_empty.npy", npy(descr: "<i8", shape: "(0,)", payload: []), ["0 labels for 40 samples"]),
            ("labels_no_columns.npy", npy(descr: "<i8", shape: "(\(n), 0)", payload: []), ["no label columns"]),
        ]
        for (name, data, mentions) in cases {
            let path = file(name, data)
            try assertBadInput(["--labels", path], mentions: [path] + mentions)
        }
    }

    // MARK: Data

    func testNonFiniteSamplesAreRejectedWithTheirPosition() throws {
        for (value, text) in [(Float.nan, "nan"), (Float.infinity, "inf"), (-Float.infinity, "-inf")] {
            var values = goodX
            values[5 * d + 1] = value
            let path = scratch + "/x_\(text).npy"
            try NPY.write(floats: values, shape: [n, d], to: path)
            try assertBadInput(["--data", path], mentions: [path, "row 5, column 1 is \(text)", "finite"])
        }
        // Also in a separate test set.
        var values = goodX
        values[n * d - 1] = .nan
        let testX = scratch + "/test_nan.npy"
        try NPY.write(floats: values, shape: [n, d], to: testX)
        try assertBadInput(["--test-data", testX, "--test-labels", y], mentions: [testX, "row 39, column 2 is nan"])
    }

    func testBadLabelValuesAreRejected() throws {
        let short = scratch + "/y_short.npy"
        try NPY.write(ints: Array(goodY.prefix((n - 1) * 2)), shape: [n - 1, 2], to: short)
        try assertBadInput(["--labels", short], mentions: [short, "39 labels for 40 samples"])

        // Negative labels are fine: values are encoded to classes (InputEdgeTests.testLabelValuesAreEncodedToDenseClasses).

        var fractional = goodY.map(Double.init)
        fractional[3 * 2] = 0.5
        let frac = scratch + "/y_fraction.npy"
        try NPY.write(doubles: fractional, shape: [n, 2], to: frac)
        try assertBadInput(["--labels", frac], mentions: [frac, "row 3, column 0 is 0.5", "not an integer"])

        let single = scratch + "/y_single.npy"
        try NPY.write(ints: (0..<n).flatMap { [$0 % 2, 4] }, shape: [n, 2], to: single)
        try assertBadInput(["--labels", single], mentions: [single, "label column 1 has a single class (4)"])

        let names = ["--feature-names", "a,b,c"]
        try assertBadInput(names, mentions: ["--feature-names", "3 names", "2 label columns"])
    }

    func testTooFewSamplesForTheSettings() throws {
        // --test-fraction 0.5 leaves 20 training samples.
        try assertBadInput(["--batch-size", "32"], mentions: [x, "20 training samples are fewer than one batch (--batch-size 32)"])
        try assertBadInput(["--clusters", "25"], mentions: [x, "20 training samples are fewer than --clusters 25"])
        try assertBadInput(["--knn", "21"], mentions: [x, "20 training samples are fewer than the neighbours of --knn 21"])
        try assertBadInput(["--test-fraction", "0.99"], mentions: [x, "1 training samples are fewer than one batch"])
        let narrow = scratch + "/narrow.npy"
        try NPY.write(floats: Array(goodX.prefix(n * 2)), shape: [n, 2], to: narrow)
        try assertBadInput(["--test-data", narrow, "--test-labels", y], mentions: [narrow, "2 values", "has 3"])
    }

    // MARK: Flags

    func testFlagRangesNameTheFlag() throws {
        let cases: [([String], [String])] = [
            (["--stages", "0"], ["--stages: must be at least 1, got 0"]),
            (["--stages", "two"], ["--stages: expected an integer, got 'two'"]),
            (["--clusters", "1"], ["--clusters: must be at least 2, got 1"]),
            (["--temperature", "0"], ["--temperature: must be > 0"]),
            (["--temperature", "-0.5"], ["--temperature: must be > 0"]),
            (["--temperature", "abc"], ["--temperature: expected a finite number, got 'abc'"]),
            (["--temperature", "nan"], ["--temperature: expected a finite number, got 'nan'"]),
            (["--temperature", "inf"], ["--temperature: expected a finite number, got 'inf'"]),
            (["--batch-size", "1"], ["--batch-size: must be at least 2, got 1"]),
            (["--epochs", "0"], ["--epochs: must be at least 1, got 0"]),
            (["--threads", "0"], ["--threads: must be at least 1, got 0"]),
            (["--lr", "0"], ["--lr: must be > 0"]),
            (["--seed", "-1"], ["--seed: expected an unsigned 64-bit integer"]),
            (["--samples", "1"], ["--samples: must be at least 2"]),
            (["--test-fraction", "0.3"], ["--test-fraction applies to --data only"]),
            (["--dataset", "imagenet"], ["--dataset: unknown value 'imagenet'"]),
            (["--encoder", "transformer"], ["--encoder: unknown value 'transformer'"]),
            (["--sampler", "random"], ["--sampler: unknown value 'random'", "mask", "cluster-batch"]),
            (["--optimizer", "lion"], ["--optimizer: unknown value 'lion'"]),
            (["--batch-norm", "maybe"], ["--batch-norm: unknown value 'maybe'"]),
            (["--weight-decay", "-1"], ["--weight-decay: must be ≥ 0"]),
            (["--noise", "-0.1"], ["--noise: must be ≥ 0"]),
            (["--feature-dropout", "1"], ["--feature-dropout: must be in [0, 1)"]),
            (["--hidden", "16,0"], ["--hidden: every value must be at least 1, got 0"]),
            (["--rep-width", "0"], ["--rep-width: must be at least 1, got 0"]),
            (["--kmeans-restarts", "0"], ["--kmeans-restarts: must be at least 1, got 0"]),
            (["--knn", "0"], ["--knn: must be at least 1, got 0"]),
            (["--bogus", "1"], ["unknown option '--bogus'"]),
        ]
        for (arguments, mentions) in cases { try assertBadInput(arguments, data: false, mentions: mentions) }
        for fraction in ["0", "1", "1.5", "-0.1"] {
            try assertBadInput(["--test-fraction", fraction], mentions: ["--test-fraction: must be in (0, 1), got \(fraction)"])
        }
        try assertBadInput(["--test-data", x], mentions: ["--test-data needs --test-labels"])
        try assertBadInput(["--dataset", "easy-hard"], mentions: ["--dataset and --data are mutually exclusive"])
    }

    func testOutPointingAtAFileIsRefusedAndTheFileKept() throws {
        let target = scratch + "/existing.txt"
        try "keep me".write(toFile: target, atomically: true, encoding: .utf8)
        try assertBadInput(["--out", target], mentions: ["--out", target, "not a directory"])
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "keep me")
        // A path below a file cannot be created either; the error names it.
        try assertBadInput(["--out", target + "/run"], mentions: [target + "/run"])
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "keep me")
    }
}

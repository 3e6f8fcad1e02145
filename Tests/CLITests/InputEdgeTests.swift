import Foundation
import XCTest
import MCLNumerics
import MCLReference

/// The sharp edges of issue 11 item 3, each as a user hit it: refused with one line on stderr,
/// exit 2 and nothing written — or accepted and handled correctly.
final class InputEdgeTests: XCTestCase {
    var scratch = ""
    var out: String { scratch + "/out" }
    var x: String { scratch + "/x.npy" }
    var y: String { scratch + "/y.npy" }
    let n = 64, d = 3

    override func setUpWithError() throws {
        scratch = try makeScratchDirectory()
        try NPY.write(floats: xValues, shape: [n, d], to: x)
        try NPY.write(ints: (0..<n).flatMap { [$0 % 2, ($0 / 2) % 3] }, shape: [n, 2], to: y)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    /// Sample i is (i mod 2, i/2 mod 3, noise): both labels are readable from X.
    var xValues: [Float] {
        var v: [Float] = []
        for i in 0..<n {
            let a = Float(i % 2), b = Float((i / 2) % 3), noise = Float((i * 37) % 11) / 11
            v += [a, b, noise]
        }
        return v
    }

    let small = ["--stages", "2", "--clusters", "2", "--epochs", "1", "--batch-size", "8", "--hidden", "8",
                 "--rep-width", "4", "--threads", "1", "--kmeans-restarts", "1", "--quiet"]

    /// Exit 2, one line `mcl-ref: error: …` mentioning every string of `mentions`, nothing on stdout,
    /// and `out` not created.
    func assertRefused(_ args: [String], mentions: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try runMCLRef(args)
        let shown = "mcl-ref \(args.joined(separator: " "))\nstderr: \(r.stderr)"
        XCTAssertEqual(r.status, 2, shown, file: file, line: line)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, shown, file: file, line: line)
        XCTAssert(r.stderr.hasPrefix("mcl-ref: error: "), shown, file: file, line: line)
        for m in mentions { XCTAssert(r.stderr.contains(m), "no '\(m)' — \(shown)", file: file, line: line) }
        XCTAssertEqual(r.stdout, "", shown, file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(out) was created — \(shown)", file: file, line: line)
    }

    /// A 2-D array in Fortran order, as `np.save(path, a.T)` writes it for the (cols, rows) result:
    /// the header says fortran_order True and the payload is column-major.
    func writeFortran(_ rows: [[Double]], descr: String, to path: String) throws {
        let r = rows.count, c = rows[0].count
        var header = "{'descr': '\(descr)', 'fortran_order': True, 'shape': (\(r), \(c)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes = NPY.magic + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)] + Array(header.utf8)
        for j in 0..<c {
            for i in 0..<r {
                let v = rows[i][j]
                switch descr {
                case "<f4": bytes += withUnsafeBytes(of: Float(v).bitPattern.littleEndian, Array.init)
                case "<f8": bytes += withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init)
                default: bytes += withUnsafeBytes(of: Int64(v).littleEndian, Array.init)
                }
            }
        }
        XCTAssert(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
    }

    // MARK: Held-out data

    /// The issue's own check: the rows `trace` records as test data occur nowhere in its train data
    /// (before, every easy-hard test row was a train row).
    func testBuiltInTestRowsAreNotTrainRows() throws {
        let r = try runMCLRef(["trace", "--samples", "512", "--epochs", "1", "--stages", "1", "--batch-size", "64",
                               "--hidden", "8", "--rep-width", "4", "--kmeans-restarts", "1", "--quiet", "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        func rows(_ name: String) throws -> [[Float]] {
            let m: Matrix<Float> = try NPY.readMatrix(out + "/data/" + name)
            return (0..<m.rows).map { i in Array(m.storage[(i * m.cols)..<((i + 1) * m.cols)]) }
        }
        let train = try rows("train_x.npy"), test = try rows("test_x.npy")
        XCTAssertEqual(train.count, 512)
        XCTAssertEqual(Set(train).count, 512, "duplicate rows within train")
        XCTAssertEqual(Set(test).count, 512, "duplicate rows within test")
        XCTAssertTrue(Set(train).isDisjoint(with: Set(test)), "test rows that are train rows")
    }

    // MARK: Options that do nothing where they are given

    func testOptionsWithoutEffectAreRefused() throws {
        let cases: [([String], [String])] = [
            (["--labels", y], ["--labels applies to --data only"]),
            (["--test-data", x, "--test-labels", y], ["--test-data applies to --data only"]),
            (["--feature-names", "a,b"], ["--feature-names applies to --data only"]),
            (["--no-standardize"], ["--no-standardize applies to --data only"]),
            (["--size", "16"], ["--size applies to the built-in image sets only"]),
            (["--data", x, "--labels", y, "--test-labels", y], ["--test-labels applies to --test-data only"]),
            (["--data", x, "--labels", y, "--samples", "64"], ["--samples applies to built-in data only"]),
            (["--data", x, "--labels", y, "--feature-names", "a,a"], ["--feature-names: 'a' given more than once"]),
            (["--data", x, "--labels", y, "--feature-names", "a,"], ["--feature-names: expected comma-separated non-empty names"]),
        ]
        for (args, mentions) in cases { try assertRefused(["train"] + args + small + ["--out", out], mentions: mentions) }
    }

    func testATestLabelColumnMismatchNamesTheFilesNotFeatureNames() throws {
        let oneColumn = scratch + "/y1.npy"
        try NPY.write(ints: (0..<n).map { $0 % 2 }, shape: [n], to: oneColumn)
        try assertRefused(["train", "--data", x, "--labels", y, "--test-data", x, "--test-labels", oneColumn] + small
                          + ["--out", out], mentions: [oneColumn, "1 label columns", y + " has 2"])
        let r = try runMCLRef(["train", "--data", x, "--labels", y, "--test-data", x, "--test-labels", oneColumn] + small)
        XCTAssertFalse(r.stderr.contains("--feature-names"), r.stderr)
    }

    // MARK: Label values

    /// Labels {7, 500, 999999} (and negative ones) are classes 0, 1, 2 — sklearn's LabelEncoder; the
    /// mapping is in report.json. Before, 999999 made a probe of a million classes (minutes, GBs).
    func testLabelValuesAreEncodedToDenseClasses() throws {
        let values = [7, 500, 999_999], other = [-3, 12]
        let yBig = scratch + "/y_big.npy"
        try NPY.write(ints: (0..<n).flatMap { [values[$0 % 3], other[($0 / 3) % 2]] }, shape: [n, 2], to: yBig)
        let r = try runMCLRef(["train", "--data", x, "--labels", yBig, "--feature-names", "big,signed", "--out", out] + small)
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try JSONValue.parse(String(contentsOfFile: out + "/report.json", encoding: .utf8))
        let features = try XCTUnwrap(report["provenance"]?["data"]?["features"]?.arrayValue)
        XCTAssertEqual(features.map { $0["name"]?.stringValue }, ["big", "signed"])
        XCTAssertEqual(features.map { $0["classes"]?.intValue }, [3, 2])
        XCTAssertEqual(features[0]["label_values"]?.arrayValue?.compactMap { $0.intValue }, values)
        XCTAssertEqual(features[1]["label_values"]?.arrayValue?.compactMap { $0.intValue }, other)
        // The same run with labels 0, 1, 2 and 0, 1 gives the same accuracies: only the names changed.
        let yDense = scratch + "/y_dense.npy"
        try NPY.write(ints: (0..<n).flatMap { [$0 % 3, ($0 / 3) % 2] }, shape: [n, 2], to: yDense)
        let dense = try runMCLRef(["train", "--data", x, "--labels", yDense, "--feature-names", "big,signed", "--json"] + small)
        XCTAssertEqual(dense.status, 0, dense.stderr)
        XCTAssertEqual(try JSONValue.parse(dense.stdout)["integrated"], report["integrated"])
    }

    func testATestLabelUnseenInTrainingIsRefused() throws {
        let yTest = scratch + "/y_test.npy"
        try NPY.write(ints: (0..<n).flatMap { [$0 == 5 ? 9 : $0 % 2, ($0 / 2) % 3] }, shape: [n, 2], to: yTest)
        try assertRefused(["train", "--data", x, "--labels", y, "--test-data", x, "--test-labels", yTest] + small
                          + ["--out", out], mentions: [yTest, "label 9 at row 5, column 0", "does not occur in the training labels"])
    }

    // MARK: Huge numbers

    func testHugeNumbersAreRefusedBeforeAnythingIsAllocatedOrWritten() throws {
        try assertRefused(["train", "--epochs", "9223372036854775807", "--out", out, "--quiet"],
                          mentions: ["--epochs", "more steps than can be counted"])
        try assertRefused(["train", "--samples", "4000000000", "--out", out], mentions: ["--samples", "GB"])
        try assertRefused(["demo", "--samples", "4000000000"], mentions: ["--samples", "GB"])
        try assertRefused(["bench", "matmul", "--sizes", "100000"], mentions: ["--sizes", "100000×100000", "GB"])
        try assertRefused(["bench", "matmul", "--shape", "9223372036854775807x2x2"], mentions: ["--shape", "overflows"])
        try assertRefused(["train", "--hidden", "100000000,100000000", "--out", out], mentions: ["--hidden", "the model"])
        try assertRefused(["train", "--dataset", "trifeature", "--samples", "64", "--batch-size", "32", "--conv-widths", "100000,100000",
                           "--out", out], mentions: ["--conv-widths", "GB"])
    }

    /// Eq. 4 before stage 0: `--clusters 90 --stages 16` used to train 10 stages (loss 0) and then fail.
    func testImpossibleStageBudgetsAreRefusedBeforeStageZero() throws {
        try assertRefused(["train", "--clusters", "90", "--stages", "16", "--out", out],
                          mentions: ["--stages 16 with --clusters 90", "overflow"])
        try assertRefused(["train", "--clusters", "90", "--stages", "3", "--out", out],
                          mentions: ["stage 2", "8100 pseudo-label groups for 2048 training samples"])
    }

    // MARK: Small edges

    func testEmptyOutAndAbsurdTemperaturesAreRefused() throws {
        try assertRefused(["train", "--out", ""] + small, mentions: ["--out: expected a directory path"])
        try assertRefused(["trace", "--out", ""] + small, mentions: ["--out: expected a directory path"])
        try assertRefused(["train", "--temperature", "1e-30", "--out", out], mentions: ["--temperature: must be at least 0.01"])
        try assertRefused(["train", "--temperature", "0.009", "--out", out], mentions: ["--temperature: must be at least 0.01"])
    }

    func testBareCommandVersionAndFamilyHelp() throws {
        let bare = try runMCLRef([])
        XCTAssertEqual(bare.status, 2)
        XCTAssertEqual(bare.stdout, "")
        XCTAssert(bare.stderr.hasPrefix("mcl-ref: error: missing command") && bare.stderr.contains("USAGE: mcl-ref"), bare.stderr)
        let version = try runMCLRef(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertEqual(version.stdout, "mcl-ref \(MCLReference.version)\n")
        let bench = try runMCLRef(["bench", "--help"])
        XCTAssertEqual(bench.status, 0, bench.stderr)
        for c in ["bench matmul", "bench mlp", "bench train"] { XCTAssert(bench.stdout.contains(c), bench.stdout) }
        XCTAssertEqual(try runMCLRef(["bench"]).status, 2)
    }

    // MARK: Fortran order

    /// `np.save(path, a.T)` data and labels train exactly as their C-order copies.
    func testFortranOrderDataAndLabelsAreReadInTheirLogicalOrder() throws {
        let xF = scratch + "/x_fortran.npy", yF = scratch + "/y_fortran.npy"
        let xs = xValues
        try writeFortran((0..<n).map { i in (0..<d).map { Double(xs[i * d + $0]) } }, descr: "<f4", to: xF)
        try writeFortran((0..<n).map { [Double($0 % 2), Double(($0 / 2) % 3)] }, descr: "<i8", to: yF)
        XCTAssertEqual(try NPY.read(xF).asMatrix(Float.self).storage, xs)
        let c = try runMCLRef(["train", "--data", x, "--labels", y, "--json"] + small)
        let f = try runMCLRef(["train", "--data", xF, "--labels", yF, "--json"] + small)
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertEqual(f.status, 0, f.stderr)
        let (jc, jf) = (try JSONValue.parse(c.stdout), try JSONValue.parse(f.stdout))
        // Everything but the timings: per stage without "seconds".
        func stages(_ j: JSONValue) -> [JSONValue] {
            (j["per_stage"]?.arrayValue ?? []).map { .object(($0.objectValue ?? []).filter { $0.0 != "seconds" }) }
        }
        XCTAssertEqual(stages(jc), stages(jf))
        XCTAssertEqual(stages(jc).count, 2)
        for key in ["integrated", "raw_input"] { XCTAssertEqual(jc[key], jf[key], key) }
    }

    func testFortranOrderCheckCandidatesAreCompared() throws {
        let reference = scratch + "/ref", candidate = scratch + "/cand"
        for dir in [reference, candidate] {
            XCTAssertEqual(try runMCLRef(["fixtures", "--out", dir, "--case", "linear"]).status, 0)
        }
        let path = candidate + "/linear/d_weight.npy"
        let a = try NPY.read(path)
        let values = try a.asDoubles()
        XCTAssertEqual(a.shape, [3, 5])
        let descr = a.dtype.descr
        try writeFortran((0..<3).map { i in (0..<5).map { values[i * 5 + $0] } }, descr: descr, to: path)
        let r = try runMCLRef(["check", "--reference", reference, "--candidate", candidate])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssert(r.stdout.contains("OK   linear/d_weight"), r.stdout)
    }
}

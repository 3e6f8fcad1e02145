import Foundation
import XCTest
import MCLNumerics
@testable import MCLReference

/// The fixture format: writing, reading back, comparing, and the errors that name files.
final class OracleTests: XCTestCase {
    var scratch = ""

    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "/mcl-oracle-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    func testCaseNamesAreUniqueAndValidDirectoryNames() {
        let names = FixtureCase.all.map { $0.name }
        XCTAssertEqual(Set(names).count, names.count)
        for n in names {
            XCTAssert(n.allSatisfy { $0.isLowercase || $0.isNumber || "_.-".contains($0) }, n)
        }
        XCTAssertGreaterThanOrEqual(names.count, 19)
    }

    func testEveryCaseHasOutputsWithReasonsAndSelfChecks() throws {
        for precision in FixturePrecision.allCases {
            for c in FixtureCase.all {
                let data = c.build(precision)
                XCTAssertFalse(data.outputs.isEmpty, c.name)
                for o in data.outputs {
                    XCTAssertFalse(o.why.isEmpty, "\(c.name)/\(o.tensor.name)")
                    if !o.tensor.array.dtype.isFloatingPoint { XCTAssertEqual(o.tolerance, .exact, "\(c.name)/\(o.tensor.name)") }
                    if o.tensor.array.dtype.isFloatingPoint {
                        XCTAssertEqual(o.tensor.array.dtype, precision == .f32 ? .float32 : .float64, "\(c.name)/\(o.tensor.name)")
                        XCTAssert(try o.tensor.array.asDoubles().allSatisfy { $0.isFinite }, "\(c.name)/\(o.tensor.name)")
                    }
                }
            }
        }
    }

    func testWriteReadRoundTripAndCheckPassesAgainstItself() throws {
        let c = FixtureCase.named("linear")!
        let written = try FixtureWriter.write(c, precision: .f64, to: scratch)
        let read = try FixtureManifest.read(caseDirectory: scratch + "/linear")
        XCTAssertEqual(read, written)
        XCTAssertEqual(read.outputs.map { $0.name }, ["y", "d_x", "d_weight", "d_bias"])
        XCTAssertEqual(read.inputs.first?.shape, [4, 5])
        let results = try FixtureCheck.compare(reference: scratch, candidate: scratch)
        XCTAssertEqual(results.count, 4)
        XCTAssert(results.allSatisfy { $0.passed })
        // rewriting replaces the case and leaves no temporary directory behind
        try FixtureWriter.write(c, precision: .f32, to: scratch)
        XCTAssertEqual(try FixtureManifest.read(caseDirectory: scratch + "/linear").precision, "f32")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch), ["linear"])
    }

    func testCheckReportsAPerturbedOutputAndNamesMissingFiles() throws {
        let c = FixtureCase.named("ntxent_plain_t0.5")!
        try FixtureWriter.write(c, precision: .f64, to: scratch + "/ref")
        try FixtureWriter.write(c, precision: .f64, to: scratch + "/cand")
        var dz = try NPY.read(scratch + "/cand/\(c.name)/d_z.npy").asDoubles()
        dz[6] += 1e-3
        try NPY.write(doubles: dz, shape: [8, 5], to: scratch + "/cand/\(c.name)/d_z.npy")
        let results = try FixtureCheck.compare(reference: scratch + "/ref", candidate: scratch + "/cand")
        let failed = results.filter { $0.failed }
        XCTAssertEqual(failed.map { $0.output.name }, ["d_z"])
        XCTAssertEqual(failed.first?.report?.worstIndex, [1, 1])
        XCTAssert(failed.first!.line.hasPrefix("FAIL ntxent_plain_t0.5/d_z"), failed.first!.line)

        try FileManager.default.removeItem(atPath: scratch + "/cand/\(c.name)/loss.npy")
        XCTAssertThrowsError(try FixtureCheck.compare(reference: scratch + "/ref", candidate: scratch + "/cand")) { error in
            XCTAssert("\(error)".contains("/cand/\(c.name)/loss.npy: missing file"), "\(error)")
        }
    }

    func testMalformedManifestsAreNamed() throws {
        let dir = scratch + "/bad"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "{\"format_version\": 1, \"case\": \"bad\"".write(toFile: dir + "/manifest.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try FixtureManifest.read(caseDirectory: dir)) { XCTAssert("\($0)".contains("bad/manifest.json: malformed JSON"), "\($0)") }
        try "{\"format_version\": 2}".write(toFile: dir + "/manifest.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try FixtureManifest.read(caseDirectory: dir)) { XCTAssert("\($0)".contains("format_version 2"), "\($0)") }
        let noTolerance = """
        {"format_version": 1, "case": "bad", "component": "x", "params": {}, "inputs": [],
         "outputs": [{"name": "y", "file": "y.npy", "dtype": "<f8", "shape": [2]}]}
        """
        try noTolerance.write(toFile: dir + "/manifest.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try FixtureManifest.read(caseDirectory: dir)) { XCTAssert("\($0)".contains("outputs[0]: output 'y' needs"), "\($0)") }
        let escaping = noTolerance.replacingOccurrences(of: "\"y.npy\"", with: "\"../y.npy\"")
        try escaping.write(toFile: dir + "/manifest.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try FixtureManifest.read(caseDirectory: dir)) { XCTAssert("\($0)".contains("plain file name"), "\($0)") }
    }
}

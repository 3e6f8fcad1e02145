import Foundation
import XCTest
import MCLNumerics

/// `train --method moco`: built-in and user data, both samplers, checkpoint and resume, and the flags
/// that belong to MoCo only.
final class MoCoCLITests: XCTestCase {
    var scratch = ""
    override func setUpWithError() throws { scratch = try makeScratchDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    let small = ["--stages", "2", "--epochs", "2", "--batch-size", "32", "--clusters", "2", "--hidden", "16",
                 "--rep-width", "4", "--queue-size", "96", "--quiet"]

    func testMoCoTrainsOnBuiltInDataWithBothSamplersAndRecordsItsSettings() throws {
        for sampler in ["mask", "cluster-batch"] {
            let r = try runMCLRef(["train", "--method", "moco", "--samples", "256", "--sampler", sampler, "--json"] + small)
            XCTAssertEqual(r.status, 0, r.stderr)
            let json = try JSONValue.parse(r.stdout)
            XCTAssertEqual(json["per_stage"]?.arrayValue?.count, 2)
            let conf = json["configuration"]
            XCTAssertEqual(conf?["method"]?.stringValue, "moco")
            XCTAssertEqual(conf?["temperature"]?.doubleValue, 0.2, "MoCo's default τ")
            XCTAssertEqual(conf?["moco_momentum"]?.doubleValue, 0.99)
            XCTAssertEqual(conf?["queue_length"]?.doubleValue, 96)
        }
    }

    func testMoCoOnUserData() throws {
        var rng = RNG(seed: 5)
        let n = 200
        let x: Matrix<Double> = rng.normalMatrix(n, 6)
        let labels = (0..<n).map { x[$0, 0] > 0 ? 1 : 0 }
        try NPY.write(x, to: scratch + "/x.npy")
        try NPY.write(ints: labels, shape: [n], to: scratch + "/y.npy")
        let r = try runMCLRef(["train", "--method", "moco", "--data", scratch + "/x.npy", "--labels", scratch + "/y.npy",
                               "--json"] + small)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try JSONValue.parse(r.stdout)["per_stage"]?.arrayValue?.count, 2)
    }

    func testMoCoOnlyFlagsAreRefusedForSimCLR() throws {
        for flag in [["--momentum", "0.9"], ["--queue-size", "10"]] {
            let r = try runMCLRef(["train", "--samples", "64", "--out", scratch + "/never"] + flag)
            XCTAssertEqual(r.status, 2)
            XCTAssert(r.stderr.contains("applies to --method moco only"), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/never"))
        }
        let bad = try runMCLRef(["train", "--method", "moco", "--momentum", "1", "--samples", "64"])
        XCTAssertEqual(bad.status, 2)
        XCTAssert(bad.stderr.contains("--momentum"), bad.stderr)
        let unknown = try runMCLRef(["train", "--method", "byol2", "--samples", "64"])
        XCTAssertEqual(unknown.status, 2)
    }

    /// A MoCo run cut back to its stage-0 checkpoint resumes to the same files, bit for bit (the key
    /// model and queue are rebuilt from the stage's RNG stream, so a stage boundary needs no state).
    func testMoCoRunResumesBitIdentically() throws {
        let full = scratch + "/full", cut = scratch + "/cut"
        let args = ["train", "--method", "moco", "--samples", "192", "--out", full] + small
        XCTAssertEqual(try runMCLRef(args).status, 0)
        try cutRunBack(full, to: cut, stages: 1)
        let fm = FileManager.default
        let resumed = try runMCLRef(["train", "--resume", cut, "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let npys = try XCTUnwrap(fm.enumerator(atPath: full)).compactMap { $0 as? String }.filter { $0.hasSuffix(".npy") }.sorted()
        XCTAssert(npys.contains("stage1_representations.npy"), "\(npys)")
        for name in npys {
            XCTAssertEqual(fm.contents(atPath: full + "/" + name), fm.contents(atPath: cut + "/" + name), "\(name) differs after resume")
        }
    }
}

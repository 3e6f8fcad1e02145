import Foundation
import XCTest
import MCLNumerics

/// `train --method byol|barlow` and `--sparse-head`: runs with their settings recorded, the refusal of
/// `--stages` > 1 (no negatives, so Eq. 3 does not apply), the flags that belong to one method, and the
/// per-stage analysis in report.json and the run directory.
final class BYOLBarlowCLITests: XCTestCase {
    var scratch = ""
    override func setUpWithError() throws { scratch = try makeScratchDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    let small = ["--samples", "128", "--epochs", "2", "--batch-size", "32", "--clusters", "2", "--hidden", "16",
                 "--rep-width", "4", "--quiet"]

    func testByolAndBarlowRefuseMoreThanOneStageSayingWhy() throws {
        for method in ["byol", "barlow"] {
            let r = try runMCLRef(["train", "--method", method, "--stages", "2", "--out", scratch + "/never"] + small)
            XCTAssertEqual(r.status, 2)
            XCTAssert(r.stderr.contains("--stages 2: --method \(method) has no negatives"), r.stderr)
            XCTAssert(r.stderr.contains("Eq. 3"), r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line: \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/never"))
        }
    }

    func testByolAndBarlowTrainOneStageByDefaultWithSparseHeadAndWriteTheAnalysis() throws {
        for method in ["byol", "barlow"] {
            let out = scratch + "/" + method
            let r = try runMCLRef(["train", "--method", method, "--sparse-head", "0.001", "--json", "--out", out] + small)
            XCTAssertEqual(r.status, 0, r.stderr)
            let json = try JSONValue.parse(r.stdout)
            XCTAssertEqual(json["per_stage"]?.arrayValue?.count, 1, "one stage by default")
            let conf = json["configuration"]
            XCTAssertEqual(conf?["method"]?.stringValue, method)
            XCTAssertEqual(conf?["sparse_head_lambda"]?.doubleValue, 0.001)
            if method == "barlow" { XCTAssertEqual(conf?["barlow_lambda"]?.doubleValue, 0.005) }
            if method == "byol" { XCTAssertEqual(conf?["byol_base_decay"]?.doubleValue, 0.99) }
            let stage = json["per_stage"]?.arrayValue?.first
            XCTAssertEqual(stage?["head_columns"]?.doubleValue, 64, "the head's last Linear reads its hidden width")
            XCTAssertNotNil(stage?["active_head_columns"]?.doubleValue)
            XCTAssertNotNil(stage?["representation_analysis"]?["l2_normalized"]?["test_effective_rank"]?.doubleValue)
            XCTAssertNotNil(stage?["embedding_analysis"]?["raw"]?["test_min_max_ratio"]?.doubleValue)
            let spectrum = try NPY.read(out + "/stage0_spectrum.npy")
            XCTAssertEqual(spectrum.shape, [4])
            XCTAssertEqual(try spectrum.asDoubles().reduce(0, +), 1, accuracy: 1e-9)
            let check = try runMCLRef(["report", out, "--out", out + ".html"])   // the HTML report reads the new report.json
            XCTAssertEqual(check.status, 0, check.stderr + check.stdout)
        }
    }

    func testMethodFlagsAreRefusedElsewhereAndSparseHeadNeedsANumber() throws {
        let barlowOnly = try runMCLRef(["train", "--method", "byol", "--barlow-lambda", "0.1"] + small)
        XCTAssertEqual(barlowOnly.status, 2)
        XCTAssert(barlowOnly.stderr.contains("--barlow-lambda applies to --method barlow only"), barlowOnly.stderr)
        let negative = try runMCLRef(["train", "--sparse-head", "-1"] + small)
        XCTAssertEqual(negative.status, 2)
        XCTAssert(negative.stderr.contains("--sparse-head"), negative.stderr)
        let trace = try runMCLRef(["trace", "--method", "byol", "--out", scratch + "/t"] + small)
        XCTAssertEqual(trace.status, 2)
        XCTAssert(trace.stderr.contains("trace records simclr and moco steps only"), trace.stderr)
    }
}

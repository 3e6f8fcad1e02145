import Foundation
import XCTest
import MCLNumerics

/// Issue 5, section 4: a full multi-stage `train` run through the binary gives bit-identical outputs
/// (every .npy: representations, centroids, cluster and pseudo labels, weights) and identical losses
/// with --threads 1, 2 and 3. (MCLPipelineTests.testSameSeedSameBitsForAnyThreadCount is the
/// in-process version.) The data and widths are large enough that the GEMMs and K-means really split
/// their work across threads (more than one row chunk), yet the run takes well under a second.
final class DeterminismCLITests: XCTestCase {
    var scratch = ""
    override func setUpWithError() throws { scratch = try makeScratchDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    func testTrainIsBitIdenticalForOneTwoAndThreeThreads() throws {
        let settings = ["train", "--samples", "640", "--epochs", "2", "--batch-size", "64", "--stages", "3", "--clusters", "3",
                        "--hidden", "48", "--rep-width", "8", "--kmeans-restarts", "2", "--seed", "21", "--quiet", "--json"]
        var outputs: [[String: Data]] = []
        var losses: [[JSONValue]] = []
        for threads in [1, 2, 3] {
            let out = "\(scratch)/t\(threads)"
            let r = try runMCLRef(settings + ["--threads", String(threads), "--out", out])
            XCTAssertEqual(r.status, 0, r.stderr)
            var files: [String: Data] = [:]
            let walker = FileManager.default.enumerator(atPath: out)!
            while let f = walker.nextObject() as? String {
                if f.hasSuffix(".npy") { files[f] = FileManager.default.contents(atPath: "\(out)/\(f)") }
            }
            outputs.append(files)
            let report = try JSONValue.parse(r.stdout)
            losses.append(report["per_stage"]!.arrayValue!.map { $0["loss"]! })
            XCTAssertEqual(losses.last?.count, 3)
        }
        XCTAssertGreaterThan(outputs[0].count, 20)
        for required in ["stage2_representations.npy", "stage2_cluster_labels.npy", "pseudo_labels_stage2.npy",
                         "integrated_representations.npy", "stage1_weights/encoder.0.weight.npy"] {
            XCTAssertNotNil(outputs[0][required], required)
        }
        for (k, threads) in [(1, 2), (2, 3)] {
            XCTAssertEqual(Set(outputs[k].keys), Set(outputs[0].keys), "--threads \(threads): different files")
            for (name, data) in outputs[0] {
                XCTAssertEqual(outputs[k][name], data, "\(name) differs between --threads 1 and --threads \(threads)")
            }
            XCTAssertEqual(losses[k], losses[0], "losses differ between --threads 1 and --threads \(threads)")
        }
    }
}

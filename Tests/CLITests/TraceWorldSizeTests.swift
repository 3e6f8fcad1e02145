import Foundation
import XCTest
import MCLNumerics
import MCLReference

/// `mcl-ref trace --world-size W`: what a rank-by-rank check of a DistributedDataParallel run needs
/// (each rank's batch, views and own loss; the all-reduced gradient and update).
final class TraceWorldSizeTests: XCTestCase {
    var scratch = ""
    override func setUpWithError() throws { scratch = try makeScratchDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    static let settings = ["--samples", "96", "--epochs", "1", "--batch-size", "8", "--stages", "2", "--clusters", "2",
                           "--sampler", "cluster-batch", "--hidden", "8", "--rep-width", "4", "--kmeans-restarts", "1",
                           "--seed", "4", "--quiet", "--first-steps", "3", "--steps-every", "1000"]

    func testTwoRanksRecordTheirOwnSamplerBatchesAndTheMeanLoss() throws {
        let out = scratch + "/t"
        let r = try runMCLRef(["trace"] + TraceWorldSizeTests.settings + ["--world-size", "2", "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let index = try JSONValue.parse(String(contentsOfFile: out + "/trace.json", encoding: .utf8))
        XCTAssertEqual(index["world_size"]?.intValue, 2)
        XCTAssertNotNil(index["conventions"]?["data_parallel"])
        let labels = try NPY.read(out + "/stage1/pseudo_labels.npy").asInts().0
        var rng = RNG(seed: 4, stream: RNGStream.stageTraining(1))
        _ = rng.split()
        let seed = rng.next()
        for s in 0..<3 {
            let dir = out + "/stage1/steps/" + String(format: "%06d", s)
            var losses: [Double] = []
            for rank in 0..<2 {
                let sampler = try ClusterBatchSampler(pseudoLabels: labels, batchSize: 8, worldSize: 2, rank: rank, seed: seed)
                XCTAssertEqual(try NPY.read("\(dir)/rank\(rank)/batch.npy").asInts().0, sampler.batches(epoch: 0)[s], "step \(s) rank \(rank)")
                XCTAssertEqual(try NPY.readMatrix("\(dir)/rank\(rank)/views.npy", as: Float.self).rows, 16)
                losses.append(Double(try NPY.read("\(dir)/rank\(rank)/loss.npy").asFloats()[0]))
            }
            let mean = Double(try NPY.read("\(dir)/loss.npy").asFloats()[0])
            XCTAssertEqual(mean, (losses[0] + losses[1]) / 2, accuracy: 1e-6, "step \(s): loss.npy is the mean of the ranks' losses")
            XCTAssertNotEqual(losses[0], losses[1])
            XCTAssertEqual(try NPY.read("\(dir)/batch.npy").asInts().0, try NPY.read("\(dir)/rank0/batch.npy").asInts().0)
        }
        // One rank (the default) writes no rank folders.
        let single = scratch + "/one"
        XCTAssertEqual(try runMCLRef(["trace"] + TraceWorldSizeTests.settings + ["--out", single]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: single + "/stage1/steps/000000/rank0"))
    }

    func testWorldSizeIsRefusedForMoCoAndBelowOne() throws {
        let moco = try runMCLRef(["trace"] + TraceWorldSizeTests.settings + ["--method", "moco", "--world-size", "2", "--out", scratch + "/m"])
        XCTAssertEqual(moco.status, 2)
        XCTAssertTrue(moco.stderr.contains("--world-size"), moco.stderr)
        let zero = try runMCLRef(["trace"] + TraceWorldSizeTests.settings + ["--world-size", "0", "--out", scratch + "/z"])
        XCTAssertEqual(zero.status, 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/m"))
    }
}

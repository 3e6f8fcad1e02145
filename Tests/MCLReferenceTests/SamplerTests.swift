import XCTest
@testable import MCLReference

final class SamplerTests: XCTestCase {
    /// Random dense labels: `g` groups with random sizes (some possibly smaller than a batch).
    func randomLabels(_ rng: inout RNG, m: Int, g: Int) -> [Int] { (0..<m).map { _ in rng.int(below: g) } }

    func testClusterBatchPropertiesAcrossRanks() throws {
        for seed in UInt64(1)...40 {
            var rng = RNG(seed: seed)
            let m = 1 + rng.int(below: 400), g = 1 + rng.int(below: 6)
            let b = 1 + rng.int(below: 12), w = 1 + rng.int(below: 4)
            let labels = randomLabels(&rng, m: m, g: g)
            let samplers = try (0..<w).map {
                try ClusterBatchSampler(pseudoLabels: labels, batchSize: b, worldSize: w, rank: $0, seed: seed)
            }
            var sizes = [Int](repeating: 0, count: g)
            for l in labels { sizes[l] += 1 }
            let expectedKept = sizes.reduce(0) { $0 + $1 / (b * w) * b * w }
            XCTAssertEqual(samplers[0].keptCountPerEpoch, expectedKept, "seed \(seed)")
            for epoch in 0..<3 {
                var union: [Int] = []
                for s in samplers {
                    let batches = s.batches(epoch: epoch)
                    XCTAssertEqual(batches.count, s.batchesPerEpoch, "seed \(seed) epoch \(epoch) rank \(s.rank)")
                    for batch in batches {
                        XCTAssertEqual(batch.count, b, "seed \(seed) epoch \(epoch)")
                        XCTAssertEqual(Set(s.pseudoLabels(of: batch)).count, 1, "seed \(seed): batch mixes groups")
                    }
                    let flat = batches.flatMap { $0 }
                    XCTAssertEqual(Set(flat).count, flat.count, "seed \(seed): batches overlap")
                    XCTAssertEqual(flat.sorted(), s.keptIndices(epoch: epoch, rank: s.rank), "seed \(seed)")
                    union += flat
                }
                XCTAssertEqual(union.count, expectedKept, "seed \(seed) epoch \(epoch)")
                XCTAssertEqual(union.sorted(), samplers[0].keptIndices(epoch: epoch), "seed \(seed) epoch \(epoch)")
                // Groups with fewer than b·W samples contribute nothing.
                for i in union { XCTAssertGreaterThanOrEqual(sizes[labels[i]], b * w, "seed \(seed)") }
            }
        }
    }

    func testClusterBatchRoundRobinOrder() throws {
        // Groups of 6, 2 and 4 samples, b = 2: per group 3, 1, 2 batches → order 0,1,2,0,2,0.
        let labels = [0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2]
        let s = try ClusterBatchSampler(pseudoLabels: labels, batchSize: 2, seed: 3)
        XCTAssertEqual(s.batchesWithGroups(epoch: 0).map { $0.group }, [0, 1, 2, 0, 2, 0])
        XCTAssertNotEqual(s.batches(epoch: 0), s.batches(epoch: 1))  // reshuffled per epoch
        XCTAssertEqual(s.batches(epoch: 4), s.batches(epoch: 4))  // deterministic
    }

    func testOneGroupIsAnOrdinaryShuffledSampler() throws {
        for seed in UInt64(1)...20 {
            var rng = RNG(seed: seed)
            let m = 1 + rng.int(below: 200), b = 1 + rng.int(below: 16), w = 1 + rng.int(below: 3)
            let labels = [Int](repeating: 0, count: m)
            for r in 0..<w {
                let cb = try ClusterBatchSampler(pseudoLabels: labels, batchSize: b, worldSize: w, rank: r, seed: seed)
                let mask = try MaskBatchSampler(pseudoLabels: labels, batchSize: b, worldSize: w, rank: r, seed: seed,
                                                dropLast: true)
                for epoch in 0..<2 {
                    XCTAssertEqual(cb.batches(epoch: epoch), mask.batches(epoch: epoch), "seed \(seed) rank \(r)")
                }
            }
            // W = 1: the batches are consecutive slices of RNG(seed, stream: e).permutation(M).
            let cb = try ClusterBatchSampler(pseudoLabels: labels, batchSize: b, seed: seed)
            var g = RNG(seed: seed, stream: 1)
            let p = g.permutation(m)
            XCTAssertEqual(cb.batches(epoch: 1).flatMap { $0 }, Array(p.prefix(m / b * b)), "seed \(seed)")
        }
    }

    func testMaskBatchesCoverAllSamplesEachEpoch() throws {
        for seed in UInt64(1)...30 {
            var rng = RNG(seed: seed)
            let m = 1 + rng.int(below: 300), b = 1 + rng.int(below: 20), w = 1 + rng.int(below: 4)
            let labels = randomLabels(&rng, m: m, g: 1 + rng.int(below: 5))
            for epoch in 0..<3 {
                var union: [Int] = []
                for r in 0..<w {
                    let s = try makeBatchSampler(.mask, pseudoLabels: labels, batchSize: b, worldSize: w, rank: r, seed: seed)
                    let batches = s.batches(epoch: epoch)
                    XCTAssertTrue(batches.allSatisfy { !$0.isEmpty && $0.count <= b }, "seed \(seed)")
                    XCTAssertTrue(batches.dropLast().allSatisfy { $0.count == b }, "seed \(seed)")
                    XCTAssertEqual(s.pseudoLabels(of: batches.first ?? []), (batches.first ?? []).map { labels[$0] })
                    union += batches.flatMap { $0 }
                }
                XCTAssertEqual(union.sorted(), Array(0..<m), "seed \(seed) epoch \(epoch)")
                // drop_last: only full batches, a multiple of b·W samples.
                var dropped: [Int] = []
                for r in 0..<w {
                    let s = try MaskBatchSampler(pseudoLabels: labels, batchSize: b, worldSize: w, rank: r, seed: seed, dropLast: true)
                    let batches = s.batches(epoch: epoch)
                    XCTAssertTrue(batches.allSatisfy { $0.count == b }, "seed \(seed)")
                    dropped += batches.flatMap { $0 }
                }
                XCTAssertEqual(dropped.count, m / (b * w) * b * w, "seed \(seed)")
                XCTAssertEqual(Set(dropped).count, dropped.count, "seed \(seed)")
            }
        }
    }

    func testBudgetReportAgreesWithSampler() throws {
        for seed in UInt64(1)...15 {
            var rng = RNG(seed: seed)
            let m = 50 + rng.int(below: 300), b = 1 + rng.int(below: 10), w = 1 + rng.int(below: 3)
            let history = [(0..<m).map { _ in rng.int(below: 3) }, (0..<m).map { _ in rng.int(below: 3) }]
            let p = try PseudoLabels(history: history, clusterCounts: [3, 3])
            let report = StageBudgetReport(pseudoLabels: p, batchSize: b, worldSize: w)
            let s = try ClusterBatchSampler(pseudoLabels: p, batchSize: b, worldSize: w, seed: seed)
            XCTAssertEqual(report.keptPerEpoch, s.keptCountPerEpoch, "seed \(seed)")
            XCTAssertEqual(report.batchesPerRank, s.batches(epoch: 0).count, "seed \(seed)")
            XCTAssertEqual(report.noGroupCanFormBatch, s.batches(epoch: 0).isEmpty, "seed \(seed)")
        }
    }

    func testSamplerValidation() {
        XCTAssertThrowsError(try ClusterBatchSampler(pseudoLabels: [0], batchSize: 0, seed: 0)) {
            XCTAssertEqual("\($0)", "batch_size=0 should be >= 1")
        }
        XCTAssertThrowsError(try ClusterBatchSampler(pseudoLabels: [0], batchSize: 1, worldSize: 2, rank: 2, seed: 0))
        XCTAssertThrowsError(try MaskBatchSampler(pseudoLabels: [-1], batchSize: 1, seed: 0))
        XCTAssertEqual(NegativeSamplingStrategy(rawValue: "cluster-batch"), .clusterBatch)
        XCTAssertEqual(NegativeSamplingStrategy(rawValue: "mask"), .mask)
    }
}

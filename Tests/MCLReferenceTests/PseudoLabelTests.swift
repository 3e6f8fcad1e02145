import XCTest
@testable import MCLReference

final class PseudoLabelTests: XCTestCase {
    func testMixedRadixIsABijectionWithTuples() {
        for seed in UInt64(1)...20 {
            var rng = RNG(seed: seed)
            let radices = (0..<(1 + rng.int(below: 4))).map { _ in 1 + rng.int(below: 6) }
            let total = radices.reduce(1, *)
            var seen = Set<Int>()
            // Enumerate every tuple in lexicographic order: values must be 0, 1, 2, … in that order.
            var tuple = [Int](repeating: 0, count: radices.count)
            for expected in 0..<total {
                let v = PseudoLabels.mixedRadix(tuple, radices: radices)
                XCTAssertEqual(v, expected, "seed \(seed) radices \(radices) tuple \(tuple)")
                XCTAssertEqual(PseudoLabels.tuple(mixedRadix: v, radices: radices), tuple, "seed \(seed)")
                seen.insert(v)
                var s = radices.count - 1
                while s >= 0 { tuple[s] += 1; if tuple[s] < radices[s] { break }; tuple[s] = 0; s -= 1 }
            }
            XCTAssertEqual(seen.count, total, "seed \(seed)")
        }
        XCTAssertEqual(PseudoLabels.mixedRadix([2, 3], radices: [5, 5]), 13)  // official: (0·5 + 2)·5 + 3
    }

    func testGroupsAreTheCellsOfTheProductPartition() throws {
        for seed in UInt64(1)...15 {
            var rng = RNG(seed: seed)
            let m = 1 + rng.int(below: 300)
            let ks = (0..<(1 + rng.int(below: 3))).map { _ in 1 + rng.int(below: 5) }
            let history = ks.map { k in (0..<m).map { _ in rng.int(below: k) } }
            let p = try PseudoLabels(history: history, clusterCounts: ks)
            XCTAssertEqual(p.groupSizes.reduce(0, +), m, "seed \(seed)")
            XCTAssertEqual(p.groupValues, p.groupValues.sorted(), "seed \(seed)")
            XCTAssertEqual(Set(p.groupValues).count, p.groupCount, "seed \(seed)")
            XCTAssertTrue(p.groupSizes.allSatisfy { $0 >= 1 }, "seed \(seed)")
            for i in 0..<m {
                XCTAssertEqual(p.tuple(ofSample: i), history.map { $0[i] }, "seed \(seed) sample \(i)")
                XCTAssertEqual(p.groupValues[p.labels[i]], p.mixedRadixValues[i], "seed \(seed)")
            }
            // Same label ⇔ same tuple.
            for _ in 0..<200 {
                let a = rng.int(below: m), b = rng.int(below: m)
                XCTAssertEqual(p.labels[a] == p.labels[b], history.allSatisfy { $0[a] == $0[b] }, "seed \(seed)")
            }
            let groups = p.groups()
            for g in 0..<p.groupCount {
                XCTAssertEqual(groups[g], p.members(ofGroup: g), "seed \(seed)")
                XCTAssertEqual(groups[g].count, p.groupSizes[g], "seed \(seed)")
            }
        }
    }

    func testStageZeroIsOneGroup() throws {
        let p = try PseudoLabels(history: [], clusterCounts: [], sampleCount: 7)
        XCTAssertEqual(p.labels, [Int](repeating: 0, count: 7))
        XCTAssertEqual(p.groupSizes, [7])
        XCTAssertEqual(p.possibleGroupCount, 1)
        XCTAssertEqual(p.tuple(ofSample: 3), [])
        XCTAssertThrowsError(try PseudoLabels(history: [], clusterCounts: []))
    }

    func testDenseIdsAscendInMixedRadixOrder() throws {
        // Stage 0 ids [1, 0, 1, 0], stage 1 ids [2, 2, 0, 2] with K = 3 → values [5, 2, 3, 2].
        let p = try PseudoLabels(history: [[1, 0, 1, 0], [2, 2, 0, 2]], clusterCounts: [3, 3])
        XCTAssertEqual(p.mixedRadixValues, [5, 2, 3, 2])
        XCTAssertEqual(p.groupValues, [2, 3, 5])
        XCTAssertEqual(p.labels, [2, 0, 1, 0])
        XCTAssertEqual(p.groupSizes, [2, 1, 1])
    }

    func testPublishedScriptDiffersFromEquation2() throws {
        // Two earlier stages: Eq. 2 separates by both; the script's value uses only the latest stage.
        let y0 = [0, 0, 1, 1], y1 = [0, 1, 0, 1]
        let eq2 = try PseudoLabels(history: [y0, y1], clusterCounts: [2, 2])
        XCTAssertEqual(eq2.groupCount, 4)
        let script = PseudoLabels.publishedScriptMixedRadix(latest: y1, clusterCount: 2, stage: 2)
        XCTAssertEqual(script, [0, 3, 0, 3])  // y1 · (2 + 1)
        XCTAssertEqual(Set(script).count, 2)
    }

    func testValidation() {
        XCTAssertThrowsError(try PseudoLabels(history: [[0, 1], [0]], clusterCounts: [2, 2])) {
            XCTAssertEqual("\($0)", "stage 1 has 1 cluster ids, expected n_samples=2")
        }
        XCTAssertThrowsError(try PseudoLabels(history: [[0, 5]], clusterCounts: [5])) {
            XCTAssertEqual("\($0)", "stage 0: cluster id 5 of sample 1 is outside 0..<5")
        }
        XCTAssertThrowsError(try PseudoLabels(history: [[0], [0], [0]], clusterCounts: [1 << 30, 1 << 30, 1 << 30]))
        XCTAssertThrowsError(try PseudoLabels(history: [[0]], clusterCounts: [1, 2]))
    }

    func testStageBudgetReport() throws {
        // K = 2, two stages: groups of sizes 10, 5, 3, 0 → possible 4.
        var y0: [Int] = [], y1: [Int] = []
        for (a, b, n) in [(0, 0, 10), (0, 1, 5), (1, 0, 3)] { for _ in 0..<n { y0.append(a); y1.append(b) } }
        let p = try PseudoLabels(history: [y0, y1], clusterCounts: [2, 2])
        let r = StageBudgetReport(pseudoLabels: p, batchSize: 4)
        XCTAssertEqual(r.possibleGroups, 4)
        XCTAssertEqual(r.bound, 18.0 / 4)
        XCTAssertTrue(r.satisfiesEquation4)
        XCTAssertEqual(r.nonEmptyGroups, 3)
        XCTAssertEqual(r.groupsSmallerThanBatch, 1)
        XCTAssertEqual(r.samplesInGroupsSmallerThanBatch, 3)
        XCTAssertEqual(r.keptPerEpoch, 8 + 4)
        XCTAssertEqual(r.batchesPerRank, 3)
        XCTAssertFalse(r.noGroupCanFormBatch)
        let r2 = StageBudgetReport(pseudoLabels: p, batchSize: 6, worldSize: 2)
        XCTAssertFalse(r2.satisfiesEquation4)
        XCTAssertTrue(r2.noGroupCanFormBatch)
        XCTAssertTrue(r2.description.contains("ERROR"))
    }
}

import XCTest
@testable import MCLReference

/// MMVP-style pairs and pair accuracy, and zero-shot accuracy, on small matrices worked by hand.
final class MMVPTests: XCTestCase {
    // Five images, two attributes (a0, a1):
    //   0: (0, 0)  1: (1, 0)  2: (0, 1)  3: (1, 1)  4: (0, 0)
    // Pairs differing in exactly one attribute: a0: {0,1} {1,4} {2,3}; a1: {0,2} {1,3} {2,4}.
    // {0,3}, {1,2}, {3,4} differ in both; {0,4} in none.
    let labels = [[0, 1, 0, 1, 0], [0, 0, 1, 1, 0]]
    // Embeddings (2-D, deliberately unnormalised; unit rows (1, 0), (1, 0), (0.8, 0.6), (0, −1),
    // (0.6, 0.8)); cosines: e0·e1 = 1, e1·e4 = 0.6, e2·e3 = −0.6, e0·e2 = 0.8, e1·e3 = 0, e2·e4 = 0.96.
    let embeddings = Matrix<Double>([[2, 0], [5, 0], [4, 3], [0, -3], [3, 4]])

    func pairs(_ threshold: Double, max: Int = 10, seed: UInt64 = 0) -> [MMVPPair] {
        MMVP.pairs(imageEmbeddings: embeddings, labels: labels, threshold: threshold, maxPerAttribute: max, seed: seed)
    }

    func testPairsDifferInExactlyOneAttributeAndPassTheThreshold() {
        func p(_ i: Int, _ j: Int, _ a: Int) -> MMVPPair { MMVPPair(first: i, second: j, attribute: a) }
        XCTAssertEqual(pairs(-1), [p(0, 1, 0), p(1, 4, 0), p(2, 3, 0), p(0, 2, 1), p(1, 3, 1), p(2, 4, 1)])
        XCTAssertEqual(pairs(0.5), [p(0, 1, 0), p(1, 4, 0), p(0, 2, 1), p(2, 4, 1)])
        // The threshold is inclusive: cosine 0.6 passes at 0.6; above it only 1.0 and 0.96 (and 0.8 at 0.8).
        XCTAssertEqual(pairs(0.6), [p(0, 1, 0), p(1, 4, 0), p(0, 2, 1), p(2, 4, 1)])
        XCTAssertEqual(pairs(0.61), [p(0, 1, 0), p(0, 2, 1), p(2, 4, 1)])
        XCTAssertEqual(pairs(0.97), [p(0, 1, 0)])
        XCTAssertEqual(pairs(1.01), [])
    }

    func testAZeroEmbeddingHasCosineZero() {
        var e = embeddings
        for k in 0..<2 { e[1, k] = 0 }
        let found = MMVP.pairs(imageEmbeddings: e, labels: labels, threshold: 0, maxPerAttribute: 10, seed: 0)
        XCTAssert(found.contains(MMVPPair(first: 1, second: 4, attribute: 0)), "cosine 0 ≥ 0")
        XCTAssertFalse(MMVP.pairs(imageEmbeddings: e, labels: labels, threshold: 0.01, maxPerAttribute: 10, seed: 0)
            .contains { $0.first == 1 || $0.second == 1 })
    }

    /// The cap keeps a seeded subset of each attribute's candidates: the same for the same seed,
    /// sorted, a subset of the uncapped list; different seeds choose differently.
    func testSelectionIsCappedPerAttributeDeterministicAndSeeded() {
        // 12 images, 3 attributes, identical embeddings (every cosine 1): many candidates.
        var rng = RNG(seed: 7)
        let labels = (0..<3).map { _ in (0..<12).map { _ in rng.int(below: 2) } }
        let e = Matrix<Float>(rows: 12, cols: 3, repeating: 1)
        let all = MMVP.pairs(imageEmbeddings: e, labels: labels, threshold: 0.9, maxPerAttribute: 1000, seed: 0)
        var chosen: Set<[MMVPPair]> = []
        for seed: UInt64 in 0..<8 {
            let a = MMVP.pairs(imageEmbeddings: e, labels: labels, threshold: 0.9, maxPerAttribute: 2, seed: seed)
            XCTAssertEqual(a, MMVP.pairs(imageEmbeddings: e, labels: labels, threshold: 0.9, maxPerAttribute: 2, seed: seed))
            for attr in 0..<3 {
                let mine = a.filter { $0.attribute == attr }
                XCTAssertEqual(mine.count, min(2, all.filter { $0.attribute == attr }.count))
                XCTAssertEqual(mine, mine.sorted { ($0.first, $0.second) < ($1.first, $1.second) })
            }
            XCTAssert(a.allSatisfy(all.contains))
            XCTAssertEqual(a.map(\.attribute), a.map(\.attribute).sorted(), "attribute by attribute")
            chosen.insert(a)
        }
        XCTAssertGreaterThan(chosen.count, 1, "the seed changes the selection")
        XCTAssertEqual(MMVP.pairs(imageEmbeddings: e, labels: labels, threshold: 0.9, maxPerAttribute: 0, seed: 0), [])
        XCTAssert(all.allSatisfy { p in (0..<3).filter { labels[$0][p.first] != labels[$0][p.second] } == [p.attribute] })
    }

    /// S[a,b] = image a vs image b's caption. Pair (0,1): 0 prefers its own (0.9 > 0.2) and 1 too
    /// (0.8 > 0.3) → right. Pair (2,3): 2 right (0.7 > 0.1), 3 wrong (0.4 < 0.6) → wrong. Pair (0,2):
    /// 0 right (0.9 > 0.5), 2 tied (0.7 = 0.7) → wrong: a tie is not a match. Pair (1,3): both right.
    func testPairAccuracyNeedsBothImagesMatchedStrictly() {
        let s = Matrix<Double>([
            [0.9, 0.2, 0.5, 0.0],
            [0.3, 0.8, 0.0, 0.1],
            [0.0, 0.0, 0.7, 0.1],
            [0.0, 0.0, 0.6, 0.4],
        ])
        // S[2,0] = 0.7 = S[2,2] makes pair (0,2) a tie for image 2.
        var tied = s
        tied[2, 0] = 0.7
        let p = [MMVPPair(first: 0, second: 1, attribute: 0), MMVPPair(first: 2, second: 3, attribute: 0),
                 MMVPPair(first: 0, second: 2, attribute: 2), MMVPPair(first: 1, second: 3, attribute: 2)]
        let r = MMVP.accuracy(pairs: p, similarity: tied, attributeCount: 4)
        XCTAssertEqual(r.overall, 50)
        XCTAssertEqual(r.perAttribute, [50, nil, 50, nil])
        // Without the tie, pair (0,2) is right: image 2 prefers its own caption (0.7 > 0.0).
        let r2 = MMVP.accuracy(pairs: p, similarity: s, attributeCount: 4)
        XCTAssertEqual(r2.overall, 75)
        XCTAssertEqual(r2.perAttribute, [50, nil, 100, nil])
        // A constant similarity (a model blind to everything) gets no pair right, not chance.
        XCTAssertEqual(MMVP.accuracy(pairs: p, similarity: Matrix<Float>(rows: 4, cols: 4, repeating: 1), attributeCount: 4).overall, 0)
        let none = MMVP.accuracy(pairs: [], similarity: s, attributeCount: 2)
        XCTAssert(none.overall.isNaN)
        XCTAssertEqual(none.perAttribute, [nil, nil])
    }

    /// A random similarity gets about 25 % of pairs right: each image independently prefers its own
    /// caption with probability ½.
    func testRandomSimilarityIsNearChance() {
        var rng = RNG(seed: 11)
        let n = 400
        let s = rng.uniformMatrix(n, n, 0.0, 1.0)
        let p = (0..<(n / 2)).map { MMVPPair(first: 2 * $0, second: 2 * $0 + 1, attribute: 0) }
        let r = MMVP.accuracy(pairs: p, similarity: s, attributeCount: 1)
        XCTAssertEqual(r.overall, 25, accuracy: 10)  // 200 pairs: sd ≈ 3.1 points
    }

    /// Row 0 picks class 1 (right); row 1 ties classes 0 and 2 at the maximum → wrong even though
    /// its label is 2; row 2 picks class 0 (label 2, wrong); row 3 picks class 2 (right).
    func testZeroShotArgmaxWithTiesWrong() {
        let s = Matrix<Double>([[0.1, 0.9, 0.3], [0.5, 0.2, 0.5], [0.8, 0.1, 0.7], [0.0, 0.1, 0.2]])
        XCTAssertEqual(ZeroShot.accuracy(similarity: s, labels: [1, 2, 2, 2]), 50)
        XCTAssertEqual(ZeroShot.accuracy(similarity: s, labels: [1, 0, 0, 2]), 75)
        XCTAssertEqual(ZeroShot.accuracy(similarity: Matrix<Float>(rows: 3, cols: 4, repeating: 0.5), labels: [0, 1, 2]), 0)
        var nan = s
        nan[0, 1] = .nan
        XCTAssertEqual(ZeroShot.accuracy(similarity: nan, labels: [1, 2, 2, 2]), 25, "a NaN score never wins")
    }

    /// On shapes-captions, with the raw pixels standing in for a pretrained image embedding: pairs
    /// differing only in direction (a few pixels) are nearly identical, pairs differing only in colour
    /// are far apart — so a cosine threshold keeps direction pairs and drops colour pairs, the
    /// "CLIP-blind" selection MMVP makes.
    func testOnShapesCaptionsPixelsTheThresholdKeepsDirectionPairsAndDropsColourPairs() {
        let d = ShapesCaptions.make(count: 400, size: 16, seed: 6, as: Float.self)
        let all = MMVP.pairs(imageEmbeddings: d.images.x, labels: d.images.labels, threshold: -1, maxPerAttribute: .max, seed: 0)
        let unit = (0..<d.count).map { i -> [Double] in
            let r = d.images.x.row(i).map(Double.init), n = sqrt(r.reduce(0) { $0 + $1 * $1 })
            return r.map { $0 / n }
        }
        let meanCosine = (0..<5).map { a -> Double in
            let p = all.filter { $0.attribute == a }
            return p.reduce(0) { $0 + zip(unit[$1.first], unit[$1.second]).reduce(0) { $0 + $1.0 * $1.1 } } / Double(p.count)
        }
        print("shapes-captions raw pixels, mean cosine of one-attribute pairs: "
            + zip(ShapesCaptions.attributeNames, meanCosine).map { "\($0) \(String(format: "%.3f", $1))" }.joined(separator: ", "))
        XCTAssertEqual(meanCosine.firstIndex(of: meanCosine.min()!), 1, "colour pairs are the least alike")
        let kept = MMVP.pairs(imageEmbeddings: d.images.x, labels: d.images.labels, threshold: 0.95, maxPerAttribute: 20, seed: 0)
        XCTAssertEqual(kept.filter { $0.attribute == 2 }.count, 20, "direction pairs pass 0.95")
        XCTAssertEqual(kept.filter { $0.attribute == 1 }.count, 0, "colour pairs do not")
    }
}

import XCTest
@testable import MCLReference

/// Seeded property loops (issue 5, section 1). Each loop draws its sizes and data from `RNG(seed:)`
/// and every assertion names the seed, so a failure is reproduced by running that one seed.
/// (The mixed-radix bijection and the cluster-batch sampler's purity / disjointness / coverage across
/// ranks are PseudoLabelTests.testMixedRadixIsABijectionWithTuples and
/// SamplerTests.testClusterBatchPropertiesAcrossRanks; the gradient checks are GradCheckTests,
/// ConvTests and PoolingTests.)
///
/// Tolerances, all Float64: a property that holds exactly in real arithmetic is checked to
/// 1e-12 relative (a few hundred ulps: the loss is a mean of log-sum-exps over ≤ 24 terms, and a
/// rescaled row changes the rounding of its normalisation) and gradients to atol 1e-13·max|dz| +
/// rtol 1e-10 (small elements are differences of O(max) terms). Where the code path is the same
/// (masked with one group vs plain) the check is bitwise.
final class PropertyTests: XCTestCase {
    static let seeds: ClosedRange<UInt64> = 1...25

    func close(_ a: Double, _ b: Double, _ rtol: Double = 1e-12) -> Bool { abs(a - b) <= rtol * max(1, abs(b)) }

    /// Random NT-Xent inputs: B in 1…6, D in 2…6, τ in {0.05, 0.1, 0.5, 1}, pseudo labels from ≤ 3 groups.
    func ntXentCase(_ seed: UInt64) -> (z: Matrix<Double>, labels: [Int], loss: NTXent<Double>, b: Int) {
        var rng = RNG(seed: seed)
        let b = 1 + rng.int(below: 6), d = 2 + rng.int(below: 5)
        let tau = [0.05, 0.1, 0.5, 1.0][rng.int(below: 4)]
        let z: Matrix<Double> = rng.normalMatrix(2 * b, d, std: 0.5 + 3 * rng.nextDouble())
        let labels = (0..<b).map { _ in rng.int(below: 3) }
        return (z, labels, NTXent<Double>(temperature: tau), b)
    }

    /// L(z) = L(z with one row scaled by a > 0) — the loss sees only u = z/‖z‖ — and that row's
    /// gradient scales by 1/a (dL/dz = J_norm(z)·dL/du with J_norm ∝ 1/‖z‖); the other rows keep theirs.
    func testNTXentIsInvariantToRescalingAnEmbedding() {
        for seed in PropertyTests.seeds {
            let (z, labels, loss, b) = ntXentCase(seed)
            var rng = RNG(seed: seed, stream: 1)
            let row = rng.int(below: 2 * b), a = exp(4 * rng.nextDouble() - 2)  // a in [e⁻², e²]
            var scaled = z
            for j in 0..<z.cols { scaled[row, j] *= a }
            for y in [nil, labels] {
                let base = loss(z, pseudoLabels: y), after = loss(scaled, pseudoLabels: y)
                XCTAssert(close(after.loss, base.loss), "seed \(seed) masked=\(y != nil): \(after.loss) vs \(base.loss)")
                var expected = base.dEmbeddings
                for j in 0..<z.cols { expected[row, j] /= a }
                let scale = expected.storage.map(abs).max() ?? 1
                assertClose(after.dEmbeddings, expected, Tolerance(atol: 1e-13 * scale, rtol: 1e-10),
                            "seed \(seed) masked=\(y != nil) row \(row) a=\(a): dz")
            }
        }
    }

    /// Permuting the samples (the same permutation in both views) and swapping the two views permutes
    /// the per-anchor losses and the gradient rows the same way and leaves the mean loss unchanged.
    func testNTXentIsEquivariantToPermutingTheBatch() {
        for seed in PropertyTests.seeds {
            let (z, labels, loss, b) = ntXentCase(seed)
            var rng = RNG(seed: seed, stream: 2)
            let perm = rng.permutation(b)
            let swap = rng.int(below: 2) == 1
            let rows = swap ? perm.map { $0 + b } + perm : perm + perm.map { $0 + b }
            for masked in [false, true] {
                let base = loss(z, pseudoLabels: masked ? labels : nil)
                let out = loss(z.gatherRows(rows), pseudoLabels: masked ? perm.map { labels[$0] } : nil)
                XCTAssert(close(out.loss, base.loss), "seed \(seed) masked=\(masked) swap=\(swap): \(out.loss) vs \(base.loss)")
                for (k, r) in rows.enumerated() {
                    XCTAssert(close(out.perAnchorLoss[k], base.perAnchorLoss[r]), "seed \(seed) masked=\(masked) anchor \(k)")
                    XCTAssertEqual(out.admissibleNegatives[k], base.admissibleNegatives[r], "seed \(seed) masked=\(masked)")
                }
                let scale = base.dEmbeddings.storage.map(abs).max() ?? 1
                assertClose(out.dEmbeddings, base.dEmbeddings.gatherRows(rows), Tolerance(atol: 1e-13 * scale, rtol: 1e-10),
                            "seed \(seed) masked=\(masked) swap=\(swap): dz")
            }
        }
    }

    /// With every sample in one group the mask admits every negative: masked loss = plain loss, bit for bit.
    func testMaskedLossWithOneGroupIsThePlainLoss() {
        for seed in PropertyTests.seeds {
            let (z, _, loss, b) = ntXentCase(seed)
            let group = Int(seed % 5)
            let plain = loss(z), masked = loss(z, pseudoLabels: [Int](repeating: group, count: b))
            XCTAssertEqual(masked.loss, plain.loss, "seed \(seed)")
            XCTAssertEqual(masked.perAnchorLoss, plain.perAnchorLoss, "seed \(seed)")
            XCTAssertEqual(masked.dEmbeddings, plain.dEmbeddings, "seed \(seed)")
            XCTAssertEqual(masked.admissibleNegatives, [Int](repeating: 2 * b - 2, count: 2 * b), "seed \(seed)")
        }
    }

    /// The mask never admits a cross-group negative: each anchor's loss equals the one computed from
    /// its positive and the other views of its own group only, its negative count is 2·n_g − 2, and
    /// moving every sample of the other groups changes nothing for it.
    func testMaskNeverAdmitsACrossGroupNegative() {
        for seed in PropertyTests.seeds {
            let (z, labels, loss, b) = ntXentCase(seed)
            let tau = loss.temperature
            let out = loss(z, pseudoLabels: labels)
            let u = (0..<(2 * b)).map { i -> [Double] in
                let r = z.row(i), n = max(r.map { $0 * $0 }.reduce(0, +).squareRoot(), 1e-12)
                return r.map { $0 / n }
            }
            func dot(_ p: [Double], _ q: [Double]) -> Double { zip(p, q).map(*).reduce(0, +) }
            var moved = z
            var rng = RNG(seed: seed, stream: 3)
            let g0 = labels[0]
            for i in 0..<(2 * b) where labels[i % b] != g0 { for j in 0..<z.cols { moved[i, j] += 2 * rng.normal() } }
            let after = loss(moved, pseudoLabels: labels)
            for i in 0..<(2 * b) {
                let pos = (i + b) % (2 * b), g = labels[i % b]
                let allowed = (0..<(2 * b)).filter { $0 != i && ($0 == pos || labels[$0 % b] == g) }
                let lse = log(allowed.map { exp(dot(u[i], u[$0]) / tau) }.reduce(0, +))
                let expected = allowed.count == 1 ? 0 : lse - dot(u[i], u[pos]) / tau  // no negative: loss 0 (see NTXent)
                XCTAssert(close(out.perAnchorLoss[i], expected), "seed \(seed) anchor \(i): \(out.perAnchorLoss[i]) vs \(expected)")
                XCTAssertEqual(out.admissibleNegatives[i], allowed.count - 1, "seed \(seed) anchor \(i)")
                if g == g0 {
                    XCTAssert(close(after.perAnchorLoss[i], out.perAnchorLoss[i]), "seed \(seed) anchor \(i): other groups leaked in")
                }
            }
        }
    }

    /// Lloyd's algorithm never increases the inertia: the run capped at t iterations (from the same
    /// initial centroids, tolerance 0) has inertia ≤ the run capped at t − 1, for t = 1 … 12; and at
    /// convergence every label is a nearest centroid (checked by a plain argmin written here) and the
    /// inertia is Σ‖x − c_label‖². Inertia slack 1e-12 relative (sums of ≤ 240 float64 squares).
    func testKMeansInertiaNeverIncreasesAndConvergedLabelsAreNearestCentroids() throws {
        var iterationsSeen: [Int] = []
        for seed in PropertyTests.seeds.prefix(12) {
            var rng = RNG(seed: seed)
            let k = 2 + rng.int(below: 5), d = 1 + rng.int(below: 4), m = 40 + rng.int(below: 200)
            // Overlapping blobs, so Lloyd takes several iterations.
            let centres = (0..<k).map { _ in (0..<d).map { _ in 2 * rng.normal() } }
            let x = Matrix<Double>((0..<m).map { _ in centres[rng.int(below: k)].map { $0 + rng.normal() } })
            let c0 = x.gatherRows(Array(rng.permutation(m).prefix(k)))
            var previous = Double.infinity
            for t in 1...12 {
                let r = try KMeans<Double>(clusterCount: k, initialization: .centroids(c0), maxIterations: t, tolerance: 0).fit(x)
                XCTAssertLessThanOrEqual(r.inertia, previous * (1 + 1e-12), "seed \(seed): inertia rose at iteration \(t)")
                previous = r.inertia
            }
            let r = try KMeans<Double>(clusterCount: k, initialization: .centroids(c0), maxIterations: 300, tolerance: 0).fit(x)
            XCTAssertTrue(r.converged, "seed \(seed)")
            iterationsSeen.append(r.iterations)
            var inertia = 0.0
            for i in 0..<m {
                let dist = (0..<k).map { j in (0..<d).reduce(0.0) { $0 + (x[i, $1] - r.centroidsDouble[j, $1]) * (x[i, $1] - r.centroidsDouble[j, $1]) } }
                let nearest = dist.indices.min { dist[$0] < dist[$1] }!
                XCTAssertEqual(r.labels[i], nearest, "seed \(seed) sample \(i): distances \(dist)")
                inertia += dist[r.labels[i]]
            }
            XCTAssert(close(r.inertia, inertia), "seed \(seed): inertia \(r.inertia) vs Σ‖x − c‖² = \(inertia)")
        }
        // The monotonicity check is not vacuous: most runs take several Lloyd iterations.
        XCTAssertGreaterThan(iterationsSeen.filter { $0 >= 4 }.count, 6, "iterations per seed: \(iterationsSeen)")
    }

    /// Cross-stage integration (Eq. 5) is `Matrix.hconcat` of the stage blocks (MCLRun.integratedTrain;
    /// MCLPipelineTests checks that wiring on a real run): every block comes back unchanged, in order.
    func testConcatenationPreservesEachStagesBlock() {
        for seed in PropertyTests.seeds {
            var rng = RNG(seed: seed)
            let rows = 1 + rng.int(below: 30)
            let blocks: [Matrix<Float>] = (0..<(1 + rng.int(below: 5))).map { _ in rng.normalMatrix(rows, 1 + rng.int(below: 9)) }
            let joined = Matrix.hconcat(blocks)
            XCTAssertEqual(joined.rows, rows, "seed \(seed)")
            XCTAssertEqual(joined.cols, blocks.map(\.cols).reduce(0, +), "seed \(seed)")
            var start = 0
            for (j, block) in blocks.enumerated() {
                XCTAssertEqual(joined.columns(start..<(start + block.cols)), block, "seed \(seed) block \(j)")
                start += block.cols
            }
        }
    }
}

import XCTest
@testable import MCLReference

final class LossTests: XCTestCase {
    /// Naive loop transcription of SimCLR's Algorithm 1: s_ij cosine, ℓ(i, j) = −log(exp(s_ij/τ) /
    /// Σ_{k≠i} exp(s_ik/τ)), L = (1/2N)·Σ_k [ℓ(2k−1, 2k) + ℓ(2k, 2k−1)] — here with views stacked
    /// [view 1; view 2], so the pair of k is (k, k + N).
    func naiveSimCLR(_ z: [[Double]], tau: Double) -> Double {
        let n2 = z.count, n = n2 / 2
        func cos(_ a: [Double], _ b: [Double]) -> Double {
            let dot = zip(a, b).map(*).reduce(0, +)
            return dot / (sqrt(a.map { $0 * $0 }.reduce(0, +)) * sqrt(b.map { $0 * $0 }.reduce(0, +)))
        }
        func l(_ i: Int, _ j: Int) -> Double {
            var den = 0.0
            for k in 0..<n2 where k != i { den += exp(cos(z[i], z[k]) / tau) }
            return -log(exp(cos(z[i], z[j]) / tau) / den)
        }
        var total = 0.0
        for k in 0..<n { total += l(k, k + n) + l(k + n, k) }
        return total / Double(n2)
    }

    func testHandComputedSmallCaseMatchesNaiveSimCLR() {
        let z: [[Double]] = [[1, 0.5], [-0.3, 2], [0.8, 0.7], [-1, 1.5]]   // B = 2, D = 2
        for tau in [0.1, 0.5, 1.0] {
            let got = NTXent<Double>(temperature: tau)(Matrix(z)).loss
            XCTAssertEqual(got, naiveSimCLR(z, tau: tau), accuracy: 1e-12, "τ = \(tau)")
        }
        var rng = RNG(seed: 31)
        let r: Matrix<Double> = rng.normalMatrix(10, 3)
        XCTAssertEqual(NTXent<Double>(temperature: 0.5)(r).loss,
                       naiveSimCLR((0..<10).map { r.row($0) }, tau: 0.5), accuracy: 1e-12)
    }

    func testAllEqualEmbeddingsGiveLog2BMinus1() {
        for b in [1, 2, 5] {
            let z = Matrix<Double>(rows: 2 * b, cols: 3, repeating: 0.7)
            let out = NTXent<Double>(temperature: 0.5)(z)
            XCTAssertEqual(out.loss, log(Double(2 * b - 1)), accuracy: 1e-12)
            XCTAssertEqual(out.admissibleNegatives, [Int](repeating: 2 * b - 2, count: 2 * b))
            let f = NTXent<Float>(temperature: 0.1)(z.converted(to: Float.self))
            XCTAssertEqual(Double(f.loss), log(Double(2 * b - 1)), accuracy: 1e-5)
        }
    }

    func testInvariantToRowScalingAndEquivariantToPermutation() {
        var rng = RNG(seed: 32)
        let b = 4
        let z: Matrix<Double> = rng.normalMatrix(2 * b, 5)
        let labels = [0, 1, 0, 1]
        let loss = NTXent<Double>(temperature: 0.3)
        let base = loss(z, pseudoLabels: labels)
        var scaledZ = z
        for j in 0..<5 { scaledZ[2, j] *= 7.5 }
        XCTAssertEqual(loss(scaledZ, pseudoLabels: labels).loss, base.loss, accuracy: 1e-12)
        let perm = rng.permutation(b)
        let rows = perm + perm.map { $0 + b }
        let permuted = loss(z.gatherRows(rows), pseudoLabels: perm.map { labels[$0] })
        XCTAssertEqual(permuted.loss, base.loss, accuracy: 1e-12)
        for (k, r) in rows.enumerated() {
            XCTAssertEqual(permuted.perAnchorLoss[k], base.perAnchorLoss[r], accuracy: 1e-12)
        }
        assertClose(permuted.dEmbeddings, base.dEmbeddings.gatherRows(rows), Tolerance(atol: 1e-14, rtol: 1e-12), "permuted dZ")
    }

    func testMaskWithAllLabelsEqualIsPlainLoss() {
        var rng = RNG(seed: 33)
        let z: Matrix<Double> = rng.normalMatrix(6, 4)
        let loss = NTXent<Double>(temperature: 0.5)
        let plain = loss(z), masked = loss(z, pseudoLabels: [3, 3, 3])
        XCTAssertEqual(plain.loss, masked.loss)  // bitwise: same columns, same order
        XCTAssertEqual(plain.dEmbeddings, masked.dEmbeddings)
    }

    func testMaskedLossIgnoresCrossGroupNegatives() {
        var rng = RNG(seed: 34)
        let b = 4
        let z: Matrix<Double> = rng.normalMatrix(2 * b, 3)
        let labels = [0, 0, 1, 1]
        let loss = NTXent<Double>(temperature: 0.5)
        let base = loss(z, pseudoLabels: labels)
        // Each group holds 2 samples = 4 views; minus the anchor and its positive leaves 2 negatives.
        XCTAssertEqual(base.admissibleNegatives, [Int](repeating: 2, count: 2 * b))
        var perturbed = z
        for j in 0..<3 { perturbed[2, j] += 1.3; perturbed[2 + b, j] -= 0.4 }   // sample 2 is in group 1
        let after = loss(perturbed, pseudoLabels: labels)
        for i in [0, 1, b, b + 1] { XCTAssertEqual(after.perAnchorLoss[i], base.perAnchorLoss[i], "anchor \(i)") }
        // Masked loss equals a plain NT-Xent-like sum over the groups computed separately.
        let g0 = NTXent<Double>(temperature: 0.5)(z.gatherRows([0, 1, b, b + 1]))
        XCTAssertEqual(base.perAnchorLoss[0], g0.perAnchorLoss[0], accuracy: 1e-12)
        XCTAssertEqual(base.perAnchorLoss[b + 1], g0.perAnchorLoss[3], accuracy: 1e-12)
    }

    func testSingletonGroupHasZeroLossAndNoNegatives() {
        var rng = RNG(seed: 35)
        let z: Matrix<Double> = rng.normalMatrix(4, 3)
        let out = NTXent<Double>(temperature: 0.5)(z, pseudoLabels: [0, 1])
        XCTAssertEqual(out.loss, 0)
        XCTAssertEqual(out.admissibleNegatives, [0, 0, 0, 0])
        XCTAssertEqual(out.dEmbeddings, Matrix(rows: 4, cols: 3))
    }

    func testSaturatedLogitsStayFinite() {
        // Identical and opposite embeddings at τ = 0.01 (logits ±100) in Float32 and Float64.
        let z = Matrix<Float>([[1, 0], [-1, 0], [1, 1e-7], [-1, 0], [1, 0], [-1, 1e-6]])
        for tau: Float in [0.01, 0.1] {
            let out = NTXent<Float>(temperature: tau)(z)
            XCTAssertTrue(out.loss.isFinite && out.dEmbeddings.isFinite, "τ = \(tau)")
            let d = NTXent<Double>(temperature: Double(tau))(z.converted(to: Double.self))
            XCTAssertTrue(d.loss.isFinite && d.dEmbeddings.isFinite)
            XCTAssertEqual(Double(out.loss), d.loss, accuracy: 1e-3 * max(1, d.loss))
        }
        let zero = Matrix<Double>(rows: 4, cols: 3)   // zero rows: normalise to 0, still finite
        let out = NTXent<Double>(temperature: 0.1)(zero)
        XCTAssertEqual(out.loss, log(3), accuracy: 1e-12)
        XCTAssertTrue(out.dEmbeddings.isFinite)
    }

    func testCoreGradientIsSoftmaxMinusOneHot() {
        // One anchor, three keys along axes: dQ = (S − P)·K/(Nτ).
        let q = Matrix<Double>([[1, 0, 0]]), k = Matrix<Double>.identity(3)
        let tau = 0.5
        let out = InfoNCE.loss(anchors: q, keys: k, positives: [1], mask: InfoNCE.Mask(rows: 1, cols: 3), temperature: tau)
        let e = [exp(2.0), 1, 1], s = e.reduce(0, +)
        XCTAssertEqual(out.loss, log(s) - 0, accuracy: 1e-14)
        let expected = [e[0] / s, e[1] / s - 1, e[2] / s].map { $0 / tau }
        assertClose(out.dAnchors, Matrix([expected]), Tolerance(atol: 1e-15, rtol: 1e-13), "dQ")
    }

    func testMoCoMatchesExplicitLogits() {
        var rng = RNG(seed: 36)
        let q: Matrix<Double> = rng.normalMatrix(3, 4), k: Matrix<Double> = rng.normalMatrix(3, 4)
        let queue = L2Normalize<Double>().forward(rng.normalMatrix(5, 4)).output
        let tau = 0.2
        let out = MoCoInfoNCE<Double>(temperature: tau)(queries: q, positiveKeys: k, queue: queue)
        let qn = L2Normalize<Double>().forward(q).output, kn = L2Normalize<Double>().forward(k).output
        var total = 0.0
        for i in 0..<3 {
            let logits = [rowDots(qn.gatherRows([i]), kn.gatherRows([i]))[0] / tau] +
                (0..<5).map { rowDots(qn.gatherRows([i]), queue.gatherRows([$0]))[0] / tau }
            total += -logits[0] + log(logits.map { exp($0) }.reduce(0, +))
        }
        XCTAssertEqual(out.loss, total / 3, accuracy: 1e-12)
        XCTAssertEqual(out.admissibleNegatives, [5, 5, 5])
        let masked = MoCoInfoNCE<Double>(temperature: tau)(queries: q, positiveKeys: k, queue: queue,
                                                          queryLabels: [0, 1, 2], queueLabels: [0, 0, 1, 1, 1])
        XCTAssertEqual(masked.admissibleNegatives, [2, 3, 0])
    }

    func testCLIPSymmetricAndAllEqual() {
        let a = Matrix<Double>(rows: 4, cols: 3, repeating: 1)
        XCTAssertEqual(CLIPLoss<Double>()(image: a, text: a).loss, log(4), accuracy: 1e-12)
        var rng = RNG(seed: 37)
        let i: Matrix<Double> = rng.normalMatrix(5, 3), t: Matrix<Double> = rng.normalMatrix(5, 3)
        let clip = CLIPLoss<Double>(temperature: 0.1)
        let x = clip(image: i, text: t), y = clip(image: t, text: i)
        XCTAssertEqual(x.loss, y.loss, accuracy: 1e-12)
        XCTAssertEqual(x.dImage, y.dText)
    }

    func testFloat32AgreesWithFloat64() {
        var rng = RNG(seed: 38)
        let z: Matrix<Double> = rng.normalMatrix(16, 8)
        let labels = (0..<8).map { $0 % 3 }
        for tau in [0.1, 0.5] {
            let d = NTXent<Double>(temperature: tau)(z, pseudoLabels: labels)
            let f = NTXent<Float>(temperature: Float(tau))(z.converted(to: Float.self), pseudoLabels: labels)
            XCTAssertEqual(Double(f.loss), d.loss, accuracy: 1e-5 * max(1, d.loss))
            // Float32 rounding of O(1/τ) logits: 1e-4 absolute on gradients of size ~1e-2..1.
            assertClose(f.dEmbeddings.converted(to: Double.self), d.dEmbeddings, Tolerance(atol: 1e-4, rtol: 1e-3), "f32 dZ τ=\(tau)")
        }
    }
}

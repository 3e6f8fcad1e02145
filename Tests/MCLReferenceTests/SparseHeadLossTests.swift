import Foundation
import XCTest
@testable import MCLReference

/// BYOL, Barlow Twins and the L2,1 penalty: gradients by central differences in Float64 (see
/// GradientChecking.swift for h and the tolerances), closed forms, and the EMA schedule.
final class SparseHeadLossTests: XCTestCase {
    // MARK: BYOL

    func testBYOLGradientsMatchCentralDifferences() {
        for (seed, b, d) in [(21, 3, 4), (22, 1, 3), (23, 5, 2), (24, 4, 7)] {
            var rng = RNG(seed: UInt64(seed))
            let p1: Matrix<Double> = rng.normalMatrix(b, d, std: 2)
            let p2: Matrix<Double> = rng.normalMatrix(b, d, std: 0.5)
            let z1: Matrix<Double> = rng.normalMatrix(b, d)
            let z2: Matrix<Double> = rng.normalMatrix(b, d, std: 3)
            let loss = BYOLLoss<Double>()
            let out = loss(prediction1: p1, prediction2: p2, target1: z1, target2: z2)
            checkGradient("BYOL dp1 seed \(seed)", analytic: out.dPrediction1, at: p1) {
                Double(loss(prediction1: $0, prediction2: p2, target1: z1, target2: z2).loss)
            }
            checkGradient("BYOL dp2 seed \(seed)", analytic: out.dPrediction2, at: p2) {
                Double(loss(prediction1: p1, prediction2: $0, target1: z1, target2: z2).loss)
            }
            // The Jacobian of p/‖p‖ removes the radial part: dL/dp ⟂ p.
            for (p, g) in [(p1, out.dPrediction1), (p2, out.dPrediction2)] {
                for (dot, norm) in zip(rowDots(p, g), rowNorms(p)) { XCTAssertEqual(dot / norm, 0, accuracy: 1e-14) }
            }
            XCTAssertEqual(out.perSampleLoss.reduce(0, +) / Double(b), out.loss, accuracy: 1e-14)
        }
    }

    func testBYOLClosedFormsAndTheLightlyConvention() {
        let loss = BYOLLoss<Double>()
        let z = Matrix<Double>([[1, 2, 2], [0, -3, 4]])
        // Same directions (any positive scale): every pair costs 0.
        XCTAssertEqual(loss(prediction1: scaled(z, by: 7), prediction2: scaled(z, by: 0.1), target1: z, target2: z).loss, 0, accuracy: 1e-15)
        // Opposite: 2 − 2·(−1) = 4 per direction, 8 per sample.
        XCTAssertEqual(loss(prediction1: scaled(z, by: -1), prediction2: scaled(z, by: -2), target1: z, target2: z).loss, 8, accuracy: 1e-14)
        // Orthogonal in one direction, equal in the other: (2 + 0) per sample.
        let q = Matrix<Double>([[2, -1, 0], [1, 0, 0]])  // ⟂ the rows of z
        let out = loss(prediction1: q, prediction2: z, target1: z, target2: z)
        XCTAssertEqual(out.perSampleLoss[0], 2, accuracy: 1e-15)
        XCTAssertEqual(out.loss, 2, accuracy: 1e-15)
        // lightly: ½·(−mean cos(p₁, z₂) − mean cos(p₂, z₁)); ours = 4 + 4·lightly.
        var rng = RNG(seed: 25)
        let (p1, p2, z1, z2): (Matrix<Double>, Matrix<Double>, Matrix<Double>, Matrix<Double>) =
            (rng.normalMatrix(6, 5), rng.normalMatrix(6, 5), rng.normalMatrix(6, 5), rng.normalMatrix(6, 5))
        func meanCos(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Double {
            zip(rowDots(a, b), zip(rowNorms(a), rowNorms(b))).map { $0 / ($1.0 * $1.1) }.reduce(0, +) / Double(a.rows)
        }
        let lightly = 0.5 * (-meanCos(p1, z2) - meanCos(p2, z1))
        XCTAssertEqual(loss(prediction1: p1, prediction2: p2, target1: z1, target2: z2).loss, 4 + 4 * lightly, accuracy: 1e-14)
    }

    func testBYOLInFloat32AgreesWithFloat64() {
        var rng = RNG(seed: 26)
        let m: [Matrix<Double>] = (0..<4).map { _ in rng.normalMatrix(5, 3) }
        let f = m.map { $0.converted(to: Float.self) }
        let d = BYOLLoss<Double>()(prediction1: m[0], prediction2: m[1], target1: m[2], target2: m[3])
        let s = BYOLLoss<Float>()(prediction1: f[0], prediction2: f[1], target1: f[2], target2: f[3])
        XCTAssertEqual(Double(s.loss), d.loss, accuracy: 1e-6)
        XCTAssertLessThan(maxAbsDifference(s.dPrediction1.converted(to: Double.self), d.dPrediction1), 1e-6)
    }

    func testBYOLTargetDecayFollowsTheCosineSchedule() {
        let k = 200
        XCTAssertEqual(BYOLTargetEMA.decay(step: 0, totalSteps: k, base: 0.99), 0.99, accuracy: 1e-15)
        XCTAssertEqual(BYOLTargetEMA.decay(step: k / 2, totalSteps: k, base: 0.99), 0.995, accuracy: 1e-15)
        XCTAssertEqual(BYOLTargetEMA.decay(step: k, totalSteps: k, base: 0.99), 1, accuracy: 1e-15)
        XCTAssertEqual(BYOLTargetEMA.decay(step: k + 50, totalSteps: k, base: 0.99), 1)  // clamped, as the official code
        // A quarter of the way: 1 − 0.01·(cos(π/4) + 1)/2.
        XCTAssertEqual(BYOLTargetEMA.decay(step: 50, totalSteps: k, base: 0.99), 1 - 0.01 * (0.5.squareRoot() / 2 + 0.5), accuracy: 1e-15)
        var previous = 0.0
        for step in 0...k {
            let tau = BYOLTargetEMA.decay(step: step, totalSteps: k, base: 0.996)
            XCTAssertGreaterThanOrEqual(tau, previous, "step \(step)")
            previous = tau
        }
    }

    func testBYOLTargetUpdateIsTheMovingAverage() {
        var target = Matrix<Double>([[1, -2], [4, 0]])
        let online = Matrix<Double>([[3, 2], [0, 8]])
        BYOLTargetEMA.update(target: &target, online: online, decay: 0.75)
        XCTAssertEqual(target, Matrix([[1.5, -1], [3, 2]]))  // 0.75·θ′ + 0.25·θ
        var frozen = target
        BYOLTargetEMA.update(target: &frozen, online: online, decay: 1)
        XCTAssertEqual(frozen, target)
        var copied: NamedMatrices<Double> = [("w", target), ("b", Matrix([[5]]))]
        BYOLTargetEMA.update(target: &copied, online: [("w", online), ("b", Matrix([[-1]]))], decay: 0)
        XCTAssertEqual(copied[0].value, online)
        XCTAssertEqual(copied[1].value, Matrix([[-1]]))
    }

    // MARK: Barlow Twins

    func testBarlowTwinsGradientsMatchCentralDifferences() {
        for (seed, n, d, lambda) in [(31, 5, 3, 5e-3), (32, 2, 1, 5e-3), (33, 6, 4, 0.5), (34, 3, 5, 1.0)] {
            var rng = RNG(seed: UInt64(seed))
            var z1: Matrix<Double> = rng.normalMatrix(n, d, std: 2)
            for i in 0..<z1.count { z1.storage[i] += 1 }
            let z2: Matrix<Double> = rng.normalMatrix(n, d, std: 0.7)
            let loss = BarlowTwinsLoss<Double>(lambda: lambda)
            let out = loss(z1, z2)
            checkGradient("Barlow dz1 seed \(seed)", analytic: out.dZ1, at: z1) { Double(loss($0, z2).loss) }
            checkGradient("Barlow dz2 seed \(seed)", analytic: out.dZ2, at: z2) { Double(loss(z1, $0).loss) }
            XCTAssertEqual(out.loss, out.onDiagonal + lambda * out.offDiagonal, accuracy: 1e-13)
        }
    }

    func testBarlowTwinsClosedForms() {
        // Centred, orthogonal columns of biased variance 1: z̃ = z/√(1 + ε), so C = I/(1 + ε).
        let z = Matrix<Double>([[1, 1], [-1, 1], [1, -1], [-1, -1]])
        let exact = BarlowTwinsLoss<Double>(lambda: 5e-3, eps: 0)(z, z)
        XCTAssertEqual(exact.loss, 0, accuracy: 1e-15)
        XCTAssertEqual(exact.crossCorrelation, Matrix([[1, 0], [0, 1]]))
        let withEps = BarlowTwinsLoss<Double>()(z, z)
        XCTAssertEqual(withEps.crossCorrelation[0, 0], 1 / (1 + 1e-5), accuracy: 1e-15)  // biased σ² = 1, not 4/3
        XCTAssertEqual(withEps.loss, 2 * pow(1e-5 / (1 + 1e-5), 2), accuracy: 1e-20)
        // Anti-correlated views: C_ii = −1, so each diagonal term is (1 − (−1))² = 4.
        XCTAssertEqual(BarlowTwinsLoss<Double>(eps: 0)(z, scaled(z, by: -1)).onDiagonal, 8, accuracy: 1e-14)
        // One off-diagonal pair: columns 0 and 1 of view 2 swapped gives C = [[0, 1], [1, 0]].
        let swapped = Matrix<Double>([[1, 1], [1, -1], [-1, 1], [-1, -1]])
        let out = BarlowTwinsLoss<Double>(lambda: 0.25, eps: 0)(z, swapped)
        XCTAssertEqual(out.onDiagonal, 2, accuracy: 1e-14)
        XCTAssertEqual(out.offDiagonal, 2, accuracy: 1e-14)
        XCTAssertEqual(out.loss, 2.5, accuracy: 1e-14)
    }

    func testBarlowTwinsNormalisesEachViewOnItsOwn() {
        // Per-view statistics make the loss invariant to a per-dimension affine map of either view
        // (lightly's stacked normalisation was not; fixed in its PR #1806).
        var rng = RNG(seed: 35)
        let z1: Matrix<Double> = rng.normalMatrix(8, 3)
        let z2: Matrix<Double> = rng.normalMatrix(8, 3)
        let loss = BarlowTwinsLoss<Double>(eps: 0)
        let moved = addRowVector(scaleColumns(z2, by: [3, 0.5, 10]), [4, -2, 100])
        XCTAssertEqual(loss(z1, z2).loss, loss(z1, moved).loss, accuracy: 1e-12)
        XCTAssertEqual(loss(z1, z2).loss, loss(z2, z1).loss, accuracy: 1e-13)  // C ↔ Cᵀ
    }

    // MARK: L2,1 penalty

    let w = Matrix<Double>([[3, 0, 1, 0.3],
                            [4, 0, 0, -0.4]])   // column norms 5, 0, 1, 0.5

    func testL21ValueAndSubgradientByHand() {
        let penalty = L21Penalty<Double>(lambda: 0.1)
        XCTAssertEqual(L21Penalty.columnNorms(w), [5, 0, 1, 0.5])
        XCTAssertEqual(penalty.value(w), 0.1 * 6.5, accuracy: 1e-15)
        let g = penalty.gradient(w)
        let expected = Matrix<Double>([[0.1 * 0.6, 0, 0.1, 0.1 * 0.6], [0.1 * 0.8, 0, 0, -0.1 * 0.8]])
        assertClose(g, expected, Tolerance(atol: 1e-16, rtol: 1e-15), "L2,1 sub-gradient")
        XCTAssertEqual(g[0, 1], 0); XCTAssertEqual(g[1, 1], 0)  // zero column: sub-gradient 0, not NaN
        XCTAssertEqual(L21Penalty<Double>().lambda, 1e-4)      // the paper's default
    }

    func testL21GradientMatchesCentralDifferencesAwayFromZeroColumns() {
        for (seed, o, i) in [(41, 3, 5), (42, 1, 1), (43, 6, 2)] {
            var rng = RNG(seed: UInt64(seed))
            let x: Matrix<Double> = rng.normalMatrix(o, i)
            let penalty = L21Penalty<Double>(lambda: 0.3)
            checkGradient("L2,1 dW seed \(seed)", analytic: penalty.gradient(x), at: x) { Double(penalty.value($0)) }
        }
    }

    func testL21ProximalStepZeroesSmallColumnsExactly() {
        let penalty = L21Penalty<Double>(lambda: 0.5)
        let prox = penalty.proximal(w, stepSize: 2)   // threshold η·λ = 1
        // Column 0 (norm 5) shrinks by 1 in norm, keeping its direction; columns of norm ≤ 1 vanish.
        XCTAssertEqual(prox[0, 0], 3 * 0.8, accuracy: 1e-15)
        XCTAssertEqual(prox[1, 0], 4 * 0.8, accuracy: 1e-15)
        for j in 1..<4 { for i in 0..<2 { XCTAssertEqual(prox[i, j], 0, "column \(j) (norm ≤ η·λ, incl. exactly = 1)") } }
        XCTAssertEqual(penalty.proximal(w, stepSize: 0), w)
        // It is the minimiser of ½‖X − W‖² + ηλ‖X‖₂,₁: no random perturbation does better.
        var rng = RNG(seed: 44)
        let v: Matrix<Double> = rng.normalMatrix(3, 4)
        let eta = 0.8
        let p = penalty.proximal(v, stepSize: eta)
        func objective(_ x: Matrix<Double>) -> Double {
            0.5 * subtract(x, v).storage.reduce(0) { $0 + $1 * $1 } + eta * Double(penalty.value(x))
        }
        let best = objective(p)
        for _ in 0..<200 {
            let delta: Matrix<Double> = rng.normalMatrix(3, 4, std: 0.05)
            XCTAssertGreaterThanOrEqual(objective(add(p, delta)), best - 1e-15)
        }
    }

    func testActiveColumnsUseARelativeThreshold() {
        XCTAssertEqual(L21Penalty.activeColumns(w), [0, 2, 3])            // > 1% of 5
        XCTAssertEqual(L21Penalty.activeColumns(w, threshold: 0.15), [0, 2])
        XCTAssertEqual(L21Penalty.activeColumns(scaled(w, by: 1e-6), threshold: 0.15), [0, 2])  // scale-free
        XCTAssertEqual(L21Penalty.activeColumns(Matrix<Double>(rows: 3, cols: 4)), [])
    }
}

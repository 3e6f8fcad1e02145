import Foundation
import XCTest
@testable import MCLReference

/// The eigensolver, the covariance spectrum and effective rank, the min-max distance ratio (Eq. 9) and
/// the combined `RepresentationAnalysis`. (The numpy `eigh` reference lives in the golden fixtures:
/// cases `symmetric_eigen_*`, `covariance_spectrum`, `min_max_distance_ratio`.)
final class AnalysisTests: XCTestCase {
    /// A random symmetric n×n matrix (B + Bᵀ)/2.
    func randomSymmetric(_ n: Int, seed: UInt64) -> Matrix<Double> {
        var rng = RNG(seed: seed)
        let b: Matrix<Double> = rng.normalMatrix(n, n)
        return scaled(add(b, b.transposed()), by: 0.5)
    }

    /// max |A·V − V·Λ| and max |VᵀV − I|, relative to max |A|.
    func residuals(_ a: Matrix<Double>, _ e: SymmetricEigen) -> (decomposition: Double, orthogonality: Double) {
        let n = a.rows
        let av = matmul(a, e.eigenvectors, kernel: .reference)
        let vl = scaleColumns(e.eigenvectors, by: e.eigenvalues)
        let vtv = matmul(e.eigenvectors, e.eigenvectors, transA: .transpose, kernel: .reference)
        let scale = max(1e-300, a.storage.reduce(0.0) { max($0, abs($1)) })
        return (maxAbsDifference(av, vl) / scale, maxAbsDifference(vtv, .identity(n)))
    }

    func testJacobiDecomposesAwkwardSizes() {
        for (n, seed) in [(1, 51), (2, 52), (3, 53), (7, 54), (33, 55), (64, 56)] {
            let a = randomSymmetric(n, seed: UInt64(seed))
            let e = SymmetricEigen(a)
            let r = residuals(a, e)
            XCTAssertLessThan(r.decomposition, 1e-13, "n = \(n): ‖AV − VΛ‖")
            XCTAssertLessThan(r.orthogonality, 1e-13, "n = \(n): ‖VᵀV − I‖")
            XCTAssertEqual(e.eigenvalues, e.eigenvalues.sorted(by: >), "n = \(n): descending")
            let trace = (0..<n).reduce(0.0) { $0 + a[$1, $1] }
            XCTAssertEqual(e.eigenvalues.reduce(0, +), trace, accuracy: 1e-12 * Double(n), "n = \(n): Σλ = trace")
            XCTAssertLessThan(e.sweeps, 20, "n = \(n)")
        }
    }

    func testJacobiClosedFormsAndSignConvention() {
        let e = SymmetricEigen(Matrix<Double>([[2, 1], [1, 2]]))
        XCTAssertEqual(e.eigenvalues[0], 3, accuracy: 1e-15)
        XCTAssertEqual(e.eigenvalues[1], 1, accuracy: 1e-15)
        let h = 0.5.squareRoot()
        // (1, 1)/√2 and (1, −1)/√2 up to sign; the sign puts the largest-magnitude entry positive.
        assertClose(e.eigenvectors.map { abs($0) }, Matrix([[h, h], [h, h]]), Tolerance(atol: 1e-15, rtol: 0), "|eigenvectors| of [[2,1],[1,2]]")
        XCTAssertEqual(e.eigenvectors[0, 0], e.eigenvectors[1, 0], accuracy: 1e-15)
        XCTAssertEqual(e.eigenvectors[0, 1], -e.eigenvectors[1, 1], accuracy: 1e-15)
        for k in 0..<2 { XCTAssertGreaterThan(max(e.eigenvectors[0, k], e.eigenvectors[1, k]), 0) }
        // Diagonal input: nothing to rotate, only sorting (equal values keep their diagonal order).
        let d = SymmetricEigen(Matrix<Double>([[1, 0, 0], [0, 5, 0], [0, 0, 1]]))
        XCTAssertEqual(d.eigenvalues, [5, 1, 1])
        XCTAssertEqual(d.eigenvectors, Matrix([[0, 1, 0], [1, 0, 0], [0, 0, 1]]))
        XCTAssertEqual(d.sweeps, 1)
        XCTAssertEqual(SymmetricEigen(Matrix<Double>([[-4]])).eigenvalues, [-4])
        XCTAssertEqual(SymmetricEigen(Matrix<Double>(rows: 3, cols: 3)).eigenvalues, [0, 0, 0])
        // Float input is decomposed in Double.
        XCTAssertEqual(SymmetricEigen(Matrix<Float>([[2, 1], [1, 2]])).eigenvalues[0], 3, accuracy: 1e-15)
    }

    func testJacobiAtExtremeScales() {
        // Powers of two scale exactly, so the eigenvalues must scale exactly too (no overflow of ‖A‖_F
        // at 2⁶⁶⁰ ≈ 5e198, no underflow of the convergence test at 2⁻⁶⁶⁰).
        let a = randomSymmetric(7, seed: 58)
        let base = SymmetricEigen(a).eigenvalues
        for k in [660.0, -660.0] {
            let s = pow(2, k)
            XCTAssertEqual(SymmetricEigen(scaled(a, by: s)).eigenvalues, base.map { $0 * s }, "scale 2^\(k)")
        }
    }

    func testJacobiRepeatedEigenvalues() {
        // A = Q·diag(3, 3, 3, 1, 1, 0)·Qᵀ with Q orthogonal (from the eigenvectors of a random matrix).
        let q = SymmetricEigen(randomSymmetric(6, seed: 57)).eigenvectors
        let a = matmul(scaleColumns(q, by: [3, 3, 3, 1, 1, 0]), q, transB: .transpose, kernel: .reference)
        let e = SymmetricEigen(a)
        for (got, want) in zip(e.eigenvalues, [3.0, 3, 3, 1, 1, 0]) { XCTAssertEqual(got, want, accuracy: 1e-14) }
        let r = residuals(a, e)
        XCTAssertLessThan(r.decomposition, 1e-13)
        XCTAssertLessThan(r.orthogonality, 1e-13)
    }

    // MARK: Covariance spectrum

    func testCovarianceMatchesTheDefinition() {
        var rng = RNG(seed: 58)
        let x: Matrix<Double> = rng.normalMatrix(9, 4, std: 2)
        let c = CovarianceSpectrum.covariance(x)
        let mean = (0..<4).map { j in (0..<9).reduce(0.0) { $0 + x[$1, j] } / 9 }
        for i in 0..<4 {
            for j in 0..<4 {
                let direct = (0..<9).reduce(0.0) { $0 + (x[$1, i] - mean[i]) * (x[$1, j] - mean[j]) } / 8
                XCTAssertEqual(c[i, j], direct, accuracy: 1e-14)
                XCTAssertEqual(c[i, j], c[j, i])
            }
        }
    }

    func testEffectiveRankClosedForms() {
        // [I; −I]: mean 0, C = (2/(2D − 1))·I → a flat spectrum, effective rank D.
        let d = 5
        let iso = Matrix.vconcat([Matrix<Double>.identity(d), scaled(.identity(d), by: -1)])
        let flat = CovarianceSpectrum(of: iso)
        for (l, p) in zip(flat.eigenvalues, flat.normalized) {
            XCTAssertEqual(l, 2.0 / 9, accuracy: 1e-15)
            XCTAssertEqual(p, 0.2, accuracy: 1e-15)
        }
        XCTAssertEqual(flat.effectiveRank, 5, accuracy: 1e-13)
        // All variance on one direction: effective rank 1.
        let line = Matrix<Double>((0..<6).map { t in [1.0, -2, 0.5].map { $0 * Double(t) } })
        XCTAssertEqual(CovarianceSpectrum(of: line).effectiveRank, 1, accuracy: 1e-12)
        XCTAssertEqual(CovarianceSpectrum(of: line).normalized[0], 1, accuracy: 1e-14)
        // Eigenvalues (2, 1, 1): p = (½, ¼, ¼), entropy = 1.5·ln 2, effective rank 2^1.5.
        let s = CovarianceSpectrum(eigenvalues: [1, 2, 1])
        XCTAssertEqual(s.eigenvalues, [2, 1, 1])
        XCTAssertEqual(s.normalized, [0.5, 0.25, 0.25])
        XCTAssertEqual(s.effectiveRank, pow(2, 1.5), accuracy: 1e-14)
        // Rounding-negative eigenvalues are clamped in p only.
        let clamped = CovarianceSpectrum(eigenvalues: [1, -1e-17])
        XCTAssertEqual(clamped.normalized, [1, 0])
        XCTAssertEqual(clamped.eigenvalues, [1, -1e-17])
        // No variance: collapsed completely.
        let constant = CovarianceSpectrum(of: Matrix<Double>([[1, 2], [1, 2], [1, 2]]))
        XCTAssertEqual(constant.normalized, [0, 0])
        XCTAssertEqual(constant.effectiveRank, 0)
    }

    // MARK: Min-max distance ratio

    func testMinMaxRatioByHand() {
        // Points 0, 1, 3 on a line: M = (3 − 1)/1, (2 − 1)/1, (3 − 2)/2.
        let r = MinMaxDistanceRatio(Matrix<Double>([[0], [1], [3]]), normalized: false)
        XCTAssertEqual(r.perQuery, [2, 1, 0.5])
        XCTAssertEqual(r.mean, 3.5 / 3, accuracy: 1e-15)
        XCTAssertEqual(r.duplicateQueries, 0)
        // A 3-4-5 triangle: from (0,0) the others are 3 and 4 away, from (3,0) 3 and 5, from (0,4) 4 and 5.
        let t = MinMaxDistanceRatio(Matrix<Double>([[0, 0], [3, 0], [0, 4]]), normalized: false)
        XCTAssertEqual(t.perQuery, [1.0 / 3, 2.0 / 3, 0.25])
        // Two points: δmax = δmin.
        XCTAssertEqual(MinMaxDistanceRatio(Matrix<Double>([[1, 1], [4, 5]]), normalized: false).mean, 0)
    }

    func testMinMaxRatioNormalisedAndDuplicates() {
        // (1,0) and (2,0) normalise to the same point: both queries have δmin = 0 (M = ∞, excluded);
        // (0,3) → (0,1) is √2 from both: M = 0.
        let r = MinMaxDistanceRatio(Matrix<Double>([[1, 0], [2, 0], [0, 3]]), normalized: true)
        XCTAssertEqual(r.perQuery[0], .infinity)
        XCTAssertEqual(r.perQuery[1], .infinity)
        XCTAssertEqual(r.perQuery[2], 0, accuracy: 1e-15)
        XCTAssertEqual(r.duplicateQueries, 2)
        XCTAssertEqual(r.mean, 0, accuracy: 1e-15)
        // Unnormalised, the same points are distinct: 1, √10−1 … (finite everywhere).
        let raw = MinMaxDistanceRatio(Matrix<Double>([[1, 0], [2, 0], [0, 3]]), normalized: false)
        XCTAssertEqual(raw.duplicateQueries, 0)
        XCTAssertEqual(raw.perQuery[0], 10.0.squareRoot() - 1, accuracy: 1e-15)
        XCTAssertTrue(MinMaxDistanceRatio(Matrix<Double>([[1, 1], [1, 1]]), normalized: false).mean.isNaN)
    }

    func testMinMaxRatioIsTheSameForAnyThreadCount() {
        var rng = RNG(seed: 59)
        let x: Matrix<Float> = rng.normalMatrix(40, 6)
        let saved = Parallel.maxThreads
        defer { Parallel.maxThreads = saved }
        Parallel.maxThreads = 1
        let one = MinMaxDistanceRatio(x, normalized: true)
        Parallel.maxThreads = 2
        XCTAssertEqual(MinMaxDistanceRatio(x, normalized: true), one)
    }

    // MARK: RepresentationAnalysis

    func testRepresentationAnalysisCombinesThePiecesAndSerialises() throws {
        var rng = RNG(seed: 60)
        let train: Matrix<Float> = rng.normalMatrix(30, 4)
        var test: Matrix<Float> = rng.normalMatrix(20, 4)
        for i in 0..<20 { test[i, 3] = 0.01 * test[i, 3] }   // one direction almost unused on test
        let a = RepresentationAnalysis(train: train, test: test)
        XCTAssertEqual(a.raw.testSpectrum, CovarianceSpectrum(of: test))
        XCTAssertEqual(a.raw.trainSpectrum, CovarianceSpectrum(of: train))
        XCTAssertEqual(a.raw.testMinMaxRatio, MinMaxDistanceRatio(test, normalized: false))
        XCTAssertEqual(a.l2Normalized.testMinMaxRatio.mean, MinMaxDistanceRatio(test, normalized: true).mean, accuracy: 1e-12)
        XCTAssertLessThan(a.raw.testSpectrum.effectiveRank, a.raw.trainSpectrum.effectiveRank)
        XCTAssertLessThan(a.raw.testSpectrum.effectiveRank, 3.01)
        let json = try JSONValue.parse(a.json.serialized())
        XCTAssertEqual(json["features"]?.intValue, 4)
        XCTAssertEqual(json["raw"]?["test_spectrum"]?.arrayValue?.count, 4)
        XCTAssertEqual(json["l2_normalized"]?["test_effective_rank"]?.doubleValue, a.l2Normalized.testSpectrum.effectiveRank)
        XCTAssertEqual(json["raw"]?["test_min_max_ratio"]?.doubleValue, a.raw.testMinMaxRatio.mean)
    }
}

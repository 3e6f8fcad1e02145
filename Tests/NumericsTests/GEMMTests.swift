import XCTest
@testable import MCLNumerics

/// Fast GEMM vs the reference loops on awkward shapes, plus determinism across thread counts.
///
/// Tolerance: the reference accumulates in Double and rounds once, so it is exact to ~ulp(T). The
/// fast kernel sums K products in T (with FMA), whose error is bounded by K·u·Σ|a||b| (u the unit
/// roundoff, 2⁻²⁴ for Float, 2⁻⁵³ for Double), plus one rounding for each of α· and β·C. We check
///
///     |fast − ref| ≤ tol · (K + 2) · (|α|·Σₚ|a_ip||b_pj| + |β|·|c_ij|) + tiny
///
/// with tol = 1e-6 for Float (≈ 8·u, slack for the KC-block combining) and 1e-15 for Double. The
/// bound scales with K, i.e. for K = 150 the Float bound is ≈ 1.5e-4 relative to Σ|a||b|.
final class GEMMTests: XCTestCase {
    struct Case {
        var m: Int, n: Int, k: Int
        var transA: Transpose = .none, transB: Transpose = .none
        var alpha = 1.0, beta = 0.0
        var extraLD = 0   // leading dimensions larger than the stored width (submatrix views)
        var nanC = false  // fill C with NaN (only meaningful with β = 0)
    }

    func check<T: MCLFloat>(_ type: T.Type, _ cs: Case, tol: Double, threads: Int = 2,
                            file: StaticString = #filePath, line: UInt = #line) {
        var rng = RNG(seed: UInt64(cs.m * 1_000_003 + cs.n * 1009 + cs.k))
        let (aRows, aCols) = cs.transA == .none ? (cs.m, cs.k) : (cs.k, cs.m)
        let (bRows, bCols) = cs.transB == .none ? (cs.k, cs.n) : (cs.n, cs.k)
        let lda = max(1, aCols + cs.extraLD), ldb = max(1, bCols + cs.extraLD), ldc = max(1, cs.n + cs.extraLD)
        let a: Matrix<T> = rng.uniformMatrix(max(aRows, 1), lda, -1, 1)
        let b: Matrix<T> = rng.uniformMatrix(max(bRows, 1), ldb, -1, 1)
        var c0: Matrix<T> = rng.uniformMatrix(max(cs.m, 1), ldc, -1, 1)
        if cs.nanC { c0.storage = [T](repeating: .nan, count: c0.count) }
        var fast = c0.storage, ref = c0.storage
        let alpha = T(cs.alpha), beta = T(cs.beta)
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                fast.withUnsafeMutableBufferPointer { pc in
                    gemm(transA: cs.transA, transB: cs.transB, m: cs.m, n: cs.n, k: cs.k, alpha: alpha,
                         a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb, beta: beta,
                         c: pc.baseAddress!, ldc: ldc, kernel: .fast, threads: threads)
                }
                ref.withUnsafeMutableBufferPointer { pc in
                    gemm(transA: cs.transA, transB: cs.transB, m: cs.m, n: cs.n, k: cs.k, alpha: alpha,
                         a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb, beta: beta,
                         c: pc.baseAddress!, ldc: ldc, kernel: .reference)
                }
            }
        }
        var failures = 0
        for i in 0..<max(cs.m, 1) {
            for j in 0..<ldc {
                let idx = i * ldc + j
                if i >= cs.m || j >= cs.n {
                    // Outside the M×N view: must be untouched (NaN-safe comparison).
                    if !(fast[idx].isNaN && c0.storage[idx].isNaN) && fast[idx] != c0.storage[idx] {
                        failures += 1
                    }
                    continue
                }
                var scale = 0.0
                for p in 0..<cs.k {
                    let aip = cs.transA == .none ? a.storage[i * lda + p] : a.storage[p * lda + i]
                    let bpj = cs.transB == .none ? b.storage[p * ldb + j] : b.storage[j * ldb + p]
                    scale += abs(Double(aip) * Double(bpj))
                }
                scale = abs(cs.alpha) * scale + (cs.beta == 0 ? 0 : abs(cs.beta * Double(c0.storage[idx])))
                let bound = tol * Double(cs.k + 2) * scale + Double(T.leastNormalMagnitude)
                let f = Double(fast[idx]), r = Double(ref[idx])
                if !(abs(f - r) <= bound) {
                    if failures < 3 {
                        XCTFail("\(T.self) \(cs): C[\(i),\(j)] fast \(f) ref \(r) bound \(bound)", file: file, line: line)
                    }
                    failures += 1
                }
            }
        }
        XCTAssertEqual(failures, 0, "\(T.self) \(cs)", file: file, line: line)
    }

    func checkBoth(_ cs: Case, file: StaticString = #filePath, line: UInt = #line) {
        check(Float.self, cs, tol: 1e-6, file: file, line: line)
        check(Double.self, cs, tol: 1e-15, file: file, line: line)
    }

    /// Shapes that are not multiples of any tile (MR 6/8, NR 8/16/32, MC, KC 256), primes, K = 1,
    /// M or N = 1 and one that spans several KC blocks.
    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (17, 33, 65), (7, 5, 3), (13, 31, 257), (1, 37, 19), (29, 1, 23), (9, 40, 1),
        (31, 67, 300), (200, 300, 150), (130, 70, 520),
    ]

    func testAllTransposeCombinationsOnAwkwardShapes() {
        for (m, n, k) in GEMMTests.shapes {
            for ta in Transpose.allCases {
                for tb in Transpose.allCases {
                    checkBoth(Case(m: m, n: n, k: k, transA: ta, transB: tb))
                }
            }
        }
    }

    func testAlphaBetaAndLeadingDimensions() {
        for (m, n, k) in [(17, 33, 65), (41, 70, 300), (8, 32, 256)] {
            for ta in Transpose.allCases {
                for tb in Transpose.allCases {
                    checkBoth(Case(m: m, n: n, k: k, transA: ta, transB: tb, alpha: -0.75, beta: 1.5, extraLD: 5))
                    checkBoth(Case(m: m, n: n, k: k, transA: ta, transB: tb, alpha: 2, beta: 1, extraLD: 3))
                }
            }
        }
    }

    func testBetaZeroIgnoresNaNInC() {
        for (m, n, k) in [(17, 33, 65), (64, 64, 300), (3, 2, 1)] {
            checkBoth(Case(m: m, n: n, k: k, beta: 0, extraLD: 2, nanC: true))
            checkBoth(Case(m: m, n: n, k: k, transA: .transpose, transB: .transpose, alpha: 0.5, beta: 0, nanC: true))
        }
    }

    func testAlphaZeroAndKZeroScaleC() {
        var c = Matrix<Float>([[1, 2], [3, 4]])
        let a = Matrix<Float>([[Float.nan, 1], [1, 1]])
        gemm(a, a, alpha: 0, beta: 2, into: &c, kernel: .fast)
        XCTAssertEqual(c.storage, [2, 4, 6, 8])   // α = 0: A·B is not evaluated (NaN in A ignored)
        gemm(a, a, alpha: 0, beta: 0, into: &c, kernel: .fast)
        XCTAssertEqual(c.storage, [0, 0, 0, 0])
        var d = Matrix<Double>([[1, 2, 3]])
        let e = Matrix<Double>(rows: 1, cols: 0), f = Matrix<Double>(rows: 0, cols: 3)
        gemm(e, f, alpha: 1, beta: -1, into: &d, kernel: .fast)   // K = 0
        XCTAssertEqual(d.storage, [-1, -2, -3])
        checkBoth(Case(m: 5, n: 7, k: 9, alpha: 0, beta: 0.5))
    }

    /// Bit-identical results for threads 1, 2, 3, 8 on shapes that do go parallel (several tiles
    /// per worker, several KC blocks, edge tiles, NC > one panel for Double).
    func testBitIdenticalAcrossThreadCounts() {
        func run<T: MCLFloat>(_: T.Type, _ m: Int, _ n: Int, _ k: Int, _ ta: Transpose, _ tb: Transpose) {
            var rng = RNG(seed: 99)
            let a: Matrix<T> = ta == .none ? rng.uniformMatrix(m, k, -1, 1) : rng.uniformMatrix(k, m, -1, 1)
            let b: Matrix<T> = tb == .none ? rng.uniformMatrix(k, n, -1, 1) : rng.uniformMatrix(n, k, -1, 1)
            let c0: Matrix<T> = rng.uniformMatrix(m, n, -1, 1)
            var results: [[T]] = []
            for threads in [1, 2, 3, 8] {
                var c = c0
                gemm(a, b, transA: ta, transB: tb, alpha: 1.25, beta: 0.5, into: &c, kernel: .fast, threads: threads)
                results.append(c.storage)
            }
            for r in results.dropFirst() {
                XCTAssert(r == results[0], "\(T.self) \(m)×\(n)×\(k) \(ta)\(tb) differs across thread counts")
            }
        }
        for (m, n, k) in [(301, 257, 600), (37, 1100, 300), (256, 128, 512)] {
            run(Float.self, m, n, k, .none, .none)
            run(Double.self, m, n, k, .transpose, .none)
        }
        run(Float.self, 130, 2100, 70, .none, .transpose)
        run(Double.self, 70, 1030, 40, .transpose, .transpose)
    }
}

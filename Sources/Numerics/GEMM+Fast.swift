/// PLACEHOLDER until the packed SIMD kernel lands: forwards to the reference loops.
@inlinable
public func gemmFast<T: MCLFloat>(
    transA: Transpose, transB: Transpose, m: Int, n: Int, k: Int,
    alpha: T, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int, threads: Int
) {
    gemmReference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                  b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
}

/// The reference GEMM: three plain loops, every dot product accumulated in `Double`, then
/// C ← α·sum + β·C rounded once to `T`. Obviously correct and slow; the oracle for `.fast`.
/// - Shape: op(A) M×K, op(B) K×N, C M×N (see `Transpose` for strides and the β = 0 rule).
@inlinable
public func gemmReference<T: MCLFloat>(
    transA: Transpose, transB: Transpose, m: Int, n: Int, k: Int,
    alpha: T, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int
) {
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            if alpha != 0 {
                for p in 0..<k {
                    let aip = transA == .none ? a[i * lda + p] : a[p * lda + i]
                    let bpj = transB == .none ? b[p * ldb + j] : b[j * ldb + p]
                    sum += Double(aip) * Double(bpj)
                }
            }
            let old = beta == 0 ? 0.0 : Double(beta) * Double(c[i * ldc + j])
            c[i * ldc + j] = T(Double(alpha) * sum + old)
        }
    }
}

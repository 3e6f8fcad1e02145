/// General matrix multiply with BLAS semantics:
///
///     C ← α·op(A)·op(B) + β·C,   op(X) ∈ {X, Xᵀ}
///
/// Dimension legend: op(A) is M×K, op(B) is K×N, C is M×N. All matrices are row-major; `lda`, `ldb`,
/// `ldc` are the row strides (elements between the starts of consecutive rows) of the matrices *as
/// stored*: A is stored M×K (`.none`) or K×M (`.transpose`), likewise B as K×N or N×K.
///
/// Contract (both kernels):
/// - β = 0 means C is not read (NaN or garbage in C does not propagate), as in BLAS.
/// - α = 0 or K = 0 means C ← β·C (op(A)·op(B) is not evaluated).
/// - C must not overlap A or B (no aliasing); A and B may alias each other.
/// - `.fast` is bit-identical for every thread count: work is split by output tiles, and each output
///   element is accumulated by one thread in one fixed order that depends only on (M, N, K).
/// - `.fast` and `.reference` agree to rounding (tested on awkward shapes), not bit for bit.
public enum Transpose: Sendable, Equatable, CaseIterable, CustomStringConvertible {
    case none, transpose
    public var description: String { self == .none ? "N" : "T" }
}

/// Which implementation runs a kernel: the obviously-correct loops, or the optimised path.
public enum Kernel: String, Sendable, CaseIterable {
    case reference, fast
}

/// C ← α·op(A)·op(B) + β·C on raw row-major buffers. See `Transpose` for the contract.
/// - Shape: op(A) M×K, op(B) K×N, C M×N.
@inlinable
public func gemm<T: MCLFloat>(
    transA: Transpose, transB: Transpose, m: Int, n: Int, k: Int,
    alpha: T, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int,
    kernel: Kernel = .fast, threads: Int? = nil
) {
    precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size M=\(m) N=\(n) K=\(k)")
    precondition(lda >= max(1, transA == .none ? k : m),
                 "gemm: lda=\(lda) too small for op(A) \(m)×\(k) stored \(transA == .none ? "M×K" : "K×M")")
    precondition(ldb >= max(1, transB == .none ? n : k),
                 "gemm: ldb=\(ldb) too small for op(B) \(k)×\(n) stored \(transB == .none ? "K×N" : "N×K")")
    precondition(ldc >= max(1, n), "gemm: ldc=\(ldc) too small for C \(m)×\(n)")
    let profileStart = GEMMProfile.enabled ? GEMMProfile.now() : 0
    defer { if profileStart != 0 { GEMMProfile.record(since: profileStart) } }
    switch kernel {
    case .reference:
        gemmReference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                      b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    case .fast:
        gemmFast(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                 b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: threads ?? Parallel.maxThreads)
    }
}

/// C ← α·op(A)·op(B) + β·C on matrices; shapes are checked and reported on mismatch.
/// - Shape: op(A) M×K, op(B) K×N, C M×N.
@inlinable
public func gemm<T: MCLFloat>(
    _ a: Matrix<T>, _ b: Matrix<T>, transA: Transpose = .none, transB: Transpose = .none,
    alpha: T = 1, beta: T = 0, into c: inout Matrix<T>, kernel: Kernel = .fast, threads: Int? = nil
) {
    let (m, ka) = transA == .none ? (a.rows, a.cols) : (a.cols, a.rows)
    let (kb, n) = transB == .none ? (b.rows, b.cols) : (b.cols, b.rows)
    precondition(ka == kb,
                 "gemm: op(A) is \(m)×\(ka) but op(B) is \(kb)×\(n) (A \(a.shapeDescription) \(transA), B \(b.shapeDescription) \(transB))")
    precondition(c.rows == m && c.cols == n, "gemm: C is \(c.shapeDescription), expected \(m)×\(n)")
    if m == 0 || n == 0 { return }
    a.storage.withUnsafeBufferPointer { pa in
        b.storage.withUnsafeBufferPointer { pb in
            c.storage.withUnsafeMutableBufferPointer { pc in
                gemm(transA: transA, transB: transB, m: m, n: n, k: ka, alpha: alpha,
                     a: pa.baseAddress ?? UnsafePointer(bitPattern: 8)!, lda: max(1, a.cols),
                     b: pb.baseAddress ?? UnsafePointer(bitPattern: 8)!, ldb: max(1, b.cols),
                     beta: beta, c: pc.baseAddress!, ldc: n, kernel: kernel, threads: threads)
            }
        }
    }
}

/// op(A)·op(B) as a new matrix.
/// - Shape: op(A) M×K, op(B) K×N → M×N.
@inlinable
public func matmul<T: MCLFloat>(
    _ a: Matrix<T>, _ b: Matrix<T>, transA: Transpose = .none, transB: Transpose = .none,
    kernel: Kernel = .fast, threads: Int? = nil
) -> Matrix<T> {
    let m = transA == .none ? a.rows : a.cols
    let n = transB == .none ? b.cols : b.rows
    var c = Matrix<T>(rows: m, cols: n)
    gemm(a, b, transA: transA, transB: transB, into: &c, kernel: kernel, threads: threads)
    return c
}

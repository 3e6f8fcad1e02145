/// The fast GEMM: C ← α·op(A)·op(B) + β·C with packed panels, cache blocking and a register-blocked
/// SIMD microkernel (the GotoBLAS / BLIS scheme).
///
/// Algorithm (tile MR×NR from the `GEMMConfiguration` of the scalar type, see
/// `GEMM+Microkernel.swift`; KC, MC, NC from the cache sizes, see `GEMM+Blocking.swift`):
///
///     for jc in stride(0, N, NC)                        — column panel of C and op(B)
///       for pc in stride(0, K, KC)                      — depth block, always in this order
///         pack op(B)[pc..<pc+kc, jc..<jc+nc] into KC×NR micro-panels      ┐ parallel region 1
///         pack op(A)[0..<M, pc..<pc+kc]     into MR×KC micro-panels      ┘ (split by micro-panel)
///         workers claim chunks of whole tile rows (or columns) of MR×NR tiles in turn:
///           for ic in the chunk's rows, by MC           — A block MC×KC stays in L2   — parallel region 2
///             for jr in the chunk's columns, by NR      — B micro-panel KC×NR stays in L1
///               for ir in ic..<ic+MC, by MR
///                 C[ir, jr] ← α·(A micro-panel · B micro-panel) + β'·C[ir, jr]
///
/// with β' = β for the first depth block and 1 afterwards. Edge tiles (M or N not a multiple of
/// MR/NR) are packed with zero padding, computed by the same microkernel into a scratch tile, and
/// only their valid part is written back (with the same α·t + β'·c arithmetic as full tiles).
///
/// Determinism: each C element is the lane of one microkernel call per depth block, which sums its
/// kc products in order p = 0…kc-1 and is combined with C in depth-block order. Neither depends on
/// the thread count or on how tiles are assigned to workers, so results are bit-identical for any
/// `threads`. K is never split across threads.
@inlinable
public func gemmFast<T: MCLFloat>(
    transA: Transpose, transB: Transpose, m: Int, n: Int, k: Int,
    alpha: T, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int, threads: Int
) {
    // Dispatch on the concrete type so the hot code is non-generic (a generic kernel that is not
    // specialised across the module boundary runs 20–100× slower).
    if T.self == Float.self {
        gemmFastFloat(transA: transA, transB: transB, m: m, n: n, k: k,
                      alpha: unsafeBitCast(alpha, to: Float.self),
                      a: UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), lda: lda,
                      b: UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), ldb: ldb,
                      beta: unsafeBitCast(beta, to: Float.self),
                      c: UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), ldc: ldc,
                      threads: threads)
    } else if T.self == Double.self {
        gemmFastDouble(transA: transA, transB: transB, m: m, n: n, k: k,
                       alpha: unsafeBitCast(alpha, to: Double.self),
                       a: UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), lda: lda,
                       b: UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), ldb: ldb,
                       beta: unsafeBitCast(beta, to: Double.self),
                       c: UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), ldc: ldc,
                       threads: threads)
    } else {
        gemmReference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                      b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
}

/// The Float fast path (concrete). - Shape: op(A) M×K, op(B) K×N, C M×N.
@usableFromInline
func gemmFastFloat(transA: Transpose, transB: Transpose, m: Int, n: Int, k: Int,
                   alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                   beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
    gemmPacked(FloatGEMM.self, blocking: GEMMBlockings.float, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
               a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: threads)
}

/// The Double fast path (concrete). - Shape: op(A) M×K, op(B) K×N, C M×N.
@usableFromInline
func gemmFastDouble(transA: Transpose, transB: Transpose, m: Int, n: Int, k: Int,
                    alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                    beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int, threads: Int) {
    gemmPacked(DoubleGEMM.self, blocking: GEMMBlockings.double, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
               a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: threads)
}

/// Below this many flops per worker (2·M·N·K / workers) a GEMM uses fewer threads: waking a worker
/// and the two region hand-offs cost a few microseconds, which a tiny product cannot amortise.
/// Measured on the 2-core Zen 4 VM (see BENCHMARKS.md).
let gemmMinimumFlopsPerWorker = 1 << 20

/// Largest M·K for which a row-major A is read in place instead of packed (16 M elements). Measured:
/// reading in place was as fast or faster than packing up to 2048³ (1 thread: 1024³ 100 vs 88
/// GFLOPS, 2048³ 99 vs 91), because the microkernel's 8 row streams prefetch well and packing a
/// row-major A is a slow gather; the bound only keeps very large A on the classic packed path.
let gemmDirectAElements = 1 << 24

/// Number of workers for a product: at most `threads`, at most one per MR×NR tile, and few enough
/// that each has `gemmMinimumFlopsPerWorker` of work. (Only speed depends on it, never the result.)
func gemmWorkerCount(m: Int, n: Int, k: Int, threads: Int, tiles: Int) -> Int {
    let flops = 2.0 * Double(m) * Double(n) * Double(k)
    let bySize = Int(flops / Double(gemmMinimumFlopsPerWorker))
    return max(1, min(threads, tiles, bySize))
}

/// C ← β·C for the α = 0 / K = 0 cases (β = 0 writes zeros without reading C).
/// - Shape: C M×N with row stride `ldc`.
@inline(__always)
func gemmScale<S: MCLFloat>(m: Int, n: Int, beta: S, c: UnsafeMutablePointer<S>, ldc: Int) {
    if beta == 1 { return }
    var row = c
    for _ in 0..<m {
        if beta == 0 {
            row.update(repeating: 0, count: n)
        } else {
            for j in 0..<n { row[j] = beta * row[j] }
        }
        row += ldc
    }
}

/// Packs rows i0..<i0+MR of op(A), depth pc..<pc+kc, into an A micro-panel:
/// `dst[p·MR + r] = op(A)[i0 + r, pc + p]`, rows at or beyond M set to zero.
/// - Shape: dst MR×kc interleaved (MR values per depth step).
@inline(__always)
func packAMicroPanel<S: MCLFloat>(_ dst: UnsafeMutablePointer<S>, mr: Int, trans: Transpose,
                                  a: UnsafePointer<S>, lda: Int, m: Int, i0: Int, pc: Int, kc: Int) {
    let valid = min(mr, m &- i0)
    if trans == .none {
        // op(A)[i, p] = a[i·lda + p]: walk each valid row contiguously, write with stride MR.
        for r in 0..<mr {
            var d = dst + r
            if r < valid {
                var s = a + ((i0 &+ r) &* lda &+ pc)
                for _ in 0..<kc { d.pointee = s.pointee; d += mr; s += 1 }
            } else {
                for _ in 0..<kc { d.pointee = 0; d += mr }
            }
        }
    } else {
        // op(A)[i, p] = a[p·lda + i]: each depth step is MR contiguous values.
        var d = dst
        var s = a + (pc &* lda &+ i0)
        for _ in 0..<kc {
            for r in 0..<valid { d[r] = s[r] }
            for r in valid..<mr { d[r] = 0 }
            d += mr
            s += lda
        }
    }
}

/// Packs columns j0..<j0+NR of op(B), depth pc..<pc+kc, into a B micro-panel:
/// `dst[p·NR + q] = op(B)[pc + p, j0 + q]`, columns at or beyond N set to zero.
/// - Shape: dst kc×NR (NR values per depth step).
@inline(__always)
func packBMicroPanel<S: MCLFloat>(_ dst: UnsafeMutablePointer<S>, nr: Int, trans: Transpose,
                                  b: UnsafePointer<S>, ldb: Int, n: Int, j0: Int, pc: Int, kc: Int) {
    let valid = min(nr, n &- j0)
    if trans == .none {
        // op(B)[p, j] = b[p·ldb + j]: each depth step is NR contiguous values.
        var d = dst
        var s = b + (pc &* ldb &+ j0)
        if valid == nr {
            for _ in 0..<kc {
                d.update(from: s, count: nr)
                d += nr
                s += ldb
            }
        } else {
            for _ in 0..<kc {
                for q in 0..<valid { d[q] = s[q] }
                for q in valid..<nr { d[q] = 0 }
                d += nr
                s += ldb
            }
        }
    } else {
        // op(B)[p, j] = b[j·ldb + p]: walk each valid column of op(B) (a row of B) contiguously.
        for q in 0..<nr {
            var d = dst + q
            if q < valid {
                var s = b + ((j0 &+ q) &* ldb &+ pc)
                for _ in 0..<kc { d.pointee = s.pointee; d += nr; s += 1 }
            } else {
                for _ in 0..<kc { d.pointee = 0; d += nr }
            }
        }
    }
}

/// The blocked, packed, parallel GEMM driver (see the file comment for the loop nest).
/// Generic over the configuration but only ever instantiated with `FloatGEMM` / `DoubleGEMM`
/// inside this module, so it is compiled as two concrete functions.
/// - Shape: op(A) M×K, op(B) K×N, C M×N.
func gemmPacked<G: GEMMConfiguration>(
    _ config: G.Type, blocking: GEMMBlocking, transA: Transpose, transB: Transpose, m: Int, n: Int, k: Int,
    alpha: G.Scalar, a: UnsafePointer<G.Scalar>, lda: Int, b: UnsafePointer<G.Scalar>, ldb: Int,
    beta: G.Scalar, c: UnsafeMutablePointer<G.Scalar>, ldc: Int, threads: Int
) {
    typealias S = G.Scalar
    if m == 0 || n == 0 { return }
    if alpha == 0 || k == 0 {
        gemmScale(m: m, n: n, beta: beta, c: c, ldc: ldc)
        return
    }
    let mr = G.mr, nr = G.nr
    let mTiles = (m &+ mr &- 1) / mr
    let kcBlock = blocking.kc, ncBlock = blocking.nc
    let kcMax = min(k, kcBlock)
    let ncMax = min(n, ncBlock)
    let nTilesMax = (ncMax &+ nr &- 1) / nr
    let mcTiles = max(1, blocking.mc / mr)
    // A row-major (op(A) = A) up to `gemmDirectAElements` is not packed: the microkernel reads
    // full MR-row panels in place (same products in the same order, so the same bits); only the
    // partial last panel is packed with zero padding. Packing is a transpose-like gather that
    // costs as much as the arithmetic for small products.
    let directA = transA == .none && m &* k <= gemmDirectAElements
    let workers = gemmWorkerCount(m: m, n: n, k: k, threads: threads, tiles: mTiles &* nTilesMax)

    // Packed buffers, 64-byte aligned: A for all M rows of one depth block, B for one KC×NC panel.
    let size = MemoryLayout<S>.stride
    let rawA = UnsafeMutableRawPointer.allocate(byteCount: mTiles &* mr &* kcMax &* size, alignment: 64)
    let rawB = UnsafeMutableRawPointer.allocate(byteCount: nTilesMax &* nr &* kcMax &* size, alignment: 64)
    defer { rawA.deallocate(); rawB.deallocate() }
    let packedA = rawA.bindMemory(to: S.self, capacity: mTiles &* mr &* kcMax)
    let packedB = rawB.bindMemory(to: S.self, capacity: nTilesMax &* nr &* kcMax)

    var jc = 0
    while jc < n {
        let nc = min(ncBlock, n &- jc)
        let nTiles = (nc &+ nr &- 1) / nr
        // Cut the M×nc tile grid by rows of tiles when there are enough (a worker then keeps its
        // chunk's A blocks in its own L2, sharing the B panel), otherwise by columns of tiles.
        let splitRows = mTiles >= 4 &* workers || mTiles >= nTiles
        var pc = 0
        while pc < k {
            let kc = min(kcBlock, k &- pc)
            let betaBlock: S = pc == 0 ? beta : 1

            // Region 1: pack the A micro-panels that need it (all, or with `directA` only the
            // partial last one) and the nTiles B micro-panels; the workers claim panels in turn.
            let aFirst = directA ? m / mr : 0
            let aPanels = mTiles &- aFirst
            let panels = aPanels &+ nTiles
            let packPanel = { (t: Int) in
                if t < aPanels {
                    let u = aFirst &+ t
                    packAMicroPanel(packedA + u &* mr &* kc, mr: mr, trans: transA, a: a, lda: lda,
                                    m: m, i0: u &* mr, pc: pc, kc: kc)
                } else {
                    let u = t &- aPanels
                    packBMicroPanel(packedB + u &* nr &* kc, nr: nr, trans: transB, b: b, ldb: ldb,
                                    n: n, j0: jc &+ u &* nr, pc: pc, kc: kc)
                }
            }

            // Region 2: the tile grid is cut into chunks of whole tile rows (or columns), about four
            // per worker, and the workers claim chunks in turn until none is left (`Parallel.forEach`),
            // so a worker that the OS deschedules delays only the chunk it holds, and one that has
            // not woken up yet delays nothing. Which worker computes a tile never changes the tile's
            // arithmetic: the bits do not depend on it.
            let lines = splitRows ? mTiles : nTiles
            let perWorker = (lines &+ 4 &* workers &- 1) / (4 &* workers)
            let chunkLines = workers == 1 ? lines : max(1, min(splitRows ? mcTiles : lines, perWorker))
            let chunkCount = (lines &+ chunkLines &- 1) / chunkLines
            let computeChunk = { (chunk: Int) in
                var r0 = 0, r1 = mTiles, c0 = 0, c1 = nTiles
                if splitRows {
                    r0 = chunk &* chunkLines; r1 = min(mTiles, r0 &+ chunkLines)
                } else {
                    c0 = chunk &* chunkLines; c1 = min(nTiles, c0 &+ chunkLines)
                }
                withUnsafeTemporaryAllocation(of: S.self, capacity: mr &* nr) { scratchBuffer in
                    let scratch = scratchBuffer.baseAddress!
                    var ib = r0
                    while ib < r1 {
                        let ie = min(ib &+ mcTiles, r1)
                        for jt in c0..<c1 {
                            let bPanel = packedB + jt &* nr &* kc
                            let j = jc &+ jt &* nr
                            let nValid = min(nr, n &- j)
                            var aPanel = packedA + ib &* mr &* kc
                            for it in ib..<ie {
                                let i = it &* mr
                                let mValid = min(mr, m &- i)
                                let cTile = c + (i &* ldc &+ j)
                                /// Writes the valid mValid×nValid part of the scratch tile.
                                @inline(__always) func writeEdge(_ mValid: Int, _ nValid: Int) {
                                    for r in 0..<mValid {
                                        let src = scratch + r &* nr
                                        let dst = cTile + r &* ldc
                                        if betaBlock == 0 {
                                            for q in 0..<nValid { dst[q] = alpha * src[q] }
                                        } else {
                                            for q in 0..<nValid { dst[q] = alpha * src[q] + betaBlock * dst[q] }
                                        }
                                    }
                                }
                                if directA && mValid == mr {
                                    // Full rows of a cache-resident row-major A, read in place.
                                    let aRows = a + (i &* lda &+ pc)
                                    if nValid == nr {
                                        G.kernel(kc: kc, a: aRows, aRow: lda, aStep: 1, b: bPanel, c: cTile,
                                                 ldc: ldc, alpha: alpha, beta: betaBlock)
                                    } else {
                                        G.kernel(kc: kc, a: aRows, aRow: lda, aStep: 1, b: bPanel, c: scratch,
                                                 ldc: nr, alpha: 1, beta: 0)
                                        writeEdge(mValid, nValid)
                                    }
                                } else if mValid == mr && nValid == nr {
                                    G.kernel(kc: kc, a: aPanel, aRow: 1, aStep: mr, b: bPanel, c: cTile, ldc: ldc,
                                             alpha: alpha, beta: betaBlock)
                                } else {
                                    // Edge tile: full tile into scratch (α = 1, β = 0 stores the
                                    // exact sums), then the valid part with the same arithmetic.
                                    G.kernel(kc: kc, a: aPanel, aRow: 1, aStep: mr, b: bPanel, c: scratch,
                                             ldc: nr, alpha: 1, beta: 0)
                                    writeEdge(mValid, nValid)
                                }
                                aPanel += mr &* kc
                            }
                        }
                        ib = ie
                    }
                }
            }

            if workers == 1 {
                for t in 0..<panels { packPanel(t) }
                for chunk in 0..<chunkCount { computeChunk(chunk) }
            } else {
                Parallel.forEach(panels, threads: workers, packPanel)
                Parallel.forEach(chunkCount, threads: workers, computeChunk)
            }
            pc &+= kc
        }
        jc &+= nc
    }
}

/// Register-blocked SIMD microkernels for the packed GEMM (see `GEMM+Fast.swift` for the algorithm).
///
/// A microkernel computes one MR×NR tile of C from a packed *A micro-panel* (kc steps of MR values:
/// column p of the MR rows of A) and a packed *B micro-panel* (kc steps of NR values: row p of the
/// NR columns of B):
///
///     for p in 0..<kc:  acc[r][:] += a[p·MR + r] · b[p·NR ..< p·NR + NR]      (r = 0..<MR)
///
/// then writes  C ← α·acc + β·C  (β = 0: C ← α·acc, C not read).
///
/// The accumulator tile lives entirely in vector registers: each row r is two vectors `V` (so
/// NR = 2·V.scalarCount), one broadcast of a[p·MR + r] feeds two fused multiply-adds. Per step the
/// kernel loads two B vectors and MR scalars and issues 2·MR FMAs, so with MR = 8 there are 16
/// independent accumulator chains — enough to cover the FMA latency (4 cycles × 2 ports on Zen 4).
///
/// Register budget, by build:
/// - AVX-512 (`MCL_AVX512`): 8 × 2 × `SIMD16<Float>` = 8×32 Float tile, 8 × 2 × `SIMD8<Double>` =
///   8×16 Double tile: 16 accumulators + 2 B vectors + 1 broadcast of the 32 zmm registers.
/// - AVX2 / NEON (`MCL_FMA`): 6 × 2 × `SIMD8<Float>` = 6×16 Float, 6 × 2 × `SIMD4<Double>` = 6×8
///   Double: 12 accumulators + 2 + 1 of the 16 ymm registers (on NEON each is two q registers, 30 of 32).
/// - portable: the AVX2 shapes with a separate multiply and add (see `multiplyAdd`).
///
/// Every lane of the accumulator is an independent dot product summed in the order p = 0, 1, …,
/// kc-1, so the value of each C element depends only on K (and the KC blocking), never on the
/// tile's position, the thread that computes it, or whether the tile is an edge tile.
/// (KC itself is derived from the host's L1d size: see `GEMM+Blocking.swift`.)

/// acc ← acc + a·b, one rounding when the FMA is native. Without native FMA (portable build),
/// `addProduct` would become a per-lane `fmaf` library call (< 1 GFLOPS), so there we use a plain
/// multiply then add (two roundings; the portable build is consistent with itself).
@inline(__always)
func multiplyAdd<V: SIMD>(_ acc: inout V, _ a: V, _ b: V) where V.Scalar: BinaryFloatingPoint {
    #if MCL_FMA
    acc.addProduct(a, b)
    #else
    acc = acc + a * b
    #endif
}

/// Writes one row of the tile: c[0..<2w] ← α·(acc0, acc1) + β·c (β = 0: c not read).
@inline(__always)
func storeRow<V: SIMD>(_ c: UnsafeMutablePointer<V.Scalar>, _ acc0: V, _ acc1: V, _ alpha: V.Scalar,
                       _ beta: V.Scalar) where V.Scalar: BinaryFloatingPoint {
    let raw = UnsafeMutableRawPointer(c)
    let stride = MemoryLayout<V>.stride
    let va = V(repeating: alpha)
    if beta == 0 {
        raw.storeBytes(of: va * acc0, as: V.self)
        raw.storeBytes(of: va * acc1, toByteOffset: stride, as: V.self)
    } else {
        let vb = V(repeating: beta)
        let old0 = UnsafeRawPointer(raw).loadUnaligned(as: V.self)
        let old1 = UnsafeRawPointer(raw).loadUnaligned(fromByteOffset: stride, as: V.self)
        raw.storeBytes(of: va * acc0 + vb * old0, as: V.self)
        raw.storeBytes(of: va * acc1 + vb * old1, toByteOffset: stride, as: V.self)
    }
}

/// The 8-row microkernel: an 8 × (2·V.scalarCount) tile. Element (r, p) of the A micro-panel is
/// `a[r·aRow + p·aStep]`: packed panels pass (1, 8) as constants (folded after inlining); a
/// row-major A that is small enough to stay in cache is read in place with (lda, 1).
/// - Shape: `a` 8×kc (strided), `b` kc×NR packed (NR values per step), C tile 8×NR
///   with row stride `ldc`.
@inline(__always)
func microkernel8<V: SIMD>(_ vector: V.Type, kc: Int, a: UnsafePointer<V.Scalar>, aRow: Int, aStep: Int,
                           b: UnsafePointer<V.Scalar>,
                           c: UnsafeMutablePointer<V.Scalar>, ldc: Int, alpha: V.Scalar, beta: V.Scalar)
where V.Scalar: BinaryFloatingPoint {
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V(), c30 = V(), c31 = V()
    var c40 = V(), c41 = V(), c50 = V(), c51 = V(), c60 = V(), c61 = V(), c70 = V(), c71 = V()
    let stride = MemoryLayout<V>.stride
    var pa = a
    var pb = UnsafeRawPointer(b)
    for _ in 0..<kc {
        let b0 = pb.loadUnaligned(as: V.self)
        let b1 = pb.loadUnaligned(fromByteOffset: stride, as: V.self)
        var ar = V(repeating: pa[0]); multiplyAdd(&c00, ar, b0); multiplyAdd(&c01, ar, b1)
        ar = V(repeating: pa[1 &* aRow]); multiplyAdd(&c10, ar, b0); multiplyAdd(&c11, ar, b1)
        ar = V(repeating: pa[2 &* aRow]); multiplyAdd(&c20, ar, b0); multiplyAdd(&c21, ar, b1)
        ar = V(repeating: pa[3 &* aRow]); multiplyAdd(&c30, ar, b0); multiplyAdd(&c31, ar, b1)
        ar = V(repeating: pa[4 &* aRow]); multiplyAdd(&c40, ar, b0); multiplyAdd(&c41, ar, b1)
        ar = V(repeating: pa[5 &* aRow]); multiplyAdd(&c50, ar, b0); multiplyAdd(&c51, ar, b1)
        ar = V(repeating: pa[6 &* aRow]); multiplyAdd(&c60, ar, b0); multiplyAdd(&c61, ar, b1)
        ar = V(repeating: pa[7 &* aRow]); multiplyAdd(&c70, ar, b0); multiplyAdd(&c71, ar, b1)
        pa += aStep
        pb += 2 &* stride
    }
    var pc = c
    storeRow(pc, c00, c01, alpha, beta); pc += ldc
    storeRow(pc, c10, c11, alpha, beta); pc += ldc
    storeRow(pc, c20, c21, alpha, beta); pc += ldc
    storeRow(pc, c30, c31, alpha, beta); pc += ldc
    storeRow(pc, c40, c41, alpha, beta); pc += ldc
    storeRow(pc, c50, c51, alpha, beta); pc += ldc
    storeRow(pc, c60, c61, alpha, beta); pc += ldc
    storeRow(pc, c70, c71, alpha, beta)
}

/// The 6-row microkernel: a 6 × (2·V.scalarCount) tile (AVX2, NEON and portable builds); A
/// strides as in `microkernel8`.
/// - Shape: `a` 6×kc (strided), `b` kc×NR packed, C tile 6×NR with row stride `ldc`.
@inline(__always)
func microkernel6<V: SIMD>(_ vector: V.Type, kc: Int, a: UnsafePointer<V.Scalar>, aRow: Int, aStep: Int,
                           b: UnsafePointer<V.Scalar>,
                           c: UnsafeMutablePointer<V.Scalar>, ldc: Int, alpha: V.Scalar, beta: V.Scalar)
where V.Scalar: BinaryFloatingPoint {
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    let stride = MemoryLayout<V>.stride
    var pa = a
    var pb = UnsafeRawPointer(b)
    for _ in 0..<kc {
        let b0 = pb.loadUnaligned(as: V.self)
        let b1 = pb.loadUnaligned(fromByteOffset: stride, as: V.self)
        var ar = V(repeating: pa[0]); multiplyAdd(&c00, ar, b0); multiplyAdd(&c01, ar, b1)
        ar = V(repeating: pa[1 &* aRow]); multiplyAdd(&c10, ar, b0); multiplyAdd(&c11, ar, b1)
        ar = V(repeating: pa[2 &* aRow]); multiplyAdd(&c20, ar, b0); multiplyAdd(&c21, ar, b1)
        ar = V(repeating: pa[3 &* aRow]); multiplyAdd(&c30, ar, b0); multiplyAdd(&c31, ar, b1)
        ar = V(repeating: pa[4 &* aRow]); multiplyAdd(&c40, ar, b0); multiplyAdd(&c41, ar, b1)
        ar = V(repeating: pa[5 &* aRow]); multiplyAdd(&c50, ar, b0); multiplyAdd(&c51, ar, b1)
        pa += aStep
        pb += 2 &* stride
    }
    var pc = c
    storeRow(pc, c00, c01, alpha, beta); pc += ldc
    storeRow(pc, c10, c11, alpha, beta); pc += ldc
    storeRow(pc, c20, c21, alpha, beta); pc += ldc
    storeRow(pc, c30, c31, alpha, beta); pc += ldc
    storeRow(pc, c40, c41, alpha, beta); pc += ldc
    storeRow(pc, c50, c51, alpha, beta)
}

/// Compile-time description of one packed GEMM: scalar, register tile and microkernel (the cache
/// blocks KC, MC, NC are derived at run time from the cache sizes: `GEMMBlocking`).
/// The driver `gemmPacked` is generic over it and is specialised (inside this module) for the two
/// concrete configurations below, so the hot loops are concrete code.
protocol GEMMConfiguration {
    associatedtype Scalar: MCLFloat
    /// Rows of the register tile (A micro-panel height).
    static var mr: Int { get }
    /// Columns of the register tile (B micro-panel width) = 2 vectors.
    static var nr: Int { get }
    static func kernel(kc: Int, a: UnsafePointer<Scalar>, aRow: Int, aStep: Int, b: UnsafePointer<Scalar>,
                       c: UnsafeMutablePointer<Scalar>, ldc: Int, alpha: Scalar, beta: Scalar)
}

/// Float: 8×32 tile of `SIMD16<Float>` on AVX-512, else 6×16 of `SIMD8<Float>`.
enum FloatGEMM: GEMMConfiguration {
    typealias Scalar = Float
    #if MCL_AVX512
    typealias Vector = SIMD16<Float>
    static var mr: Int { 8 }
    #else
    typealias Vector = SIMD8<Float>
    static var mr: Int { 6 }
    #endif
    static var nr: Int { 2 &* Vector.scalarCount }
    @inline(__always)
    static func kernel(kc: Int, a: UnsafePointer<Float>, aRow: Int, aStep: Int, b: UnsafePointer<Float>,
                       c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        #if MCL_AVX512
        microkernel8(Vector.self, kc: kc, a: a, aRow: aRow, aStep: aStep, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
        #else
        microkernel6(Vector.self, kc: kc, a: a, aRow: aRow, aStep: aStep, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
        #endif
    }
}

/// Double: 8×16 tile of `SIMD8<Double>` on AVX-512, else 6×8 of `SIMD4<Double>`.
enum DoubleGEMM: GEMMConfiguration {
    typealias Scalar = Double
    #if MCL_AVX512
    typealias Vector = SIMD8<Double>
    static var mr: Int { 8 }
    #else
    typealias Vector = SIMD4<Double>
    static var mr: Int { 6 }
    #endif
    static var nr: Int { 2 &* Vector.scalarCount }
    @inline(__always)
    static func kernel(kc: Int, a: UnsafePointer<Double>, aRow: Int, aStep: Int, b: UnsafePointer<Double>,
                       c: UnsafeMutablePointer<Double>, ldc: Int, alpha: Double, beta: Double) {
        #if MCL_AVX512
        microkernel8(Vector.self, kc: kc, a: a, aRow: aRow, aStep: aStep, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
        #else
        microkernel6(Vector.self, kc: kc, a: a, aRow: aRow, aStep: aStep, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
        #endif
    }
}

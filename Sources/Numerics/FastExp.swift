/// A vectorised, error-bounded exp in Float32, for softmax rows (the fast path of Softmax.swift and
/// of the contrastive losses' log-sum-exp). `Double.exp` (libm) stays the reference.
///
/// Method (the Cephes `expf` scheme, eight lanes at a time):
///
///     n = round(x·log₂e),   r = x − n·ln2_hi − n·ln2_lo      (|r| ≤ ln2/2; ln2_hi has few bits, so n·ln2_hi is exact)
///     eʳ ≈ 1 + r + r²·P(r)                                   (P of degree 5, Cephes' minimax coefficients)
///     eˣ = 2ⁿ·eʳ                                              (2ⁿ built in the exponent bits)
///
/// Contract (checked against `Double.exp` in FastExpTests on a dense sweep and the extremes):
/// - x in [−87.33, 88]: relative error ≤ 2⁻²¹ (≈ 4.8e-7, a few ulp; the measured maximum is printed by the test);
/// - x < −87.33, including −∞: 0 (the true value is below Float's smallest normal, 1.2e-38: absolute
///   error < 1.2e-38, so a softmax over such a column is unchanged);
/// - x > 88 (eˣ within a factor 2 of Float's maximum or beyond): +∞;
/// - NaN: NaN.
/// Not guaranteed: correct rounding, or bit-equality with libm. Every lane computes the same
/// arithmetic, so the value of exp(x) does not depend on the lane or on the thread that computes it.

/// Below this input the result is flushed to 0 (2^-126 = e^-87.34 is Float's smallest normal).
public let fastExpLowerBound: Float = -87.33
/// Above this input the result is +∞ (n would pass 127).
public let fastExpUpperBound: Float = 88

/// eˣ lane by lane (see the contract above).
@inlinable @inline(__always)
public func fastExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let log2e: Float = 1.44269504088896341
    let ln2Hi: Float = 0.693359375, ln2Lo: Float = -2.12194440e-4
    let magic: Float = 12582912  // 1.5·2²³: adding it rounds to an integer held in the low mantissa bits
    let tooSmall = x .< fastExpLowerBound, tooLarge = x .> fastExpUpperBound
    let xc = x.replacing(with: fastExpLowerBound, where: tooSmall).replacing(with: fastExpUpperBound, where: tooLarge)
    let t = xc * log2e + magic
    let n = t - magic                                            // round(x·log₂e), ties to even
    let r = xc - n * ln2Hi - n * ln2Lo
    var p = SIMD8<Float>(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let er = p * (r * r) + r + 1
    // 2ⁿ: n + 127 in the exponent field. The low bits of t hold n + 0x400000 (two's complement for n < 0).
    let bits = unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((bits &+ 127) &<< 23, to: SIMD8<Float>.self)
    return (er * scale).replacing(with: 0, where: tooSmall).replacing(with: .infinity, where: tooLarge)
}

/// eˣ for one value, through the same lanes as the vector form (so the bits agree with it).
@inlinable
public func fastExp(_ x: Float) -> Float {
    fastExp(SIMD8<Float>(repeating: x))[0]
}

/// e_j = exp(x_j − μ) for j < count, written to `e`, and Σ_j e_j accumulated in `Double` in index
/// order within each of eight lanes, the lanes then added 0…7 — a fixed order, so the same bits on
/// any thread. Inputs of −∞ (masked columns) give 0. Tails shorter than eight are padded with −∞.
/// - Shape: x count, e count.
@inlinable
public func fastExpShiftedSum(_ x: UnsafePointer<Float>, count: Int, shift mu: Float,
                              into e: UnsafeMutablePointer<Float>) -> Double {
    var sums = SIMD8<Double>(repeating: 0)
    var j = 0
    while j &+ 8 <= count {
        let v = fastExp(UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self) - mu)
        UnsafeMutableRawPointer(e + j).storeBytes(of: v, as: SIMD8<Float>.self)
        sums += SIMD8<Double>(v)
        j &+= 8
    }
    if j < count {
        var tail = SIMD8<Float>(repeating: -.infinity)
        for l in 0..<(count &- j) { tail[l] = x[j &+ l] }
        let v = fastExp(tail - mu)
        for l in 0..<(count &- j) { e[j &+ l] = v[l] }
        sums += SIMD8<Double>(v)
    }
    var total = 0.0
    for l in 0..<8 { total += sums[l] }
    return total
}

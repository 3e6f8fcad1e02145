/// The one random number generator of mcl-ref: **xoshiro256\*\*** (Blackman & Vigna, 2018), seeded by
/// **SplitMix64**. Pure integer arithmetic, so the same seed gives the same stream on every machine.
///
/// - `init(seed:)`: the 256-bit state is four successive SplitMix64 outputs of `seed`.
/// - `init(seed:stream:)`: an independent stream per purpose (stage, dataset, augmentation …) that does
///   not depend on how much of any other stream was consumed.
/// - `split()`: a child generator seeded from this one's next output (advances this one by one step).
///
/// Derived draws are documented where they are defined: `nextDouble` uses the top 53 bits,
/// `int(below:)` Lemire's unbiased multiply-shift rejection, `normal()` the Box–Muller transform
/// (one normal per two uniforms, nothing cached), `shuffle` Fisher–Yates from the last index down.
/// `normal()` calls `log`, `cos` and `sin` from the C library; the integer streams are exact
/// everywhere, the normals agree wherever libm is correctly rounded (glibc on x86-64 and arm64).
/// `SystemRandomNumberGenerator` is never used.
public struct RNG: RandomNumberGenerator, Sendable, Equatable {
    /// The generator's whole state: four 64-bit words, never all zero.
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    public static func == (a: RNG, b: RNG) -> Bool { a.state == b.state }

    /// SplitMix64 step (Steele, Lea & Flood 2014): advances `x` and returns the mixed output.
    @inlinable public static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A generator whose state is four SplitMix64 outputs starting from `seed`.
    public init(seed: UInt64) {
        var s = seed
        state = (RNG.splitMix64(&s), RNG.splitMix64(&s), RNG.splitMix64(&s), RNG.splitMix64(&s))
        if state == (0, 0, 0, 0) { state.0 = 1 }  // unreachable for SplitMix64 outputs; kept for safety
    }

    /// An independent stream `stream` of `seed`: seeded with SplitMix64 over `seed` mixed with the
    /// stream number, so streams never depend on each other's consumption.
    public init(seed: UInt64, stream: UInt64) {
        var s = seed ^ (stream &* 0xD1B5_4A32_D192_ED03) ^ 0x8CB9_2BA7_2F3D_8DD7
        self.init(seed: RNG.splitMix64(&s))
    }

    /// Restores a generator from a saved `state` (checkpoints).
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        precondition(state != (0, 0, 0, 0), "RNG: the all-zero state is invalid for xoshiro256**")
        self.state = state
    }

    @inlinable static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 &- k)) }

    /// The next 64 raw bits (xoshiro256\*\*).
    public mutating func next() -> UInt64 {
        let result = RNG.rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = RNG.rotl(state.3, 45)
        return result
    }

    /// A child generator, seeded from this generator's next output through SplitMix64.
    public mutating func split() -> RNG { RNG(seed: next()) }

    /// Uniform in [0, 1): the top 53 bits scaled by 2⁻⁵³.
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [lower, upper).
    public mutating func uniform<T: MCLFloat>(_ lower: T, _ upper: T) -> T {
        T(Double(lower) + (Double(upper) - Double(lower)) * nextDouble())
    }

    /// Uniform integer in 0..<bound (Lemire 2019: multiply-shift with rejection, unbiased).
    public mutating func int(below bound: Int) -> Int {
        precondition(bound > 0, "RNG.int(below:): bound must be positive, got \(bound)")
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// Uniform integer in `range`.
    public mutating func int(in range: Range<Int>) -> Int {
        precondition(!range.isEmpty, "RNG.int(in:): empty range \(range)")
        return range.lowerBound + int(below: range.count)
    }

    /// Standard normal by Box–Muller: u1 ∈ (0, 1], u2 ∈ [0, 1), z = √(−2 ln u1)·cos(2π u2).
    public mutating func normal() -> Double {
        let u1 = 1.0 - nextDouble()
        let u2 = nextDouble()
        return (-2.0 * Double.log(u1)).squareRoot() * Double.cos(2.0 * Double.pi * u2)
    }

    /// Normal with the given mean and standard deviation.
    public mutating func normal<T: MCLFloat>(mean: T, std: T) -> T {
        T(Double(mean) + Double(std) * normal())
    }

    /// Bernoulli(p): true with probability p.
    public mutating func bernoulli(_ p: Double) -> Bool { nextDouble() < p }

    /// Shuffles `array` in place (Fisher–Yates, i from count−1 down to 1, j uniform in 0...i).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = int(below: i + 1)
            if i != j { array.swapAt(i, j) }
        }
    }

    /// A uniformly random permutation of 0..<n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }

    /// `n` values, each normal(0, std), as a flat array.
    public mutating func normals<T: MCLFloat>(_ n: Int, std: T = 1) -> [T] {
        (0..<n).map { _ in T(Double(std) * normal()) }
    }

    /// A `rows × cols` matrix of independent Normal(0, std²) entries, filled row by row.
    public mutating func normalMatrix<T: MCLFloat>(_ rows: Int, _ cols: Int, std: T = 1) -> Matrix<T> {
        Matrix(rows: rows, cols: cols, storage: normals(rows * cols, std: std))
    }

    /// A `rows × cols` matrix of independent Uniform[lower, upper) entries, filled row by row.
    public mutating func uniformMatrix<T: MCLFloat>(_ rows: Int, _ cols: Int, _ lower: T, _ upper: T) -> Matrix<T> {
        var m = Matrix<T>(rows: rows, cols: cols)
        for i in 0..<m.count { m.storage[i] = uniform(lower, upper) }
        return m
    }
}

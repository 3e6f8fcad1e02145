/// The built-in vector data set `easy-hard`: two independent features with 10 values each, built so
/// that plain SimCLR suppresses one of them (paper Sec. 3.2, Table 1a, in miniature).
///
/// Each sample is x = [ a_e · p(e) | a_h · s · q(h) ] ∈ R^(d_e + d_h), where
/// - `easy` e ∈ 0..<10 picks a unit prototype p(e) ∈ R^d_e, scaled by a_e = 3: a large, *linear* code;
/// - `hard` h ∈ 0..<10 picks a unit prototype q(h) ∈ R^d_h, scaled by a_h = 1 and multiplied by a
///   random sign s ∈ {−1, +1} drawn per sample: E[x | h] = 0, so no linear function of x reads h;
///   an encoder must learn a non-linear function (e.g. |x| or x xᵀ) to represent it.
/// e, h and s are independent and uniform. Prototypes are standard normal vectors normalised to
/// unit length. The augmentations (Gaussian noise σ = 0.3 by default) leave both features readable.
///
/// Per-sample nuisance: every sample also gets its own Gaussian offset σ_n·ε, ε ~ N(0, I_d),
/// σ_n = `sampleNoise` (default 0.1), drawn once when the data set is made (the augmentation noise
/// is drawn anew for every view). Without it the 2·10·10 = 200 combinations of (e, s, h) were the
/// only rows there were: a held-out set of 2048 rows repeated training rows exactly, and kNN read
/// `hard` by looking up duplicates. With it no two rows are equal (with probability 1; a test
/// checks the built-in sizes) and train and test are disjoint. Nothing else was retuned: σ_n = 0.1
/// is small against the prototype distances, and the demo keeps its pattern (linear probe on
/// `hard`, seeds 0–4: SimCLR 17.4%, MCL 88.3%, Multi-SimCLR 36.1%; without the offset 18.8%, 99.8%,
/// 55.2%, on a test set that repeated training rows).
///
/// Why SimCLR suppresses `hard` here: the easy code is 3× larger and linear, so in a 32-d
/// representation the instance-discrimination loss is lowered fastest by spreading the easy classes
/// apart; once it is, the small sign-symmetric code adds little to the contrast and is not learned.
/// Within one easy cluster (MCL's feature-aware negatives) the easy code no longer separates anchors
/// from negatives, and the hard code is what is left to learn.
public enum EasyHardVectors {
    public static let featureNames = ["easy", "hard"]
    public static let classes = 10

    public struct Configuration: Sendable {
        public var easyDimensions = 16
        public var hardDimensions = 16
        public var easyAmplitude = 3.0
        public var hardAmplitude = 1.0
        /// Multiply the hard code by a random sign per sample (the non-linearity). Off: a linear code.
        public var randomSign = true
        /// σ_n, the standard deviation of each sample's own Gaussian offset (0: the 200 noiseless rows).
        public var sampleNoise = 0.1
        public init() {}
    }

    /// `count` samples drawn from the stream `RNG(seed: seed, stream: 1)` (per sample: e, h, s, then
    /// the d offsets); the prototypes come from stream 0, so train and test parts made with the same
    /// seed share them.
    public static func make<T: MCLFloat>(count: Int, seed: UInt64, configuration c: Configuration = Configuration(),
                                         as: T.Type = T.self) -> LabeledData<T> {
        var protoRNG = RNG(seed: seed, stream: 0)
        let easyProto = unitPrototypes(classes, c.easyDimensions, &protoRNG)
        let hardProto = unitPrototypes(classes, c.hardDimensions, &protoRNG)
        var rng = RNG(seed: seed, stream: 1)
        let d = c.easyDimensions + c.hardDimensions
        var x = Matrix<T>(rows: count, cols: d)
        var easy = [Int](repeating: 0, count: count), hard = easy
        for i in 0..<count {
            let e = rng.int(below: classes), h = rng.int(below: classes)
            let sign: Double = c.randomSign ? (rng.bernoulli(0.5) ? 1 : -1) : 1
            easy[i] = e
            hard[i] = h
            for j in 0..<c.easyDimensions { x[i, j] = T(c.easyAmplitude * easyProto[e][j] + nuisance(c, &rng)) }
            for j in 0..<c.hardDimensions {
                x[i, c.easyDimensions + j] = T(c.hardAmplitude * sign * hardProto[h][j] + nuisance(c, &rng))
            }
        }
        return LabeledData(x: x, labels: [easy, hard], featureNames: featureNames)
    }

    /// One coordinate of a sample's own offset σ_n·ε (no draw when σ_n = 0).
    static func nuisance(_ c: Configuration, _ rng: inout RNG) -> Double {
        c.sampleNoise > 0 ? c.sampleNoise * rng.normal() : 0
    }

    static func unitPrototypes(_ n: Int, _ d: Int, _ rng: inout RNG) -> [[Double]] {
        (0..<n).map { _ in
            let v = (0..<d).map { _ in rng.normal() }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / norm }
        }
    }
}

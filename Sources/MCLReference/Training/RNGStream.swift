/// Every random stream of a run, in one place. A run has one seed s (`--seed`); each consumer draws
/// from its own stream `RNG(seed: s, stream: k)` (xoshiro256** seeded by SplitMix64, RNG.swift), so
/// no consumer's draws depend on how many numbers another one took.
///
/// | stream                     | k              | what it seeds                                                      |
/// |----------------------------|----------------|--------------------------------------------------------------------|
/// | `stageTraining(j)`         | 1000 + j       | stage j (and Multi-SimCLR member j), split in this order: initial weights, sampler seed, augmentation, the objective's state (MoCo queue, BYOL predictor weights), FD's viewmaker (its weights, then its noise) |
/// | `kmeans(j)`                | 2000 + j       | the K-means after stage j (its first draw seeds the restarts)      |
/// | `dataSplit`                | 0x5EED_5B17    | the train/test split of user data (`LabeledData.split`)            |
/// | built-in data sets         | 0, 1           | prototypes (0) and samples (1) of `easy-hard`; samples (1) of the image sets |
///
/// A sampler seeded with t draws epoch e from `RNG(seed: t, stream: e)`; K-means restart r from
/// `RNG(seed: t, stream: r)` (BatchSampler.swift, KMeans.swift).
public enum RNGStream {
    /// Stage j's training randomness (weights, batches, views, objective state).
    public static func stageTraining(_ j: Int) -> UInt64 { 1000 + UInt64(j) }
    /// The stage index of a `stageTraining` stream.
    public static func stage(ofTrainingStream k: UInt64) -> Int { Int(k) - 1000 }
    /// The K-means after stage j.
    public static func kmeans(_ j: Int) -> UInt64 { 2000 + UInt64(j) }
    /// The train/test split of user data.
    public static let dataSplit: UInt64 = 0x5EED_5B17
}

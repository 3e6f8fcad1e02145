/// The "mask" strategy of feature-aware negative sampling: ordinary shuffled batches over all M
/// samples. Eq. 3's indicator 1[ŷ_anchor = ŷ_negative] is applied inside the loss from the batch's
/// pseudo labels (`pseudoLabels(of:)`), so a batch may mix groups.
///
/// Epoch e, with b = batch size, W = world size, r = rank and `RNG(seed:, stream: e)`:
/// 1. p = a random permutation of 0..<M (`RNG.permutation`, one Fisher–Yates shuffle of 0..<M).
/// 2. `dropLast == true`: p is cut to its first ⌊M / (b·W)⌋ · b·W entries (the remainder, different
///    samples each epoch, is not used); `false` (default): p is kept whole.
/// 3. Rank r keeps the positions j with j mod W = r and splits them, in order, into batches of b; with
///    `dropLast == false` the last batch may be shorter (≥ 1 sample), and ranks may differ by one sample.
///
/// With `dropLast == false` the batches of ranks 0..<W cover 0..<M exactly once every epoch. With
/// `dropLast == true` and a single group it equals `ClusterBatchSampler` with the same seed.
public struct MaskBatchSampler: BatchSampler {
    public let pseudoLabels: [Int]
    public let batchSize: Int
    public let worldSize: Int
    public let rank: Int
    public let seed: UInt64
    /// Whether the permutation is cut to a multiple of b·W (see the type comment).
    public let dropLast: Bool

    /// - Parameters: see `makeBatchSampler`.
    /// - Throws: `ClusteringError` for b < 1, W < 1, r outside 0..<W or a negative label.
    public init(pseudoLabels: [Int], batchSize: Int, worldSize: Int = 1, rank: Int = 0, seed: UInt64,
                dropLast: Bool = false) throws {
        try _validateSampler(pseudoLabels: pseudoLabels, batchSize: batchSize, worldSize: worldSize, rank: rank)
        self.pseudoLabels = pseudoLabels
        self.batchSize = batchSize
        self.worldSize = worldSize
        self.rank = rank
        self.seed = seed
        self.dropLast = dropLast
    }

    public func batches(epoch: Int) -> [[Int]] {
        precondition(epoch >= 0, "MaskBatchSampler: epoch \(epoch) should be >= 0")
        var rng = RNG(seed: seed, stream: UInt64(epoch))
        var p = rng.permutation(pseudoLabels.count)
        let unit = batchSize * worldSize
        if dropLast { p = Array(p.prefix(p.count / unit * unit)) }
        let mine = stride(from: rank, to: p.count, by: worldSize).map { p[$0] }
        return stride(from: 0, to: mine.count, by: batchSize).map {
            Array(mine[$0..<min(mine.count, $0 + batchSize)])
        }
    }
}

/// Feature-aware negative sampling (paper Sec. 4.1, Eq. 3): the negatives of an anchor must share its
/// pseudo label ŷ (Eq. 2). Two strategies realise it:
///
/// - `mask` (`MaskBatchSampler`): ordinary shuffled batches over all samples; the loss applies the
///   Eq. 3 indicator 1[ŷ_anchor = ŷ_negative] as a mask built from the batch's pseudo labels.
/// - `cluster-batch` (`ClusterBatchSampler`): the official code's sampler; every batch is drawn wholly
///   from one pseudo-label group, so the ordinary loss over the batch *is* Eq. 3's masked loss.
///
/// The two differ in what a batch contains (a mask batch has fewer usable negatives per anchor) and in
/// which samples are seen (cluster-batch drops groups' remainders; see `StageBudgetReport`).
///
/// Randomness: epoch e of a sampler with seed s draws everything from `RNG(seed: s, stream: e)`. The
/// draw does not depend on the rank, so all ranks of a run agree on the shuffle (as with a
/// distributed sampler seeded identically on every rank); callers should derive a distinct seed per
/// stage. Batches are deterministic functions of (labels, batch size, world size, rank, seed, epoch).
public enum NegativeSamplingStrategy: String, Sendable, CaseIterable {
    case mask = "mask"
    case clusterBatch = "cluster-batch"
}

/// A sampler of index batches for one rank.
public protocol BatchSampler: Sendable {
    /// Dense pseudo label (group id) of every sample, M values.
    var pseudoLabels: [Int] { get }
    /// Per-rank batch size b.
    var batchSize: Int { get }
    /// Number of ranks W.
    var worldSize: Int { get }
    /// This sampler's rank r in 0..<W.
    var rank: Int { get }
    /// The batches of epoch `epoch` (≥ 0) for this rank: lists of sample indices.
    func batches(epoch: Int) -> [[Int]]
}

extension BatchSampler {
    /// The pseudo labels of the samples of `batch`, in batch order (what the Eq. 3 mask is built from).
    public func pseudoLabels(of batch: [Int]) -> [Int] { batch.map { pseudoLabels[$0] } }
}

/// Builds the sampler of `strategy` for one rank.
/// - Parameters:
///   - pseudoLabels: dense group id per sample (`PseudoLabels.labels`), M values ≥ 0.
///   - batchSize: b ≥ 1 per rank.
///   - worldSize: W ≥ 1; rank: 0 ≤ r < W.
///   - seed: see `NegativeSamplingStrategy`.
///   - dropLast: for `mask` only (cluster-batch always drops remainders).
/// - Throws: `ClusteringError` naming invalid values.
public func makeBatchSampler(
    _ strategy: NegativeSamplingStrategy, pseudoLabels: [Int], batchSize: Int, worldSize: Int = 1,
    rank: Int = 0, seed: UInt64, dropLast: Bool = false
) throws -> any BatchSampler {
    switch strategy {
    case .mask:
        return try MaskBatchSampler(pseudoLabels: pseudoLabels, batchSize: batchSize, worldSize: worldSize,
                                    rank: rank, seed: seed, dropLast: dropLast)
    case .clusterBatch:
        return try ClusterBatchSampler(pseudoLabels: pseudoLabels, batchSize: batchSize, worldSize: worldSize,
                                       rank: rank, seed: seed)
    }
}

/// Shared validation of sampler arguments.
func _validateSampler(pseudoLabels: [Int], batchSize: Int, worldSize: Int, rank: Int) throws {
    guard batchSize >= 1 else { throw ClusteringError("batch_size=\(batchSize) should be >= 1") }
    guard worldSize >= 1 else { throw ClusteringError("world_size=\(worldSize) should be >= 1") }
    guard rank >= 0 && rank < worldSize else {
        throw ClusteringError("rank=\(rank) should be in 0..<world_size=\(worldSize)")
    }
    if let bad = pseudoLabels.firstIndex(where: { $0 < 0 }) {
        throw ClusteringError("pseudo label \(pseudoLabels[bad]) of sample \(bad) should be >= 0")
    }
}

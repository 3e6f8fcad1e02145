/// The stage budget of paper Eq. 4,
///
///     K^N ≤ M / b,
///
/// and what actually happens under cluster-batch sampling: a group g yields ⌊|g| / (b·W)⌋ batches per
/// rank per epoch (W = world size), so a group with fewer than b·W samples is never trained on, and if
/// no group reaches b·W there is no batch at all (an error: the CLI exits with status 2).
///
/// Here K^N is Π K_s over the stages whose ids form the pseudo labels (`PseudoLabels.radices`).
public struct StageBudgetReport: Sendable, Equatable, CustomStringConvertible {
    /// M, the number of training samples.
    public let sampleCount: Int
    /// b, the per-rank batch size.
    public let batchSize: Int
    /// W, the number of ranks.
    public let worldSize: Int
    /// Π K_s, the number of possible groups (K^N).
    public let possibleGroups: Int
    /// M / b, the right-hand side of Eq. 4.
    public let bound: Double
    /// K^N ≤ M / b.
    public let satisfiesEquation4: Bool
    /// Number of non-empty groups G.
    public let nonEmptyGroups: Int
    /// Groups with fewer than b samples (cannot form a single batch).
    public let groupsSmallerThanBatch: Int
    /// Samples in those groups: never trained on under cluster-batch.
    public let samplesInGroupsSmallerThanBatch: Int
    /// Σ_g ⌊|g| / (b·W)⌋ · b·W: samples used per epoch over all ranks under cluster-batch.
    public let keptPerEpoch: Int
    /// Batches per rank per epoch under cluster-batch: Σ_g ⌊|g| / (b·W)⌋.
    public let batchesPerRank: Int
    /// True when no group can form a batch on every rank (`batchesPerRank == 0`): training is impossible.
    public var noGroupCanFormBatch: Bool { batchesPerRank == 0 }

    /// Checks Eq. 4 for `pseudoLabels` with batch size `batchSize` on `worldSize` ranks.
    /// - Precondition: batchSize ≥ 1, worldSize ≥ 1.
    public init(pseudoLabels: PseudoLabels, batchSize: Int, worldSize: Int = 1) {
        precondition(batchSize >= 1 && worldSize >= 1, "StageBudgetReport: batchSize=\(batchSize) worldSize=\(worldSize)")
        let m = pseudoLabels.sampleCount
        sampleCount = m
        self.batchSize = batchSize
        self.worldSize = worldSize
        possibleGroups = pseudoLabels.possibleGroupCount
        bound = Double(m) / Double(batchSize)
        satisfiesEquation4 = Double(possibleGroups) <= bound
        nonEmptyGroups = pseudoLabels.groupCount
        let small = pseudoLabels.groupSizes.filter { $0 < batchSize }
        groupsSmallerThanBatch = small.count
        samplesInGroupsSmallerThanBatch = small.reduce(0, +)
        let unit = batchSize * worldSize
        batchesPerRank = pseudoLabels.groupSizes.reduce(0) { $0 + $1 / unit }
        keptPerEpoch = batchesPerRank * unit
    }

    public var description: String {
        var s = "Eq. 4: K^N = \(possibleGroups) \(satisfiesEquation4 ? "<=" : ">") M/b = \(sampleCount)/\(batchSize) = \(bound)"
        s += "; \(nonEmptyGroups) non-empty groups; \(groupsSmallerThanBatch) smaller than a batch"
        s += " (\(samplesInGroupsSmallerThanBatch) samples cannot be trained under cluster-batch)"
        s += "; kept per epoch \(keptPerEpoch) of \(sampleCount) (\(batchesPerRank) batches per rank, world size \(worldSize))"
        if noGroupCanFormBatch { s += "; ERROR: no group can form a single batch" }
        return s
    }
}

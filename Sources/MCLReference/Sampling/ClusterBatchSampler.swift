/// The official MCL batch sampler ("cluster-batch"; official-code-notes §4): every batch comes wholly
/// from one pseudo-label group, so an ordinary contrastive loss over it equals the masked loss of
/// paper Eq. 3.
///
/// Epoch e, with b = batch size, W = world size, r = rank, and one generator `RNG(seed:, stream: e)`:
/// 1. For g = 0, 1, …, G−1 in order: the members of group g (ascending sample index) are shuffled with
///    the generator (Fisher–Yates, `RNG.shuffle`) and cut to the first ⌊|g| / (b·W)⌋ · b·W of them.
/// 2. Rank r keeps the positions j of that list with j mod W = r (⌊|g| / (b·W)⌋ · b samples), and
///    splits them, in order, into batches of b.
/// 3. Batches are emitted round-robin over groups: the first batch of group 0, of group 1, …, of
///    group G−1, then the second batch of each, …, skipping a group with no full batch left, until
///    no group has one.
///
/// Properties (tested): every batch has exactly b samples of one group; batches are disjoint; over
/// ranks 0..<W they cover the epoch's kept set exactly once; |kept| = Σ_g ⌊|g| / (b·W)⌋ · b·W, the same
/// every epoch; with one group this is an ordinary shuffled sampler with drop-last (it equals
/// `MaskBatchSampler` with `dropLast: true` and the same seed). Samples of groups smaller than b·W are
/// never used (paper Eq. 4).
///
/// Complexity: O(M) per epoch.
public struct ClusterBatchSampler: BatchSampler {
    public let pseudoLabels: [Int]
    public let batchSize: Int
    public let worldSize: Int
    public let rank: Int
    public let seed: UInt64
    /// Members of each group id 0..<G (G = max label + 1), ascending sample index. A label with no
    /// samples has an empty group.
    public let groups: [[Int]]

    /// - Parameters: see `makeBatchSampler`.
    /// - Throws: `ClusteringError` for b < 1, W < 1, r outside 0..<W or a negative label.
    public init(pseudoLabels: [Int], batchSize: Int, worldSize: Int = 1, rank: Int = 0, seed: UInt64) throws {
        try _validateSampler(pseudoLabels: pseudoLabels, batchSize: batchSize, worldSize: worldSize, rank: rank)
        self.pseudoLabels = pseudoLabels
        self.batchSize = batchSize
        self.worldSize = worldSize
        self.rank = rank
        self.seed = seed
        var groups = [[Int]](repeating: [], count: (pseudoLabels.max() ?? -1) + 1)
        for (i, g) in pseudoLabels.enumerated() { groups[g].append(i) }
        self.groups = groups
    }

    /// The sampler over the dense groups of `pseudoLabels` (`PseudoLabels.labels`).
    public init(pseudoLabels: PseudoLabels, batchSize: Int, worldSize: Int = 1, rank: Int = 0, seed: UInt64) throws {
        try self.init(pseudoLabels: pseudoLabels.labels, batchSize: batchSize, worldSize: worldSize, rank: rank,
                      seed: seed)
    }

    /// Batches per rank per epoch: Σ_g ⌊|g| / (b·W)⌋.
    public var batchesPerEpoch: Int { groups.reduce(0) { $0 + $1.count / (batchSize * worldSize) } }

    /// Samples used per epoch over all ranks: Σ_g ⌊|g| / (b·W)⌋ · b·W.
    public var keptCountPerEpoch: Int { batchesPerEpoch * batchSize * worldSize }

    /// Step 1: every group's shuffled list, cut to a multiple of b·W (shared by all ranks).
    public func keptPerGroup(epoch: Int) -> [[Int]] {
        precondition(epoch >= 0, "ClusterBatchSampler: epoch \(epoch) should be >= 0")
        var rng = RNG(seed: seed, stream: UInt64(epoch))
        let unit = batchSize * worldSize
        return groups.map { members in
            var list = members
            rng.shuffle(&list)
            return Array(list.prefix(list.count / unit * unit))
        }
    }

    /// The samples used in epoch `epoch` over all ranks, ascending.
    public func keptIndices(epoch: Int) -> [Int] { keptPerGroup(epoch: epoch).flatMap { $0 }.sorted() }

    /// The samples this rank uses in epoch `epoch`, ascending.
    public func keptIndices(epoch: Int, rank r: Int) -> [Int] {
        keptPerGroup(epoch: epoch).flatMap { list in stride(from: r, to: list.count, by: worldSize).map { list[$0] } }.sorted()
    }

    public func batches(epoch: Int) -> [[Int]] {
        batchesWithGroups(epoch: epoch).map { $0.indices }
    }

    /// The batches of `epoch` for this rank together with the group each one is drawn from.
    public func batchesWithGroups(epoch: Int) -> [(group: Int, indices: [Int])] {
        // Step 2: this rank's share of each group, split into batches of b.
        let perGroup: [[[Int]]] = keptPerGroup(epoch: epoch).map { list in
            let mine = stride(from: rank, to: list.count, by: worldSize).map { list[$0] }
            return stride(from: 0, to: mine.count - batchSize + 1, by: batchSize).map {
                Array(mine[$0..<($0 + batchSize)])
            }
        }
        // Step 3: round-robin over groups.
        var out: [(group: Int, indices: [Int])] = []
        var round = 0
        while true {
            var any = false
            for (g, list) in perGroup.enumerated() where round < list.count {
                out.append((g, list[round]))
                any = true
            }
            if !any { break }
            round += 1
        }
        return out
    }
}

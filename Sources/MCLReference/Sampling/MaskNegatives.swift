/// Anchors left without negatives under the `mask` sampler (Eq. 3).
///
/// A mask batch mixes pseudo-label groups; an anchor's negatives are the other views of its own
/// group in the batch, 2·n_g − 2 of them for a group with n_g samples there. A sample alone in its
/// group in a batch (n_g = 1) leaves both its views with only their positive: their loss term is
/// log(e^{s⁺/τ} / e^{s⁺/τ}) = 0 and teaches nothing. This counts such anchor views.
public struct MaskNegativeCount: Sendable, Equatable {
    /// Anchor views (2 per batch sample) whose group has no other sample in their batch.
    public var anchorsWithoutNegatives: Int
    /// All anchor views counted (2 per batch sample).
    public var anchors: Int
    /// Epochs counted.
    public var epochs: Int

    /// Counts over epochs 0..<`epochs` of `sampler`, whose batches carry the pseudo labels the
    /// Eq. 3 mask is built from.
    public init(sampler: any BatchSampler, epochs: Int) {
        var alone = 0, total = 0
        for e in 0..<epochs {
            for batch in sampler.batches(epoch: e) {
                var inBatch: [Int: Int] = [:]
                for i in batch { inBatch[sampler.pseudoLabels[i], default: 0] += 1 }
                alone += 2 * inBatch.values.filter { $0 == 1 }.count
                total += 2 * batch.count
            }
        }
        anchorsWithoutNegatives = alone
        anchors = total
        self.epochs = epochs
    }
}

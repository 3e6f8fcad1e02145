/// The contrastive method a training step optimises: what it compares, what extra state it carries,
/// and whether MCL's feature-aware negatives (Eq. 3) apply to it.
///
/// Every method runs through the same `TrainingStep` (TrainingStep.swift): forward → objective →
/// backward → optimiser. The objective is the only part that differs.
///
/// | method  | compares                                         | extra state            | Eq. 3 |
/// |---------|--------------------------------------------------|------------------------|-------|
/// | SimCLR  | the 2B views with each other (NT-Xent, Eq. 1)    | none                   | mask over the batch (`mask` sampler); a one-group batch (`cluster-batch`) is Eq. 3 already |
/// | MoCo-v2 | B queries (view 1) with their keys (view 2) and a queue of L earlier keys | momentum key model, queue of keys + their pseudo labels | mask over the queue, under both samplers (the queue mixes groups) |
public enum ContrastiveMethod: String, Sendable, CaseIterable {
    case simclr, moco

    /// Whether the loss has negatives, so that MCL's Eq. 3 (and so stages > 0) applies.
    public var hasNegatives: Bool {
        switch self {
        case .simclr, .moco: return true
        }
    }

    /// How tables name it: "SimCLR", "MoCo".
    public var displayName: String {
        switch self {
        case .simclr: return "SimCLR"
        case .moco: return "MoCo"
        }
    }

    /// The method's default temperature τ: SimCLR 0.5 (lightly's default), MoCo-v2 0.2.
    public var defaultTemperature: Double {
        switch self {
        case .simclr: return 0.5
        case .moco: return 0.2
        }
    }
}

/// A method with its state, as the training step holds it.
public enum Objective<T: MCLFloat>: Sendable {
    /// SimCLR: NT-Xent over the 2B views [view 1; view 2] (Eq. 1; Eq. 3 with pseudo labels).
    case simclr(NTXent<T>)
    /// MoCo-v2: InfoNCE of queries against their keys and the queue (MoCo.swift).
    case moco(MoCo<T>)

    public var method: ContrastiveMethod {
        switch self {
        case .simclr: return .simclr
        case .moco: return .moco
        }
    }

    /// The pseudo labels the loss must see for a batch whose samples have `batchLabels` (nil at
    /// stage 0): SimCLR masks its batch only under the `mask` sampler (a `cluster-batch` batch is one
    /// group, where the plain loss *is* Eq. 3); MoCo always labels, because its queue holds keys of
    /// earlier batches from other groups.
    public func lossLabels(batchLabels: [Int]?, sampler: NegativeSamplingStrategy) -> [Int]? {
        switch self {
        case .simclr: return sampler == .mask ? batchLabels : nil
        case .moco: return batchLabels
        }
    }
}

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
/// | BYOL    | the online prediction of each view with the target projection of the other (BYOLLoss) | predictor (trained), EMA target model | none: no negatives |
/// | Barlow Twins | the cross-correlation of the two views' batch-normalised embeddings (BarlowTwinsLoss) | none | none: no negatives |
/// | CLIP    | B images (the model: image tower) with their B captions (CLIPLoss, both directions) | text tower (trained, or locked at stages ≥ 1), logit scale θ (trained) | mask over the batch (`mask` sampler), both directions; `cluster-batch` batches are one group |
///
/// CLIP is multimodal: its step takes one view of B images plus their captions (CLIP.swift), so it
/// trains on paired data only (CLIPTraining.swift), not through the unimodal `StageTrainer`.
public enum ContrastiveMethod: String, Sendable, CaseIterable {
    case simclr, moco, byol, barlow, clip

    /// The methods that train on unpaired samples with two augmented views (all but CLIP).
    public static var unimodal: [ContrastiveMethod] { allCases.filter { $0 != .clip } }

    /// Whether the loss has negatives, so that MCL's Eq. 3 (and so stages > 0) applies.
    public var hasNegatives: Bool {
        switch self {
        case .simclr, .moco, .clip: return true
        case .byol, .barlow: return false
        }
    }

    /// How tables name it: "SimCLR", "MoCo", "BYOL", "Barlow Twins".
    public var displayName: String {
        switch self {
        case .simclr: return "SimCLR"
        case .moco: return "MoCo"
        case .byol: return "BYOL"
        case .barlow: return "Barlow Twins"
        case .clip: return "CLIP"
        }
    }

    /// The method's default temperature τ: SimCLR 0.5 (lightly's default), MoCo-v2 0.2. BYOL and
    /// Barlow Twins have no temperature (the value is unused; 0.5 keeps the configuration valid).
    /// CLIP: 0.07, the initial τ = 1/s of its learnable scale.
    public var defaultTemperature: Double {
        switch self {
        case .simclr, .byol, .barlow: return 0.5
        case .moco: return 0.2
        case .clip: return 0.07
        }
    }
}

/// A method with its state, as the training step holds it.
public enum Objective<T: MCLFloat>: Sendable {
    /// SimCLR: NT-Xent over the 2B views [view 1; view 2] (Eq. 1; Eq. 3 with pseudo labels).
    case simclr(NTXent<T>)
    /// MoCo-v2: InfoNCE of queries against their keys and the queue (MoCo.swift).
    case moco(MoCo<T>)
    /// BYOL: online prediction vs. EMA target projection, symmetrised (BYOL.swift).
    case byol(BYOL<T>)
    /// Barlow Twins: cross-correlation of the two views' embeddings (BarlowTwins.swift).
    case barlow(BarlowTwinsLoss<T>)
    /// CLIP: image tower (the model) against the text tower, learnable logit scale (CLIP.swift).
    case clip(CLIP<T>)

    public var method: ContrastiveMethod {
        switch self {
        case .simclr: return .simclr
        case .moco: return .moco
        case .byol: return .byol
        case .barlow: return .barlow
        case .clip: return .clip
        }
    }

    /// The pseudo labels the loss must see for a batch whose samples have `batchLabels` (nil at
    /// stage 0): SimCLR masks its batch only under the `mask` sampler (a `cluster-batch` batch is one
    /// group, where the plain loss *is* Eq. 3); MoCo always labels, because its queue holds keys of
    /// earlier batches from other groups.
    public func lossLabels(batchLabels: [Int]?, sampler: NegativeSamplingStrategy) -> [Int]? {
        switch self {
        case .simclr, .clip: return sampler == .mask ? batchLabels : nil
        case .moco: return batchLabels
        case .byol, .barlow: return nil   // no negatives to restrict
        }
    }

    // MARK: Trainable parameters the objective owns

    /// The objective's own trainable tensors (BYOL: the predictor's), which the optimiser updates
    /// after the model's: positions n..<n + count for a model with n tensors (Models/Parameters.swift).
    /// CLIP: the text tower's (unless locked) and θ. Empty for SimCLR, MoCo (its key model is an
    /// average, not trained) and Barlow Twins.
    public var trainableTensors: [[T]] {
        if case .byol(let b) = self { return b.predictor.parameterTensors }
        if case .clip(let c) = self { return c.trainableTensors }
        return []
    }

    /// The names of `trainableTensors` ("predictor.<i>.<field>"), for messages, traces and fixtures.
    public var trainableNames: [String] {
        if case .byol(let b) = self { return b.predictor.namedParameters(prefix: "predictor.").map { $0.name } }
        if case .clip(let c) = self { return c.trainableNames }
        return []
    }

    /// Calls `body(position, &storage)` on each of `trainableTensors`, positions counted from `offset`.
    public mutating func updateTrainableParameters(from offset: Int, _ body: (Int, inout [T]) -> Void) {
        if case .clip(var c) = self {
            self = .simclr(NTXent())
            c.updateTrainableParameters(from: offset, body)
            self = .clip(c)
            return
        }
        guard case .byol(var b) = self else { return }
        self = .simclr(NTXent())   // release the payload: the predictor is updated without a copy
        b.predictor.updateParameters(from: offset, body)
        self = .byol(b)
    }
}

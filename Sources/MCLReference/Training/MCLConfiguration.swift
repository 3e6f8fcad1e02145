/// Every setting of an MCL run (paper Sec. 4–5), with the defaults of the built-in `easy-hard` demo.
///
/// Seeds: everything random in stage j — initial weights, the sampler's epoch shuffles, the
/// augmentation noise and the objective's state — comes from `RNGStream.stageTraining(j)`, and the
/// K-means after stage j from `RNGStream.kmeans(j)` (RNGStream.swift). So stage j's randomness never
/// depends on other stages, and the Multi-SimCLR member j (same streams, no pseudo labels) differs
/// from MCL stage j *only* in its negatives.
public struct MCLConfiguration: Sendable {
    /// N, the number of stages (stage 0 is plain SimCLR, or plain MoCo).
    public var stages = 3
    /// The contrastive method every stage trains with (Objective.swift).
    public var method = ContrastiveMethod.simclr
    /// MoCo: m of the key model's momentum update (MoCo-v2: 0.999; see MoCo.swift for 0.99 here).
    public var mocoMomentum = 0.99
    /// MoCo: L, the queue length (MoCo: 65536 on ImageNet, lightly's CIFAR examples 4096); capped at
    /// the number of training samples.
    public var queueLength = 4096
    /// BYOL: τ_base of the target's EMA, rising to 1 on a cosine over the stage (BYOL.swift).
    public var byolBaseDecay = 0.99
    /// Barlow Twins: λ of the off-diagonal term (paper 5·10⁻³).
    public var barlowLambda = 5e-3
    /// CLIP stages ≥ 1: only the last N parameterised layers of the image tower train (nil: all;
    /// CLIPTraining.swift defines "layer").
    public var trainableLayers: Int? = nil
    /// SparseHead: λ of λ·‖W‖₂,₁ on the head's last Linear weight (SparseHead.swift), nil: off.
    public var sparseHeadLambda: Double? = nil
    /// K, clusters per stage for K-means (paper: 5 for SimCLR experiments).
    public var clusters = 5
    /// τ in Eqs. 1 and 3.
    public var temperature = 0.5
    /// The loss on the method's logits: plain, IFM or debiased (InfoNCEVariant.swift; issue 14's baselines).
    public var lossVariant = InfoNCEVariant.plain
    /// TS: a cosine schedule of τ per epoch that replaces `temperature` (TemperatureSchedule.swift).
    public var temperatureSchedule: TemperatureSchedule? = nil
    /// FD: ε of a viewmaker network that perturbs every view, trained against the loss
    /// (ViewmakerNetwork.swift); nil: off. SimCLR only.
    public var viewmakerBudget: Double? = nil
    public var epochs = 60
    /// b, the number of samples per batch (2b views).
    public var batchSize = 256
    public var learningRate = 1e-3
    public var weightDecay = 0.0
    public var optimizer = OptimizerKind.adam
    /// Linear warmup steps before the cosine decay, as a fraction of all steps of a stage.
    public var warmupFraction = 0.0
    /// Use a cosine learning-rate decay over each stage (to 0); off: constant rate after warmup.
    public var cosineSchedule = false
    /// How feature-aware negatives are drawn: the Eq. 3 mask or whole-cluster batches.
    public var sampler = NegativeSamplingStrategy.mask
    /// Encoder hidden widths and representation width R.
    public var encoderHidden = [128]
    public var representationWidth = 16
    /// Projection head hidden width and embedding width E.
    public var headHidden = 64
    public var embeddingWidth = 32
    /// BatchNorm1d in the encoder's hidden blocks and in the projection head.
    public var batchNorm = true
    public var augmentation = VectorAugmentation(noiseStd: 0.3, dropout: 0)
    /// Encoder architecture; `.cnn` needs image samples [C, H, W] (see EncoderKind.swift).
    public var encoder = EncoderKind.mlp
    /// CNN channel widths: a stride-1 stem, then one stride-2 block per further width.
    public var convWidths = [16, 32, 64]
    /// The views of image data (`.cnn` only; vectors use `augmentation`).
    public var imageAugmentation = ImageAugmentationPreset.translate
    /// K-means restarts (lowest inertia wins).
    public var kmeansRestarts = 3
    /// k of the kNN evaluation (cosine).
    public var knnK = 5
    /// Also train the Multi-SimCLR ablation (paper Table 5).
    public var multiSimCLR = false
    /// Also probe the raw input features, for context.
    public var probeRawInput = true
    public var seed: UInt64 = 0

    public init() {}

    /// The settings as a JSON object, for reports and checkpoints.
    public var json: [(String, JSONValue)] {
        [("stages", .number(Double(stages))), ("clusters", .number(Double(clusters))),
         ("temperature", .number(temperature)), ("epochs", .number(Double(epochs))),
         ("batch_size", .number(Double(batchSize))), ("lr", .number(learningRate)),
         ("weight_decay", .number(weightDecay)), ("optimizer", .string(optimizer.rawValue)),
         ("warmup_fraction", .number(warmupFraction)), ("cosine_schedule", .bool(cosineSchedule)),
         ("sampler", .string(sampler.rawValue)),
         ("encoder_hidden", .array(encoderHidden.map { .number(Double($0)) })),
         ("representation_width", .number(Double(representationWidth))),
         ("head_hidden", .number(Double(headHidden))), ("embedding_width", .number(Double(embeddingWidth))),
         ("batch_norm", .bool(batchNorm)), ("noise_std", .number(augmentation.noiseStd)), ("feature_dropout", .number(augmentation.dropout)),
         ("kmeans_restarts", .number(Double(kmeansRestarts))), ("knn_k", .number(Double(knnK))),
         ("seed", .string(String(seed)))] + encoderJSON + methodJSON + baselineJSON
    }

    /// The loss-side baseline settings, only when used (plain runs keep the keys they always had).
    var baselineJSON: [(String, JSONValue)] {
        var out: [(String, JSONValue)] = []
        switch lossVariant {
        case .plain: break
        case .ifm(let e, let a): out += [("ifm_epsilon", .number(e)), ("ifm_alpha", .number(a))]
        case .debiased(let t): out += [("debiased_tau_plus", .number(t))]
        }
        if let s = temperatureSchedule { out.append(("temperature_schedule", .string(s.text))) }
        if let v = viewmakerBudget { out.append(("viewmaker_budget", .number(v))) }
        return out
    }

    /// The method, and its own settings when it has any (SimCLR runs keep the keys they always had);
    /// `sparse_head_lambda` only when SparseHead is on.
    var methodJSON: [(String, JSONValue)] {
        let own: [(String, JSONValue)]
        switch method {
        case .simclr: own = []
        case .moco: own = [("moco_momentum", .number(mocoMomentum)), ("queue_length", .number(Double(queueLength)))]
        case .byol: own = [("byol_base_decay", .number(byolBaseDecay))]
        case .barlow: own = [("barlow_lambda", .number(barlowLambda))]
        case .clip: own = [("trainable_layers", trainableLayers.map { .number(Double($0)) } ?? .null)]
        }
        return [("method", .string(method.rawValue))] + own + (sparseHeadLambda.map { [("sparse_head_lambda", .number($0))] } ?? [])
    }
}

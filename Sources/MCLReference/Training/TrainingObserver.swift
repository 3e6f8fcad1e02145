/// A hook into `StageTrainer.train` that sees every stage start and every `TrainingStep`, e.g. to
/// record a replayable trace (`mcl-ref trace`). Observing changes nothing: the trainer draws the
/// same random numbers and computes the same bits with or without an observer. An observer that
/// throws stops the run with its error.
public typealias TrainingObserver<T: MCLFloat> = (TrainingObservation<T>) throws -> Void

/// What a `TrainingObserver` is told.
public enum TrainingObservation<T: MCLFloat> {
    /// A stage is about to take its first step (model freshly initialised, nothing trained yet).
    case stageStarted(StageStartRecord<T>)
    /// One optimiser step has been taken.
    case step(TrainingStepRecord<T>)
}

/// The state of a stage before its first step.
public struct StageStartRecord<T: MCLFloat> {
    /// How progress names the stage, e.g. "stage 1".
    public var name: String
    /// The stage's RNG stream (`RNGStream.stageTraining(j)`).
    public var stream: UInt64
    /// The freshly initialised model (f_j and its head).
    public var model: ContrastiveModel<T>
    /// Dense pseudo label per training sample (Eq. 2), nil at stage 0.
    public var pseudoLabels: [Int]?
    /// True when the loss is masked by pseudo labels (Eq. 3 under `mask`); false for plain NT-Xent
    /// (stage 0, or `cluster-batch`, whose batches are one group each).
    public var maskedLoss: Bool
    public var batchesPerEpoch: Int
    public var totalSteps: Int
    /// The objective before the first step (MoCo: its key model and initial queue).
    public var objective: Objective<T>
}

/// One training step of a stage, after the optimiser update.
public struct TrainingStepRecord<T: MCLFloat> {
    public var name: String
    /// 0-based epoch and step (the step counts from 0 across the stage's epochs).
    public var epoch: Int
    public var step: Int
    /// Training-sample indices of the batch, b of them, in the order their views are stacked.
    public var batch: [Int]
    /// The two augmented views stacked [view 1; view 2], 2b×D: row i and row i + b are the positive
    /// pair of sample `batch[i]`.
    public var views: Matrix<T>
    /// Pseudo label of each batch sample as the masked loss saw it, or nil when the loss is plain.
    public var maskLabels: [Int]?
    /// NT-Xent of this step (before the update).
    public var loss: T
    /// The learning rate of this step's update.
    public var learningRate: Double
    /// dL/dθ by parameter name (PyTorch `state_dict` names), in `namedParameters()` order.
    public var gradients: NamedMatrices<T>
    /// The model after the update (parameters and BatchNorm buffers).
    public var model: ContrastiveModel<T>
    /// The optimiser after the update (its moments, for replaying a later step in isolation).
    public var optimizer: Optimizer<T>
    /// The objective after the step (MoCo: its key model and queue after the enqueue).
    public var objective: Objective<T>
    /// Under data parallelism (`StageTrainer.worldSize` > 1): each rank's batch, views and own loss;
    /// then `batch`, `views` and `maskLabels` are rank 0's, `loss` the mean over ranks and `gradients`
    /// the all-reduced mean (DataParallelStep.swift). nil for an ordinary step.
    public var ranks: [RankStepRecord<T>]? = nil
}

/// One rank's share of a data-parallel step.
public struct RankStepRecord<T: MCLFloat> {
    /// Training-sample indices of this rank's batch (b).
    public var batch: [Int]
    /// [view 1; view 2] of this rank's batch (2b×D).
    public var views: Matrix<T>
    /// Pseudo label per batch sample when the loss is masked, else nil.
    public var maskLabels: [Int]?
    /// This rank's own loss (mean over its batch) before the update.
    public var loss: T
}

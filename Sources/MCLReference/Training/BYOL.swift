/// BYOL (Grill et al. 2020) as an objective of the one training step (TrainingStep.swift).
///
/// Dimension legend: B batch, D input width, E embedding width, P predictor hidden width.
///
/// Networks:
/// - **online**: the step's model (encoder f, projection head g) followed by the **predictor** q, an
///   MLP E → P → E: Linear(E, P) → BatchNorm1d(P) → ReLU → Linear(P, E) (BYOL's predictor has the
///   projector's shape; P = the head's hidden width, `MCLConfiguration.headHidden`, 64 by default —
///   BYOL uses 4096 with E = 256). The predictor's parameters are trained by the same optimiser as the
///   model's, at positions after the model's (`Objective.trainableTensors`).
/// - **target**: encoder + projection head only (no predictor), a copy of the online ones at the start
///   of the stage, then θ′ ← τ·θ′ + (1 − τ)·θ after every optimiser step with τ on BYOLTargetEMA's cosine
///   schedule from `baseDecay` (0.99, the SparseHead paper's setting) at step 0 to 1 at the stage's last
///   step (`totalSteps`). Taken *after* the update, with the new online parameters, as the official
///   `_update_fn`. Only parameters are averaged; the target's BatchNorm buffers are its own.
///
/// One step: per view v (separately: `TwoViewPass`, each with its own BatchNorm statistics, as the
/// official code calls the network once per view), z_v = g(f(x_v)), p_v = q(z_v) and z′_v = g′(f′(x_v))
/// (target in train mode, no gradient); L = `BYOLLoss`(p₁, p₂; z′₁, z′₂) = mean_i ℓ(p₁ᵢ, z′₂ᵢ) + ℓ(p₂ᵢ, z′₁ᵢ),
/// ℓ = 2 − 2·cos; dL/dp back through the predictor (its gradients) to dL/dz_v and through each pass.
///
/// Saving: the run directory stores the online encoder + head (what `encode` and the probes use); the
/// predictor and the target are **not saved**. Like MoCo's key model and queue they are training-only
/// state, and a run is checkpointed per *completed* stage — `train --resume` restarts an unfinished
/// stage from scratch and never continues one — so nothing would ever read them back.
public struct BYOL<T: MCLFloat>: Sendable {
    /// Encoder + projection head of the target network (an EMA of the online ones).
    public var targetModel: ContrastiveModel<T>
    /// q: E → P → E, trained.
    public var predictor: Sequential<T>
    /// τ_base of the EMA schedule.
    public var baseDecay: Double
    /// K, the optimiser steps of the stage (τ reaches 1 at step K).
    public var totalSteps: Int
    /// k, the target updates made so far (the next one uses τ(k)).
    public var stepsTaken = 0
    public var loss = BYOLLoss<T>()

    /// A target copied from `online` and the given predictor.
    public init(online: ContrastiveModel<T>, predictor: Sequential<T>, baseDecay: Double = 0.99, totalSteps: Int) {
        precondition(totalSteps >= 1, "BYOL: totalSteps=\(totalSteps) must be ≥ 1")
        precondition(baseDecay >= 0 && baseDecay <= 1, "BYOL: baseDecay=\(baseDecay) must be in [0, 1]")
        targetModel = online
        self.predictor = predictor
        self.baseDecay = baseDecay
        self.totalSteps = totalSteps
    }

    /// The predictor MLP E → hidden → E: Linear → BatchNorm1d → ReLU → Linear (indices 0–3).
    public static func makePredictor(width: Int, hiddenWidth: Int, rng: inout RNG) -> Sequential<T> {
        .projectionHead(inputWidth: width, hiddenWidth: hiddenWidth, outputWidth: width, batchNorm: true, rng: &rng)
    }

    /// τ of the next target update.
    public var currentDecay: Double { BYOLTargetEMA.decay(step: stepsTaken, totalSteps: totalSteps, base: baseDecay) }

    /// θ′ ← τ·θ′ + (1 − τ)·θ for every trainable tensor of the target (positions of `online`), in
    /// `Double`, with τ = τ(k); then k += 1.
    public mutating func updateTarget(from online: ContrastiveModel<T>) {
        let tau = currentDecay
        let q = online.parameterTensors
        targetModel.updateParameters { k, p in
            let src = q[k]
            for i in p.indices { p[i] = T(tau * Double(p[i]) + (1 - tau) * Double(src[i])) }
        }
        stepsTaken += 1
    }

    /// What the objective part of a step hands back: the loss, [z₁; z₂], dL/dz per pass and the
    /// predictor's gradients (summed over the two views, by position within the predictor).
    public struct StepOutput: Sendable {
        public var loss: T
        public var embeddings: Matrix<T>
        public var passes: [(dz: Matrix<T>, cache: ContrastiveModel<T>.Cache)]
        public var predictorGradients: [[T]]
    }

    /// The objective part of a step: online passes, predictor, target passes, loss, predictor backward.
    /// - Shape: views 2B×D → embeddings 2B×E.
    public mutating func stepLoss(model: inout ContrastiveModel<T>, views: Matrix<T>, profiler: StepProfiler?) -> StepOutput {
        let b = views.rows / 2
        let pass = TwoViewPass(model: &model, views: views, profiler: profiler)
        let (p1, pc1) = predictor.forward(pass.z1, mode: .train, profiler: profiler)
        let (p2, pc2) = predictor.forward(pass.z2, mode: .train, profiler: profiler)
        func targets() -> (Matrix<T>, Matrix<T>) {
            let t1 = targetModel.forward(views.gatherRows(0..<b), mode: .train, profiler: profiler, scope: "target ").embedding
            let t2 = targetModel.forward(views.gatherRows(b..<(2 * b)), mode: .train, profiler: profiler, scope: "target ").embedding
            return (t1, t2)
        }
        let (t1, t2) = profiler.map { p in p.measure("target passes") { targets() } } ?? targets()
        let out = profiler.map { p in p.measure("loss") { loss(prediction1: p1, prediction2: p2, target1: t1, target2: t2) } }
            ?? loss(prediction1: p1, prediction2: p2, target1: t1, target2: t2)
        let (dz1, g1) = predictor.backward(out.dPrediction1, pc1, profiler: profiler)
        let (dz2, g2) = predictor.backward(out.dPrediction2, pc2, profiler: profiler)
        return StepOutput(loss: out.loss, embeddings: pass.stacked, passes: [(dz1, pass.cache1), (dz2, pass.cache2)],
                          predictorGradients: addGradients(Sequential<T>.gradientTensors(g1), Sequential<T>.gradientTensors(g2)))
    }
}

import Foundation

/// BYOL's symmetrised regression loss (Grill et al. 2020, Eq. 2 and the symmetrisation below it).
///
/// Dimension legend: B samples, D embedding width (the predictor's output = the target projector's).
///
/// With p̂ = p/‖p‖ and ẑ′ = z′/‖z′‖ (L2Normalize, ε = 1e-12), one pair costs
///
///     ℓ(p, z′) = ‖p̂ − ẑ′‖² = 2 − 2·⟨p̂, ẑ′⟩      ∈ [0, 4],
///
/// and the loss of a batch of two views is
///
///     L = (1/B)·Σ_i [ ℓ(p₁ᵢ, z′₂ᵢ) + ℓ(p₂ᵢ, z′₁ᵢ) ]      ∈ [0, 8],
///
/// p₁, p₂ the online predictions of views 1 and 2, z′₁, z′₂ the target projections. This is exactly
/// the official implementation (deepmind-research `byol_experiment.py`: `regression_loss(p1, z2′) +
/// regression_loss(p2, z1′)` per sample, then `jnp.mean` over the batch): a *sum* over the two
/// directions, a *mean* over samples. lightly's BYOL example instead computes
/// ½·(NegativeCosineSimilarity(p₀, z₁) + NegativeCosineSimilarity(p₁, z₀)) = −½·(mean cos + mean cos),
/// so L = 4 + 4·L_lightly and our gradients are 4× lightly's (the same direction; with Adam the factor
/// only rescales ε). The official code normalises with x·rsqrt(max(‖x‖², 1e-12)), i.e. ε = 1e-6 on
/// the norm; the two agree for every row with ‖x‖ > 1e-6.
///
/// Stop-gradient: z′ comes from the target network (an EMA of the online one, `BYOLTargetEMA`), so the
/// loss is differentiated w.r.t. p₁ and p₂ only:
///
///     ∂ℓ/∂p̂ = −2·ẑ′   →   dL/dp = L2Normalize.backward(−(2/B)·ẑ′)
///
/// (the Jacobian of p/‖p‖ removes the component along p, so dL/dp ⟂ p).
public struct BYOLLoss<T: MCLFloat>: Equatable, Sendable {
    @inlinable public init() {}

    public struct Output: Sendable {
        /// L, the mean over samples of the two directions' sum.
        public var loss: T
        /// ℓ(p₁ᵢ, z′₂ᵢ) + ℓ(p₂ᵢ, z′₁ᵢ) per sample, B (its mean is `loss`).
        public var perSampleLoss: [T]
        /// dL/dp₁, B×D.
        public var dPrediction1: Matrix<T>
        /// dL/dp₂, B×D.
        public var dPrediction2: Matrix<T>
        @inlinable public init(loss: T, perSampleLoss: [T], dPrediction1: Matrix<T>, dPrediction2: Matrix<T>) {
            self.loss = loss; self.perSampleLoss = perSampleLoss
            self.dPrediction1 = dPrediction1; self.dPrediction2 = dPrediction2
        }
    }

    /// Loss and its gradients w.r.t. the online predictions (targets get none: stop-gradient).
    /// - Shape: prediction1, prediction2, target1, target2 B×D → dPrediction1, dPrediction2 B×D.
    @inlinable public func callAsFunction(prediction1 p1: Matrix<T>, prediction2 p2: Matrix<T>,
                                          target1 z1: Matrix<T>, target2 z2: Matrix<T>) -> Output {
        precondition(p1.rows >= 1 && p1.cols >= 1, "BYOLLoss: prediction1 is \(p1.shapeDescription), expected B×D with B, D ≥ 1")
        for (name, m) in [("prediction2", p2), ("target1", z1), ("target2", z2)] {
            precondition(m.rows == p1.rows && m.cols == p1.cols,
                         "BYOLLoss: \(name) is \(m.shapeDescription), expected \(p1.shapeDescription) like prediction1")
        }
        let b = p1.rows
        let a = direction(p1, z2, batch: b)   // p₁ is pulled towards the target of view 2
        let c = direction(p2, z1, batch: b)   // and p₂ towards the target of view 1
        let perSample = zip(a.perSample, c.perSample).map { T($0 + $1) }
        let mean = zip(a.perSample, c.perSample).reduce(0.0) { $0 + $1.0 + $1.1 } / Double(b)
        return Output(loss: T(mean), perSampleLoss: perSample, dPrediction1: a.dPrediction, dPrediction2: c.dPrediction)
    }

    /// One direction: ℓ(pᵢ, z′ᵢ) per sample (in `Double`) and d[(1/B)·Σᵢ ℓ]/dp.
    /// - Shape: p B×D, z B×D → perSample B, dPrediction B×D.
    @inlinable func direction(_ p: Matrix<T>, _ z: Matrix<T>, batch b: Int) -> (perSample: [Double], dPrediction: Matrix<T>) {
        let normalize = L2Normalize<T>()
        let (pHat, cache) = normalize.forward(p)
        let zHat = normalize.forward(z).output
        let d = p.cols
        var perSample = [Double](repeating: 0, count: b)
        var dPHat = Matrix<T>(rows: b, cols: d)
        let scale = -2 / Double(b)
        for i in 0..<b {
            var dot = 0.0
            for j in 0..<d { dot += Double(pHat[i, j]) * Double(zHat[i, j]) }
            perSample[i] = 2 - 2 * dot
            for j in 0..<d { dPHat[i, j] = T(scale * Double(zHat[i, j])) }
        }
        return (perSample, normalize.backward(dPHat, cache).dInput)
    }
}

/// BYOL's target network: an exponential moving average of the online network's parameters, with the
/// decay rate τ rising from τ_base to 1 on a cosine schedule (Grill et al. 2020, Sec. 3.2).
///
///     τ(k) = 1 − (1 − τ_base)·(cos(π·k/K) + 1)/2,     k = min(k, K)
///     θ′ ← τ·θ′ + (1 − τ)·θ
///
/// k is the optimiser step (0-based) and K the total number of steps, so τ(0) = τ_base and τ(K) = 1 (the
/// target freezes at the end); steps past K keep τ = 1, as the official `_cosine_decay` clamps
/// `global_step` to `max_steps`. τ_base = 0.99 in the SparseHead paper's setting (the BYOL paper uses
/// 0.996 for ImageNet). Computed in `Double`.
///
/// The update applies to trainable parameters only; BatchNorm running statistics of the target are
/// its own (the official code runs the target forward in training mode and keeps its state).
public enum BYOLTargetEMA {
    /// τ(k) for step k of K. Requires K ≥ 1, k ≥ 0 and τ_base in [0, 1].
    @inlinable public static func decay(step k: Int, totalSteps K: Int, base: Double = 0.99) -> Double {
        precondition(K >= 1, "BYOLTargetEMA.decay: totalSteps=\(K) must be ≥ 1")
        precondition(k >= 0, "BYOLTargetEMA.decay: step=\(k) must be ≥ 0")
        precondition(base >= 0 && base <= 1, "BYOLTargetEMA.decay: base=\(base) must be in [0, 1]")
        let progress = Double(min(k, K)) / Double(K)
        return 1 - (1 - base) * (Foundation.cos(Double.pi * progress) + 1) / 2
    }

    /// θ′ ← τ·θ′ + (1 − τ)·θ elementwise, in `Double` then rounded to `T`.
    /// - Shape: target, online of equal shape.
    @inlinable public static func update<T: MCLFloat>(target: inout Matrix<T>, online: Matrix<T>, decay tau: Double) {
        precondition(target.rows == online.rows && target.cols == online.cols,
                     "BYOLTargetEMA.update: target is \(target.shapeDescription), online \(online.shapeDescription)")
        precondition(tau >= 0 && tau <= 1, "BYOLTargetEMA.update: decay=\(tau) must be in [0, 1]")
        for k in 0..<target.count {
            target.storage[k] = T(tau * Double(target.storage[k]) + (1 - tau) * Double(online.storage[k]))
        }
    }

    /// The update over every named parameter; names must match one to one, in order.
    @inlinable public static func update<T: MCLFloat>(target: inout NamedMatrices<T>, online: NamedMatrices<T>, decay tau: Double) {
        precondition(target.count == online.count,
                     "BYOLTargetEMA.update: \(target.count) target parameters, \(online.count) online ones")
        for i in target.indices {
            precondition(target[i].name == online[i].name,
                         "BYOLTargetEMA.update: parameter \(i) is \(target[i].name) in the target, \(online[i].name) online")
            update(target: &target[i].value, online: online[i].value, decay: tau)
        }
    }
}

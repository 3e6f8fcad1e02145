import Foundation

/// FD — the two pieces of feature dropout with viewmaker networks (Tamkin et al., "Feature dropout:
/// revisiting the role of augmentations in contrastive learning", 2022/ICLR 2023; viewmaker networks,
/// Tamkin et al., ICLR 2021, official code `alextamkin/viewmaker`, `Viewmaker.get_delta`) that can be
/// checked on their own. The networks and their place in the training step: ViewmakerNetwork.swift
/// (docs/ALGORITHM.md, "FD").
///
/// A viewmaker network v (an MLP for vectors, convolutional for images) maps a sample x to raw
/// outputs y; the view is x + δ with δ = budget(y). It is trained *adversarially*: to increase the
/// contrastive loss the encoder minimises, within an L1 budget, so it learns to destroy whichever
/// feature the encoder currently relies on.
///
/// Budget (per sample row of D values; the official code averages over C·H·W):
///
///     t = tanh(y),   m = (1/D)·Σ_d |t_d|,   δ = t · ε / (m + κ)
///
/// so (1/D)·‖δ‖₁ = ε·m/(m + κ) ≈ ε, i.e. ‖δ‖₁ ≈ ε·D: the perturbation is put *on* the L1 sphere of
/// radius ε·(input size) (a rescaling, not a Euclidean projection onto the ball), κ = 1e-4 keeping it
/// finite at y = 0. Defaults (official code): ε = 0.05 (`distortion_budget`), κ = 1e-4.
///
/// Backward, with g = dL/dδ and s = sign(t):
///
///     dL/dt_d = ε/(m + κ)·g_d − ε/(m + κ)² · (1/D)·s_d · Σ_k g_k t_k,     dL/dy = dL/dt ⊙ (1 − t²)
public struct ViewmakerBudget<T: MCLFloat>: Sendable {
    /// ε, the mean absolute perturbation per input value.
    public var budget: T
    /// κ in the denominator.
    public var stabilizer: T

    /// Official defaults: ε = 0.05, κ = 1e-4.
    public init(budget: T = 0.05, stabilizer: T = 1e-4) {
        precondition(budget > 0 && stabilizer > 0, "ViewmakerBudget: budget and stabilizer must be positive")
        self.budget = budget; self.stabilizer = stabilizer
    }

    public struct Cache: Sendable {
        /// t = tanh(y), B×D.
        public var t: Matrix<T>
        /// m per row, B.
        public var meanAbs: [T]
    }

    /// δ for each row of y.
    /// - Shape: y B×D → δ B×D.
    public func forward(_ y: Matrix<T>) -> (delta: Matrix<T>, cache: Cache) {
        var t = y
        for k in 0..<t.count { t.storage[k] = T(Foundation.tanh(Double(y.storage[k]))) }
        var delta = t
        var means = [T](repeating: 0, count: y.rows)
        for i in 0..<y.rows {
            var s = 0.0
            for j in 0..<y.cols { s += abs(Double(t[i, j])) }
            let m = T(s / Double(y.cols))
            means[i] = m
            let scale = budget / (m + stabilizer)
            for j in 0..<y.cols { delta[i, j] = t[i, j] * scale }
        }
        return (delta, Cache(t: t, meanAbs: means))
    }

    /// dL/dy from dL/dδ (see the type's comment).
    /// - Shape: dDelta B×D → B×D.
    public func backward(_ dDelta: Matrix<T>, _ cache: Cache) -> Matrix<T> {
        let t = cache.t, d = T(t.cols)
        var dy = dDelta
        for i in 0..<t.rows {
            let denominator = cache.meanAbs[i] + stabilizer
            var gt: T = 0
            for j in 0..<t.cols { gt += dDelta[i, j] * t[i, j] }
            for j in 0..<t.cols {
                let s: T = t[i, j] > 0 ? 1 : (t[i, j] < 0 ? -1 : 0)
                let dt = budget / denominator * dDelta[i, j] - budget / (denominator * denominator) * s / d * gt
                dy[i, j] = dt * (1 - t[i, j] * t[i, j])
            }
        }
        return dy
    }
}

/// The viewmaker's side of the min-max game.
public enum Viewmaker {
    /// One optimiser step of the viewmaker's parameters that *increases* the contrastive loss: the
    /// optimiser is handed −dL/dθ (the official code trains the viewmaker on −loss), so with the same
    /// optimiser and rate it moves exactly opposite to a minimising step on its first update.
    /// - Shape: parameters and lossGradients by position, equal counts.
    public static func adversarialStep<T: MCLFloat>(_ optimizer: inout Optimizer<T>, parameters: inout [[T]],
                                                    lossGradients: [[T]]) {
        optimizer.step(&parameters, gradients: lossGradients.map { $0.map { -$0 } })
    }
}


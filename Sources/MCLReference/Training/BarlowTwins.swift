/// Barlow Twins (Zbontar et al. 2021) as an objective of the one training step (TrainingStep.swift).
///
/// Dimension legend: B batch, D input width, E embedding width.
///
/// The step: z₁ = g(f(view 1)), z₂ = g(f(view 2)) in two separate train-mode passes (`TwoViewPass`,
/// as the official code), L = `BarlowTwinsLoss`(z₁, z₂) — per-dimension batch normalisation of each
/// view, cross-correlation C (E×E), Σᵢ(1 − Cᵢᵢ)² + λ·Σᵢ≠ⱼ Cᵢⱼ², λ = 5·10⁻³ by default
/// (`--barlow-lambda`) — and dL/dz₁, dL/dz₂ back through their own pass. No negatives, no extra
/// state, no temperature; the official projector is 3 layers of 8192, here the run's projection head.
extension BarlowTwinsLoss {
    /// The objective part of a step: the two passes, the loss and dL/dz of each pass.
    /// - Shape: views 2B×D → embeddings 2B×E ([z₁; z₂]).
    @inlinable func stepLoss(model: inout ContrastiveModel<T>, views: Matrix<T>, profiler: StepProfiler?)
        -> (loss: T, embeddings: Matrix<T>, passes: [(dz: Matrix<T>, cache: ContrastiveModel<T>.Cache)]) {
        let pass = TwoViewPass(model: &model, views: views, profiler: profiler)
        let out = profiler.map { p in p.measure("loss") { self(pass.z1, pass.z2) } } ?? self(pass.z1, pass.z2)
        return (out.loss, pass.stacked, [(out.dZ1, pass.cache1), (out.dZ2, pass.cache2)])
    }
}

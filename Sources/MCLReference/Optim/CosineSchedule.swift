import Foundation

/// Learning rate with linear warmup then cosine decay, evaluated at optimiser step t = 0, 1, ….
///
///     t < W:        lr(t) = base · (t + 1)/W                                 (reaches base at t = W − 1)
///     W ≤ t < T:    lr(t) = final + ½(base − final)(1 + cos(π·(t − W)/(T − W)))
///     t ≥ T:        lr(t) = final
///
/// with W = warmupSteps, T = totalSteps. Warmup starts at base/W rather than 0 so no step is wasted.
/// Computed in `Double`.
public struct CosineSchedule: Equatable, Sendable {
    public var baseLR: Double
    public var finalLR: Double
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(baseLR: Double, totalSteps: Int, warmupSteps: Int = 0, finalLR: Double = 0) {
        precondition(totalSteps > 0 && warmupSteps >= 0 && warmupSteps <= totalSteps,
                     "CosineSchedule: need 0 ≤ warmupSteps=\(warmupSteps) ≤ totalSteps=\(totalSteps), totalSteps > 0")
        self.baseLR = baseLR; self.finalLR = finalLR; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps
    }

    /// The learning rate for step t (0-based).
    public func lr(at t: Int) -> Double {
        precondition(t >= 0, "CosineSchedule: step \(t) is negative")
        if t < warmupSteps { return baseLR * Double(t + 1) / Double(warmupSteps) }
        if t >= totalSteps { return finalLR }
        let progress = Double(t - warmupSteps) / Double(totalSteps - warmupSteps)
        return finalLR + 0.5 * (baseLR - finalLR) * (1 + Foundation.cos(Double.pi * progress))
    }
}

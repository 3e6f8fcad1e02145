/// MCLReference: the algorithm of "Learning the Unlearned: Mitigating Feature Suppression in
/// Contrastive Learning" (Zhang et al., ECCV 2024) on top of MCLNumerics.
/// docs/ALGORITHM.md maps each paper equation to the file that implements it.
@_exported import MCLNumerics

/// The package's identity, printed by `mcl-ref --version` and written into every report.
public enum MCLReference {
    /// The version of mcl-ref (semantic versioning; the one place it is defined).
    public static let version = "0.5.0"
}

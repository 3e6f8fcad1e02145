/// MCLReference: the algorithm of "Learning the Unlearned: Mitigating Feature Suppression in
/// Contrastive Learning" (Zhang et al., ECCV 2024) on top of MCLNumerics.
/// docs/ALGORITHM.md maps each paper equation to the file that implements it.
@_exported import MCLNumerics

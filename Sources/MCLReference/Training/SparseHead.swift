/// SparseHead (SparseHead paper, Sec. 6) inside the one training step: λ·‖W‖₂,₁ on the weight W (E×P,
/// PyTorch's out×in) of the projection head's **last** Linear layer — for a linear head its only weight.
///
/// Treatment: the **sub-gradient** of `L21Penalty` (λ·W[:, j]/‖W[:, j]‖₂, 0 for an exactly zero
/// column) is added to dL/dW after the backward pass and before the optimiser, and R(W) is added to the
/// step's loss — exactly autograd on `loss + λ·W.norm(dim=0).sum()` followed by the optimiser, which is
/// what the paper trains (Losses/L21Penalty.swift says why this and not the proximal step). The step
/// then optimises loss + R and its gradient check covers the penalty.
///
/// Active columns: input column j of W is active when ‖W[:, j]‖₂ > 1e-2·max_k ‖W[:, k]‖₂
/// (`L21Penalty.activeColumns`, threshold `activeColumnThreshold`); reported per stage with or without
/// the penalty, so runs can be compared.
public enum SparseHead {
    /// The relative threshold of an active column (L21Penalty.activeColumns' default).
    public static let activeColumnThreshold = 1e-2

    /// Adds λ·∂‖W‖₂,₁/∂W to the gradient of the head's last Linear weight in `gradients` (positions
    /// of `model`, Models/Parameters.swift) and returns R(W) = λ·‖W‖₂,₁.
    @inlinable public static func apply<T: MCLFloat>(_ penalty: L21Penalty<T>, model: ContrastiveModel<T>,
                                                     gradients: inout [[T]]) -> T {
        guard let (w, position) = model.headLastLinearWeight else {
            preconditionFailure("SparseHead: the projection head has no Linear layer")
        }
        let g = penalty.gradient(w)
        precondition(gradients[position].count == g.count, "SparseHead: gradient \(position) has \(gradients[position].count) values, W \(g.count)")
        for i in g.storage.indices { gradients[position][i] += g.storage[i] }
        return penalty.value(w)
    }
}

extension ContrastiveModel {
    /// The weight of the projection head's last Linear layer (E×P, out×in) and its parameter position
    /// (Models/Parameters.swift); nil if the head has no Linear layer.
    @inlinable public var headLastLinearWeight: (weight: Matrix<T>, position: Int)? {
        guard let last = head.layers.lastIndex(where: { if case .linear = $0 { return true } else { return false } }),
              case .linear(let l) = head.layers[last] else { return nil }
        let before = encoder.parameterTensorCount
            + head.layers[..<last].reduce(0) { $0 + $1.parameterTensorCount }
        return (l.weight, before)
    }

    /// How many input columns of the head's last Linear weight are active (SparseHead), of how many.
    @inlinable public var activeHeadColumns: (active: Int, total: Int) {
        guard let w = headLastLinearWeight?.weight else { return (0, 0) }
        return (L21Penalty<T>.activeColumns(w, threshold: SparseHead.activeColumnThreshold).count, w.cols)
    }
}

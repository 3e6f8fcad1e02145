/// The online model's pass over the two views of a batch *separately* — what BYOL and Barlow Twins
/// do (their official code calls the network once per view), so each view's BatchNorm layers use
/// that view's batch statistics. SimCLR instead forwards the 2B views stacked (one set of statistics).
///
/// Dimension legend: B batch, D input width, E embedding width.
public struct TwoViewPass<T: MCLFloat>: Sendable {
    /// z of view 1 (rows 0..<B of the views) and of view 2 (rows B..<2B), each B×E.
    public var z1: Matrix<T>
    public var z2: Matrix<T>
    public var cache1: ContrastiveModel<T>.Cache
    public var cache2: ContrastiveModel<T>.Cache

    /// Forwards view 1, then view 2, in train mode (running statistics are updated twice, as two
    /// `model(x)` calls in PyTorch do).
    /// - Shape: views 2B×D → z1, z2 B×E.
    @inlinable public init(model: inout ContrastiveModel<T>, views: Matrix<T>, profiler: StepProfiler? = nil) {
        let b = views.rows / 2
        let first = model.forward(views.gatherRows(0..<b), mode: .train, profiler: profiler)
        let second = model.forward(views.gatherRows(b..<(2 * b)), mode: .train, profiler: profiler)
        z1 = first.embedding; cache1 = first.cache
        z2 = second.embedding; cache2 = second.cache
    }

    /// [z1; z2], 2B×E (what the step reports as the embeddings the loss saw).
    @inlinable public var stacked: Matrix<T> { Matrix.vconcat([z1, z2]) }
}

/// Elementwise sum of two gradient lists by position (the two passes of a two-view objective).
@inlinable func addGradients<T: MCLFloat>(_ a: [[T]], _ b: [[T]]) -> [[T]] {
    precondition(a.count == b.count, "addGradients: \(a.count) and \(b.count) tensors")
    return zip(a, b).map { x, y in
        precondition(x.count == y.count, "addGradients: tensors of \(x.count) and \(y.count) values")
        return zip(x, y).map { $0 + $1 }
    }
}

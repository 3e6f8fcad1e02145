/// One step of DistributedDataParallel, simulated in one process: what `torch.nn.parallel.
/// DistributedDataParallel` computes on W ranks that each hold a replica of the model, so that a
/// PyTorch DDP run can be checked rank by rank (`mcl-ref trace --world-size W`).
///
/// Each rank r (in order 0..<W):
///  1. forwards its own views (2b×D, [view 1; view 2] of its own batch) through its replica in train
///     mode — BatchNorm statistics are rank r's batch alone (DDP does not synchronise them; that
///     would be SyncBatchNorm);
///  2. computes its own loss, a mean over its own batch, and backpropagates it: gradient g_r.
/// Then the gradient all-reduce: every rank receives ḡ = (1/W)·Σ_r g_r (DDP divides by W and sums),
/// i.e. the gradient of the mean of the ranks' losses, which is what the optimiser applies, the same on
/// every rank. The step's loss is that mean (1/W)·Σ_r L_r; it is not the loss of the union batch,
/// since each rank's NT-Xent sees only its own 2b views as negatives and its own BatchNorm statistics.
///
/// BatchNorm buffers: DDP (broadcast_buffers=True, the default) copies rank 0's buffers to every
/// rank at the start of each forward, so the model carries rank 0's running statistics.
///
/// SimCLR only: MoCo under DDP gathers keys across ranks and shuffles BatchNorm, which this does not
/// model. With W = 1 this is `TrainingStep.callAsFunction` (the same bits).
extension TrainingStep {
    /// The all-reduced step's result and each rank's own loss.
    public struct DataParallelResult: Sendable {
        /// status, mean loss over ranks, rank 0's embeddings, all-reduced gradients by position.
        public var result: Result
        /// L_r, each rank's loss before the update (mean over its own batch).
        public var rankLosses: [T]
    }

    /// One data-parallel step on W ranks' views.
    /// - Parameters:
    ///   - views: per rank, [view 1; view 2] of its batch (2b×D each, same b on every rank).
    ///   - labels: per rank, the loss labels of its batch (`Objective.lossLabels`), or nil.
    /// - Precondition: the objective is SimCLR; views.count ≥ 1 and labels.count == views.count.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public mutating func dataParallel(views: [Matrix<T>], labels: [[Int]?], learningRate: Double) -> DataParallelResult {
        guard case .simclr = objective else {
            preconditionFailure("TrainingStep.dataParallel: only SimCLR is modelled under data parallelism")
        }
        precondition(viewmaker == nil, "TrainingStep.dataParallel: FD's viewmaker is not modelled under data parallelism")
        precondition(!views.isEmpty && labels.count == views.count,
                     "TrainingStep.dataParallel: \(views.count) ranks of views, \(labels.count) of labels")
        let w = T(views.count)
        var rankLosses: [T] = []
        var sum: [[T]] = []
        var rank0: ContrastiveModel<T>? = nil
        var embeddings = Matrix<T>(rows: 0, cols: 0)
        for (r, v) in views.enumerated() {
            var replica = self  // rank r's replica: the same parameters, its own forward and BatchNorm statistics
            let g = replica.lossAndGradients(views: v, labels: labels[r])
            rankLosses.append(g.loss)
            if r == 0 { rank0 = replica.model; embeddings = g.embeddings }
            guard g.status == .ok else {
                return DataParallelResult(result: Result(status: g.status, loss: g.loss, embeddings: g.embeddings,
                                                         gradients: g.gradients), rankLosses: rankLosses)
            }
            if sum.isEmpty { sum = g.gradients } else {
                for k in sum.indices { for i in sum[k].indices { sum[k][i] += g.gradients[k][i] } }
            }
        }
        // All-reduce: the mean over ranks (summed in rank order, then divided by W).
        let grads = sum.map { $0.map { $0 / w } }
        let loss = rankLosses.reduce(0, +) / w
        model = rank0!  // rank 0's BatchNorm buffers (DDP broadcasts them); parameters are unchanged so far
        let status = update(gradients: grads, learningRate: learningRate, batchSize: views[0].rows / 2)
        return DataParallelResult(result: Result(status: status, loss: loss, embeddings: embeddings, gradients: grads),
                                  rankLosses: rankLosses)
    }
}

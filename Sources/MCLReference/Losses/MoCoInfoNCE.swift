/// MoCo's InfoNCE: each query against its own positive key and a queue of negative keys.
///
/// Dimension legend: N queries, L queue length, D embedding width.
///
///     logits_i = [q_i·k_i, q_i·queue_1, …, q_i·queue_L]/τ,   loss = mean_i CE(logits_i, 0)
///
/// q and k₊ are raw and L2-normalised here (with backward through the normalisation); the queue holds
/// keys that are already normalised and receives no gradient. With labels (paper Eq. 3), queue entry
/// l is a negative for query i only if queueLabels[l] = queryLabels[i].
///
/// Implemented with the core on keys [k₊; queue] ((N + L)×D): the positive of query i is column i,
/// and the other k₊ columns are masked out, so the admissible columns are exactly MoCo's.
public struct MoCoInfoNCE<T: MCLFloat>: Equatable, Sendable {
    /// τ; 0.2 as MoCo-v2.
    public var temperature: T
    /// Plain InfoNCE, or the IFM / debiased (DCL) form on the same logits (InfoNCEVariant.swift).
    public var variant: InfoNCEVariant

    @inlinable public init(temperature: T = 0.2, variant: InfoNCEVariant = .plain) {
        precondition(temperature > 0, "MoCoInfoNCE: temperature must be positive, got \(temperature)")
        self.temperature = temperature
        self.variant = variant
    }

    public struct Output: Sendable {
        public var loss: T
        public var perAnchorLoss: [T]
        public var admissibleNegatives: [Int]
        /// dL/dq, N×D.
        public var dQueries: Matrix<T>
        /// dL/dk₊, N×D (MoCo discards it: the key encoder is an EMA).
        public var dPositiveKeys: Matrix<T>
        @inlinable public init(loss: T, perAnchorLoss: [T], admissibleNegatives: [Int], dQueries: Matrix<T>, dPositiveKeys: Matrix<T>) {
            self.loss = loss; self.perAnchorLoss = perAnchorLoss; self.admissibleNegatives = admissibleNegatives
            self.dQueries = dQueries; self.dPositiveKeys = dPositiveKeys
        }
    }

    /// - Shape: queries N×D, positiveKeys N×D, queue L×D, queryLabels N, queueLabels L → dQueries N×D.
    @inlinable public func callAsFunction(queries: Matrix<T>, positiveKeys: Matrix<T>, queue: Matrix<T>,
                                          queryLabels: [Int]? = nil, queueLabels: [Int]? = nil) -> Output {
        let n = queries.rows, l = queue.rows
        precondition(positiveKeys.rows == n && positiveKeys.cols == queries.cols && queue.cols == queries.cols,
                     "MoCoInfoNCE: queries \(queries.shapeDescription), keys \(positiveKeys.shapeDescription), queue \(queue.shapeDescription)")
        precondition((queryLabels == nil) == (queueLabels == nil), "MoCoInfoNCE: give both label arrays or neither")
        let normalize = L2Normalize<T>()
        let (q, cq) = normalize.forward(queries)
        let (k, ck) = normalize.forward(positiveKeys)
        let keys = Matrix.vconcat([k, queue])
        var mask = InfoNCE.Mask(rows: n, cols: n + l)
        for i in 0..<n {
            for j in 0..<n where j != i { mask[i, j] = false }
            if let a = queryLabels, let b = queueLabels {
                for j in 0..<l where b[j] != a[i] { mask[i, n + j] = false }
            }
        }
        let core = InfoNCE.loss(anchors: q, keys: keys, positives: Array(0..<n), mask: mask, temperature: temperature, variant: variant)
        let dq = normalize.backward(core.dAnchors, cq).dInput
        let dk = normalize.backward(core.dKeys.gatherRows(0..<n), ck).dInput
        return Output(loss: core.loss, perAnchorLoss: core.perAnchorLoss,
                      admissibleNegatives: core.admissibleNegatives, dQueries: dq, dPositiveKeys: dk)
    }
}

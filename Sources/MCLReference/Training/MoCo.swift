/// MoCo-v2's extra state and its three operations (He et al. 2020; Chen et al. 2020, "MoCo v2").
///
/// Dimension legend: B batch, E embedding width, L queue length.
///
/// - **Key model**: a copy of the online encoder + projection head at the start of a stage, then an
///   exponential moving average of it, θ_k ← m·θ_k + (1 − m)·θ_q, taken *before* the keys of a step
///   are computed (as MoCo's `_momentum_update_key_encoder` in its forward). Only parameters are
///   averaged; the key model's BatchNorm buffers are its own (updated by its own train-mode forward).
///   m defaults to 0.99 for these short runs (MoCo-v2 uses 0.999 over 200+ epochs of ImageNet; with
///   a few hundred steps a stage, 0.999 would leave the key model near its random initialisation).
/// - **Queue**: L L2-normalised keys with the pseudo label of the sample each came from. It starts
///   as L random unit vectors (as MoCo) labelled −1; each step enqueues its B keys over the oldest
///   entries (a ring). Under MCL (Eq. 3) a query keeps only queue entries with its own pseudo label;
///   an initial random entry (−1) belongs to no group, so it is never a negative at stages > 0.
/// - **Loss**: `MoCoInfoNCE` — queries q = g(f(view 1)) against their keys k = g_k(f_k(view 2)) and
///   the queue, τ default 0.2. No gradient reaches the key model or the queue.
///
/// Shuffling BatchNorm: MoCo shuffles the key batch across GPUs so that a query and its key are
/// normalised with statistics of *different* sub-batches; otherwise the shared batch statistics let
/// the model find its positive through them ("information leak", MoCo Sec. 3.3). On one process a
/// shuffle within the batch changes no statistic, so single-process MoCo here runs the query batch
/// (view 1) and the key batch (view 2) through BatchNorm separately, each in train mode with its own
/// statistics — as lightly's single-device MoCo examples do. What it leaves out is the sub-batch split
/// (MoCo's CIFAR demo emulates it with a "SplitBatchNorm"); the queue negatives, which come from
/// earlier batches, are not affected by the leak.
public struct MoCo<T: MCLFloat>: Sendable {
    public var keyModel: ContrastiveModel<T>
    /// m of the momentum update.
    public var momentum: T
    public var loss: MoCoInfoNCE<T>
    /// L×E normalised keys (a ring: `queuePointer` is the oldest entry).
    public var queue: Matrix<T>
    /// Pseudo label of each queue entry; −1 for the initial random entries.
    public var queueLabels: [Int]
    public var queuePointer = 0

    /// A key model copied from `online`, and a queue of `queueLength` random unit vectors from `rng`.
    public init(online: ContrastiveModel<T>, momentum: T, temperature: T, queueLength: Int,
                embeddingWidth: Int, rng: inout RNG) {
        precondition(queueLength >= 1 && momentum >= 0 && momentum <= 1,
                     "MoCo: queueLength=\(queueLength) must be ≥ 1 and momentum=\(momentum) in [0, 1]")
        keyModel = online
        self.momentum = momentum
        loss = MoCoInfoNCE(temperature: temperature)
        let raw: Matrix<T> = rng.normalMatrix(queueLength, embeddingWidth)
        queue = L2Normalize<T>().forward(raw).output
        queueLabels = [Int](repeating: -1, count: queueLength)
    }

    /// θ_k ← m·θ_k + (1 − m)·θ_q for every trainable tensor (positions of `online`).
    @inlinable public mutating func momentumUpdate(from online: ContrastiveModel<T>) {
        let q = online.parameterTensors
        let m = momentum
        keyModel.updateParameters { k, p in
            let src = q[k]
            for i in p.indices { p[i] = p[i] * m + src[i] * (1 - m) }
        }
    }

    /// Writes the B normalised keys and their labels over the oldest queue entries (wrapping).
    /// - Shape: keys B×E (already normalised), labels B.
    @inlinable public mutating func enqueue(_ keys: Matrix<T>, labels: [Int]) {
        precondition(keys.cols == queue.cols && labels.count == keys.rows,
                     "MoCo.enqueue: keys \(keys.shapeDescription), \(labels.count) labels, queue \(queue.shapeDescription)")
        let e = queue.cols, l = queue.rows
        for r in 0..<keys.rows {
            let slot = queuePointer
            for c in 0..<e { queue.storage[slot * e + c] = keys.storage[r * e + c] }
            queueLabels[slot] = labels[r]
            queuePointer = (queuePointer + 1) % l
        }
    }
}

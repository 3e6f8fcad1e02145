/// Batch normalisation over the batch dimension, PyTorch's `nn.BatchNorm1d(C)` on (B, C) input.
///
/// Dimension legend: B batch, C features (channels).
///
/// Train mode (batch statistics; biased variance for normalising):
///
///     μ_c = (1/B)·Σ_b x_bc,   σ²_c = (1/B)·Σ_b (x_bc − μ_c)²,   rstd_c = 1/√(σ²_c + ε)
///     x̂ = (x − μ)·rstd,       y = γ ⊙ x̂ + β
///     running_mean ← (1 − m)·running_mean + m·μ
///     running_var  ← (1 − m)·running_var  + m·σ²·B/(B − 1)      (unbiased, as PyTorch)
///     num_batches_tracked ← num_batches_tracked + 1
///
/// Eval mode: the same with μ = running_mean, σ² = running_var, and no update.
///
/// Backward (train), with g = dy ⊙ γ:
///
///     dx = (rstd/B)·(B·g − Σ_b g − x̂ ⊙ Σ_b (g ⊙ x̂)),   dγ = Σ_b dy ⊙ x̂,   dβ = Σ_b dy
///
/// (the two sums come from μ and σ² depending on every row). Backward (eval): dx = g·rstd, since the
/// statistics are constants. Statistics and sums are accumulated in `Double`; the variance is the
/// two-pass Σ(x − μ)², which does not cancel catastrophically when |μ| ≫ σ.
///
/// Two kernels with the same contract (`kernel:`): `.reference` evaluates every element's formula in
/// Double, as written above; `.fast` (the default) folds the per-feature constants once, in Double —
/// x̂ = x·rstd + (−μ·rstd), y = x̂·γ + β, dx = dy·(γ·rstd) − γ·rstd·Σdy/B − x̂·(γ·rstd·Σ(dy⊙x̂)/B) — and
/// runs the elementwise passes in `T` (a few roundings in T instead of one; LayerTests compare the
/// two on awkward shapes). The statistics and sums are the same Double sums in both.
public struct BatchNorm1d<T: MCLFloat>: Equatable, Sendable {
    /// γ, C (PyTorch `weight`), initialised to 1.
    public var weight: [T]
    /// β, C (PyTorch `bias`), initialised to 0.
    public var bias: [T]
    /// Buffer, C (PyTorch `running_mean`), initialised to 0. Not trained.
    public var runningMean: [T]
    /// Buffer, C (PyTorch `running_var`), initialised to 1. Not trained.
    public var runningVar: [T]
    /// Buffer (PyTorch `num_batches_tracked`): train-mode forwards so far. Informational only here,
    /// since the momentum is fixed.
    public var numBatchesTracked: Int
    /// m in the running-stat update; 0.1 as PyTorch.
    public var momentum: T
    /// ε added to the variance; 1e-5 as PyTorch.
    public var eps: T

    @inlinable public var numFeatures: Int { weight.count }

    /// A fresh layer for C features: γ = 1, β = 0, running mean 0, running variance 1.
    @inlinable public init(numFeatures c: Int, momentum: T = 0.1, eps: T = 1e-5) {
        precondition(c > 0, "BatchNorm1d: numFeatures=\(c) must be positive")
        weight = [T](repeating: 1, count: c)
        bias = [T](repeating: 0, count: c)
        runningMean = [T](repeating: 0, count: c)
        runningVar = [T](repeating: 1, count: c)
        numBatchesTracked = 0
        self.momentum = momentum
        self.eps = eps
    }

    /// What backward needs: x̂, rstd per feature, and the mode the forward ran in.
    public struct Cache: Sendable {
        /// x̂ = (x − μ)·rstd, B×C.
        public let normalized: Matrix<T>
        /// rstd_c = 1/√(σ²_c + ε), C.
        public let rstd: [T]
        public let mode: Mode
        @inlinable public init(normalized: Matrix<T>, rstd: [T], mode: Mode) {
            self.normalized = normalized; self.rstd = rstd; self.mode = mode
        }
    }

    /// Gradients of the trainable parameters (buffers get none).
    public struct Gradients: Equatable, Sendable {
        public var weight: [T]
        public var bias: [T]
        @inlinable public init(weight: [T], bias: [T]) { self.weight = weight; self.bias = bias }
    }

    /// y = γ ⊙ (x − μ)/√(σ² + ε) + β with batch statistics (train; updates the running statistics,
    /// needs B ≥ 2 as PyTorch) or running statistics (eval; changes nothing).
    /// - Shape: x B×C → y B×C.
    @inlinable public mutating func forward(_ x: Matrix<T>, mode: Mode, kernel: Kernel = .fast) -> (output: Matrix<T>, cache: Cache) {
        let c = numFeatures, b = x.rows
        precondition(x.cols == c, "BatchNorm1d.forward: x is \(x.shapeDescription), expected B×\(c)")
        var mean = [Double](repeating: 0, count: c)
        var variance = [Double](repeating: 0, count: c)
        switch mode {
        case .train:
            precondition(b >= 2, "BatchNorm1d.forward: train mode needs a batch of at least 2, got B=\(b)")
            mean = columnSumsDouble(x).map { $0 / Double(b) }
            x.storage.withUnsafeBufferPointer { px in
                mean.withUnsafeBufferPointer { pm in
                    variance.withUnsafeMutableBufferPointer { pv in
                        for i in 0..<b {
                            for j in 0..<c { let d = Double(px[i &* c &+ j]) - pm[j]; pv[j] += d * d }
                        }
                    }
                }
            }
            for j in 0..<c { variance[j] /= Double(b) }
            let m = Double(momentum)
            let unbias = Double(b) / Double(b - 1)
            for j in 0..<c {
                runningMean[j] = T((1 - m) * Double(runningMean[j]) + m * mean[j])
                runningVar[j] = T((1 - m) * Double(runningVar[j]) + m * variance[j] * unbias)
            }
            numBatchesTracked += 1
        case .eval:
            mean = runningMean.map { Double($0) }
            variance = runningVar.map { Double($0) }
        }
        let rstd = variance.map { 1 / ($0 + Double(eps)).squareRoot() }
        if kernel == .fast {
            // x̂ = x·s + t with s = rstd, t = −μ·rstd; y = x̂·γ + β; constants folded in Double, rounded once.
            let s = rstd.map { T($0) }, t = (0..<c).map { T(-mean[$0] * rstd[$0]) }
            // Per-feature constants side by side (s, t, γ, β), so the inner loop reads raw pointers only.
            let constants = s + t + weight + bias
            var xhat = [T](), y = [T]()
            x.storage.withUnsafeBufferPointer { px in
                constants.withUnsafeBufferPointer { k4 in
                    let (s, t, g, be) = (k4.baseAddress!, k4.baseAddress! + c, k4.baseAddress! + 2 * c, k4.baseAddress! + 3 * c)
                    xhat = [T](unsafeUninitializedCapacity: b * c) { ph, nh in
                        y = [T](unsafeUninitializedCapacity: b * c) { py, ny in
                            for i in 0..<b {
                                let (xr, hr, yr) = (px.baseAddress! + i &* c, ph.baseAddress! + i &* c, py.baseAddress! + i &* c)
                                for j in 0..<c {
                                    let n = xr[j] * s[j] + t[j]
                                    hr[j] = n
                                    yr[j] = n * g[j] + be[j]
                                }
                            }
                            ny = b * c
                        }
                        nh = b * c
                    }
                }
            }
            return (Matrix(rows: b, cols: c, storage: y), Cache(normalized: Matrix(rows: b, cols: c, storage: xhat), rstd: s, mode: mode))
        }
        var xhat = x, y = x
        for i in 0..<b {
            for j in 0..<c {
                let k = i * c + j
                let n = (Double(x.storage[k]) - mean[j]) * rstd[j]
                xhat.storage[k] = T(n)
                y.storage[k] = T(Double(weight[j]) * n + Double(bias[j]))
            }
        }
        return (y, Cache(normalized: xhat, rstd: rstd.map { T($0) }, mode: mode))
    }

    /// Gradients of y = γ ⊙ x̂ + β w.r.t. x, γ and β (formulas in the type's doc comment).
    /// - Shape: dy B×C → dx B×C, dγ C, dβ C.
    @inlinable public func backward(_ dOut: Matrix<T>, _ cache: Cache, kernel: Kernel = .fast) -> (dInput: Matrix<T>, gradients: Gradients) {
        let xhat = cache.normalized
        let b = xhat.rows, c = xhat.cols
        precondition(dOut.rows == b && dOut.cols == c,
                     "BatchNorm1d.backward: dy is \(dOut.shapeDescription), expected \(xhat.shapeDescription)")
        var sumDy = [Double](repeating: 0, count: c)       // Σ_b dy      = dβ
        var sumDyXhat = [Double](repeating: 0, count: c)   // Σ_b dy ⊙ x̂  = dγ
        dOut.storage.withUnsafeBufferPointer { pd in
            xhat.storage.withUnsafeBufferPointer { px in
                sumDy.withUnsafeMutableBufferPointer { s1 in
                    sumDyXhat.withUnsafeMutableBufferPointer { s2 in
                        for i in 0..<b {
                            for j in 0..<c {
                                let k = i &* c &+ j
                                let g = Double(pd[k])
                                s1[j] += g
                                s2[j] += g * Double(px[k])
                            }
                        }
                    }
                }
            }
        }
        let gradients = Gradients(weight: sumDyXhat.map { T($0) }, bias: sumDy.map { T($0) })
        if kernel == .fast {
            // dx = dy·a − x̂·cx − c0 with a = γ·rstd, c0 = a·Σdy/B, cx = a·Σ(dy⊙x̂)/B (train);
            // dx = dy·a (eval). Constants in Double, rounded once.
            let a = (0..<c).map { Double(weight[$0]) * Double(cache.rstd[$0]) }
            let train = cache.mode == .train
            let c0 = (0..<c).map { T(train ? a[$0] * sumDy[$0] / Double(b) : 0) }
            let cx = (0..<c).map { T(train ? a[$0] * sumDyXhat[$0] / Double(b) : 0) }
            let at = a.map { T($0) }
            let constants = at + c0 + cx
            var dx = [T]()
            dOut.storage.withUnsafeBufferPointer { pd in
                xhat.storage.withUnsafeBufferPointer { px in
                    constants.withUnsafeBufferPointer { k3 in
                        let (a, c0, cx) = (k3.baseAddress!, k3.baseAddress! + c, k3.baseAddress! + 2 * c)
                        dx = [T](unsafeUninitializedCapacity: b * c) { out, count in
                            for i in 0..<b {
                                let (dr, xr, or) = (pd.baseAddress! + i &* c, px.baseAddress! + i &* c, out.baseAddress! + i &* c)
                                for j in 0..<c { or[j] = dr[j] * a[j] - c0[j] - xr[j] * cx[j] }
                            }
                            count = b * c
                        }
                    }
                }
            }
            return (Matrix(rows: b, cols: c, storage: dx), gradients)
        }
        var dx = dOut
        for i in 0..<b {
            for j in 0..<c {
                let k = i * c + j
                let gamma = Double(weight[j]), r = Double(cache.rstd[j])
                let g = Double(dOut.storage[k]) * gamma
                switch cache.mode {
                case .train:
                    // Σ_b g = γ·Σ dy and Σ_b g ⊙ x̂ = γ·Σ dy ⊙ x̂, since γ is constant over the batch.
                    let mean = gamma * sumDy[j] / Double(b)
                    let meanXhat = gamma * sumDyXhat[j] / Double(b)
                    dx.storage[k] = T(r * (g - mean - Double(xhat.storage[k]) * meanXhat))
                case .eval:
                    dx.storage[k] = T(r * g)
                }
            }
        }
        return (dx, gradients)
    }
}

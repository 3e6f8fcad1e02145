/// Batch normalisation per channel over (batch, height, width), PyTorch's `nn.BatchNorm2d(C)`.
///
/// Dimension legend: B batch, C channels, L = H·W positions per channel, n = B·L values per channel.
/// Input rows are NCHW (see Im2col.swift); channel c of sample b is columns c·L ..< (c+1)·L.
///
/// The formulas are BatchNorm1d's with the sums taken over the n = B·L values of a channel:
///
///     μ_c = (1/n)·Σ x,   σ²_c = (1/n)·Σ (x − μ_c)²,   rstd_c = 1/√(σ²_c + ε),   y = γ_c·x̂ + β_c
///     running_var ← (1 − m)·running_var + m·σ²·n/(n − 1)          (unbiased, as PyTorch)
///     dx = rstd·(g − mean(g) − x̂·mean(g ⊙ x̂)),  g = γ·dy   (train; eval: dx = γ·rstd·dy)
///
/// L is read from the input (x.cols / C), so the layer needs no spatial shape. Sums in `Double`.
public struct BatchNorm2d<T: MCLFloat>: Equatable, Sendable {
    /// γ, C (PyTorch `weight`), initialised to 1.
    public var weight: [T]
    /// β, C (PyTorch `bias`), initialised to 0.
    public var bias: [T]
    /// Buffer, C (PyTorch `running_mean`), initialised to 0.
    public var runningMean: [T]
    /// Buffer, C (PyTorch `running_var`), initialised to 1.
    public var runningVar: [T]
    /// Buffer (PyTorch `num_batches_tracked`): train-mode forwards so far.
    public var numBatchesTracked: Int
    /// m in the running-stat update; 0.1 as PyTorch.
    public var momentum: T
    /// ε added to the variance; 1e-5 as PyTorch.
    public var eps: T

    @inlinable public var numFeatures: Int { weight.count }

    /// A fresh layer for C channels: γ = 1, β = 0, running mean 0, running variance 1.
    @inlinable public init(numFeatures c: Int, momentum: T = 0.1, eps: T = 1e-5) {
        precondition(c > 0, "BatchNorm2d: numFeatures=\(c) must be positive")
        weight = [T](repeating: 1, count: c)
        bias = [T](repeating: 0, count: c)
        runningMean = [T](repeating: 0, count: c)
        runningVar = [T](repeating: 1, count: c)
        numBatchesTracked = 0
        self.momentum = momentum
        self.eps = eps
    }

    /// What backward needs: x̂, rstd per channel, and the mode the forward ran in.
    public struct Cache: Sendable {
        /// x̂ = (x − μ)·rstd, B×(C·L).
        public let normalized: Matrix<T>
        /// rstd_c, C.
        public let rstd: [T]
        public let mode: Mode
        @inlinable public init(normalized: Matrix<T>, rstd: [T], mode: Mode) {
            self.normalized = normalized; self.rstd = rstd; self.mode = mode
        }
    }

    /// Gradients of the trainable parameters.
    public struct Gradients: Equatable, Sendable {
        public var weight: [T]
        public var bias: [T]
        @inlinable public init(weight: [T], bias: [T]) { self.weight = weight; self.bias = bias }
    }

    /// y = γ·(x − μ)/√(σ² + ε) + β per channel, batch statistics in `.train` (updates the running
    /// statistics; needs n = B·L ≥ 2 as PyTorch), running statistics in `.eval`.
    /// - Shape: x B×(C·L) → y B×(C·L).
    @inlinable public mutating func forward(_ x: Matrix<T>, mode: Mode) -> (output: Matrix<T>, cache: Cache) {
        let c = numFeatures, b = x.rows
        precondition(x.cols % c == 0 && x.cols > 0,
                     "BatchNorm2d.forward: x is \(x.shapeDescription), expected B×(\(c)·H·W)")
        let l = x.cols / c, cols = x.cols
        var mean = [Double](repeating: 0, count: c)
        var variance = [Double](repeating: 0, count: c)
        switch mode {
        case .train:
            let n = b * l
            precondition(n >= 2, "BatchNorm2d.forward: train mode needs more than one value per channel, got B·H·W=\(n)")
            // Per channel (in parallel over channels): sums over samples, then positions, in order.
            x.storage.withUnsafeBufferPointer { px in
                mean.withUnsafeMutableBufferPointer { pm in
                    variance.withUnsafeMutableBufferPointer { pv in
                        Parallel.forEach(c) { ch in
                            var s = 0.0
                            for i in 0..<b {
                                let base = i * cols + ch * l
                                for t in 0..<l { s += Double(px[base + t]) }
                            }
                            let mu = s / Double(n)
                            var v = 0.0
                            for i in 0..<b {
                                let base = i * cols + ch * l
                                for t in 0..<l { let d = Double(px[base + t]) - mu; v += d * d }
                            }
                            pm[ch] = mu
                            pv[ch] = v / Double(n)
                        }
                    }
                }
            }
            let m = Double(momentum), unbias = Double(n) / Double(n - 1)
            for ch in 0..<c {
                runningMean[ch] = T((1 - m) * Double(runningMean[ch]) + m * mean[ch])
                runningVar[ch] = T((1 - m) * Double(runningVar[ch]) + m * variance[ch] * unbias)
            }
            numBatchesTracked += 1
        case .eval:
            mean = runningMean.map { Double($0) }
            variance = runningVar.map { Double($0) }
        }
        let rstd = variance.map { 1 / ($0 + Double(eps)).squareRoot() }
        var xhat = Matrix<T>(rows: b, cols: cols), y = Matrix<T>(rows: b, cols: cols)
        x.storage.withUnsafeBufferPointer { px in
            xhat.storage.withUnsafeMutableBufferPointer { ph in
                y.storage.withUnsafeMutableBufferPointer { py in
                    Parallel.forEach(c) { ch in
                        let gamma = Double(weight[ch]), beta = Double(bias[ch]), mu = mean[ch], r = rstd[ch]
                        for i in 0..<b {
                            let base = i * cols + ch * l
                            for t in 0..<l {
                                let nrm = (Double(px[base + t]) - mu) * r
                                ph[base + t] = T(nrm)
                                py[base + t] = T(gamma * nrm + beta)
                            }
                        }
                    }
                }
            }
        }
        return (y, Cache(normalized: xhat, rstd: rstd.map { T($0) }, mode: mode))
    }

    /// Gradients w.r.t. x, γ and β (formulas in the type's doc comment). Parallel over channels;
    /// each channel's sums run over samples, then positions, in order.
    /// - Shape: dy B×(C·L) → dx B×(C·L), dγ C, dβ C.
    @inlinable public func backward(_ dOut: Matrix<T>, _ cache: Cache) -> (dInput: Matrix<T>, gradients: Gradients) {
        let xhat = cache.normalized
        let c = numFeatures, b = xhat.rows, cols = xhat.cols, l = xhat.cols / c
        precondition(dOut.rows == b && dOut.cols == xhat.cols,
                     "BatchNorm2d.backward: dy is \(dOut.shapeDescription), expected \(xhat.shapeDescription)")
        var sumDy = [Double](repeating: 0, count: c)
        var sumDyXhat = [Double](repeating: 0, count: c)
        let n = Double(b * l)
        let train = cache.mode == .train
        var dx = Matrix<T>(rows: b, cols: cols)
        dOut.storage.withUnsafeBufferPointer { pdy in
            xhat.storage.withUnsafeBufferPointer { ph in
                dx.storage.withUnsafeMutableBufferPointer { pdx in
                    sumDy.withUnsafeMutableBufferPointer { psd in
                        sumDyXhat.withUnsafeMutableBufferPointer { psdx in
                            Parallel.forEach(c) { ch in
                                var s1 = 0.0, s2 = 0.0
                                for i in 0..<b {
                                    let base = i * cols + ch * l
                                    for t in 0..<l {
                                        let g = Double(pdy[base + t])
                                        s1 += g
                                        s2 += g * Double(ph[base + t])
                                    }
                                }
                                psd[ch] = s1
                                psdx[ch] = s2
                                let gamma = Double(weight[ch]), r = Double(cache.rstd[ch])
                                let meanG = gamma * s1 / n, meanGXhat = gamma * s2 / n
                                for i in 0..<b {
                                    let base = i * cols + ch * l
                                    for t in 0..<l {
                                        let g = Double(pdy[base + t]) * gamma
                                        pdx[base + t] = train ? T(r * (g - meanG - Double(ph[base + t]) * meanGXhat)) : T(r * g)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dx, Gradients(weight: sumDyXhat.map { T($0) }, bias: sumDy.map { T($0) }))
    }
}

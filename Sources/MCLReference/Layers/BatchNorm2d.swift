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
///
/// Two implementations of the same formulas:
/// - `forward` / `backward` (what training runs): parallel over channels, each channel's sums in
///   8 `Double` lanes over each contiguous run of L values (lane k takes positions ≡ k mod 8 of the
///   run, the rest one by one), lanes added at the end; the elementwise parts in `T`, as plain loops
///   the compiler vectorises: y = (x − μ)·(γ·rstd) + β. `relu: true` applies ReLU to y in the same pass (Sequential fuses
///   BatchNorm2d → ReLU), and `reluOutput:` masks dy with ReLU's backward first. The cache keeps x,
///   not x̂ (x̂ is recomputed in backward: no extra B×(C·L) matrix per layer).
/// - `forwardReference` / `backwardReference`: one plain Double loop per formula, the twin the fast
///   path is tested against (BatchNorm2dKernelTests, tolerance there).
/// The order of every sum is fixed by the shapes alone, never by the thread count.
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

    /// What backward needs: x, μ and rstd per channel, and the mode the forward ran in
    /// (x̂ = (x − μ)·rstd is recomputed from them).
    public struct Cache: Sendable {
        /// x, B×(C·L).
        public let input: Matrix<T>
        /// μ_c: the batch mean (train) or the running mean (eval), C.
        public let mean: [Double]
        /// rstd_c = 1/√(σ²_c + ε), C.
        public let rstd: [Double]
        public let mode: Mode
        @inlinable public init(input: Matrix<T>, mean: [Double], rstd: [Double], mode: Mode) {
            self.input = input; self.mean = mean; self.rstd = rstd; self.mode = mode
        }
    }

    /// Gradients of the trainable parameters.
    public struct Gradients: Equatable, Sendable {
        public var weight: [T]
        public var bias: [T]
        @inlinable public init(weight: [T], bias: [T]) { self.weight = weight; self.bias = bias }
    }

    /// Checks x, updates the running statistics in `.train`, and returns μ and rstd per channel
    /// (batch statistics from `batchMoments` in `.train`, the running ones in `.eval`).
    @inlinable mutating func _statistics(_ x: Matrix<T>, mode: Mode, caller: String,
                                         batchMoments: (Int) -> (mean: [Double], variance: [Double]))
        -> (mean: [Double], rstd: [Double]) {
        let c = numFeatures
        precondition(x.cols % c == 0 && x.cols > 0,
                     "BatchNorm2d.\(caller): x is \(x.shapeDescription), expected B×(\(c)·H·W)")
        var mean: [Double], variance: [Double]
        switch mode {
        case .train:
            let n = x.rows * (x.cols / c)
            precondition(n >= 2, "BatchNorm2d.\(caller): train mode needs more than one value per channel, got B·H·W=\(n)")
            (mean, variance) = batchMoments(n)
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
        return (mean, variance.map { 1 / ($0 + Double(eps)).squareRoot() })
    }

    /// y = γ·(x − μ)/√(σ² + ε) + β per channel (then max(y, 0) when `relu`), batch statistics in
    /// `.train` (updates the running statistics; needs n = B·L ≥ 2 as PyTorch), running statistics
    /// in `.eval`. Parallel over channels; see the type's doc comment for the order of the sums.
    /// - Shape: x B×(C·L) → y B×(C·L).
    @inlinable public mutating func forward(_ x: Matrix<T>, mode: Mode, relu: Bool = false) -> (output: Matrix<T>, cache: Cache) {
        let c = numFeatures, b = x.rows, cols = x.cols, l = cols / max(1, c)
        let (mean, rstd) = _statistics(x, mode: mode, caller: "forward") { n in
            var mean = [Double](repeating: 0, count: c), variance = [Double](repeating: 0, count: c)
            x.storage.withUnsafeBufferPointer { px in
                mean.withUnsafeMutableBufferPointer { pm in
                    variance.withUnsafeMutableBufferPointer { pv in
                        Parallel.forEach(c) { ch in
                            var s = 0.0
                            for i in 0..<b { s += _laneSum(px.baseAddress! + i * cols + ch * l, l) }
                            let mu = s / Double(n)
                            var v = 0.0
                            for i in 0..<b { v += _laneSquaredDeviations(px.baseAddress! + i * cols + ch * l, l, from: mu) }
                            pm[ch] = mu
                            pv[ch] = v / Double(n)
                        }
                    }
                }
            }
            return (mean, variance)
        }
        let storage = [T](unsafeUninitializedCapacity: b * cols) { py, count in
            x.storage.withUnsafeBufferPointer { px in
                weight.withUnsafeBufferPointer { pg in
                    bias.withUnsafeBufferPointer { pb in
                        Parallel.forEach(c) { ch in
                            let mu = T(mean[ch]), a = T(Double(pg[ch]) * rstd[ch]), beta = pb[ch]
                            for i in 0..<b {
                                let offset = i * cols + ch * l
                                _affine(px.baseAddress! + offset, into: py.baseAddress! + offset, l,
                                        minus: mu, times: a, plus: beta, relu: relu)
                            }
                        }
                    }
                }
            }
            count = b * cols
        }
        return (Matrix(rows: b, cols: cols, storage: storage), Cache(input: x, mean: mean, rstd: rstd, mode: mode))
    }

    /// Gradients w.r.t. x, γ and β (formulas in the type's doc comment). With `reluOutput` (the
    /// output of the ReLU that follows, when Sequential fused them), dy is first masked as ReLU's
    /// backward does: dy·1[out > 0]. Parallel over channels; each channel's sums run over samples,
    /// then positions (8 Double lanes per run), in order.
    /// - Shape: dy B×(C·L) (reluOutput B×(C·L)) → dx B×(C·L), dγ C, dβ C.
    @inlinable public func backward(_ dOut: Matrix<T>, _ cache: Cache, reluOutput: Matrix<T>? = nil)
        -> (dInput: Matrix<T>, gradients: Gradients) {
        let x = cache.input
        let c = numFeatures, b = x.rows, cols = x.cols, l = x.cols / c
        precondition(dOut.rows == b && dOut.cols == x.cols,
                     "BatchNorm2d.backward: dy is \(dOut.shapeDescription), expected \(x.shapeDescription)")
        precondition(reluOutput.map { $0.rows == b && $0.cols == cols } ?? true,
                     "BatchNorm2d.backward: the ReLU output is \(reluOutput!.shapeDescription), expected \(x.shapeDescription)")
        var sumDy = [Double](repeating: 0, count: c)
        var sumDyXhat = [Double](repeating: 0, count: c)
        let n = Double(b * l)
        let train = cache.mode == .train
        let mask = reluOutput ?? Matrix<T>(rows: 0, cols: 0)
        let masked = reluOutput != nil
        let storage = [T](unsafeUninitializedCapacity: b * cols) { pdx, count in
            dOut.storage.withUnsafeBufferPointer { pdy in
                x.storage.withUnsafeBufferPointer { px in
                    mask.storage.withUnsafeBufferPointer { pmask in
                        weight.withUnsafeBufferPointer { pg in
                            sumDy.withUnsafeMutableBufferPointer { psd in
                                sumDyXhat.withUnsafeMutableBufferPointer { psdx in
                                    Parallel.forEach(c) { ch in
                                        let mu = cache.mean[ch], r = cache.rstd[ch]
                                        // g = dy, or dy masked by the ReLU (written into dx, overwritten below).
                                        let g = masked ? UnsafePointer(pdx.baseAddress!) : pdy.baseAddress!
                                        var s1 = 0.0, s2 = 0.0
                                        for i in 0..<b {
                                            let offset = i * cols + ch * l
                                            if masked {
                                                _maskedCopy(pdy.baseAddress! + offset, mask: pmask.baseAddress! + offset,
                                                            into: pdx.baseAddress! + offset, l)
                                            }
                                            let (a, e) = _laneSumsForBackward(px.baseAddress! + offset, g + offset, l, mean: mu, rstd: r)
                                            s1 += a; s2 += e
                                        }
                                        psd[ch] = s1
                                        psdx[ch] = s2
                                        let gr = Double(pg[ch]) * r
                                        // dx = γr·dy − γr·mean(dy) − (x − μ)·r·γr·mean(dy·x̂)  (train); γr·dy (eval)
                                        let k1 = T(gr), k3 = train ? T(gr * s1 / n) : 0
                                        let k2 = train ? T(r * gr * s2 / n) : 0, muT = T(mu)
                                        for i in 0..<b {
                                            let offset = i * cols + ch * l
                                            _backwardAffine(px.baseAddress! + offset, masked ? nil : pdy.baseAddress! + offset, into: pdx.baseAddress! + offset, l,
                                                            mean: muT, k1: k1, k2: k2, k3: k3)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            count = b * cols
        }
        return (Matrix(rows: b, cols: cols, storage: storage), Gradients(weight: sumDyXhat.map { T($0) }, bias: sumDy.map { T($0) }))
    }

    /// The plain twin of `forward` (one Double loop per formula, no fusion, no SIMD).
    /// - Shape: x B×(C·L) → y B×(C·L).
    @inlinable public mutating func forwardReference(_ x: Matrix<T>, mode: Mode) -> (output: Matrix<T>, cache: Cache) {
        let c = numFeatures, b = x.rows, cols = x.cols, l = cols / max(1, c)
        let (mean, rstd) = _statistics(x, mode: mode, caller: "forwardReference") { n in
            var mean = [Double](repeating: 0, count: c), variance = [Double](repeating: 0, count: c)
            for ch in 0..<c {
                var s = 0.0
                for i in 0..<b { for t in 0..<l { s += Double(x.storage[i * cols + ch * l + t]) } }
                let mu = s / Double(n)
                var v = 0.0
                for i in 0..<b { for t in 0..<l { let d = Double(x.storage[i * cols + ch * l + t]) - mu; v += d * d } }
                mean[ch] = mu
                variance[ch] = v / Double(n)
            }
            return (mean, variance)
        }
        var y = Matrix<T>(rows: b, cols: cols)
        for ch in 0..<c {
            for i in 0..<b {
                for t in 0..<l {
                    let k = i * cols + ch * l + t
                    y.storage[k] = T(Double(weight[ch]) * (Double(x.storage[k]) - mean[ch]) * rstd[ch] + Double(bias[ch]))
                }
            }
        }
        return (y, Cache(input: x, mean: mean, rstd: rstd, mode: mode))
    }

    /// The plain twin of `backward` (x̂ recomputed in Double, plain loops).
    /// - Shape: dy B×(C·L) → dx B×(C·L), dγ C, dβ C.
    @inlinable public func backwardReference(_ dOut: Matrix<T>, _ cache: Cache) -> (dInput: Matrix<T>, gradients: Gradients) {
        let x = cache.input
        let c = numFeatures, b = x.rows, cols = x.cols, l = x.cols / c
        precondition(dOut.rows == b && dOut.cols == x.cols,
                     "BatchNorm2d.backwardReference: dy is \(dOut.shapeDescription), expected \(x.shapeDescription)")
        let n = Double(b * l)
        var dx = Matrix<T>(rows: b, cols: cols)
        var dGamma = [T](repeating: 0, count: c), dBeta = [T](repeating: 0, count: c)
        for ch in 0..<c {
            let mu = cache.mean[ch], r = cache.rstd[ch], gamma = Double(weight[ch])
            var s1 = 0.0, s2 = 0.0
            for i in 0..<b {
                for t in 0..<l {
                    let k = i * cols + ch * l + t
                    s1 += Double(dOut.storage[k])
                    s2 += Double(dOut.storage[k]) * (Double(x.storage[k]) - mu) * r
                }
            }
            dGamma[ch] = T(s2); dBeta[ch] = T(s1)
            for i in 0..<b {
                for t in 0..<l {
                    let k = i * cols + ch * l + t
                    let g = gamma * Double(dOut.storage[k]), xhat = (Double(x.storage[k]) - mu) * r
                    dx.storage[k] = cache.mode == .train ? T(r * (g - gamma * s1 / n - xhat * gamma * s2 / n)) : T(r * g)
                }
            }
        }
        return (dx, Gradients(weight: dGamma, bias: dBeta))
    }
}

// MARK: - The vector kernels of the fast path (one contiguous run of L values each)

/// Σ p[0..<n] in Double: 8 lanes (lane k sums positions ≡ k mod 8 below n − n mod 8), lanes added
/// 0…7, then the remaining values in order.
@inlinable func _laneSum<T: MCLFloat>(_ p: UnsafePointer<T>, _ n: Int) -> Double {
    var acc = SIMD8<Double>()
    var i = 0
    while i &+ 8 <= n {
        acc += SIMD8<Double>(UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<T>.self))
        i &+= 8
    }
    var s = acc.sum()
    while i < n { s += Double(p[i]); i &+= 1 }
    return s
}

/// Σ (p[t] − μ)² in Double, lanes as `_laneSum`.
@inlinable func _laneSquaredDeviations<T: MCLFloat>(_ p: UnsafePointer<T>, _ n: Int, from mu: Double) -> Double {
    var acc = SIMD8<Double>()
    var i = 0
    while i &+ 8 <= n {
        let d = SIMD8<Double>(UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<T>.self)) - mu
        acc += d * d
        i &+= 8
    }
    var s = acc.sum()
    while i < n { let d = Double(p[i]) - mu; s += d * d; i &+= 1 }
    return s
}

/// y = (x − μ)·a + β, then max(y, 0) when `relu` (NaN kept, as ReLU). A plain loop of selects,
/// which the compiler vectorises (Swift's SIMD mask operations do not compile to vector code here).
@inlinable func _affine<T: MCLFloat>(_ x: UnsafePointer<T>, into y: UnsafeMutablePointer<T>, _ n: Int,
                                     minus mu: T, times a: T, plus beta: T, relu: Bool) {
    if relu {
        for i in 0..<n { let v = (x[i] - mu) * a + beta; y[i] = v <= 0 ? 0 : v }
    } else {
        for i in 0..<n { y[i] = (x[i] - mu) * a + beta }
    }
}

/// g = dy·1[mask > 0] (ReLU's backward: 0 where the ReLU output is ≤ 0 or NaN).
@inlinable func _maskedCopy<T: MCLFloat>(_ dy: UnsafePointer<T>, mask: UnsafePointer<T>, into g: UnsafeMutablePointer<T>, _ n: Int) {
    for i in 0..<n { g[i] = mask[i] > 0 ? dy[i] : 0 }
}

/// (Σ g, Σ g·x̂) in Double with x̂ = (x − μ)·rstd, lanes as `_laneSum`.
@inlinable func _laneSumsForBackward<T: MCLFloat>(_ x: UnsafePointer<T>, _ g: UnsafePointer<T>,
                                                  _ n: Int, mean mu: Double, rstd r: Double) -> (Double, Double) {
    var a1 = SIMD8<Double>(), a2 = SIMD8<Double>()
    var i = 0
    while i &+ 8 <= n {
        let gd = SIMD8<Double>(UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<T>.self))
        let xh = (SIMD8<Double>(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<T>.self)) - mu) * r
        a1 += gd
        a2 += gd * xh
        i &+= 8
    }
    var s1 = a1.sum(), s2 = a2.sum()
    while i < n {
        let gi = Double(g[i])
        s1 += gi
        s2 += gi * ((Double(x[i]) - mu) * r)
        i &+= 1
    }
    return (s1, s2)
}

/// dx = k1·g − k2·(x − μ) − k3, a plain loop the compiler vectorises; g is `dy`, or dx itself when
/// nil (it holds the masked dy: one pointer, so no overlap check sends the loop down a scalar path).
@inlinable func _backwardAffine<T: MCLFloat>(_ x: UnsafePointer<T>, _ dy: UnsafePointer<T>?,
                                             into dx: UnsafeMutablePointer<T>, _ n: Int, mean mu: T, k1: T, k2: T, k3: T) {
    if let dy {
        for i in 0..<n { dx[i] = dy[i] * k1 - (x[i] - mu) * k2 - k3 }
    } else {
        for i in 0..<n { dx[i] = dx[i] * k1 - (x[i] - mu) * k2 - k3 }
    }
}

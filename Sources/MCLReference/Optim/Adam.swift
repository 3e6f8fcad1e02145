/// Adam and AdamW, PyTorch's `torch.optim.Adam` / `torch.optim.AdamW` (amsgrad off).
///
/// For each parameter p with gradient g, at its step t = 1, 2, …:
///
///     Adam:   g ← g + wd·p                  (L2 term in the gradient)
///     AdamW:  p ← p − lr·wd·p               (decoupled decay, before the moment update)
///     m ← β₁·m + (1 − β₁)·g
///     v ← β₂·v + (1 − β₂)·g²
///     p ← p − (lr/(1 − β₁ᵗ)) · m / (√v/√(1 − β₂ᵗ) + ε)      (ε outside the square root)
///
/// Parameters are addressed by position (Models/Parameters.swift): the state of tensor k is
/// `states[k]`. Names appear only in `namedState`/`loadNamedState` (traces, checkpoints), as PyTorch's
/// `<name>.exp_avg`, `<name>.exp_avg_sq`, `<name>.step`. Bias corrections are computed in `Double`.
public struct Adam<T: MCLFloat>: Sendable {
    public var lr: T
    public var beta1: T
    public var beta2: T
    public var eps: T
    public var weightDecay: T
    /// true: AdamW's decoupled decay; false: Adam's L2 term.
    public var decoupledWeightDecay: Bool

    public struct ParameterState: Equatable, Sendable {
        public var step: Int
        /// m and v, flat like the parameter.
        public var expAvg: [T]
        public var expAvgSq: [T]
        @inlinable public init(step: Int, expAvg: [T], expAvgSq: [T]) {
            self.step = step; self.expAvg = expAvg; self.expAvgSq = expAvgSq
        }
    }
    /// State by parameter position; nil before the tensor's first step.
    public var states: [ParameterState?] = []

    /// Adam (weight decay as L2 term; default 0).
    @inlinable public init(lr: T = 1e-3, beta1: T = 0.9, beta2: T = 0.999, eps: T = 1e-8, weightDecay: T = 0,
                           decoupledWeightDecay: Bool = false) {
        precondition(lr >= 0 && eps >= 0 && weightDecay >= 0 && beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1,
                     "Adam: invalid lr=\(lr) betas=(\(beta1), \(beta2)) eps=\(eps) weightDecay=\(weightDecay)")
        self.lr = lr; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
        self.weightDecay = weightDecay; self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// AdamW with PyTorch's defaults (weight decay 1e-2, decoupled).
    @inlinable public static func adamW(lr: T = 1e-3, beta1: T = 0.9, beta2: T = 0.999, eps: T = 1e-8,
                                        weightDecay: T = 1e-2) -> Adam {
        Adam(lr: lr, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    /// Updates the tensor at `position` in place.
    /// - Shape: parameter and gradient of equal length.
    @inlinable public mutating func update(_ p: inout [T], gradient g: [T], position: Int) {
        precondition(p.count == g.count, "Adam: parameter \(position) has \(p.count) values, its gradient \(g.count)")
        if position >= states.count { states += [ParameterState?](repeating: nil, count: position + 1 - states.count) }
        var s = states[position] ?? ParameterState(step: 0, expAvg: [T](repeating: 0, count: p.count),
                                                   expAvgSq: [T](repeating: 0, count: p.count))
        states[position] = nil  // s is now the only reference: updated without a copy
        s.step += 1
        let bc1 = 1 - Double.pow(Double(beta1), Double(s.step))
        let bc2 = 1 - Double.pow(Double(beta2), Double(s.step))
        let stepSize = T(Double(lr) / bc1)
        let bc2Sqrt = T(bc2.squareRoot())
        let (b1, b2, e, wd, decoupled) = (beta1, beta2, eps, weightDecay, decoupledWeightDecay)
        let decay = 1 - lr * wd
        // One fused pass over p, g, m and v through raw buffers (no per-element bounds or uniqueness
        // checks), each element's arithmetic exactly as written above.
        p.withUnsafeMutableBufferPointer { p in
            g.withUnsafeBufferPointer { g in
                s.expAvg.withUnsafeMutableBufferPointer { ma in
                    s.expAvgSq.withUnsafeMutableBufferPointer { va in
                        for i in 0..<p.count {
                            var gi = g[i]
                            if wd != 0 {
                                if decoupled { p[i] *= decay } else { gi += wd * p[i] }
                            }
                            let m = b1 * ma[i] + (1 - b1) * gi
                            let v = b2 * va[i] + (1 - b2) * gi * gi
                            ma[i] = m
                            va[i] = v
                            p[i] -= stepSize * m / (v.squareRoot() / bc2Sqrt + e)
                        }
                    }
                }
            }
        }
        states[position] = s
    }

    /// Positional state with PyTorch's names, for traces and checkpoints: for each parameter that has
    /// taken a step, `<name>.exp_avg`, `<name>.exp_avg_sq` (shaped like `like`) and `<name>.step` (1×1).
    @inlinable public func namedState(like parameters: NamedMatrices<T>) -> NamedMatrices<T> {
        parameters.enumerated().flatMap { k, p -> NamedMatrices<T> in
            guard k < states.count, let s = states[k] else { return [] }
            return [("\(p.name).exp_avg", Matrix(rows: p.value.rows, cols: p.value.cols, storage: s.expAvg)),
                    ("\(p.name).exp_avg_sq", Matrix(rows: p.value.rows, cols: p.value.cols, storage: s.expAvgSq)),
                    ("\(p.name).step", Matrix(rows: 1, cols: 1, storage: [T(s.step)]))]
        }
    }

    /// Restores `namedState` output for parameters named (in position order) `names`; replaces all state.
    @inlinable public mutating func loadNamedState(_ list: NamedMatrices<T>, names: [String]) throws {
        var d = [String: Matrix<T>]()
        for (n, v) in list { d[n] = v }
        var out = [ParameterState?](repeating: nil, count: names.count)
        var used = 0
        for (k, name) in names.enumerated() {
            guard let step = d[name + ".step"] else { continue }
            guard let m = d[name + ".exp_avg"], let v = d[name + ".exp_avg_sq"] else {
                throw StateLoadingError.missing([name + ".exp_avg", name + ".exp_avg_sq"])
            }
            out[k] = ParameterState(step: Int(step.storage[0]), expAvg: m.storage, expAvgSq: v.storage)
            used += 3
        }
        if used != list.count { throw StateLoadingError.unexpected(list.map { $0.name }) }
        states = out
    }
}

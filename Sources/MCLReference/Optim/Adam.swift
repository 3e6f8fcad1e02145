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
/// State per parameter: `<name>.exp_avg` (m), `<name>.exp_avg_sq` (v), `<name>.step` (1×1).
/// Bias corrections are computed in `Double`.
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
        public var expAvg: Matrix<T>
        public var expAvgSq: Matrix<T>
        @inlinable public init(step: Int, expAvg: Matrix<T>, expAvgSq: Matrix<T>) {
            self.step = step; self.expAvg = expAvg; self.expAvgSq = expAvgSq
        }
    }
    public var states: [String: ParameterState] = [:]

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

    /// Updates one parameter in place.
    /// - Shape: parameter and gradient of equal shape.
    @inlinable public mutating func update(_ p: inout Matrix<T>, gradient: Matrix<T>, name: String) {
        precondition(p.rows == gradient.rows && p.cols == gradient.cols,
                     "Adam: \(name) is \(p.shapeDescription), gradient is \(gradient.shapeDescription)")
        var s = states[name] ?? ParameterState(step: 0, expAvg: Matrix(rows: p.rows, cols: p.cols),
                                              expAvgSq: Matrix(rows: p.rows, cols: p.cols))
        s.step += 1
        var g = gradient
        if weightDecay != 0 {
            if decoupledWeightDecay { scale(&p, by: 1 - lr * weightDecay) } else { axpy(weightDecay, p, &g) }
        }
        let bc1 = 1 - Double.pow(Double(beta1), Double(s.step))
        let bc2 = 1 - Double.pow(Double(beta2), Double(s.step))
        let stepSize = T(Double(lr) / bc1)
        let bc2Sqrt = T(bc2.squareRoot())
        for i in 0..<p.count {
            let gi = g.storage[i]
            let m = beta1 * s.expAvg.storage[i] + (1 - beta1) * gi
            let v = beta2 * s.expAvgSq.storage[i] + (1 - beta2) * gi * gi
            s.expAvg.storage[i] = m
            s.expAvgSq.storage[i] = v
            p.storage[i] -= stepSize * m / (v.squareRoot() / bc2Sqrt + eps)
        }
        states[name] = s
    }

    /// One step on every parameter; `gradients` must have the names and order of `parameters`.
    @inlinable public mutating func step(_ parameters: inout NamedMatrices<T>, gradients: NamedMatrices<T>) {
        precondition(parameters.count == gradients.count, "Adam.step: \(parameters.count) parameters, \(gradients.count) gradients")
        for i in parameters.indices {
            precondition(parameters[i].name == gradients[i].name,
                         "Adam.step: parameter \(parameters[i].name) paired with gradient \(gradients[i].name)")
            update(&parameters[i].value, gradient: gradients[i].value, name: parameters[i].name)
        }
    }

    /// State for checkpoints, sorted by parameter name: `.exp_avg`, `.exp_avg_sq`, `.step` per parameter.
    @inlinable public func state() -> NamedMatrices<T> {
        states.keys.sorted().flatMap { n -> NamedMatrices<T> in
            let s = states[n]!
            return [("\(n).exp_avg", s.expAvg), ("\(n).exp_avg_sq", s.expAvgSq),
                    ("\(n).step", Matrix(rows: 1, cols: 1, storage: [T(s.step)]))]
        }
    }

    /// Restores `state()` output (replaces all state).
    @inlinable public mutating func loadState(_ list: NamedMatrices<T>) throws {
        var d = [String: Matrix<T>]()
        for (n, v) in list { d[n] = v }
        var out = [String: ParameterState]()
        for (n, _) in list where n.hasSuffix(".step") {
            let base = String(n.dropLast(".step".count))
            guard let m = d[base + ".exp_avg"], let v = d[base + ".exp_avg_sq"] else {
                throw StateLoadingError.missing([base + ".exp_avg", base + ".exp_avg_sq"])
            }
            out[base] = ParameterState(step: Int(d[n]!.storage[0]), expAvg: m, expAvgSq: v)
        }
        if out.count * 3 != list.count { throw StateLoadingError.unexpected(list.map { $0.name }) }
        states = out
    }
}

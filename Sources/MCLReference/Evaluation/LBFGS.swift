/// Limited-memory BFGS (Nocedal 1980; Nocedal & Wright, *Numerical Optimization*, Alg. 7.4–7.5) with a
/// backtracking Armijo line search, for smooth unconstrained minimisation of f: ℝⁿ → ℝ.
///
/// Iteration k, with gradient g_k and the last `memory` pairs s_i = θ_{i+1} − θ_i, y_i = g_{i+1} − g_i:
/// 1. Direction d = −H_k g_k by the two-loop recursion, H⁰ = γ I, γ = sᵀy / yᵀy of the newest pair
///    (no pair yet: d = −g / max(1, ‖g‖₂), a first step of length ≤ 1). If gᵀd ≥ 0 the memory is
///    cleared and d = −g / max(1, ‖g‖₂).
/// 2. Step t from 1, halved until f(θ + t d) ≤ f(θ) + c₁ t gᵀd (c₁ = 10⁻⁴), at most 50 halvings; if
///    none is accepted the run stops (`stopReason == .lineSearchFailed`).
/// 3. The pair (s, y) is stored only if sᵀy > 10⁻¹⁰ ‖s‖₂‖y‖₂ (curvature condition; keeps H positive
///    definite without a Wolfe search).
/// Stops when ‖g‖_∞ ≤ `gradientTolerance`, when the relative decrease
/// (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ `relativeTolerance`, or after `maxIterations`.
///
/// Deterministic: plain sequential arithmetic in `Double`.
public struct LBFGS: Sendable {
    public enum StopReason: String, Sendable {
        case gradientTolerance, relativeLossChange, maxIterations, lineSearchFailed
    }

    public struct Result: Sendable {
        public var parameters: [Double]
        public var value: Double
        public var gradientInfNorm: Double
        public var iterations: Int
        public var evaluations: Int
        public var stopReason: StopReason
        /// True for the two tolerance criteria.
        public var converged: Bool { stopReason == .gradientTolerance || stopReason == .relativeLossChange }
    }

    public var memory: Int = 10
    public var maxIterations: Int = 500
    public var gradientTolerance: Double = 1e-6
    public var relativeTolerance: Double = 1e-12

    public init(memory: Int = 10, maxIterations: Int = 500, gradientTolerance: Double = 1e-6,
                relativeTolerance: Double = 1e-12) {
        self.memory = memory
        self.maxIterations = maxIterations
        self.gradientTolerance = gradientTolerance
        self.relativeTolerance = relativeTolerance
    }

    /// Minimises `f` from `start`. `f(θ)` returns (value, gradient).
    public func minimize(_ start: [Double], _ f: ([Double]) -> (value: Double, gradient: [Double])) -> Result {
        let n = start.count
        var theta = start
        var (fx, g) = f(theta)
        var evals = 1
        var sList: [[Double]] = [], yList: [[Double]] = [], rhoList: [Double] = []
        func dot(_ a: [Double], _ b: [Double]) -> Double { var s = 0.0; for i in 0..<a.count { s += a[i] * b[i] }; return s }
        func infNorm(_ a: [Double]) -> Double { a.reduce(0) { max($0, abs($1)) } }
        var reason = StopReason.maxIterations
        var iterations = 0
        while iterations < maxIterations {
            if infNorm(g) <= gradientTolerance { reason = .gradientTolerance; break }
            iterations += 1
            // 1. Two-loop recursion.
            var d: [Double]
            if sList.isEmpty {
                let scale = 1 / max(1, dot(g, g).squareRoot())
                d = g.map { -$0 * scale }
            } else {
                var q = g
                var alpha = [Double](repeating: 0, count: sList.count)
                for i in stride(from: sList.count - 1, through: 0, by: -1) {
                    alpha[i] = rhoList[i] * dot(sList[i], q)
                    for j in 0..<n { q[j] -= alpha[i] * yList[i][j] }
                }
                let last = sList.count - 1
                let gamma = dot(sList[last], yList[last]) / dot(yList[last], yList[last])
                for j in 0..<n { q[j] *= gamma }
                for i in 0..<sList.count {
                    let beta = rhoList[i] * dot(yList[i], q)
                    for j in 0..<n { q[j] += (alpha[i] - beta) * sList[i][j] }
                }
                d = q.map { -$0 }
            }
            var slope = dot(g, d)
            if !(slope < 0) {
                sList.removeAll(); yList.removeAll(); rhoList.removeAll()
                let scale = 1 / max(1, dot(g, g).squareRoot())
                d = g.map { -$0 * scale }
                slope = dot(g, d)
            }
            // 2. Backtracking Armijo.
            var t = 1.0
            var accepted = false
            var newTheta = theta, newF = fx, newG = g
            for _ in 0...50 {
                for j in 0..<n { newTheta[j] = theta[j] + t * d[j] }
                (newF, newG) = f(newTheta)
                evals += 1
                if newF.isFinite && newF <= fx + 1e-4 * t * slope { accepted = true; break }
                t *= 0.5
            }
            if !accepted { reason = .lineSearchFailed; break }
            // 3. Curvature pair.
            var s = [Double](repeating: 0, count: n), y = s
            for j in 0..<n { s[j] = newTheta[j] - theta[j]; y[j] = newG[j] - g[j] }
            let sy = dot(s, y)
            if sy > 1e-10 * dot(s, s).squareRoot() * dot(y, y).squareRoot() {
                if sList.count == memory { sList.removeFirst(); yList.removeFirst(); rhoList.removeFirst() }
                sList.append(s); yList.append(y); rhoList.append(1 / sy)
            }
            let decrease = (fx - newF) / max(abs(fx), abs(newF), 1)
            theta = newTheta; fx = newF; g = newG
            if decrease <= relativeTolerance { reason = .relativeLossChange; break }
        }
        if reason == .maxIterations && infNorm(g) <= gradientTolerance { reason = .gradientTolerance }
        return Result(parameters: theta, value: fx, gradientInfNorm: infNorm(g), iterations: iterations,
                      evaluations: evals, stopReason: reason)
    }
}

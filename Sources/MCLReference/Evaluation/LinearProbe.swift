/// The linear evaluation protocol (paper Sec. 5.3; Chen et al. 2020): multinomial logistic regression
/// on frozen, standardised representations; a feature is "learned" when its probe accuracy is high.
///
/// Dimension legend: N samples, D features, C classes. Parameters W (C×D, out×in) and b (C).
///
/// Objective (mean softmax cross-entropy plus an L2 penalty on W only):
///
///     z_i = W x_i + b,    L(W, b) = (1/N) Σ_i [ LSE(z_i) − z_{i,y_i} ] + (λ/2) ‖W‖²_F,
///     ∂L/∂W = (1/N) (P − Y)ᵀ X + λ W,    ∂L/∂b = (1/N) Σ_i (p_i − e_{y_i}),
///
/// with P = softmax(Z) row-wise and Y one-hot. λ = 1e-4 by default (bias unpenalised). The objective is
/// strictly convex in W (λ > 0), so the optimum is unique even on separable data.
///
/// Training: W = 0, b = 0, then `LBFGS` (memory 10, Armijo backtracking, ‖∇‖_∞ ≤ 1e-6 or relative loss
/// change ≤ 1e-12, ≤ 500 iterations), all in `Double`. Deterministic.
public enum LinearProbe {
    /// Loss, logits and gradients at (W, b) — one forward and backward pass of the objective above.
    public struct Evaluation<T: MCLFloat>: Sendable {
        /// L(W, b), accumulated in `Double`.
        public var loss: Double
        /// Z = X Wᵀ + b, N×C.
        public var logits: Matrix<T>
        /// ∂L/∂W, C×D.
        public var weightGradient: Matrix<T>
        /// ∂L/∂b, C.
        public var biasGradient: [T]

        @inlinable
        public init(loss: Double, logits: Matrix<T>, weightGradient: Matrix<T>, biasGradient: [T]) {
            self.loss = loss; self.logits = logits
            self.weightGradient = weightGradient; self.biasGradient = biasGradient
        }
    }

    /// Evaluates the objective and its gradient.
    /// - Parameters:
    ///   - weights: W, C×D. bias: b, C values.
    ///   - features: X, N×D (already standardised if the protocol wants it), N ≥ 1.
    ///   - labels: y, N values in 0..<C.
    ///   - l2: λ ≥ 0.
    /// - Returns: loss, logits N×C, dW C×D, db C.
    /// - Complexity: two GEMMs, O(N·D·C). Log-sum-exp and softmax per row in `Double` (max subtracted).
    @inlinable
    public static func lossAndGradient<T: MCLFloat>(
        weights: Matrix<T>, bias: [T], features x: Matrix<T>, labels: [Int], l2: Double
    ) -> Evaluation<T> {
        let n = x.rows, c = weights.rows
        precondition(weights.cols == x.cols, "LinearProbe: W is \(weights.shapeDescription), X is \(x.shapeDescription)")
        precondition(bias.count == c, "LinearProbe: b has \(bias.count) values, W has \(c) rows")
        precondition(labels.count == n, "LinearProbe: \(labels.count) labels for \(n) samples")
        precondition(n >= 1, "LinearProbe: no samples")
        var logits = matmul(x, weights, transB: .transpose)  // N×C
        for i in 0..<n { for j in 0..<c { logits.storage[i * c + j] += bias[j] } }
        // dZ = (P − Y) / N, and the data term of the loss.
        var dz = Matrix<T>(rows: n, cols: c)
        var dataLoss = 0.0
        var db = [Double](repeating: 0, count: c)
        logits.storage.withUnsafeBufferPointer { pz in
            for i in 0..<n {
                let y = labels[i]
                precondition(y >= 0 && y < c, "LinearProbe: label \(y) of sample \(i) outside 0..<\(c)")
                let lse = logSumExp(pz.baseAddress! + i * c, count: c)
                dataLoss += lse - Double(pz[i * c + y])
                for j in 0..<c {
                    let g = (Double.exp(Double(pz[i * c + j]) - lse) - (j == y ? 1 : 0)) / Double(n)
                    dz.storage[i * c + j] = T(g)
                    db[j] += g
                }
            }
        }
        var dw = matmul(dz, x, transA: .transpose)  // C×D
        var penalty = 0.0
        for p in 0..<weights.count {
            let w = Double(weights.storage[p])
            penalty += w * w
            dw.storage[p] = T(Double(dw.storage[p]) + l2 * w)
        }
        return Evaluation(loss: dataLoss / Double(n) + 0.5 * l2 * penalty, logits: logits,
                          weightGradient: dw, biasGradient: db.map { T($0) })
    }

    /// Options of `fit`; the defaults are the protocol's.
    public struct Options: Sendable {
        /// λ of the L2 penalty (default 1e-4).
        public var l2: Double = 1e-4
        /// Standardise features with a `Standardizer` fitted on the training set (default true).
        public var standardize: Bool = true
        /// L-BFGS settings (default memory 10, 500 iterations, gradient tolerance 1e-6).
        public var optimizer: LBFGS = LBFGS()
        public init(l2: Double = 1e-4, standardize: Bool = true, optimizer: LBFGS = LBFGS()) {
            self.l2 = l2
            self.standardize = standardize
            self.optimizer = optimizer
        }
    }

    /// Trains the probe on (`features`, `labels`).
    /// - Parameters:
    ///   - classCount: C; default max(label) + 1.
    /// - Throws: `EvaluationError` for no samples, a label count mismatch, labels outside 0..<C, or
    ///   non-finite features.
    @inlinable
    public static func fit<T: MCLFloat>(
        features: Matrix<T>, labels: [Int], classCount: Int? = nil, options: Options = Options()
    ) throws -> LinearProbeModel {
        guard features.rows >= 1 else { throw EvaluationError("n_samples=0: cannot fit a linear probe") }
        guard labels.count == features.rows else {
            throw EvaluationError("\(labels.count) labels for n_samples=\(features.rows)")
        }
        let c = classCount ?? ((labels.max() ?? 0) + 1)
        if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= c }) {
            throw EvaluationError("label \(labels[bad]) of sample \(bad) is outside 0..<n_classes=\(c)")
        }
        guard features.isFinite else { throw EvaluationError("features contain NaN or infinity") }
        let standardizer = options.standardize ? Standardizer(fitting: features) : nil
        let x = (standardizer?.transform(features.converted(to: Double.self)) ?? features.converted(to: Double.self))
        let d = x.cols
        let result = options.optimizer.minimize([Double](repeating: 0, count: c * d + c)) { theta in
            let w = Matrix<Double>(rows: c, cols: d, storage: Array(theta[0..<(c * d)]))
            let b = Array(theta[(c * d)...])
            let e = lossAndGradient(weights: w, bias: b, features: x, labels: labels, l2: options.l2)
            return (e.loss, e.weightGradient.storage + e.biasGradient)
        }
        return LinearProbeModel(
            weights: Matrix(rows: c, cols: d, storage: Array(result.parameters[0..<(c * d)])),
            bias: Array(result.parameters[(c * d)...]), standardizer: standardizer,
            trainingLoss: result.value, gradientInfNorm: result.gradientInfNorm,
            iterations: result.iterations, stopReason: result.stopReason)
    }
}

/// A trained linear probe: W, b (in `Double`) and the standardiser it was trained behind.
public struct LinearProbeModel: Sendable {
    /// W, C×D (in standardised feature space when `standardizer` is set).
    public let weights: Matrix<Double>
    /// b, C values.
    public let bias: [Double]
    /// The training-set standardiser applied before W, or nil.
    public let standardizer: Standardizer?
    /// Final objective value and ‖∇‖_∞.
    public let trainingLoss: Double
    public let gradientInfNorm: Double
    /// L-BFGS iterations and why it stopped.
    public let iterations: Int
    public let stopReason: LBFGS.StopReason
    public var converged: Bool { stopReason == .gradientTolerance || stopReason == .relativeLossChange }

    @inlinable
    public init(weights: Matrix<Double>, bias: [Double], standardizer: Standardizer?, trainingLoss: Double,
                gradientInfNorm: Double, iterations: Int, stopReason: LBFGS.StopReason) {
        self.weights = weights; self.bias = bias; self.standardizer = standardizer
        self.trainingLoss = trainingLoss; self.gradientInfNorm = gradientInfNorm
        self.iterations = iterations; self.stopReason = stopReason
    }

    /// Z = standardise(X) Wᵀ + b in `Double`.
    /// - Shape: x N×D → N×C.
    @inlinable
    public func logits<T: MCLFloat>(_ x: Matrix<T>) -> Matrix<Double> {
        precondition(x.cols == weights.cols, "LinearProbeModel: x is \(x.shapeDescription), W is \(weights.shapeDescription)")
        let xd = x.converted(to: Double.self)
        var z = matmul(standardizer?.transform(xd) ?? xd, weights, transB: .transpose)
        let c = weights.rows
        for i in 0..<z.rows { for j in 0..<c { z.storage[i * c + j] += bias[j] } }
        return z
    }

    /// argmax_j z_ij (ties → lowest class).
    @inlinable
    public func predict<T: MCLFloat>(_ x: Matrix<T>) -> [Int] { argmaxRows(logits(x)) }

    /// Fraction of rows whose prediction equals the label.
    @inlinable
    public func accuracy<T: MCLFloat>(_ x: Matrix<T>, labels: [Int]) -> Double {
        precondition(labels.count == x.rows, "LinearProbeModel.accuracy: \(labels.count) labels for \(x.rows) rows")
        guard x.rows > 0 else { return 0 }
        let p = predict(x)
        return Double(zip(p, labels).filter { $0 == $1 }.count) / Double(x.rows)
    }
}

/// Index of the largest value of each row (ties → lowest index; NaN never wins).
@inlinable
public func argmaxRows<T: MCLFloat>(_ z: Matrix<T>) -> [Int] {
    (0..<z.rows).map { i in
        var best = 0
        for j in 1..<max(z.cols, 1) where z.storage[i * z.cols + j] > z.storage[i * z.cols + best] { best = j }
        return best
    }
}

/// The result of `linearProbeAccuracy`.
public struct LinearProbeResult: Sendable {
    /// Test accuracy in [0, 1].
    public let accuracy: Double
    /// Training accuracy in [0, 1].
    public let trainAccuracy: Double
    /// The trained probe.
    public let model: LinearProbeModel
    /// Test logits, N_test×C.
    public let testLogits: Matrix<Double>

    @inlinable
    public init(accuracy: Double, trainAccuracy: Double, model: LinearProbeModel, testLogits: Matrix<Double>) {
        self.accuracy = accuracy; self.trainAccuracy = trainAccuracy
        self.model = model; self.testLogits = testLogits
    }
}

/// Linear evaluation: fit `LinearProbe` on the training features, report accuracy on the test set.
/// - Shape: trainX N×D, testX N′×D; labels in 0..<C.
/// - Throws: `EvaluationError` (see `LinearProbe.fit`), or if D differs between the sets.
@inlinable
public func linearProbeAccuracy<T: MCLFloat>(
    trainX: Matrix<T>, trainY: [Int], testX: Matrix<T>, testY: [Int], classCount: Int? = nil,
    options: LinearProbe.Options = LinearProbe.Options()
) throws -> LinearProbeResult {
    guard trainX.cols == testX.cols else {
        throw EvaluationError("train has \(trainX.cols) features but test has \(testX.cols)")
    }
    guard testY.count == testX.rows else { throw EvaluationError("\(testY.count) test labels for \(testX.rows) rows") }
    let c = classCount ?? ((max(trainY.max() ?? 0, testY.max() ?? 0)) + 1)
    let model = try LinearProbe.fit(features: trainX, labels: trainY, classCount: c, options: options)
    let z = model.logits(testX)
    let pred = argmaxRows(z)
    let acc = testX.rows == 0 ? 0 : Double(zip(pred, testY).filter { $0 == $1 }.count) / Double(testX.rows)
    return LinearProbeResult(accuracy: acc, trainAccuracy: model.accuracy(trainX, labels: trainY),
                             model: model, testLogits: z)
}

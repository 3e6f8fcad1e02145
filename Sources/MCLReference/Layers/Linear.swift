/// Fully connected layer, PyTorch's `nn.Linear`.
///
/// Dimension legend: B batch, D input features, H output features.
///
///     forward:   y = x·Wᵀ + 1·bᵀ                    (x B×D, W H×D, b H, y B×H)
///     backward:  dx = dy·W,  dW = dyᵀ·x,  db = Σ_rows dy
///
/// The weight is stored out×in (H×D) as in PyTorch, so state dicts load without transposition; the
/// product with Wᵀ is a GEMM with `transB`, never a materialised transpose.
public struct Linear<T: MCLFloat>: Equatable, Sendable {
    /// W, H×D (PyTorch `weight`).
    public var weight: Matrix<T>
    /// b, H (PyTorch `bias`).
    public var bias: [T]

    @inlinable public var inFeatures: Int { weight.cols }
    @inlinable public var outFeatures: Int { weight.rows }

    /// A layer with the given parameters.
    /// - Shape: weight H×D, bias H.
    @inlinable public init(weight: Matrix<T>, bias: [T]) {
        precondition(bias.count == weight.rows,
                     "Linear: bias has \(bias.count) elements, weight is \(weight.shapeDescription) (H×D)")
        self.weight = weight
        self.bias = bias
    }

    /// PyTorch's default initialisation: `kaiming_uniform_(a = √5)` on W, which is U(−1/√D, 1/√D), and
    /// the same U(−1/√D, 1/√D) on b. W is drawn first, row by row, then b. (The distribution matches
    /// PyTorch; the random stream is ours, so values do not.)
    @inlinable public init(inFeatures d: Int, outFeatures h: Int, rng: inout RNG) {
        precondition(d > 0 && h > 0, "Linear: inFeatures=\(d) and outFeatures=\(h) must be positive")
        let bound = T(1.0 / Double(d).squareRoot())
        let w: Matrix<T> = rng.uniformMatrix(h, d, -bound, bound)
        let b: [T] = (0..<h).map { _ in rng.uniform(-bound, bound) }
        self.init(weight: w, bias: b)
    }

    /// What backward needs: the input x (for dW = dyᵀ·x).
    public struct Cache: Sendable {
        public let input: Matrix<T>
        @inlinable public init(input: Matrix<T>) { self.input = input }
    }

    /// Gradients of the loss, field for field like the parameters.
    public struct Gradients: Equatable, Sendable {
        public var weight: Matrix<T>
        public var bias: [T]
        @inlinable public init(weight: Matrix<T>, bias: [T]) { self.weight = weight; self.bias = bias }
    }

    /// y = x·Wᵀ + b.
    /// - Shape: x B×D → y B×H.
    @inlinable public func forward(_ x: Matrix<T>) -> (output: Matrix<T>, cache: Cache) {
        precondition(x.cols == inFeatures,
                     "Linear.forward: x is \(x.shapeDescription), expected B×\(inFeatures)")
        // y starts as B copies of b and the GEMM adds x·Wᵀ to it (β = 1): one pass over y, not two.
        let h = outFeatures
        let rows = bias.withUnsafeBufferPointer { pb in
            [T](unsafeUninitializedCapacity: x.rows * h) { py, count in
                for i in 0..<x.rows { (py.baseAddress! + i * h).initialize(from: pb.baseAddress!, count: h) }
                count = x.rows * h
            }
        }
        var y = Matrix<T>(rows: x.rows, cols: h, storage: rows)
        gemm(x, weight, transB: .transpose, beta: 1, into: &y, threads: stepGEMMThreads(m: x.rows, n: h, k: inFeatures))
        return (y, Cache(input: x))
    }

    /// dx = dy·W, dW = dyᵀ·x, db = column sums of dy.
    /// - Shape: dy B×H → dx B×D, dW H×D, db H.
    @inlinable public func backward(_ dOut: Matrix<T>, _ cache: Cache) -> (dInput: Matrix<T>, gradients: Gradients) {
        precondition(dOut.rows == cache.input.rows && dOut.cols == outFeatures,
                     "Linear.backward: dy is \(dOut.shapeDescription), expected \(cache.input.rows)×\(outFeatures)")
        let threads = stepGEMMThreads(m: dOut.rows, n: outFeatures, k: inFeatures)  // both products have B·H·D terms
        let dx = matmul(dOut, weight, threads: threads)
        let dW = matmul(dOut, cache.input, transA: .transpose, threads: threads)
        return (dx, Gradients(weight: dW, bias: columnSums(dOut)))
    }
}

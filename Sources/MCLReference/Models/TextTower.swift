/// CLIP's text tower, as small as it can be while still reading words: a token embedding, a mean over
/// the caption's non-padding tokens, then an MLP.
///
/// Dimension legend: B captions, L caption length (tokens, 0 = padding), V vocabulary, W word
/// embedding width, H hidden width, E output (joint embedding) width.
///
///     forward:   u_b = (1/n_b)·Σ_{l : t_bl ≠ 0} Emb[t_bl]        (n_b = non-padding tokens, ≥ 1 assumed;
///                                                               an all-padding caption gives u_b = 0)
///                y = Linear(H, E)(ReLU(Linear(W, H)(u)))         (u B×W, y B×E)
///     backward:  du = MLP backward of dy;   dEmb[v] = Σ_{b,l : t_bl = v ≠ 0} du_b / n_b
///
/// The embedding gradient is a scatter-add, summed in a fixed order (captions b = 0, 1, …, then
/// positions l = 0, 1, …), so it is bit-identical on every run. Row 0 (padding) never receives a
/// gradient and never contributes to u. Why mean pooling and an MLP: the captions of the built-in
/// paired data name one value per attribute, so word order carries nothing a bag of words misses; a
/// transformer would only add cost (the paper's text tower is locked after pretraining anyway).
///
/// Parameters by position (Models/Parameters.swift): 0 the embedding V×W (`embedding.weight`, PyTorch
/// `nn.Embedding`), then the MLP's Linear weights and biases (`mlp.<i>.weight`, `mlp.<i>.bias`).
public struct TextTower<T: MCLFloat>: Equatable, Sendable {
    /// Emb, V×W; row v is the vector of token v (row 0 = padding, unused).
    public var embedding: Matrix<T>
    /// Linear(W, H) → ReLU → Linear(H, E).
    public var mlp: Sequential<T>

    @inlinable public var vocabularySize: Int { embedding.rows }
    @inlinable public var outputWidth: Int { mlp.parameterTensors.last?.count ?? embedding.cols }

    /// A tower with the given parameters.
    /// - Shape: embedding V×W; mlp W → E.
    @inlinable public init(embedding: Matrix<T>, mlp: Sequential<T>) {
        precondition(embedding.rows >= 2 && embedding.cols >= 1,
                     "TextTower: embedding is \(embedding.shapeDescription), expected V×W with V ≥ 2")
        self.embedding = embedding
        self.mlp = mlp
    }

    /// Emb ~ N(0, 1) (PyTorch's `nn.Embedding` default), drawn row by row; then the MLP's Linear layers
    /// with PyTorch's default initialisation, first then second.
    @inlinable public init(vocabularySize v: Int, wordWidth w: Int, hiddenWidth h: Int, outputWidth e: Int, rng: inout RNG) {
        precondition(v >= 2 && w > 0 && h > 0 && e > 0, "TextTower: V=\(v) (≥ 2), W=\(w), H=\(h), E=\(e) (> 0)")
        var emb = Matrix<T>(rows: v, cols: w)
        for k in 0..<emb.count { emb.storage[k] = T(rng.normal()) }
        let mlp = Sequential<T>([.linear(Linear(inFeatures: w, outFeatures: h, rng: &rng)), .relu(ReLU()),
                                 .linear(Linear(inFeatures: h, outFeatures: e, rng: &rng))])
        self.init(embedding: emb, mlp: mlp)
    }

    /// What backward needs: the token ids (for the scatter-add), each caption's count n_b, and the MLP's cache.
    public struct Cache: Sendable {
        public let tokens: [[Int]]
        public let counts: [Int]
        public let mlp: Sequential<T>.Cache
        @inlinable public init(tokens: [[Int]], counts: [Int], mlp: Sequential<T>.Cache) {
            self.tokens = tokens; self.counts = counts; self.mlp = mlp
        }
    }

    /// Gradients field for field like the parameters.
    public struct Gradients: Equatable, Sendable {
        /// dEmb, V×W.
        public var embedding: Matrix<T>
        public var mlp: Sequential<T>.Gradients
        @inlinable public init(embedding: Matrix<T>, mlp: Sequential<T>.Gradients) { self.embedding = embedding; self.mlp = mlp }
    }

    /// The mean of each caption's non-padding token vectors.
    /// - Shape: tokens B×L (ids in 0..<V) → u B×W, counts B.
    @inlinable public func pool(_ tokens: [[Int]]) -> (pooled: Matrix<T>, counts: [Int]) {
        let w = embedding.cols
        var u = Matrix<T>(rows: tokens.count, cols: w)
        var counts = [Int](repeating: 0, count: tokens.count)
        for (b, caption) in tokens.enumerated() {
            var sum = [Double](repeating: 0, count: w)
            for t in caption where t != 0 {
                precondition(t > 0 && t < vocabularySize, "TextTower: token id \(t) in caption \(b) is outside 0..<\(vocabularySize)")
                for c in 0..<w { sum[c] += Double(embedding[t, c]) }
                counts[b] += 1
            }
            let n = Double(max(counts[b], 1))
            for c in 0..<w { u[b, c] = T(sum[c] / n) }
        }
        return (u, counts)
    }

    /// y = MLP(mean of the token vectors). The MLP has no BatchNorm, so `mode` only matters for
    /// consistency with the image tower.
    /// - Shape: tokens B×L → y B×E.
    @inlinable public func forward(_ tokens: [[Int]]) -> (output: Matrix<T>, cache: Cache) {
        precondition(!tokens.isEmpty, "TextTower.forward: no captions")
        let (u, counts) = pool(tokens)
        var mlp = self.mlp
        let (y, c) = mlp.forward(u, mode: .train)
        return (y, Cache(tokens: tokens, counts: counts, mlp: c))
    }

    /// dEmb by scatter-add of du_b / n_b into the rows of the caption's tokens; the MLP's gradients.
    /// - Shape: dy B×E → dEmb V×W.
    @inlinable public func backward(_ dOut: Matrix<T>, _ cache: Cache) -> Gradients {
        precondition(dOut.rows == cache.tokens.count, "TextTower.backward: dy is \(dOut.shapeDescription), expected \(cache.tokens.count)×E")
        let (du, gm) = mlp.backward(dOut, cache.mlp)
        let w = embedding.cols
        var dEmb = Matrix<T>(rows: embedding.rows, cols: w)
        for (b, caption) in cache.tokens.enumerated() {
            let inv = 1 / T(max(cache.counts[b], 1))
            for t in caption where t != 0 {
                for c in 0..<w { dEmb[t, c] += du[b, c] * inv }
            }
        }
        return Gradients(embedding: dEmb, mlp: gm)
    }

    // MARK: Parameters by position

    /// The embedding, then the MLP's tensors.
    @inlinable public var parameterTensors: [[T]] { [embedding.storage] + mlp.parameterTensors }

    /// Gradients in the order of `parameterTensors`.
    @inlinable public static func gradientTensors(_ g: Gradients) -> [[T]] {
        [g.embedding.storage] + Sequential<T>.gradientTensors(g.mlp)
    }

    /// `<prefix>embedding.weight`, then `<prefix>mlp.<i>.<field>`.
    @inlinable public func namedParameters(prefix: String = "") -> NamedMatrices<T> {
        [("\(prefix)embedding.weight", embedding)] + mlp.namedParameters(prefix: "\(prefix)mlp.")
    }

    /// Calls `body(position, &storage)` on each tensor, positions counted from `offset`.
    /// - Returns: the position after the last tensor.
    @discardableResult
    @inlinable public mutating func updateParameters(from offset: Int, _ body: (Int, inout [T]) -> Void) -> Int {
        body(offset, &embedding.storage)
        return mlp.updateParameters(from: offset + 1, body)
    }
}

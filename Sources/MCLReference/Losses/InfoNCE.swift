/// The one contrastive core that NT-Xent (paper Eq. 1), its feature-aware masked form (Eq. 3), MoCo
/// and CLIP are thin wrappers around.
///
/// Dimension legend: N anchors, M keys (columns), D embedding width.
///
/// Given L2-normalised anchors Q (N×D) and keys K (M×D), a temperature τ, a positive column p(i) per
/// anchor and an admissibility mask A (N×M) over columns:
///
///     logits = Q·Kᵀ/τ,   masked:  ℓ_ij = logits_ij if A_ij, −∞ otherwise
///     loss_i = −ℓ_{i,p(i)} + log Σ_j exp(ℓ_ij)          (positive in the denominator, as SimCLR)
///     loss   = (1/N)·Σ_i loss_i
///
/// Gradients, with S = rowwise softmax(ℓ) (zero on masked columns) and P the one-hot of p:
///
///     dℓ = (S − P)/N,   dQ = dℓ·K/τ,   dK = dℓᵀ·Q/τ
///
/// The positive column is always admissible, whatever the mask says. The log-sum-exp subtracts the
/// row maximum (one fused pass per row gives the loss and S), so logits of ±1/τ at τ = 0.01 or masked
/// −∞ entries stay finite. `kernel: .reference` does that pass in Double with libm `exp`; `.fast`
/// (the default) does it for Float32 input with the vectorised `fastExp` (Numerics/FastExp.swift) and
/// sums in Double — the two agree to ~1e-6 relative (LossTests.testInfoNCEFastRowMatchesReference);
/// Double input, and the debiased variant, always take the reference pass.
/// An anchor with no admissible negative has loss exactly 0 and zero gradient.
///
/// Two options change the loss without changing the layout (InfoNCEVariant.swift):
/// - `shift` ε (IFM, Losses/IFM.swift): before dividing by τ, the positive's cosine is lowered by ε and
///   every admissible negative's raised by ε; the gradient formula above is unchanged (ε is a constant).
/// - `debiasedPrior` τ⁺ (DCL, Losses/DebiasedContrastive.swift): the negative sum is replaced by the
///   debiased estimate with its clamp; each row's loss and dℓ come from `DebiasedContrastive.row`.
///
/// Complexity: two N×M×D GEMMs forward (one here), plus two for the gradients; O(N·M) memory.
public enum InfoNCE {
    /// Loss, its parts and the gradients w.r.t. both inputs of the core.
    public struct Output<T: MCLFloat>: Sendable {
        /// Mean over anchors.
        public var loss: T
        /// loss_i per anchor, N.
        public var perAnchorLoss: [T]
        /// Admissible columns other than the positive, per anchor, N.
        public var admissibleNegatives: [Int]
        /// dL/dQ, N×D.
        public var dAnchors: Matrix<T>
        /// dL/dK, M×D.
        public var dKeys: Matrix<T>
        @inlinable public init(loss: T, perAnchorLoss: [T], admissibleNegatives: [Int], dAnchors: Matrix<T>, dKeys: Matrix<T>) {
            self.loss = loss; self.perAnchorLoss = perAnchorLoss; self.admissibleNegatives = admissibleNegatives
            self.dAnchors = dAnchors; self.dKeys = dKeys
        }
    }

    /// Which key columns enter each anchor's denominator.
    public struct Mask: Equatable, Sendable {
        public let rows: Int
        public let cols: Int
        /// Row-major N×M; true = admissible.
        public var storage: [Bool]

        @inlinable public init(rows: Int, cols: Int, repeating value: Bool = true) {
            self.rows = rows; self.cols = cols
            storage = [Bool](repeating: value, count: rows * cols)
        }

        @inlinable public subscript(i: Int, j: Int) -> Bool {
            get { storage[i * cols + j] }
            set { storage[i * cols + j] = newValue }
        }

        /// The usual mask: column j is admissible for anchor i unless j == excludedColumns[i] (the
        /// anchor itself), and — when labels are given (paper Eq. 3, feature-aware negative
        /// sampling) — unless keyLabels[j] ≠ anchorLabels[i].
        /// - Shape: excludedColumns N (nil = none), anchorLabels N, keyLabels M → N×M.
        @inlinable public static func make(anchors n: Int, keys m: Int, excludedColumns: [Int?]? = nil,
                                           anchorLabels: [Int]? = nil, keyLabels: [Int]? = nil) -> Mask {
            precondition((anchorLabels == nil) == (keyLabels == nil),
                         "InfoNCE.Mask: give both anchorLabels and keyLabels or neither")
            if let a = anchorLabels { precondition(a.count == n, "InfoNCE.Mask: \(a.count) anchor labels for N=\(n)") }
            if let k = keyLabels { precondition(k.count == m, "InfoNCE.Mask: \(k.count) key labels for M=\(m)") }
            if let e = excludedColumns { precondition(e.count == n, "InfoNCE.Mask: \(e.count) excluded columns for N=\(n)") }
            var mask = Mask(rows: n, cols: m)
            for i in 0..<n {
                if let a = anchorLabels, let k = keyLabels {
                    for j in 0..<m where k[j] != a[i] { mask[i, j] = false }
                }
                if let e = excludedColumns?[i] { mask[i, e] = false }
            }
            return mask
        }
    }

    /// The core loss and gradients (see the type's doc comment).
    /// - Shape: anchors N×D, keys M×D, positives N, mask N×M → dAnchors N×D, dKeys M×D.
    @inlinable public static func loss<T: MCLFloat>(anchors q: Matrix<T>, keys k: Matrix<T>, positives: [Int],
                                                    mask: Mask, temperature tau: T, shift: T = 0,
                                                    debiasedPrior: Double? = nil, kernel: Kernel = .fast) -> Output<T> {
        let n = q.rows, m = k.rows
        precondition(q.cols == k.cols, "InfoNCE: anchors \(q.shapeDescription) and keys \(k.shapeDescription) differ in D")
        precondition(positives.count == n, "InfoNCE: \(positives.count) positives for N=\(n) anchors")
        precondition(mask.rows == n && mask.cols == m, "InfoNCE: mask \(mask.rows)×\(mask.cols), expected \(n)×\(m)")
        precondition(tau > 0, "InfoNCE: temperature must be positive, got \(tau)")
        precondition(n > 0, "InfoNCE: no anchors")
        // Outputs of a GEMM with β = 0 are not zeroed first: the GEMM writes every element without reading it.
        func gemmOutput(_ r: Int, _ c: Int) -> Matrix<T> {
            Matrix(rows: r, cols: c, storage: [T](unsafeUninitializedCapacity: r * c) { _, count in count = r * c })
        }
        var logits = gemmOutput(n, m)
        let threads = stepGEMMThreads(m: n, n: m, k: q.cols)   // all three products have N·M·D terms
        gemm(q, k, transB: .transpose, alpha: 1 / tau, into: &logits, threads: threads)
        if shift != 0 {
            // IFM: cos − ε on the positive, cos + ε elsewhere (masked columns become −∞ below anyway).
            let up = shift / tau
            for i in 0..<n {
                for j in 0..<m { logits[i, j] += up }
                logits[i, positives[i]] -= 2 * up
            }
        }
        var negatives = [Int](repeating: 0, count: n)
        for (i, p) in positives.enumerated() {
            precondition(p >= 0 && p < m, "InfoNCE: positive column \(p) of anchor \(i) out of range for M=\(m)")
        }
        // Inadmissible columns (except the positive) become −∞ (written only where the mask is false).
        mask.storage.withUnsafeBufferPointer { pm in
            logits.storage.withUnsafeMutableBufferPointer { pl in
                for i in 0..<n {
                    let p = positives[i], base = i &* m
                    var admissible = 0
                    for j in 0..<m {
                        let keep = pm[base &+ j]
                        admissible &+= keep ? 1 : 0
                        if !keep && j != p { pl[base &+ j] = -.infinity }
                    }
                    negatives[i] = admissible - (pm[base &+ p] ? 1 : 0)
                }
            }
        }
        // One pass per row: μ = max_j ℓ_ij, e_j = exp(ℓ_ij − μ), s = Σ_j e_j, loss_i = μ + log s − ℓ_{i,p(i)},
        // and dℓ·N = S − P with S_ij = e_j / s (one exp per logit), written over the row's logits once
        // the row has been read (g below is the logits' storage).
        // - reference (and every Double call): in Double with libm exp; S_{i,p} − 1 is formed in
        //   Double, which keeps 1 − p accurate when the positive saturates.
        // - fast (Float32, plain or IFM): μ and e_j in Float with `fastExp` (relative error ≤ 2⁻²¹,
        //   FastExp.swift), s, the loss and S_{i,p} − 1 in Double. A row whose sum is not finite and
        //   positive (NaN logits) is redone by the reference. FastExpTests bound the difference.
        // Rows are independent: blocks of rows run in parallel, each row in one fixed order, and the
        // mean is summed over rows in index order afterwards — the same bits for any thread count.
        var lossPerAnchor = [Double](repeating: 0, count: n)
        let admissibleCounts = negatives
        let fast = kernel == .fast && T.self == Float.self && debiasedPrior == nil
        let rowsPerBlock = 32
        // The fast row costs ~1–2 ns per logit: split over workers only from 2¹⁹ logits (B ≥ 362 in
        // NT-Xent), where half the pass is ≥ 0.3 ms — more than a worker's wake-up even under load.
        let parallelFrom = fast ? 1 << 19 : 1 << 16
        logits.storage.withUnsafeMutableBufferPointer { pg in
            lossPerAnchor.withUnsafeMutableBufferPointer { pLoss in
                let (pg, pLoss) = (pg, pLoss)
                Parallel.forEach((n + rowsPerBlock - 1) / rowsPerBlock, threads: m * n >= parallelFrom ? Parallel.maxThreads : 1) { block in
                    let e = UnsafeMutablePointer<Double>.allocate(capacity: m)
                    defer { e.deallocate() }
                    for i in (block * rowsPerBlock)..<Swift.min(n, (block + 1) * rowsPerBlock) {
                        let out = pg.baseAddress! + i &* m
                        let p = positives[i]
                        if fast {
                            let row = UnsafeMutableRawPointer(out).assumingMemoryBound(to: Float.self)
                            if let l = fastSoftmaxRow(row, count: m, positive: p, scratch: e) {
                                pLoss[i] = l
                                continue
                            }
                        }
                        var mu = -Double.infinity
                        for j in 0..<m { mu = Swift.max(mu, Double(out[j])) }
                        var sum = 0.0
                        for j in 0..<m {
                            let v = Double.exp(Double(out[j]) - mu)
                            e[j] = v
                            sum += v
                        }
                        let positiveLogit = Double(out[p])
                        if let tauPlus = debiasedPrior {
                            pLoss[i] = DebiasedContrastive.row(e: e, count: m, positive: p, maxLogit: mu,
                                                               positiveLogit: positiveLogit, negatives: admissibleCounts[i],
                                                               tauPlus: tauPlus, temperature: Double(tau), gradient: out)
                            continue
                        }
                        pLoss[i] = mu + Double.log(sum) - positiveLogit
                        let inverse = 1 / sum
                        for j in 0..<m { out[j] = T(e[j] * inverse) }
                        out[p] = T(e[p] * inverse - 1)
                    }
                }
            }
        }
        let g = logits
        var total = 0.0
        for l in lossPerAnchor { total += l }
        let perAnchor = lossPerAnchor.map { T($0) }
        let alpha = 1 / (T(n) * tau)
        var dQ = gemmOutput(n, q.cols)
        gemm(g, k, alpha: alpha, into: &dQ, threads: threads)
        // dK = dℓᵀ·Q is computed as (Qᵀ·dℓ)ᵀ: the GEMM then reads dℓ row by row instead of gathering
        // its columns (a power-of-two N makes that gather thrash the cache: B = 256 took 4× B = 192).
        // Each element is the same dot product over the N anchors, in the same order.
        var dKt = gemmOutput(k.cols, m)
        gemm(q, g, transA: .transpose, alpha: alpha, into: &dKt, threads: threads)
        let dK = dKt.transposed()
        return Output(loss: T(total / Double(n)), perAnchorLoss: perAnchor, admissibleNegatives: negatives,
                      dAnchors: dQ, dKeys: dK)
    }

    /// The fast row of `loss`: softmax of one Float32 row of logits in place, minus 1 at `positive`,
    /// returning loss_i = μ + log Σ_j e_j − ℓ_p — or nil, with the row untouched, when Σ_j e_j is
    /// not finite and positive (NaN logits), so that the caller redoes the row by the reference.
    /// `scratch` holds at least `count` Doubles (used as `count` Floats). μ must be finite, which
    /// holds because the positive column is never masked.
    /// - Shape: row count.
    @inlinable static func fastSoftmaxRow(_ row: UnsafeMutablePointer<Float>, count m: Int, positive p: Int,
                                          scratch: UnsafeMutablePointer<Double>) -> Double? {
        var maxima = SIMD8<Float>(repeating: -.infinity)
        var j = 0
        while j &+ 8 <= m {
            let v = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self)
            maxima = maxima.replacing(with: v, where: v .> maxima)   // (the generic pointwiseMax is not inlined)
            j &+= 8
        }
        var mu = maxima.max()
        while j < m { mu = Swift.max(mu, row[j]); j &+= 1 }
        guard mu.isFinite else { return nil }
        let e = UnsafeMutableRawPointer(scratch).assumingMemoryBound(to: Float.self)
        let sum = fastExpShiftedSum(row, count: m, shift: mu, into: e)
        guard sum.isFinite && sum > 0 else { return nil }
        let loss = Double(mu) + Double.log(sum) - Double(row[p])
        let inverse = 1 / sum, inverseF = Float(inverse)
        for j in 0..<m { row[j] = e[j] * inverseF }
        row[p] = Float(Double(e[p]) * inverse - 1)
        return loss
    }
}

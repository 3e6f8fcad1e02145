import Foundation

/// One MMVP-style pair: two test images (`first < second`, row indices of the test set) that have
/// the same value of every attribute but `attribute`.
public struct MMVPPair: Hashable, Sendable {
    public var first: Int
    public var second: Int
    public var attribute: Int
    public init(first: Int, second: Int, attribute: Int) {
        self.first = first; self.second = second; self.attribute = attribute
    }
}

/// An MMVP-style test (Tong et al. 2024, "Eyes wide shut?"; the paper's Sec. 4 and Tab. 3) on a
/// labelled test set: "CLIP-blind" pairs — images the pretrained image tower sees as nearly the
/// same but that differ in one attribute — and MMVP's pair accuracy.
///
/// Legend: N test images, E embedding width, F attributes, P pairs.
///
/// Pure functions of embeddings and similarity matrices: the caller encodes images and captions.
public enum MMVP {
    /// The "CLIP-blind" pairs among N test images.
    ///
    /// A candidate is an unordered pair {i, j}, i < j, whose labels agree on every attribute but
    /// exactly one, a, and whose image embeddings have cosine cos(e_i, e_j) ≥ `threshold` (rows are
    /// L2-normalised here; a zero row has cosine 0 with everything). For each attribute, the
    /// candidates are listed in order of (i, j), shuffled with `RNG(seed: seed, stream: a)`, and the
    /// first `maxPerAttribute` are kept — so the choice depends only on the seed, not on the thread
    /// count or on the other attributes. An image may occur in several pairs.
    ///
    /// - Parameters:
    ///   - imageEmbeddings: N×E, the pretrained (stage-0) image tower's embeddings of the test images
    ///     (any scale).
    ///   - labels: F arrays of N attribute values (`LabeledData.labels`).
    ///   - threshold: the least cosine of a pair, in [−1, 1].
    ///   - maxPerAttribute: at most this many pairs per attribute (≥ 0).
    /// - Returns: the pairs, attribute by attribute, each attribute's in order of (first, second).
    /// - Complexity: O(N²·(F + E)).
    public static func pairs<T: MCLFloat>(imageEmbeddings: Matrix<T>, labels: [[Int]], threshold: Double,
                                          maxPerAttribute: Int, seed: UInt64) -> [MMVPPair] {
        let n = imageEmbeddings.rows, e = imageEmbeddings.cols
        for (a, l) in labels.enumerated() {
            precondition(l.count == n, "MMVP.pairs: attribute \(a) has \(l.count) labels for \(n) embeddings")
        }
        precondition(maxPerAttribute >= 0, "MMVP.pairs: maxPerAttribute=\(maxPerAttribute) must be ≥ 0")
        precondition(threshold.isFinite, "MMVP.pairs: threshold \(threshold) must be finite")
        // Unit rows in Double (a zero row stays zero).
        var unit = [Double](repeating: 0, count: n * e)
        for i in 0..<n {
            var ss = 0.0
            for k in 0..<e { let v = Double(imageEmbeddings[i, k]); ss += v * v }
            let norm = ss.squareRoot()
            guard norm > 0 else { continue }
            for k in 0..<e { unit[i * e + k] = Double(imageEmbeddings[i, k]) / norm }
        }
        var candidates = [[MMVPPair]](repeating: [], count: labels.count)
        for i in 0..<n {
            for j in (i + 1)..<max(i + 1, n) {
                var differing = -1, count = 0
                for a in labels.indices where labels[a][i] != labels[a][j] {
                    differing = a; count += 1
                    if count > 1 { break }
                }
                guard count == 1 else { continue }
                var dot = 0.0
                for k in 0..<e { dot += unit[i * e + k] * unit[j * e + k] }
                if dot >= threshold { candidates[differing].append(MMVPPair(first: i, second: j, attribute: differing)) }
            }
        }
        var result: [MMVPPair] = []
        for (a, list) in candidates.enumerated() {
            var rng = RNG(seed: seed, stream: UInt64(a))
            let chosen = rng.permutation(list.count).prefix(maxPerAttribute).sorted()
            result += chosen.map { list[$0] }
        }
        return result
    }

    /// MMVP's pair accuracy: a pair (i, j) is correct iff **both** images are matched to their own
    /// statement, S[i,i] > S[i,j] and S[j,j] > S[j,i], where S[a,b] is the similarity of image a with
    /// image b's caption. Comparisons are strict, so a tie (or a NaN) counts as wrong: an image that
    /// cannot tell the two statements apart has not matched its own. A model guessing at random gets
    /// a pair right with probability ½·½ = 25 % (chance).
    ///
    /// - Parameters:
    ///   - similarity: N×N, image (row) vs caption (column) over the test set.
    ///   - attributeCount: F, the length of `perAttribute`.
    /// - Returns: percentages — `overall` over all pairs (each pair counts once; NaN when there is
    ///   no pair), `perAttribute[a]` over the pairs of attribute a (nil when it has none).
    public static func accuracy<T: MCLFloat>(pairs: [MMVPPair], similarity: Matrix<T>, attributeCount: Int)
        -> (overall: Double, perAttribute: [Double?]) {
        precondition(similarity.rows == similarity.cols,
                     "MMVP.accuracy: similarity is \(similarity.shapeDescription), expected N×N (images × their captions)")
        precondition(attributeCount >= 0, "MMVP.accuracy: attributeCount=\(attributeCount) must be ≥ 0")
        var correct = [Int](repeating: 0, count: attributeCount), total = [Int](repeating: 0, count: attributeCount)
        for p in pairs {
            precondition(p.attribute >= 0 && p.attribute < attributeCount,
                         "MMVP.accuracy: pair attribute \(p.attribute) outside 0..<\(attributeCount)")
            precondition(p.first >= 0 && p.first < similarity.rows && p.second >= 0 && p.second < similarity.rows,
                         "MMVP.accuracy: pair (\(p.first), \(p.second)) outside 0..<\(similarity.rows)")
            let i = p.first, j = p.second
            let ok = similarity[i, i] > similarity[i, j] && similarity[j, j] > similarity[j, i]
            total[p.attribute] += 1
            if ok { correct[p.attribute] += 1 }
        }
        let all = total.reduce(0, +)
        let overall = all == 0 ? Double.nan : 100 * Double(correct.reduce(0, +)) / Double(all)
        let perAttribute: [Double?] = (0..<attributeCount).map { a in
            total[a] == 0 ? nil : 100 * Double(correct[a]) / Double(total[a])
        }
        return (overall, perAttribute)
    }
}

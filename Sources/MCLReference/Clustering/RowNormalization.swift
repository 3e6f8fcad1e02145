/// Row-wise L2 normalisation, x_i ← x_i / ‖x_i‖₂.
///
/// The official MCL code L2-normalises every representation before K-means (official-code-notes §1),
/// so clustering groups directions, as cosine similarity does. The norm is accumulated in `Double`;
/// a row whose norm is 0 (or not finite) is left unchanged (there is no direction to keep).
/// - Shape: x M×D → M×D.
/// - Complexity: O(M·D).
@inlinable
public func l2NormalizedRows<T: MCLFloat>(_ x: Matrix<T>) -> Matrix<T> {
    var out = x
    let d = x.cols
    for i in 0..<x.rows {
        var s = 0.0
        for j in 0..<d { let v = Double(x.storage[i * d + j]); s += v * v }
        let norm = s.squareRoot()
        guard norm > 0, norm.isFinite else { continue }
        for j in 0..<d { out.storage[i * d + j] = T(Double(x.storage[i * d + j]) / norm) }
    }
    return out
}

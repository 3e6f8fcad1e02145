/// Numerically stable row-wise log-sum-exp, softmax and log-softmax.
///
/// For a row x: LSE(x) = m + log Σ_j exp(x_j − m) with m = max_j x_j. Subtracting the maximum keeps
/// every exponent ≤ 0, so nothing overflows at logits of ±1e4, and −∞ entries contribute exp(−∞) = 0
/// (they act as masked-out columns). A row whose entries are all −∞ has LSE = −∞ and a softmax of
/// all zeros (no column is admissible), never NaN. Sums are accumulated in `Double`.

/// Row-wise log Σ_j exp(x[i, j]).
/// - Shape: x N×C → N.
@inlinable
public func logSumExpRows<T: MCLFloat>(_ x: Matrix<T>) -> [T] {
    var out = [T](repeating: 0, count: x.rows)
    x.storage.withUnsafeBufferPointer { p in
        for i in 0..<x.rows {
            out[i] = T(logSumExp(p.baseAddress! + i * x.cols, count: x.cols))
        }
    }
    return out
}

/// log Σ exp over `count` contiguous values, in Double, max subtracted; −∞ when all are −∞ or count = 0.
@inlinable
public func logSumExp<T: MCLFloat>(_ p: UnsafePointer<T>, count: Int) -> Double {
    var m = -Double.infinity
    for j in 0..<count { m = Swift.max(m, Double(p[j])) }
    if m == -.infinity { return -.infinity }
    if m == .infinity { return .infinity }
    var s = 0.0
    for j in 0..<count { s += Double.exp(Double(p[j]) - m) }
    return m + Double.log(s)
}

/// Row-wise softmax: exp(x_ij − LSE_i). Rows of all −∞ give zeros.
/// - Shape: x N×C → N×C.
@inlinable
public func softmaxRows<T: MCLFloat>(_ x: Matrix<T>) -> Matrix<T> {
    var out = x
    let lse = logSumExpRows(x)
    for i in 0..<x.rows {
        let l = Double(lse[i])
        for j in 0..<x.cols {
            let v = Double(x.storage[i * x.cols + j])
            out.storage[i * x.cols + j] = l == -.infinity ? 0 : T(Double.exp(v - l))
        }
    }
    return out
}

/// Row-wise log-softmax: x_ij − LSE_i (−∞ stays −∞).
/// - Shape: x N×C → N×C.
@inlinable
public func logSoftmaxRows<T: MCLFloat>(_ x: Matrix<T>) -> Matrix<T> {
    var out = x
    let lse = logSumExpRows(x)
    for i in 0..<x.rows {
        for j in 0..<x.cols {
            let v = x.storage[i * x.cols + j]
            out.storage[i * x.cols + j] = v == -.infinity ? -.infinity : T(Double(v) - Double(lse[i]))
        }
    }
    return out
}

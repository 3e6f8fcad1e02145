/// Named tensors in PyTorch `state_dict` style: an ordered list of (dotted name, matrix), e.g.
/// `encoder.0.weight`, `encoder.1.running_mean`, `head.3.bias`. Vectors (biases, BatchNorm γ, β and
/// running statistics) are 1×n matrices; the scalar `num_batches_tracked` is a 1×1 matrix.
public typealias NamedMatrices<T: MCLFloat> = [(name: String, value: Matrix<T>)]

/// Why a named list could not be loaded. Messages name the offending entries.
public enum StateLoadingError: Error, Equatable, CustomStringConvertible {
    case missing([String])
    case unexpected([String])
    case shapeMismatch(name: String, expected: String, got: String)
    case duplicate(String)

    public var description: String {
        switch self {
        case .missing(let n): return "missing entries: \(n.joined(separator: ", "))"
        case .unexpected(let n): return "unexpected entries: \(n.joined(separator: ", "))"
        case .shapeMismatch(let n, let e, let g): return "\(n): expected shape \(e), got \(g)"
        case .duplicate(let n): return "duplicate entry \(n)"
        }
    }
}

/// Looks entries up by name; all `expected` must be present, and with `strict` every name must be in `allowed`.
@inlinable func _dictionary<T: MCLFloat>(
    _ list: NamedMatrices<T>, expected: [String], allowed: Set<String>, strict: Bool
) throws -> [String: Matrix<T>] {
    var dict = [String: Matrix<T>]()
    for (name, value) in list {
        if dict[name] != nil { throw StateLoadingError.duplicate(name) }
        dict[name] = value
    }
    let missing = expected.filter { dict[$0] == nil }
    if !missing.isEmpty { throw StateLoadingError.missing(missing) }
    if strict {
        let extra = list.map { $0.name }.filter { !allowed.contains($0) }
        if !extra.isEmpty { throw StateLoadingError.unexpected(extra) }
    }
    return dict
}

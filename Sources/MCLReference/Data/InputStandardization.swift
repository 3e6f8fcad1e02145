import Foundation

/// How a run's inputs were standardised with its train set's statistics — kept with the run so that
/// new data can be mapped exactly the same way before it is encoded (`mcl-ref encode`).
///
/// - `perColumn`: vectors, x_ij ← (x_ij − μ_j)/σ_j (`Standardizer`; σ_j = 1 for a constant column).
/// - `perChannel`: images [C, H, W], every value v of channel c ← (v − μ_c)·(1/σ_c), μ_c and σ_c over
///   all train samples and positions (σ_c = 0 means a multiplier of 1); see `standardizeImageChannels`.
///
/// Both compute in `Double` and round to `T`, so applying the stored μ and σ (float64) to the same
/// raw rows gives the same bits as the run's own preparation did.
public enum InputStandardization: Sendable, Equatable {
    case perColumn(Standardizer)
    case perChannel(mean: [Double], std: [Double])

    /// The name stored in a run directory: "per-column" or "per-channel".
    public var kind: String {
        switch self {
        case .perColumn: return "per-column"
        case .perChannel: return "per-channel"
        }
    }

    /// μ, one value per column (D) or per channel (C).
    public var mean: [Double] {
        switch self {
        case .perColumn(let s): return s.mean
        case .perChannel(let m, _): return m
        }
    }

    /// σ, one value per column or channel (as stored: for columns the divisor, 1 for constant columns;
    /// for channels the standard deviation, 0 for a constant channel).
    public var std: [Double] {
        switch self {
        case .perColumn(let s): return s.scale
        case .perChannel(_, let s): return s
        }
    }

    /// Rebuilds a standardisation from its stored `kind`, μ and σ; nil for an unknown kind or counts
    /// that differ.
    public init?(kind: String, mean: [Double], std: [Double]) {
        guard mean.count == std.count else { return nil }
        switch kind {
        case "per-column": self = .perColumn(Standardizer(mean: mean, scale: std))
        case "per-channel": self = .perChannel(mean: mean, std: std)
        default: return nil
        }
    }

    /// Fits the per-channel statistics of image rows.
    /// - Shape: x N×(C·H·W), `sampleShape` [C, H, W].
    public static func fittingChannels<T: MCLFloat>(_ x: Matrix<T>, sampleShape: [Int]) -> InputStandardization {
        let s = ImageShape(sampleShape), plane = s.planeSize
        precondition(x.cols == s.count, "fittingChannels: x is \(x.shapeDescription), sample shape \(s)")
        var mean = [Double](repeating: 0, count: s.channels), std = mean
        for ch in 0..<s.channels {
            var sum = 0.0, sumSq = 0.0
            for i in 0..<x.rows {
                for k in 0..<plane { let v = Double(x.storage[i * s.count + ch * plane + k]); sum += v; sumSq += v * v }
            }
            let n = Double(x.rows * plane)
            mean[ch] = sum / n
            std[ch] = max(0, sumSq / n - mean[ch] * mean[ch]).squareRoot()
        }
        return .perChannel(mean: mean, std: std)
    }

    /// Whether rows of `sampleShape` fit: D columns per column, or C channels per channel.
    public func accepts(sampleShape: [Int]) -> Bool {
        switch self {
        case .perColumn(let s): return sampleShape.reduce(1, *) == s.mean.count
        case .perChannel(let m, _): return sampleShape.count == 3 && sampleShape[0] == m.count
        }
    }

    /// Standardises rows of `sampleShape` (precondition: `accepts(sampleShape:)`).
    /// - Shape: x N×D → N×D (D = C·H·W for images).
    public func apply<T: MCLFloat>(_ x: Matrix<T>, sampleShape: [Int]) -> Matrix<T> {
        precondition(accepts(sampleShape: sampleShape) && x.cols == sampleShape.reduce(1, *),
                     "InputStandardization.apply: x is \(x.shapeDescription), sample shape \(sampleShape), fitted on \(mean.count) \(kind == "per-column" ? "columns" : "channels")")
        switch self {
        case .perColumn(let s):
            return s.transform(x)
        case let .perChannel(mean, std):
            let s = ImageShape(sampleShape), plane = s.planeSize
            var out = x
            for ch in 0..<s.channels {
                let scale = std[ch] > 0 ? 1 / std[ch] : 1
                for i in 0..<x.rows {
                    for k in 0..<plane {
                        let idx = i * s.count + ch * plane + k
                        out.storage[idx] = T((Double(x.storage[idx]) - mean[ch]) * scale)
                    }
                }
            }
            return out
        }
    }
}

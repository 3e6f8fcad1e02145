/// Invalid input to a public clustering, pseudo-label or sampling entry point. The message names the
/// offending values in scikit-learn's manner, e.g. `n_samples=3 should be >= n_clusters=5`.
///
/// Public entry points validate and throw this; private helpers assume valid input.
public struct ClusteringError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

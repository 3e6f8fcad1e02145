/// What the SparseHead paper measures of a trained stage, beside the probes (report.json, `--json`):
///
/// - **active head columns**: input columns of the projection head's last Linear weight (E×P) whose
///   norm is above 1e-2 × the largest (`SparseHead.activeColumnThreshold`, L21Penalty.swift) — with
///   or without `--sparse-head`, so runs compare;
/// - `RepresentationAnalysis` (eigen-spectrum of the covariance, effective rank, Eq. 9's min-max
///   distance ratio; raw and L2-normalised rows) of the **representations** h = f(x) and of the
///   **embeddings** z = g(h) (the head in eval mode, which is what the paper's Eq. 9 uses), and of the
///   integrated representation [f₀(x), …, f_j(x)] (Eq. 5) from stage 1 on.
///
/// Dimension legend: M train rows, M′ test rows, R representation width, E embedding width.
public struct StageAnalysis: Sendable, Equatable {
    public var activeHeadColumns: Int
    public var headColumns: Int
    public var representation: RepresentationAnalysis
    public var embedding: RepresentationAnalysis
    /// Of the integrated representation of stages 0…j; nil at stage 0 (it is `representation`).
    public var integrated: RepresentationAnalysis?

    /// - Shape: train M×R, test M′×R (this stage's representations); integratedTrain M×(j+1)R,
    ///   integratedTest M′×(j+1)R, or nil at stage 0.
    public init<T: MCLFloat>(model: ContrastiveModel<T>, train: Matrix<T>, test: Matrix<T>,
                             integratedTrain: Matrix<T>? = nil, integratedTest: Matrix<T>? = nil) {
        (activeHeadColumns, headColumns) = model.activeHeadColumns
        representation = RepresentationAnalysis(train: train, test: test)
        embedding = RepresentationAnalysis(train: model.head(train), test: model.head(test))
        if let integratedTrain, let integratedTest {
            integrated = RepresentationAnalysis(train: integratedTrain, test: integratedTest)
        }
    }

    /// The entries of a stage in report.json's `per_stage`.
    public var json: [(String, JSONValue)] {
        [("active_head_columns", .number(Double(activeHeadColumns))), ("head_columns", .number(Double(headColumns))),
         ("representation_analysis", representation.json), ("embedding_analysis", embedding.json)]
    }
}

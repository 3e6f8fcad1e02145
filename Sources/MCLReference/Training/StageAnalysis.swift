/// What the SparseHead paper measures of a trained stage, beside the probes (report.json, `--json`):
///
/// - **active head columns**: input columns of the projection head's last Linear weight (E×P) whose
///   norm is above 1e-2 × the largest (`SparseHead.activeColumnThreshold`, L21Penalty.swift) — with
///   or without `--sparse-head`, so runs compare;
/// - `RepresentationAnalysis` (eigen-spectrum of the covariance, effective rank, Eq. 9's min-max
///   distance ratio; raw and L2-normalised rows) of the **representations** h = f(x) and of the
///   **embeddings** z = g(h) (the head in eval mode, which is what the paper's Eq. 9 uses), and of the
///   integrated representation [f₀(x), …, f_j(x)] (Eq. 5) from stage 1 on;
/// - Eq. 9 once more over the **distinct** test rows (`distinctRows`): a data set with repeated
///   samples (user data may have them; the built-in sets draw a per-sample offset and have none)
///   gives a query a duplicate at distance 0, which `RepresentationAnalysis` leaves out of its mean
///   (`null` when every query has one, with the duplicate count); over distinct rows the ratio is
///   defined.
///
/// Dimension legend: M train rows, M′ test rows, R representation width, E embedding width.
public struct StageAnalysis: Sendable, Equatable {
    public var activeHeadColumns: Int
    public var headColumns: Int
    public var representation: RepresentationAnalysis
    public var embedding: RepresentationAnalysis
    /// Of the integrated representation of stages 0…j; nil at stage 0 (it is `representation`).
    public var integrated: RepresentationAnalysis?
    /// Eq. 9 over the distinct test representations / embeddings: (raw, L2-normalised), and how many
    /// distinct rows there are (nil when fewer than 2).
    public var representationDistinct: (rows: Int, raw: MinMaxDistanceRatio, l2Normalized: MinMaxDistanceRatio)?
    public var embeddingDistinct: (rows: Int, raw: MinMaxDistanceRatio, l2Normalized: MinMaxDistanceRatio)?

    /// - Shape: train M×R, test M′×R (this stage's representations); integratedTrain M×(j+1)R,
    ///   integratedTest M′×(j+1)R, or nil at stage 0.
    public init<T: MCLFloat>(model: ContrastiveModel<T>, train: Matrix<T>, test: Matrix<T>,
                             integratedTrain: Matrix<T>? = nil, integratedTest: Matrix<T>? = nil) {
        (activeHeadColumns, headColumns) = model.activeHeadColumns
        let testEmbedding = model.head(test)
        representation = RepresentationAnalysis(train: train, test: test)
        embedding = RepresentationAnalysis(train: model.head(train), test: testEmbedding)
        if let integratedTrain, let integratedTest {
            integrated = RepresentationAnalysis(train: integratedTrain, test: integratedTest)
        }
        func distinct(_ x: Matrix<T>) -> (rows: Int, raw: MinMaxDistanceRatio, l2Normalized: MinMaxDistanceRatio)? {
            let d = StageAnalysis.distinctRows(x)
            return d.rows < 2 ? nil : (d.rows, MinMaxDistanceRatio(d, normalized: false), MinMaxDistanceRatio(d, normalized: true))
        }
        representationDistinct = distinct(test)
        embeddingDistinct = distinct(testEmbedding)
    }

    /// The rows of `x` without exact repeats, in order of first occurrence.
    /// - Shape: x N×D → N′×D, N′ ≤ N.
    public static func distinctRows<T: MCLFloat>(_ x: Matrix<T>) -> Matrix<T> {
        var seen = Set<[T]>()
        var keep: [Int] = []
        for i in 0..<x.rows {
            let row = Array(x.storage[(i * x.cols)..<((i + 1) * x.cols)])
            if seen.insert(row).inserted { keep.append(i) }
        }
        return x.gatherRows(keep)
    }

    public static func == (a: StageAnalysis, b: StageAnalysis) -> Bool {
        a.activeHeadColumns == b.activeHeadColumns && a.headColumns == b.headColumns && a.representation == b.representation
            && a.embedding == b.embedding && a.integrated == b.integrated
            && a.representationDistinct?.raw == b.representationDistinct?.raw
            && a.embeddingDistinct?.raw == b.embeddingDistinct?.raw
    }

    /// The entries of a stage in report.json's `per_stage`.
    public var json: [(String, JSONValue)] {
        func number(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .null }
        func distinct(_ d: (rows: Int, raw: MinMaxDistanceRatio, l2Normalized: MinMaxDistanceRatio)?) -> JSONValue {
            guard let d else { return .null }
            return .object([("rows", .number(Double(d.rows))), ("raw", number(d.raw.mean)),
                            ("l2_normalized", number(d.l2Normalized.mean))])
        }
        return [("active_head_columns", .number(Double(activeHeadColumns))), ("head_columns", .number(Double(headColumns))),
                ("representation_analysis", representation.json), ("embedding_analysis", embedding.json),
                ("test_min_max_ratio_distinct_rows", .object([("representation", distinct(representationDistinct)),
                                                              ("embedding", distinct(embeddingDistinct))]))]
    }
}

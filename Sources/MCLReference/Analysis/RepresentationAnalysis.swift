/// The SparseHead paper's analysis of one representation (or embedding), as one JSON-able value for a
/// run's report: the covariance eigen-spectrum and effective rank (`CovarianceSpectrum`) and the min-max
/// distance ratio of Eq. 9 (`MinMaxDistanceRatio`), each on the raw rows and on L2-normalised rows.
///
/// Dimension legend: N training rows, Q test rows, D features.
///
/// - Spectrum and effective rank: of the **test** rows (as the paper's Fig. 1 and 3: "on the test
///   set"), and of the training rows for comparison (over-fitting to the training set shows as a
///   spectrum that differs between the two).
/// - Min-max ratio: of the test rows only (O(Q²·D); the paper's Eq. 9 is about fresh samples).
///
/// Raw and normalised answer different questions: raw rows are what a linear probe reads; normalised
/// rows are the geometry of the cosine losses (NT-Xent, BYOL) and of the cosine kNN.
public struct RepresentationAnalysis: Sendable, Equatable {
    /// The analysis of one split under one preprocessing.
    public struct View: Sendable, Equatable {
        public var trainSpectrum: CovarianceSpectrum
        public var testSpectrum: CovarianceSpectrum
        public var testMinMaxRatio: MinMaxDistanceRatio
    }

    public var features: Int
    /// Rows as given.
    public var raw: View
    /// Rows L2-normalised (x/max(‖x‖, 1e-12)) first.
    public var l2Normalized: View

    /// Analyses `train` and `test` representations of the same width. Requires N, Q ≥ 2, finite entries.
    /// - Shape: train N×D, test Q×D.
    public init<T: MCLFloat>(train: Matrix<T>, test: Matrix<T>) {
        precondition(train.cols == test.cols,
                     "RepresentationAnalysis: train is \(train.shapeDescription) but test is \(test.shapeDescription) (widths differ)")
        features = train.cols
        func view(_ tr: Matrix<Double>, _ te: Matrix<Double>) -> View {
            View(trainSpectrum: CovarianceSpectrum(of: tr), testSpectrum: CovarianceSpectrum(of: te),
                 testMinMaxRatio: MinMaxDistanceRatio(te, normalized: false))
        }
        let tr = train.converted(to: Double.self), te = test.converted(to: Double.self)
        raw = view(tr, te)
        let normalize = L2Normalize<Double>()
        l2Normalized = view(normalize.forward(tr).output, normalize.forward(te).output)
    }

    /// For `report.json`: per preprocessing, the effective ranks, the test min-max ratio (mean and
    /// duplicate count), and the full normalised test spectrum (descending, sums to 1) for a log-scale
    /// plot. Non-finite numbers are written as `null`.
    public var json: JSONValue {
        func number(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .null }
        func object(_ v: View) -> JSONValue {
            .object([
                ("train_effective_rank", number(v.trainSpectrum.effectiveRank)),
                ("test_effective_rank", number(v.testSpectrum.effectiveRank)),
                ("test_min_max_ratio", number(v.testMinMaxRatio.mean)),
                ("test_min_max_duplicate_queries", .number(Double(v.testMinMaxRatio.duplicateQueries))),
                ("test_spectrum", .array(v.testSpectrum.normalized.map(number))),
                ("train_spectrum", .array(v.trainSpectrum.normalized.map(number))),
            ])
        }
        return .object([("features", .number(Double(features))), ("raw", object(raw)), ("l2_normalized", object(l2Normalized))])
    }
}

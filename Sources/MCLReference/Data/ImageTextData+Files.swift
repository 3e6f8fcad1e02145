import Foundation

/// A user's paired data: images `.npy` (N, C, H, W) float32/float64, captions `.npy` (N, L) integer
/// token ids (0 = padding), and optionally labels `.npy` (N,) or (N, F) for evaluation.
extension ImageTextData {
    /// Loads and validates the three files. Each failure is a `DataError` whose one line names the
    /// file and what was expected (the CLI prints it and exits 2):
    /// - images: as `UserData.loadImages` (4-D, every dimension > 0, floating point, finite);
    /// - tokens: a 2-D array (N, L) with L ≥ 1 and the images' N; integer (or bool) dtype, or floats
    ///   holding whole numbers; every id ≥ 0 (and < `vocabulary.count` when a vocabulary is given);
    ///   every row holds at least one non-zero id (a caption of padding only has no words to pool);
    /// - labels (optional): as `UserData.load` — 1-D or 2-D with the images' N rows, at least two
    ///   classes per column, encoded per column like scikit-learn's `LabelEncoder`
    ///   (`LabeledData.classValues` keeps the original values). `featureNames` name the columns
    ///   (default `label` or `feature0`, `feature1`, …); names without a label file are an error.
    ///
    /// Without `vocabulary` the words are `<pad>`, `token1`, …, `token<m>`, m the largest id in the
    /// file. Images are returned as stored (no standardisation).
    public static func load(images imagesPath: String, tokens tokensPath: String, labels labelsPath: String?,
                            featureNames: [String]?, vocabulary: [String]? = nil,
                            as: T.Type = T.self) throws -> ImageTextData<T> {
        let (x, chw): (Matrix<T>, [Int]) = try UserData.readImageArray(imagesPath)
        let ids = try readTokens(tokensPath, rows: x.rows, vocabulary: vocabulary)
        var labels: [[Int]] = [], names: [String] = [], classValues: [[Int]] = []
        if let labelsPath {
            let encoded = try UserData.encodedLabels(labelsPath, rows: x.rows, featureNames: featureNames, classValues: nil)
            (labels, names, classValues) = (encoded.labels.classes, encoded.labels.names, encoded.classValues)
        } else if let featureNames, !featureNames.isEmpty {
            throw DataError("\(featureNames.count) names given for label columns, but there is no label file",
                            setting: .featureNames)
        }
        let words = vocabulary ?? [paddingWord] + (1..<max(1, ids.maxID + 1)).map { "token\($0)" }
        let images = LabeledData(x: x, labels: labels, featureNames: names, sampleShape: chw,
                                 classValues: labelsPath == nil ? nil : classValues)
        return ImageTextData(images: images, tokens: ids.rows, vocabulary: words, captionLength: ids.length)
    }

    /// The token ids of `path`, one row per caption, checked as `load` says.
    static func readTokens(_ path: String, rows: Int, vocabulary: [String]?) throws -> (rows: [[Int]], length: Int, maxID: Int) {
        if let vocabulary, vocabulary.first != paddingWord {
            throw DataError("the vocabulary for \(path) must start with \"\(paddingWord)\" (id 0), got "
                + (vocabulary.first.map { "\"\($0)\"" } ?? "an empty list"))
        }
        let array = try NPY.read(path)
        guard array.shape.count == 2 else {
            throw DataError("\(path): expected a 2-D array (N, L) of token ids, got shape \(NPYArray.describe(array.shape))")
        }
        let n = array.shape[0], length = array.shape[1]
        guard n == rows else {
            throw DataError("\(path): \(n) captions for \(rows) images (the first dimensions must match)")
        }
        guard length >= 1 else { throw DataError("\(path): captions of length 0 (shape \(NPYArray.describe(array.shape)))") }
        var flat: [Int] = []
        if array.dtype.isFloatingPoint {
            for (k, v) in try array.asDoubles().enumerated() {
                guard v.isFinite, v.rounded() == v, abs(v) < 1e15 else {
                    throw DataError("\(path): token at row \(k / length), position \(k % length) is \(v), not an integer id")
                }
                flat.append(Int(v))
            }
        } else {
            flat = try array.asInts().values
        }
        if let k = flat.firstIndex(where: { $0 < 0 }) {
            throw DataError("\(path): token at row \(k / length), position \(k % length) is \(flat[k]); ids must be ≥ 0 (0 = padding)")
        }
        if let vocabulary, let k = flat.firstIndex(where: { $0 >= vocabulary.count }) {
            throw DataError("\(path): token at row \(k / length), position \(k % length) is \(flat[k]), outside the "
                + "vocabulary of \(vocabulary.count) words (ids 0..<\(vocabulary.count))")
        }
        let captions = (0..<n).map { i in Array(flat[(i * length)..<((i + 1) * length)]) }
        if let i = captions.firstIndex(where: { $0.allSatisfy { $0 == padding } }) {
            throw DataError("\(path): caption at row \(i) is all padding (0); every caption needs at least one token")
        }
        return (captions, length, flat.max() ?? 0)
    }
}

import Foundation

/// User images: `X` float32/float64 of shape (N, C, H, W) (NCHW, C order, as `np.save` writes a
/// contiguous PyTorch-style batch), labels as for vectors.
extension UserData {
    /// Loads images and labels. Checks (each a `DataError` naming the file): X is 4-D with every
    /// dimension > 0, floating point and finite; the labels as in `load` (encoded the same way). The result has
    /// `sampleShape == [C, H, W]` and rows of C·H·W values.
    public static func loadImages<T: MCLFloat>(data path: String, labels labelsPath: String, featureNames: [String]?,
                                               classValues: [[Int]]? = nil, as: T.Type = T.self) throws -> LabeledData<T> {
        let (x, chw): (Matrix<T>, [Int]) = try readImageArray(path)
        let (labels, classes) = try encodedLabels(labelsPath, rows: x.rows, featureNames: featureNames, classValues: classValues)
        return LabeledData(x: x, labels: labels.classes, featureNames: labels.names, sampleShape: chw, classValues: classes)
    }

    /// The images of `path` as N×(C·H·W) rows and their `[C, H, W]`, checked as `loadImages` says
    /// (4-D, every dimension > 0, floating point, finite); each failure a `DataError` naming the file.
    static func readImageArray<T: MCLFloat>(_ path: String, as: T.Type = T.self) throws -> (Matrix<T>, [Int]) {
        let array = try NPY.read(path)
        guard array.shape.count == 4 else {
            throw DataError("\(path): expected a 4-D array (N, C, H, W) of images for the CNN encoder, got shape "
                + "\(NPYArray.describe(array.shape))"
                + (array.shape.count == 2 ? " (a 2-D array (N, D) is vector data: use the MLP encoder)" : ""))
        }
        guard array.dtype.isFloatingPoint else {
            throw DataError("\(path): expected float32 or float64 images, got dtype \(array.dtype.descr)")
        }
        guard array.shape.allSatisfy({ $0 > 0 }) else {
            throw DataError("\(path): the array is empty (shape \(NPYArray.describe(array.shape)))")
        }
        let n = array.shape[0], chw = Array(array.shape[1...])
        let flat = try NPYArray(shape: [n, chw.reduce(1, *)], dtype: array.dtype, bytes: array.bytes, source: path)
        let x: Matrix<T> = try flat.asMatrix()
        if let bad = x.storage.firstIndex(where: { !$0.isFinite }) {
            let s = ImageShape(chw), k = bad % x.cols
            throw DataError("\(path): value at [\(bad / x.cols), \(k / s.planeSize), \(k % s.planeSize / s.width), "
                + "\(k % s.width)] is \(x.storage[bad]) (every value must be finite)")
        }
        return (x, chw)
    }

    /// The dimensions of the array in `path`, read from its header only (e.g. to choose between the
    /// vector and image loaders).
    public static func arrayShape(_ path: String) throws -> [Int] {
        try NPY.read(path).shape
    }
}

/// Per-channel standardisation of images with the train set's statistics: every value of channel c
/// becomes (v − μ_c)/σ_c, μ_c and σ_c over all train samples and positions (σ_c = 1 when 0). Unlike
/// the per-column `Standardizer`, it keeps the spatial structure the convolutions look at.
/// Returns the statistics applied (`InputStandardization.perChannel`), for the run directory.
/// - Shape: train N×(C·H·W), test N′×(C·H·W), `sampleShape` [C, H, W].
@discardableResult
public func standardizeImageChannels<T: MCLFloat>(_ train: inout Matrix<T>, _ test: inout Matrix<T>,
                                                  sampleShape: [Int]) -> InputStandardization {
    let s = ImageShape(sampleShape)
    precondition(train.cols == s.count && test.cols == s.count,
                 "standardizeImageChannels: \(train.shapeDescription) / \(test.shapeDescription) vs sample shape \(s)")
    let standardization = InputStandardization.fittingChannels(train, sampleShape: sampleShape)
    train = standardization.apply(train, sampleShape: sampleShape)
    test = standardization.apply(test, sampleShape: sampleShape)
    return standardization
}

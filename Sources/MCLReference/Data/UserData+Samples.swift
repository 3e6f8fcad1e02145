import Foundation

extension UserData {
    /// Samples without labels (e.g. new data to encode): float32/float64, 2-D (N, D) vectors or 4-D
    /// (N, C, H, W) images, every dimension > 0 and every value finite. Returns the rows (C·H·W values
    /// each for images, C order) and the shape of one sample. Errors are `DataError`s naming the file.
    public static func loadSamples<T: MCLFloat>(_ path: String, as: T.Type = T.self) throws -> (x: Matrix<T>, sampleShape: [Int]) {
        let array = try NPY.read(path)
        guard array.shape.count == 2 || array.shape.count == 4 else {
            throw DataError("\(path): expected a 2-D array (N, D) of samples or a 4-D array (N, C, H, W) of images, "
                + "got shape \(NPYArray.describe(array.shape))")
        }
        guard array.dtype.isFloatingPoint else {
            throw DataError("\(path): expected float32 or float64 samples, got dtype \(array.dtype.descr)")
        }
        guard array.shape.allSatisfy({ $0 > 0 }) else {
            throw DataError("\(path): the array is empty (shape \(NPYArray.describe(array.shape)))")
        }
        let sample = Array(array.shape[1...])
        let flat = try NPYArray(shape: [array.shape[0], sample.reduce(1, *)], dtype: array.dtype, bytes: array.bytes, source: path)
        let x: Matrix<T> = try flat.asMatrix()
        if let bad = x.storage.firstIndex(where: { !$0.isFinite }) {
            throw DataError("\(path): value \(x.storage[bad]) in sample \(bad / x.cols) (every value must be finite)")
        }
        return (x, sample)
    }
}

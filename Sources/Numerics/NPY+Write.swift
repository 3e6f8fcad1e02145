import Foundation

extension NPY {
    // MARK: Writing

    /// The bytes of a `.npy` file holding `array`: format version 1.0 when the header length fits
    /// in 16 bits (always, in practice), else 2.0. The header is the dict literal NumPy itself
    /// writes, padded with spaces and ended by '\n' so the data starts at a multiple of 64 bytes.
    public static func encode(_ array: NPYArray) -> Data {
        let literal = Array(NPYHeader(descr: array.dtype.descr, fortranOrder: false, shape: array.shape).literal.utf8)
        func padded(prefix: Int) -> [UInt8] {
            let unpadded = prefix + literal.count + 1  // + the final '\n'
            let padding = (64 - unpadded % 64) % 64
            return literal + [UInt8](repeating: 0x20, count: padding) + [0x0A]
        }
        var header = padded(prefix: 10)
        var out = Data(magic)
        if header.count <= Int(UInt16.max) {
            out.append(contentsOf: [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)])
        } else {
            header = padded(prefix: 12)
            out.append(contentsOf: [2, 0])
            for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: header.count >> (8 * k))) }
        }
        out.append(contentsOf: header)
        out.append(contentsOf: array.bytes)
        return out
    }

    /// Writes `array` to `path` atomically (see `AtomicFile`). Errors are `FileWriteError`s.
    public static func write(_ array: NPYArray, to path: String) throws {
        try AtomicFile.write(encode(array), to: path)
    }

    /// Writes `matrix` as a 2-D `<f4` (Float) or `<f8` (Double) array.
    public static func write<T: MCLFloat>(_ matrix: Matrix<T>, to path: String) throws {
        try write(NPYArray(matrix), to: path)
    }

    /// Writes integers of any `shape` as `dtype` (default int64; int32 and the other integer
    /// dtypes check that every value fits).
    public static func write(ints: [Int], shape: [Int], dtype: NPYDType = .int64, to path: String) throws {
        try write(naming(path) { try NPYArray(ints: ints, shape: shape, dtype: dtype) }, to: path)
    }

    /// Writes doubles of any `shape` (`[]` for a scalar, `[n]` for a vector, `[n, c, h, w]` for
    /// images …) as `<f8`, or as `<f4` when `dtype == .float32`.
    public static func write(doubles: [Double], shape: [Int], dtype: NPYDType = .float64, to path: String) throws {
        try write(naming(path) { try NPYArray(doubles: doubles, shape: shape, dtype: dtype) }, to: path)
    }

    /// Writes floats of any `shape` as `<f4`.
    public static func write(floats: [Float], shape: [Int], to path: String) throws {
        try write(naming(path) { try NPYArray(floats: floats, shape: shape) }, to: path)
    }

    /// Runs `build`, re-labelling an `NPYError` with the file about to be written.
    private static func naming(_ path: String, _ build: () throws -> NPYArray) throws -> NPYArray {
        do {
            return try build()
        } catch var error as NPYError {
            error.source = path
            throw error
        }
    }
}

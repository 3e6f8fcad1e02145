/// Fortran-order (column-major) `.npy` payloads, as `np.save(path, a.T)` or
/// `np.save(path, np.asfortranarray(a))` writes them: the header says `'fortran_order': True` and the
/// first index varies fastest. The reader converts them to C order once, so every array it returns
/// is C order whatever the file held.
extension NPY {
    /// The payload of a Fortran-order array of `shape` rearranged into C order (the last index
    /// varying fastest). Elements are moved whole, `itemSize` bytes each; nothing is converted.
    ///
    /// Element (i_0, …, i_{n−1}) sits at Fortran offset Σ_d i_d·Π_{e<d} shape_e and at C offset
    /// Σ_d i_d·Π_{e>d} shape_e.
    /// - Precondition: `bytes.count == Π shape · itemSize`.
    public static func cOrderBytes(fromFortran bytes: [UInt8], shape: [Int], itemSize: Int) -> [UInt8] {
        let count = shape.reduce(1, *)
        precondition(bytes.count == count * itemSize,
                     "cOrderBytes: \(bytes.count) bytes for shape \(shape) of \(itemSize)-byte items")
        // 0-d, 1-d and arrays with at most one dimension > 1 are laid out the same in both orders.
        guard shape.filter({ $0 > 1 }).count > 1 else { return bytes }
        var fortranStride = [Int](repeating: 1, count: shape.count)
        for d in 1..<shape.count { fortranStride[d] = fortranStride[d - 1] * shape[d - 1] }
        var out = [UInt8](repeating: 0, count: bytes.count)
        var index = [Int](repeating: 0, count: shape.count)  // multi-index of C position `c`
        var source = 0  // its Fortran offset, in elements
        for c in 0..<count {
            let from = source * itemSize, to = c * itemSize
            for b in 0..<itemSize { out[to + b] = bytes[from + b] }
            // Next C position: increment the last index, carrying to the left.
            var d = shape.count - 1
            while d >= 0 {
                index[d] += 1
                source += fortranStride[d]
                if index[d] < shape[d] { break }
                source -= index[d] * fortranStride[d]
                index[d] = 0
                d -= 1
            }
        }
        return out
    }
}

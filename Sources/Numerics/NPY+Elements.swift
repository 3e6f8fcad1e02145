import Foundation

// Conversions between typed Swift arrays and the little-endian element bytes of an `NPYArray`.
// Floats are stored as their IEEE-754 bit patterns, so every value (NaN payloads, -0, subnormals)
// round-trips bit-exactly.

extension NPYArray {
    // MARK: Building arrays

    /// A float32 (`<f4`) array of `shape` over `floats` in C order.
    public init(floats: [Float], shape: [Int]) throws {
        try NPYArray.checkCount(floats.count, shape: shape)
        self.init(unchecked: shape, .float32, NPYArray.encode(floats: floats))
    }

    /// A float array of `shape` over `doubles` in C order, stored as `dtype` (`.float64`, or
    /// `.float32` rounding each value to nearest).
    public init(doubles: [Double], shape: [Int], dtype: NPYDType = .float64) throws {
        try NPYArray.checkCount(doubles.count, shape: shape)
        switch dtype {
        case .float64: self.init(unchecked: shape, .float64, NPYArray.encode(doubles: doubles))
        case .float32: self.init(unchecked: shape, .float32, NPYArray.encode(floats: doubles.map { Float($0) }))
        default:
            throw NPYError(.wrongType, "cannot store doubles as \(dtype.descr) (use a float dtype)", source: "<memory>")
        }
    }

    /// An integer (or bool) array of `shape` over `ints` in C order, stored as `dtype`.
    /// Throws when a value does not fit the dtype (bool accepts only 0 and 1).
    public init(ints: [Int], shape: [Int], dtype: NPYDType = .int64) throws {
        try NPYArray.checkCount(ints.count, shape: shape)
        guard !dtype.isFloatingPoint else {
            throw NPYError(.wrongType, "cannot store ints as \(dtype.descr) (use an integer dtype)", source: "<memory>")
        }
        let range: ClosedRange<Int>
        switch dtype {
        case .int8: range = Int(Int8.min)...Int(Int8.max)
        case .int16: range = Int(Int16.min)...Int(Int16.max)
        case .int32: range = Int(Int32.min)...Int(Int32.max)
        case .uint8: range = 0...Int(UInt8.max)
        case .uint16: range = 0...Int(UInt16.max)
        case .uint32: range = 0...Int(UInt32.max)
        case .uint64: range = 0...Int.max
        case .bool: range = 0...1
        default: range = Int.min...Int.max
        }
        if let bad = ints.firstIndex(where: { !range.contains($0) }) {
            throw NPYError(.valueOutOfRange, "value \(ints[bad]) at index \(bad) does not fit \(dtype.descr)",
                           source: "<memory>")
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(ints.count * dtype.itemSize)
        for v in ints {
            // Two's complement truncation to itemSize bytes, least significant byte first.
            let bits = UInt64(bitPattern: Int64(v))
            for k in 0..<dtype.itemSize { bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(k)))) }
        }
        self.init(unchecked: shape, dtype, bytes)
    }

    static func checkCount(_ n: Int, shape: [Int]) throws {
        let count = try elementCount(shape, source: "<memory>")
        guard count == n else {
            throw NPYError(.invalidShape, "\(n) values do not fill shape \(describe(shape)) (\(count) elements)",
                           source: "<memory>")
        }
    }

    static func encode(floats: [Float]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: floats.count * 4)
        bytes.withUnsafeMutableBytes { raw in
            for (i, x) in floats.enumerated() {
                raw.storeBytes(of: x.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
            }
        }
        return bytes
    }

    static func encode(doubles: [Double]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: doubles.count * 8)
        bytes.withUnsafeMutableBytes { raw in
            for (i, x) in doubles.enumerated() {
                raw.storeBytes(of: x.bitPattern.littleEndian, toByteOffset: 8 * i, as: UInt64.self)
            }
        }
        return bytes
    }

    // MARK: Reading values

    /// The elements of a float array (either precision) as `Float`, in C order; any shape.
    public func asFloats() throws -> [Float] {
        switch dtype {
        case .float32: return rawFloats()
        case .float64: return rawDoubles().map { Float($0) }
        default: throw notFloat()
        }
    }

    /// The elements of a float array (either precision) as `Double`, in C order; any shape.
    public func asDoubles() throws -> [Double] {
        switch dtype {
        case .float32: return rawFloats().map { Double($0) }
        case .float64: return rawDoubles()
        default: throw notFloat()
        }
    }

    /// A 2-D float array (`<f4` or `<f8`) as a matrix of `T`, converting precision when they
    /// differ (float64 → Float rounds to nearest). With `vectorAsColumn`, a 1-D array of N elements
    /// is accepted as an N×1 matrix. Integer arrays are refused: convert them explicitly.
    public func asMatrix<T: MCLFloat>(_ type: T.Type = T.self, vectorAsColumn: Bool = false) throws -> Matrix<T> {
        let rows: Int, cols: Int
        if shape.count == 2 {
            (rows, cols) = (shape[0], shape[1])
        } else if shape.count == 1 && vectorAsColumn {
            (rows, cols) = (shape[0], 1)
        } else {
            let wanted = vectorAsColumn ? "a 1-D or 2-D" : "a 2-D"
            throw NPYError(.invalidShape, "expected \(wanted) array, found shape \(NPYArray.describe(shape))",
                           source: source)
        }
        if T.self == Float.self {
            return Matrix(rows: rows, cols: cols, storage: unsafeBitCast(try asFloats(), to: [T].self))
        }
        if T.self == Double.self {
            return Matrix(rows: rows, cols: cols, storage: unsafeBitCast(try asDoubles(), to: [T].self))
        }
        return Matrix(rows: rows, cols: cols, storage: try asDoubles().map { T($0) })
    }

    /// The elements of an integer or bool array as `Int` (bool as 0/1), in C order, with the shape.
    /// Float arrays are refused; a uint64 value above `Int.max` throws.
    public func asInts() throws -> (values: [Int], shape: [Int]) {
        guard !dtype.isFloatingPoint else {
            throw NPYError(.wrongType, "expected an integer or bool array, found \(dtype.descr)", source: source)
        }
        let n = count
        let size = dtype.itemSize
        var values = [Int](repeating: 0, count: n)
        try bytes.withUnsafeBytes { raw in
            for i in 0..<n {
                let offset = i * size
                switch dtype {
                case .int8: values[i] = Int(Int8(bitPattern: raw[offset]))
                case .uint8: values[i] = Int(raw[offset])
                case .bool: values[i] = raw[offset] == 0 ? 0 : 1
                case .int16: values[i] = Int(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int16.self)))
                case .uint16: values[i] = Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
                case .int32: values[i] = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
                case .uint32: values[i] = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                case .int64: values[i] = Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
                case .uint64:
                    let v = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                    guard let exact = Int(exactly: v) else {
                        throw NPYError(.valueOutOfRange, "uint64 value \(v) at index \(i) exceeds Int.max", source: source)
                    }
                    values[i] = exact
                case .float32, .float64: break  // excluded above
                }
            }
        }
        return (values, shape)
    }

    private func rawFloats() -> [Float] {
        bytes.withUnsafeBytes { raw in
            (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }

    private func rawDoubles() -> [Double] {
        bytes.withUnsafeBytes { raw in
            (0..<count).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))) }
        }
    }

    private func notFloat() -> NPYError {
        NPYError(.wrongType, "expected a float32 or float64 array, found \(dtype.descr)", source: source)
    }
}

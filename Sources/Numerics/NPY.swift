import Foundation

// MARK: - The .npy format, in brief
//
// A `.npy` file (NumPy's `numpy.lib.format`) is:
//
//     offset 0   6 bytes   magic "\x93NUMPY"
//     offset 6   1 byte    major version (1, 2 or 3)
//     offset 7   1 byte    minor version (0)
//     offset 8   2 bytes   header length, uint16 little-endian          (version 1.0)
//                4 bytes   header length, uint32 little-endian          (versions 2.0 and 3.0)
//     then       header    a Python dict literal, ASCII (latin-1 for 1.0/2.0, UTF-8 for 3.0), e.g.
//                          {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
//                          padded with spaces and ended by '\n' so the data starts at a multiple
//                          of 64 bytes (16 in files written by old NumPy versions)
//     then       data      product(shape) × itemsize bytes, C (row-major) order unless
//                          fortran_order is True
//
// `shape` is a tuple: `()` for a 0-d scalar (one element), `(3,)` for 1-D, `(3, 4)` for 2-D.
// `descr` is a dtype string: byte order (`<` little, `>` big, `|` not applicable) + kind + size.

/// The element types this reader understands (all little-endian), named by their NumPy `descr`.
public enum NPYDType: String, CaseIterable, Sendable {
    case float32 = "<f4"
    case float64 = "<f8"
    case int8 = "|i1"
    case int16 = "<i2"
    case int32 = "<i4"
    case int64 = "<i8"
    case uint8 = "|u1"
    case uint16 = "<u2"
    case uint32 = "<u4"
    case uint64 = "<u8"
    case bool = "|b1"

    /// The NumPy `descr` string written in headers.
    public var descr: String { rawValue }

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .int8, .uint8, .bool: return 1
        case .int16, .uint16: return 2
        case .float32, .int32, .uint32: return 4
        case .float64, .int64, .uint64: return 8
        }
    }

    /// True for `float32` and `float64`.
    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }

    /// The dtype for a `descr` read from a header. One-byte types are accepted with any byte-order
    /// mark (`|u1`, `<u1`, `>u1`, `=u1` mean the same thing); wider ones must be `<` or `=`
    /// (native order, little-endian on every platform this package supports).
    /// Returns nil for anything else; `NPY` explains why.
    public init?(descr: String) {
        guard descr.count == 3, let order = descr.first else { return nil }
        let body = String(descr.dropFirst())
        guard let match = NPYDType.allCases.first(where: { $0.rawValue.dropFirst() == body }) else { return nil }
        switch order {
        case "<", "=": self = match
        case "|", ">": if match.itemSize == 1 { self = match } else { return nil }
        default: return nil
        }
    }
}

/// A thrown problem with a `.npy` file or array: `description` is one line naming the file and
/// the problem, e.g. `data/x.npy: truncated data (expected 48 bytes, found 20)`.
public struct NPYError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, for callers (and tests) that need to tell cases apart.
    public enum Kind: String, Sendable {
        case io, badMagic, unsupportedVersion, truncatedHeader, malformedHeader
        case unsupportedDType, bigEndian, invalidShape
        case truncatedData, trailingData, wrongType, valueOutOfRange
    }

    public var kind: Kind
    /// The file (or `<memory>`) the problem is in.
    public var source: String
    /// What is wrong, without the source; a single line.
    public var message: String

    public init(_ kind: Kind, _ message: String, source: String) {
        self.kind = kind
        self.source = source
        self.message = NPYError.oneLine(message)
    }

    public var description: String { "\(source): \(message)" }

    /// `text` with control characters escaped, so messages quoting file bytes stay on one line.
    static func oneLine(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\x%02x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

/// An n-dimensional array as stored in a `.npy` file: a shape, a dtype and the raw little-endian
/// element bytes in C order. Typed accessors convert the bytes; they check that the dtype and rank
/// suit the request and throw `NPYError` otherwise.
///
///     let x: Matrix<Float> = try NPY.read("x.npy").asMatrix()
///     let (labels, shape) = try NPY.read("y.npy").asInts()
public struct NPYArray: Equatable, Sendable {
    /// Dimensions, outermost first; `[]` for a 0-d scalar (which holds one element).
    public let shape: [Int]
    public let dtype: NPYDType
    /// `count × dtype.itemSize` bytes, little-endian, C order.
    public let bytes: [UInt8]
    /// Where the array came from (a path, or `<memory>`); used in error messages.
    public var source: String

    /// Number of elements: the product of `shape` (1 for a 0-d scalar, 0 when any dimension is 0,
    /// even if the others would overflow when multiplied).
    public var count: Int {
        shape.contains(0) ? 0 : shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).partialValue }
    }

    /// An array over raw little-endian `bytes`. Throws when the shape is negative or does not
    /// match the byte count.
    public init(shape: [Int], dtype: NPYDType, bytes: [UInt8], source: String = "<memory>") throws {
        let count = try NPYArray.elementCount(shape, itemSize: dtype.itemSize, source: source)
        let (needed, overflow) = count.multipliedReportingOverflow(by: dtype.itemSize)
        guard !overflow, needed == bytes.count else {
            throw NPYError(.invalidShape, "shape \(NPYArray.describe(shape)) of \(dtype.descr) needs "
                           + "\(overflow ? "too many" : String(needed)) bytes, got \(bytes.count)", source: source)
        }
        self.shape = shape
        self.dtype = dtype
        self.bytes = bytes
        self.source = source
    }

    /// `matrix` as a 2-D float array of its own precision (`<f4` for `Float`, `<f8` for `Double`).
    public init<T: MCLFloat>(_ matrix: Matrix<T>) {
        if T.self == Float.self {
            self.init(unchecked: [matrix.rows, matrix.cols], .float32,
                      NPYArray.encode(floats: unsafeBitCast(matrix.storage, to: [Float].self)))
        } else {
            self.init(unchecked: [matrix.rows, matrix.cols], .float64,
                      NPYArray.encode(doubles: matrix.storage.map { Double($0) }))
        }
    }

    /// Memberwise, for callers that have already checked `bytes.count == count × itemSize`.
    init(unchecked shape: [Int], _ dtype: NPYDType, _ bytes: [UInt8], source: String = "<memory>") {
        self.shape = shape
        self.dtype = dtype
        self.bytes = bytes
        self.source = source
    }

    /// Equality of shape, dtype and bytes (the source is not compared).
    public static func == (a: NPYArray, b: NPYArray) -> Bool {
        a.shape == b.shape && a.dtype == b.dtype && a.bytes == b.bytes
    }

    /// `Python`-style shape text: `()`, `(3,)`, `(3, 4)`.
    public static func describe(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }

    /// The largest array size accepted, in bytes: 2⁶² (4 EiB). NumPy refuses shapes whose size
    /// does not fit its index type, even with a zero dimension; this bound is a little stricter.
    static let maxByteCount = 1 << 62

    /// The element count of `shape`, or a thrown `invalidShape` when a dimension is negative, there
    /// are more than 64 dimensions (NumPy's limit), or the product of the non-zero dimensions times
    /// `itemSize` exceeds `maxByteCount` (checked without overflow; a zero dimension does not
    /// excuse absurd others).
    static func elementCount(_ shape: [Int], itemSize: Int = 1, source: String) throws -> Int {
        guard shape.count <= 64 else {
            throw NPYError(.invalidShape, "\(shape.count) dimensions (at most 64 are allowed)", source: source)
        }
        if let negative = shape.first(where: { $0 < 0 }) {
            throw NPYError(.invalidShape, "negative dimension \(negative) in shape \(describe(shape))", source: source)
        }
        var bytes = itemSize
        for d in shape where d != 0 {
            let (p, overflow) = bytes.multipliedReportingOverflow(by: d)
            guard !overflow, p <= maxByteCount else {
                throw NPYError(.invalidShape, "absurd shape \(describe(shape)) (more than 2^62 bytes)", source: source)
            }
            bytes = p
        }
        return shape.contains(0) ? 0 : bytes / itemSize
    }
}

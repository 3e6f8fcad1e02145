import Foundation

/// Reading and writing NumPy `.npy` files (format versions 1.0, 2.0 and 3.0; see `NPY.swift`).
///
/// The reader accepts little-endian arrays in C or Fortran order (the latter rearranged into C
/// order on reading) of the dtypes in `NPYDType` and rejects
/// everything else with an `NPYError` whose description is one line naming the file and the
/// problem. It never trusts the declared shape: the element count is computed with overflow
/// checks and compared with the bytes actually present before anything is allocated for it.
public enum NPY {
    /// The 6 magic bytes every `.npy` file starts with: `\x93NUMPY`.
    public static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    // MARK: Reading

    /// Reads the `.npy` file at `path`.
    public static func read(_ path: String) throws -> NPYArray {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read file" : "no such file"
            throw NPYError(.io, reason, source: path)
        }
        return try decode(data, source: path)
    }

    /// Decodes the bytes of a `.npy` file; `source` names it in error messages.
    public static func decode(_ data: Data, source: String = "<memory>") throws -> NPYArray {
        try decode(bytes: [UInt8](data), source: source)
    }

    /// Decodes the bytes of a `.npy` file; `source` names it in error messages.
    public static func decode(bytes: [UInt8], source: String = "<memory>") throws -> NPYArray {
        func fail(_ kind: NPYError.Kind, _ message: String) -> NPYError { NPYError(kind, message, source: source) }

        // Magic and version.
        if bytes.count < magic.count || Array(bytes[0..<magic.count]) != magic {
            if bytes.count < magic.count && Array(magic.prefix(bytes.count)) == bytes {
                throw fail(.truncatedHeader, "truncated header (file has only \(bytes.count) bytes)")
            }
            throw fail(.badMagic, "not a .npy file (bad magic, expected \\x93NUMPY)")
        }
        guard bytes.count >= 8 else {
            throw fail(.truncatedHeader, "truncated header (no version bytes; file has \(bytes.count) bytes)")
        }
        let (major, minor) = (bytes[6], bytes[7])
        guard (1...3).contains(major), minor == 0 else {
            throw fail(.unsupportedVersion, "unsupported .npy format version \(major).\(minor) (expected 1.0, 2.0 or 3.0)")
        }

        // Header length: uint16 LE for 1.0, uint32 LE for 2.0 and 3.0.
        let lengthSize = major == 1 ? 2 : 4
        let prefix = 8 + lengthSize
        guard bytes.count >= prefix else {
            throw fail(.truncatedHeader, "truncated header (no header length; file has \(bytes.count) bytes)")
        }
        var headerLength = 0
        for k in 0..<lengthSize { headerLength |= Int(bytes[8 + k]) << (8 * k) }
        guard headerLength <= bytes.count - prefix else {
            throw fail(.truncatedHeader, "truncated header (declares \(headerLength) bytes, "
                       + "only \(bytes.count - prefix) follow the prefix)")
        }
        let headerBytes = Array(bytes[prefix..<(prefix + headerLength)])
        if major == 3 && String(validating: headerBytes, as: UTF8.self) == nil {
            throw fail(.malformedHeader, "malformed header (version 3.0 header is not valid UTF-8)")
        }

        let header = try parseHeader(headerBytes, allowLongSuffix: major < 3, fail: fail)

        // Validate the shape, then compare the byte count with what the file holds.
        let dtype = try dataType(header.descr, fail: fail)
        let count = try NPYArray.elementCount(header.shape, itemSize: dtype.itemSize, source: source)
        let (expected, overflow) = count.multipliedReportingOverflow(by: dtype.itemSize)
        guard !overflow else {
            throw fail(.invalidShape, "absurd shape \(NPYArray.describe(header.shape)) (byte count overflows)")
        }
        let dataStart = prefix + headerLength
        let available = bytes.count - dataStart
        if available < expected {
            throw fail(.truncatedData, "truncated data: shape \(NPYArray.describe(header.shape)) of \(dtype.descr) "
                       + "needs \(expected) bytes, found \(available)")
        }
        if available > expected {
            throw fail(.trailingData, "trailing data: shape \(NPYArray.describe(header.shape)) of \(dtype.descr) "
                       + "needs \(expected) bytes, found \(available)")
        }
        let payload = Array(bytes[dataStart...])
        if header.fortranOrder {  // `np.save(path, a.T)`: rearranged into C order (NPY+FortranOrder.swift)
            return NPYArray(unchecked: header.shape, dtype,
                            cOrderBytes(fromFortran: payload, shape: header.shape, itemSize: dtype.itemSize), source: source)
        }
        return NPYArray(unchecked: header.shape, dtype, payload, source: source)
    }

    /// Reads a 2-D float array as a `rows × cols` matrix of `T` (see `NPYArray.asMatrix`).
    public static func readMatrix<T: MCLFloat>(_ path: String, as type: T.Type = T.self,
                                               vectorAsColumn: Bool = false) throws -> Matrix<T> {
        try read(path).asMatrix(T.self, vectorAsColumn: vectorAsColumn)
    }

    /// Reads an integer or bool array of any shape as `Int` values in C order, with its shape.
    public static func readIntArray(_ path: String) throws -> (values: [Int], shape: [Int]) {
        try read(path).asInts()
    }

    // MARK: Header validation

    /// The header dict: exactly the keys `descr`, `fortran_order` and `shape`, in any order.
    /// Python 2's `L` integer suffix is accepted when `allowLongSuffix` (format 1.0 and 2.0 files).
    static func parseHeader(_ bytes: [UInt8], allowLongSuffix: Bool,
                            fail: (NPYError.Kind, String) -> NPYError) throws -> NPYHeader {
        let literal: PyLiteral
        do {
            literal = try PyLiteralParser.parse(bytes, allowLongSuffix: allowLongSuffix)
        } catch let failure as PyLiteralParser.Failure {
            throw fail(.malformedHeader, "malformed header: \(failure.message)")
        }
        guard case let .dict(pairs) = literal else {
            throw fail(.malformedHeader, "malformed header: not a dict literal")
        }
        var entries: [String: PyLiteral] = [:]
        for (key, value) in pairs {
            guard case let .string(name) = key else { throw fail(.malformedHeader, "malformed header: a key is not a string") }
            guard ["descr", "fortran_order", "shape"].contains(name) else {
                throw fail(.malformedHeader, "malformed header: unexpected key '\(name.prefix(40))'")
            }
            entries[name] = value  // a repeated key keeps its last value, as in Python
        }
        for name in ["descr", "fortran_order", "shape"] where entries[name] == nil {
            throw fail(.malformedHeader, "malformed header: missing key '\(name)'")
        }
        guard case let .string(descr) = entries["descr"]! else {
            throw fail(.unsupportedDType, "unsupported dtype: structured or non-string 'descr'")
        }
        guard case let .bool(fortran) = entries["fortran_order"]! else {
            throw fail(.malformedHeader, "malformed header: 'fortran_order' is not True or False")
        }
        guard case let .tuple(dims) = entries["shape"]! else {
            throw fail(.malformedHeader, "malformed header: 'shape' is not a tuple")
        }
        var shape: [Int] = []
        for d in dims {
            guard case let .int(n) = d else { throw fail(.malformedHeader, "malformed header: 'shape' holds a non-integer") }
            shape.append(n)
        }
        return NPYHeader(descr: descr, fortranOrder: fortran, shape: shape)
    }

    /// The dtype for `descr`, or a thrown error saying why it is not supported.
    static func dataType(_ descr: String, fail: (NPYError.Kind, String) -> NPYError) throws -> NPYDType {
        if let dtype = NPYDType(descr: descr) { return dtype }
        let shown = "'\(descr.prefix(40))'"
        if descr.hasPrefix(">"), NPYDType(descr: "<" + descr.dropFirst()) != nil {
            throw fail(.bigEndian, "big-endian dtype \(shown) is not supported (save with a.astype('<\(descr.dropFirst())'))")
        }
        if descr.dropFirst().hasPrefix("O") {
            throw fail(.unsupportedDType, "unsupported dtype \(shown) (object arrays need pickle)")
        }
        throw fail(.unsupportedDType, "unsupported dtype \(shown)")
    }
}

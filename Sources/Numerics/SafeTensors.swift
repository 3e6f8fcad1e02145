import Foundation

// MARK: - The safetensors format, in brief
//
// A `.safetensors` file (Hugging Face's format, what `safetensors.torch.save_file` writes) is:
//
//     offset 0    8 bytes   N, the header length: uint64 little-endian
//     offset 8    N bytes   the header: a UTF-8 JSON object
//                             { "__metadata__": {"key": "value", …},            (optional, strings only)
//                               "<name>": {"dtype": "F32", "shape": [4, 8], "data_offsets": [begin, end]},
//                               … }
//                           padded with spaces (0x20) to a multiple of 8 bytes
//     offset 8+N  the data  every tensor's elements, little-endian, C (row-major) order;
//                           `data_offsets` are byte offsets relative to the start of the data
//
// The reference implementation refuses a header over 100 MB, a header that is not a JSON object, an
// unknown dtype, `end − begin ≠ product(shape) × itemsize`, and offsets that leave holes or overlap:
// sorted by `begin`, the tensors must tile the data buffer exactly, from 0 to its end. `shape` is `[]`
// for a 0-d scalar (one element). This file writes and reads exactly that, by hand.

/// A safetensors file that cannot be read: one line naming the file and the problem.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable, Sendable {
    public var source: String
    public var message: String
    public init(_ message: String, source: String) { self.message = message; self.source = source }
    public var description: String { "\(source): \(message)" }
}

/// Named tensors and string metadata, as held in (or to be written to) a `.safetensors` file.
/// Each tensor is an `NPYArray` (shape, dtype, little-endian bytes): the two formats store elements
/// the same way, only the framing differs.
public struct SafeTensorsFile: Equatable, Sendable {
    /// Tensors in file order (the order of their data).
    public var tensors: [(name: String, array: NPYArray)]
    /// The `__metadata__` entries (string → string), in header order.
    public var metadata: [(key: String, value: String)]

    public init(tensors: [(name: String, array: NPYArray)], metadata: [(key: String, value: String)] = []) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor called `name`, or nil.
    public subscript(name: String) -> NPYArray? { tensors.first { $0.name == name }?.array }

    public static func == (a: SafeTensorsFile, b: SafeTensorsFile) -> Bool {
        a.tensors.count == b.tensors.count && a.metadata.count == b.metadata.count
            && zip(a.tensors, b.tensors).allSatisfy { $0.name == $1.name && $0.array == $1.array }
            && zip(a.metadata, b.metadata).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

public enum SafeTensors {
    /// The largest header accepted (as the reference implementation): 100 MB.
    public static let maxHeaderLength = 100_000_000

    /// safetensors' dtype name of an NPY dtype (`F32`, `F64`, `I64`, …).
    public static func dtypeName(_ t: NPYDType) -> String {
        switch t {
        case .float32: return "F32"
        case .float64: return "F64"
        case .int8: return "I8"
        case .int16: return "I16"
        case .int32: return "I32"
        case .int64: return "I64"
        case .uint8: return "U8"
        case .uint16: return "U16"
        case .uint32: return "U32"
        case .uint64: return "U64"
        case .bool: return "BOOL"
        }
    }

    /// The NPY dtype of a safetensors dtype name, or nil for one this reader does not hold (F16, BF16, …).
    public static func dtype(named name: String) -> NPYDType? {
        NPYDType.allCases.first { dtypeName($0) == name }
    }

    // MARK: Writing

    /// The bytes of a `.safetensors` file holding `file`: the header lists the tensors in order with
    /// contiguous offsets, compact JSON, padded with spaces to a multiple of 8; then the data.
    /// Throws for an empty or repeated name, or the reserved name `__metadata__`.
    public static func encode(_ file: SafeTensorsFile) throws -> Data {
        var seen = Set<String>()
        var entries: [(String, JSONValue)] = []
        if !file.metadata.isEmpty {
            entries.append(("__metadata__", .object(file.metadata.map { ($0.key, .string($0.value)) })))
        }
        var offset = 0
        for (name, array) in file.tensors {
            guard !name.isEmpty, name != "__metadata__", seen.insert(name).inserted else {
                throw SafeTensorsError("tensor name '\(name)' is empty, reserved or repeated", source: "<memory>")
            }
            let end = offset + array.bytes.count
            entries.append((name, .object([
                ("dtype", .string(dtypeName(array.dtype))),
                ("shape", .array(array.shape.map { .number(Double($0)) })),
                ("data_offsets", .array([.number(Double(offset)), .number(Double(end))])),
            ])))
            offset = end
        }
        var header = Array(JSONValue.object(entries).serialized(pretty: false).utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        var out = Data(capacity: 8 + header.count + offset)
        for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: UInt64(header.count) >> (8 * UInt64(k)))) }
        out.append(contentsOf: header)
        for (_, array) in file.tensors { out.append(contentsOf: array.bytes) }
        return out
    }

    /// Writes `file` to `path` atomically (see `AtomicFile`).
    public static func write(_ file: SafeTensorsFile, to path: String) throws {
        do {
            try AtomicFile.write(try encode(file), to: path)
        } catch var e as SafeTensorsError {
            e.source = path
            throw e
        }
    }

    // MARK: Reading

    /// Reads and checks a `.safetensors` file (every check of the format comment above).
    public static func read(_ path: String) throws -> SafeTensorsFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SafeTensorsError("cannot read the file", source: path)
        }
        return try decode([UInt8](data), source: path)
    }

    /// Parses the bytes of a `.safetensors` file. Tensors are returned in the order of their data.
    public static func decode(_ bytes: [UInt8], source: String = "<memory>") throws -> SafeTensorsFile {
        func fail(_ message: String) -> SafeTensorsError { SafeTensorsError(message, source: source) }
        guard bytes.count >= 8 else { throw fail("\(bytes.count) bytes: too short for the 8-byte header length") }
        var n: UInt64 = 0
        for k in 0..<8 { n |= UInt64(bytes[k]) << (8 * UInt64(k)) }
        guard n <= UInt64(maxHeaderLength) else { throw fail("header length \(n) exceeds \(maxHeaderLength) bytes") }
        let headerEnd = 8 + Int(n)
        guard headerEnd <= bytes.count else { throw fail("header length \(n) runs past the end of the \(bytes.count)-byte file") }
        guard n > 0, bytes[8] == UInt8(ascii: "{") else { throw fail("the header does not start with '{'") }
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes: Array(bytes[8..<headerEnd]), source: source)
        } catch {
            throw fail("the header is not valid JSON (\(error))")
        }
        guard let pairs = json.objectValue else { throw fail("the header is not a JSON object") }
        let dataCount = bytes.count - headerEnd
        var metadata: [(key: String, value: String)] = []
        var located: [(name: String, begin: Int, end: Int, shape: [Int], dtype: NPYDType)] = []
        var seen = Set<String>()
        for (name, entry) in pairs {
            guard seen.insert(name).inserted else { throw fail("'\(name)' appears twice in the header") }
            if name == "__metadata__" {
                guard let items = entry.objectValue, items.allSatisfy({ $0.1.stringValue != nil }) else {
                    throw fail("__metadata__ must map strings to strings")
                }
                metadata = items.map { ($0.0, $0.1.stringValue!) }
                continue
            }
            guard let dtypeText = entry["dtype"]?.stringValue else { throw fail("'\(name)': missing 'dtype'") }
            guard let dtype = dtype(named: dtypeText) else { throw fail("'\(name)': unsupported dtype '\(dtypeText)'") }
            guard let dims = entry["shape"]?.arrayValue, dims.allSatisfy({ ($0.intValue ?? -1) >= 0 }) else {
                throw fail("'\(name)': 'shape' must be a list of non-negative integers")
            }
            guard let offsets = entry["data_offsets"]?.arrayValue, offsets.count == 2,
                  let begin = offsets[0].intValue, let end = offsets[1].intValue, 0 <= begin, begin <= end, end <= dataCount else {
                throw fail("'\(name)': 'data_offsets' must be [begin, end] with 0 ≤ begin ≤ end ≤ \(dataCount) (the data size)")
            }
            let shape = dims.map { $0.intValue! }
            let count: Int
            do {
                count = try NPYArray.elementCount(shape, itemSize: dtype.itemSize, source: source)
            } catch let e as NPYError {
                throw fail("'\(name)': \(e.message)")
            }
            guard end - begin == count * dtype.itemSize else {
                throw fail("'\(name)': shape \(NPYArray.describe(shape)) of \(dtypeText) needs \(count * dtype.itemSize) "
                    + "bytes, data_offsets give \(end - begin)")
            }
            located.append((name, begin, end, shape, dtype))
        }
        located.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var expected = 0
        for t in located {
            guard t.begin == expected else {
                throw fail("'\(t.name)' starts at data offset \(t.begin), expected \(expected) (no holes or overlaps allowed)")
            }
            expected = t.end
        }
        guard expected == dataCount else {
            throw fail("the tensors cover \(expected) of the \(dataCount) data bytes (no trailing bytes allowed)")
        }
        let tensors = try located.map { t in
            (t.name, try NPYArray(shape: t.shape, dtype: t.dtype, bytes: Array(bytes[(headerEnd + t.begin)..<(headerEnd + t.end)]),
                                  source: "\(source):\(t.name)"))
        }
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }
}

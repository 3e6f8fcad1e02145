import Foundation
import XCTest
@testable import MCLNumerics

/// The safetensors writer and reader against the format (see SafeTensors.swift): the exact bytes of a
/// small file, a round trip, and every malformation the reference implementation refuses.
final class SafeTensorsTests: XCTestCase {
    func le64(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    /// A file with a 2×2 float32, a 0-d int64 and a 1-D float64, byte for byte.
    func testBytesFollowTheSpec() throws {
        let w = try NPYArray(floats: [1, -2, 0.5, 3], shape: [2, 2])
        let n = try NPYArray(ints: [7], shape: [])
        let v = try NPYArray(doubles: [0.25], shape: [1])
        let data = [UInt8](try SafeTensors.encode(SafeTensorsFile(tensors: [("a.weight", w), ("a.n", n), ("v", v)],
                                                                  metadata: [("format", "pt")])))
        let expectedHeader = #"{"__metadata__":{"format":"pt"},"a.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"#
            + #""a.n":{"dtype":"I64","shape":[],"data_offsets":[16,24]},"v":{"dtype":"F64","shape":[1],"data_offsets":[24,32]}}"#
        // Bytes 0..<8: the header length N, little-endian; N is a multiple of 8 (space padding).
        let headerLength = Int(le64(data[0..<8]))
        XCTAssertEqual(headerLength % 8, 0)
        XCTAssertEqual(headerLength, (expectedHeader.utf8.count + 7) / 8 * 8)
        let header = String(decoding: data[8..<(8 + headerLength)], as: UTF8.self)
        XCTAssertEqual(header, expectedHeader + String(repeating: " ", count: headerLength - expectedHeader.utf8.count))
        // Then the data: little-endian elements, tensor after tensor, 32 bytes in all.
        let body = Array(data[(8 + headerLength)...])
        XCTAssertEqual(body.count, 32)
        XCTAssertEqual(Array(body[0..<4]), [0x00, 0x00, 0x80, 0x3F], "1.0f little-endian")
        XCTAssertEqual(Array(body[4..<8]), [0x00, 0x00, 0x00, 0xC0], "-2.0f")
        XCTAssertEqual(Array(body[16..<24]), [7, 0, 0, 0, 0, 0, 0, 0], "int64 7")
        XCTAssertEqual(Array(body[24..<32]), [0, 0, 0, 0, 0, 0, 0xD0, 0x3F], "0.25 as float64")
    }

    func testRoundTripKeepsNamesOrderShapesDtypesBitsAndMetadata() throws {
        var rng = SystemRandomNumberGenerator()
        let floats = (0..<60).map { _ in Float.random(in: -1...1, using: &rng) } + [.nan, -0.0, .leastNonzeroMagnitude, .infinity]
        let file = SafeTensorsFile(tensors: [
            ("conv.weight", try NPYArray(floats: floats, shape: [4, 1, 4, 4])),
            ("bn.num_batches_tracked", try NPYArray(ints: [123_456_789_012], shape: [])),
            ("empty", try NPYArray(floats: [], shape: [0, 3])),
            ("d", try NPYArray(doubles: [1e-300, -2, 3.5], shape: [3])),
            ("u8", try NPYArray(ints: [0, 255, 7], shape: [3], dtype: .uint8)),
            ("flags", try NPYArray(ints: [1, 0], shape: [2], dtype: .bool)),
        ], metadata: [("format", "pt"), ("note", "é \"quoted\"")])
        let back = try SafeTensors.decode([UInt8](try SafeTensors.encode(file)))
        XCTAssertEqual(back, file)
        XCTAssertEqual(back["conv.weight"]?.bytes, file["conv.weight"]?.bytes, "NaN and -0 kept bit for bit")
        // Through a file, written atomically.
        let path = NSTemporaryDirectory() + "/st-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafeTensors.write(file, to: path)
        XCTAssertEqual(try SafeTensors.read(path), file)
    }

    /// A file built by hand from header text and data (to make every malformation).
    func raw(_ header: String, data: [UInt8], length: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        let n = length ?? UInt64(h.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + h + data
    }

    func testMalformedFilesAreRefusedWithTheReason() throws {
        let eight = [UInt8](repeating: 0, count: 8)
        let cases: [([UInt8], String)] = [
            ([1, 2, 3], "too short"),
            (raw("{}", data: [], length: 200_000_000), "exceeds"),
            (raw("{}", data: [], length: 50), "runs past the end"),
            (raw("[1]", data: []), "does not start with '{'"),
            (raw("{\"a\": ", data: []), "not valid JSON"),
            (raw(#"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "unsupported dtype 'F16'"),
            (raw(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: eight), "needs 12 bytes, data_offsets give 8"),
            (raw(#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: eight), "non-negative"),
            (raw(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}"#, data: eight), "data_offsets"),
            (raw(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: eight), "starts at data offset 4, expected 0"),
            (raw(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: eight), "cover 4 of the 8 data bytes"),
            (raw(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                 data: eight), "expected 8 (no holes or overlaps"),
            (raw(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                 data: eight), "appears twice"),
            (raw(#"{"__metadata__":{"k":1}}"#, data: []), "strings to strings"),
        ]
        for (bytes, reason) in cases {
            XCTAssertThrowsError(try SafeTensors.decode(bytes, source: "f.safetensors"), reason) { error in
                XCTAssert(error is SafeTensorsError && "\(error)".hasPrefix("f.safetensors: ") && "\(error)".contains(reason),
                          "expected '\(reason)', got \(error)")
            }
        }
        // The hand-built file that is well-formed reads.
        let ok = try SafeTensors.decode(raw(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: eight))
        XCTAssertEqual(ok["a"], try NPYArray(floats: [0, 0], shape: [2]))
        // Names the writer refuses.
        for name in ["", "__metadata__"] {
            XCTAssertThrowsError(try SafeTensors.encode(SafeTensorsFile(tensors: [(name, try NPYArray(floats: [1], shape: [1]))])))
        }
        XCTAssertThrowsError(try SafeTensors.encode(SafeTensorsFile(tensors: [("x", try NPYArray(floats: [1], shape: [1])),
                                                                              ("x", try NPYArray(floats: [1], shape: [1]))])))
    }

    func testFileChecksumIsFNV1a64() {
        // Published FNV-1a 64 test vectors: "" and "a".
        XCTAssertEqual(FileChecksum.of([UInt8]()), "fnv1a64:cbf29ce484222325")
        XCTAssertEqual(FileChecksum.of(Array("a".utf8)), "fnv1a64:af63dc4c8601ec8c")
        XCTAssertEqual(FileChecksum.of(Array("foobar".utf8)), "fnv1a64:85944171f73967e8")
        XCTAssertNotEqual(FileChecksum.of([0, 1]), FileChecksum.of([1, 0]))
    }
}

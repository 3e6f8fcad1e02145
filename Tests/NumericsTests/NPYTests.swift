import Foundation
import XCTest
@testable import MCLNumerics

/// The `Fixtures/npy` directory of this package, found from this file's path.
let npyFixtures: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/npy").path

/// A fresh empty temporary directory for one test.
func makeTemporaryDirectory(_ name: String) throws -> String {
    let dir = NSTemporaryDirectory() + "mcl-io-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// The bytes of a `.npy` file with header text `dict` (padded as NumPy does) and `data`.
func npyBytes(_ dict: String, data: [UInt8], version: UInt8 = 1) -> [UInt8] {
    var header = Array(dict.utf8)
    let prefix = version == 1 ? 10 : 12
    while (prefix + header.count + 1) % 64 != 0 { header.append(0x20) }
    header.append(0x0A)
    var out = NPY.magic + [version, 0]
    let n = header.count
    out += version == 1 ? [UInt8(n & 0xFF), UInt8(n >> 8)] : [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), 0, 0]
    return out + header + data
}

final class NPYTests: XCTestCase {
    // MARK: Fixtures written by NumPy

    func testFixturesMatchNumPy() throws {
        let expectedText = try String(contentsOfFile: npyFixtures + "/expected.json", encoding: .utf8)
        guard case let .object(entries) = try JSONValue.parse(expectedText) else { return XCTFail("expected.json") }
        XCTAssertGreaterThanOrEqual(entries.count, 15)
        for (name, truth) in entries {
            let path = npyFixtures + "/" + name
            if truth["ok"]?.boolValue == true {
                let array = try NPY.read(path)
                XCTAssertEqual(array.dtype.descr, truth["dtype"]?.stringValue, name)
                XCTAssertEqual(array.shape, truth["shape"]?.arrayValue?.compactMap { $0.intValue }, name)
                let values = truth["values"]?.arrayValue ?? []
                XCTAssertEqual(array.count, values.count, name)
                if array.dtype.isFloatingPoint {
                    let doubles = try array.asDoubles()
                    for (got, want) in zip(doubles, values) {
                        let w = want.doubleValue!
                        // float32 values are compared after rounding NumPy's value to float32.
                        if array.dtype == .float32 { XCTAssertEqual(Float(got).bitPattern, Float(w).bitPattern, name) }
                        else { XCTAssertEqual(got.bitPattern, w.bitPattern, name) }
                    }
                } else {
                    // int64 extremes exceed 2^53, so compare through the (exact, for these values) Double.
                    XCTAssertEqual(try array.asInts().values, values.map { Int(exactly: $0.doubleValue ?? .nan) ?? -1 }, name)
                }
            } else {
                XCTAssertThrowsError(try NPY.read(path), name) { error in
                    guard let e = error as? NPYError else { return XCTFail("\(name): \(error)") }
                    XCTAssertEqual(e.kind.rawValue, truth["error"]?.stringValue, "\(name): \(e)")
                    XCTAssertTrue(e.description.hasPrefix(path + ": "), e.description)
                    XCTAssertFalse(e.description.contains("\n"))
                }
            }
        }
    }

    func testTypedAccessorsOnFixtures() throws {
        let m: Matrix<Float> = try NPY.readMatrix(npyFixtures + "/f32_2x3.npy")
        XCTAssertEqual(m.storage, [1.5, -2.25, 3.0, 0.1, 1e-30, -0.0])
        let md = try NPY.readMatrix(npyFixtures + "/f32_2x3.npy", as: Double.self)
        XCTAssertEqual(md.storage, m.storage.map { Double($0) })
        let col = try NPY.readMatrix(npyFixtures + "/f64_3x1.npy", as: Double.self)
        XCTAssertEqual(col.rows, 3)
        XCTAssertEqual(col[0, 0], Double.pi)
        XCTAssertEqual(col[2, 0], Double.leastNonzeroMagnitude)
        // A 1-D array is a column only when asked.
        let v = try NPY.read(npyFixtures + "/f32_4d.npy")
        XCTAssertEqual(v.shape, [2, 1, 2, 3])
        XCTAssertThrowsError(try v.asMatrix(Float.self)) { XCTAssertEqual(($0 as? NPYError)?.kind, .invalidShape) }
        let (labels, shape) = try NPY.readIntArray(npyFixtures + "/i64_1d.npy")
        XCTAssertEqual(shape, [5])
        XCTAssertEqual(labels, [0, -1, 1 << 62, Int.min, 7])
        let vector = try NPYArray(doubles: [1, 2, 3], shape: [3])
        XCTAssertEqual(try vector.asMatrix(Float.self, vectorAsColumn: true), Matrix([[1], [2], [3]]))
        XCTAssertThrowsError(try vector.asMatrix(Float.self))
        XCTAssertEqual(try NPY.read(npyFixtures + "/u8_2x3.npy").asInts().values, [0, 1, 127, 128, 254, 255])
        XCTAssertEqual(try NPY.read(npyFixtures + "/scalar_f64.npy").asDoubles(), [2.5])
        let empty: Matrix<Float> = try NPY.readMatrix(npyFixtures + "/empty_0x3_f32.npy")
        XCTAssertEqual(empty.rows, 0)
        XCTAssertEqual(empty.cols, 3)
        // Wrong kinds are refused, not converted silently.
        XCTAssertThrowsError(try NPY.readMatrix(npyFixtures + "/i32_2x2.npy", as: Float.self)) {
            XCTAssertEqual(($0 as? NPYError)?.kind, .wrongType)
        }
        XCTAssertThrowsError(try NPY.readIntArray(npyFixtures + "/f32_2x3.npy"))
    }

    // MARK: Writing

    func testRoundTripIsBitExact() throws {
        let dir = try makeTemporaryDirectory("npy-roundtrip")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = RNG(seed: 7)
        var m32: Matrix<Float> = rng.normalMatrix(5, 7)
        m32.storage[0] = .nan
        m32.storage[1] = -0.0
        m32.storage[2] = .leastNonzeroMagnitude
        m32.storage[3] = -.infinity
        let m64: Matrix<Double> = rng.normalMatrix(3, 4)
        try NPY.write(m32, to: dir + "/a.npy")
        try NPY.write(m64, to: dir + "/b.npy")
        let r32: Matrix<Float> = try NPY.readMatrix(dir + "/a.npy")
        XCTAssertEqual(r32.storage.map { $0.bitPattern }, m32.storage.map { $0.bitPattern })
        XCTAssertEqual(try NPY.readMatrix(dir + "/b.npy", as: Double.self), m64)

        let ints = [0, -5, Int.max, Int.min, 42, 7]
        try NPY.write(ints: ints, shape: [2, 3], to: dir + "/c.npy")
        XCTAssertEqual(try NPY.read(dir + "/c.npy").dtype, .int64)
        XCTAssertEqual(try NPY.readIntArray(dir + "/c.npy").values, ints)
        XCTAssertEqual(try NPY.readIntArray(dir + "/c.npy").shape, [2, 3])
        try NPY.write(ints: [1, -2, 3], shape: [3], dtype: .int32, to: dir + "/d.npy")
        XCTAssertEqual(try NPY.read(dir + "/d.npy").dtype, .int32)
        XCTAssertEqual(try NPY.readIntArray(dir + "/d.npy").values, [1, -2, 3])
        XCTAssertThrowsError(try NPY.write(ints: [1 << 40], shape: [1], dtype: .int32, to: dir + "/e.npy")) {
            XCTAssertEqual(($0 as? NPYError)?.kind, .valueOutOfRange)
            XCTAssertEqual("\($0)", dir + "/e.npy: value 1099511627776 at index 0 does not fit <i4")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/e.npy"))

        let image = (0..<24).map { Double($0) / 3 }
        try NPY.write(doubles: image, shape: [2, 3, 2, 2], to: dir + "/img.npy")
        XCTAssertEqual(try NPY.read(dir + "/img.npy").asDoubles(), image)
        try NPY.write(floats: [3.25], shape: [], to: dir + "/s.npy")
        let scalar = try NPY.read(dir + "/s.npy")
        XCTAssertEqual(scalar.shape, [])
        XCTAssertEqual(try scalar.asFloats(), [3.25])
        XCTAssertThrowsError(try NPY.write(doubles: [1, 2], shape: [3], to: dir + "/f.npy"))

        // Every array of every dtype survives encode → decode.
        for dtype in NPYDType.allCases where !dtype.isFloatingPoint {
            let a = try NPYArray(ints: [0, 1, 1, 0], shape: [2, 2], dtype: dtype)
            XCTAssertEqual(try NPY.decode(NPY.encode(a)), a, dtype.descr)
        }
    }

    func testHeaderLayoutMatchesNumPy() throws {
        let data = [UInt8](NPY.encode(try NPYArray(floats: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], shape: [3, 4])))
        XCTAssertEqual(Array(data[0..<8]), NPY.magic + [1, 0])
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0)
        let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"), header)
        XCTAssertTrue(header.hasSuffix(" \n"))
        XCTAssertEqual(data.count, 10 + headerLength + 48)
        XCTAssertEqual(NPYArray.describe([]), "()")
        XCTAssertEqual(NPYArray.describe([3]), "(3,)")
    }

    /// NumPy itself loads what Swift writes (skipped when python3 with numpy is not installed).
    func testNumPyLoadsSwiftFiles() throws {
        // python3 is looked up on PATH (pyenv, venvs, Homebrew …) through /usr/bin/env.
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/env") else { throw XCTSkip("no /usr/bin/env") }
        let dir = try makeTemporaryDirectory("npy-numpy")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try NPY.write(Matrix<Float>([[1.5, -2], [0.25, 8]]), to: dir + "/f32.npy")
        try NPY.write(Matrix<Double>([[Double.pi, 1e-300, -7]]), to: dir + "/f64.npy")
        try NPY.write(ints: [1, -2, 3, 4, 5, 6], shape: [3, 2], dtype: .int32, to: dir + "/i32.npy")
        try NPY.write(ints: [Int.min, Int.max], shape: [2], to: dir + "/i64.npy")
        try NPY.write(doubles: [0.5], shape: [], to: dir + "/scalar.npy")
        let script = """
        import sys
        try:
            import numpy as np
        except ImportError:
            sys.exit(77)
        d = sys.argv[1]
        a = np.load(d + '/f32.npy'); assert a.dtype == np.float32 and a.tolist() == [[1.5, -2.0], [0.25, 8.0]], a
        b = np.load(d + '/f64.npy'); assert b.dtype == np.float64 and b.tolist() == [[np.pi, 1e-300, -7.0]], b
        c = np.load(d + '/i32.npy'); assert c.dtype == np.int32 and c.tolist() == [[1, -2], [3, 4], [5, 6]], c
        e = np.load(d + '/i64.npy'); assert e.dtype == np.int64 and e.tolist() == [-2**63, 2**63 - 1], e
        s = np.load(d + '/scalar.npy'); assert s.shape == () and float(s) == 0.5, s
        print('ok')
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, dir]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus == 127 { throw XCTSkip("python3 not found on PATH") }
        if process.terminationStatus == 77 { throw XCTSkip("numpy not installed") }
        XCTAssertEqual(process.terminationStatus, 0, output)
        XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines), "ok")
    }

    // MARK: Header parsing

    func testHeaderDictIsParsedNotPatternMatched() throws {
        let data: [UInt8] = [1, 0, 0, 0, 2, 0, 0, 0]
        let variants = [
            "{'shape': (2,), 'fortran_order': False, 'descr': '<i4'}",
            "{\"descr\":\"<i4\",\"fortran_order\":False,\"shape\":(2,)}",
            "{ 'descr' : '<i4' ,\n 'fortran_order' : False , 'shape' : ( 2 , ) , }",
            "{'descr': '<i4', 'fortran_order': False, 'shape': (2L,), }",
        ]
        for v in variants {
            let a = try NPY.decode(bytes: npyBytes(v, data: data))
            XCTAssertEqual(a.shape, [2], v)
            XCTAssertEqual(try a.asInts().values, [1, 2], v)
        }
        let v2 = try NPY.decode(bytes: npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 1)}", data: [9, 8], version: 2))
        XCTAssertEqual(try v2.asInts().values, [9, 8])
        // Fortran order is harmless when at most one dimension exceeds 1.
        let f = try NPY.decode(bytes: npyBytes("{'descr': '<i4', 'fortran_order': True, 'shape': (2,)}", data: data))
        XCTAssertEqual(try f.asInts().values, [1, 2])
    }

    /// `np.save(path, a.T)` writes Fortran order: the first index varies fastest in the payload.
    /// The reader returns the array in C order, as `np.load` does (values from NumPy's layout rule).
    func testFortranOrderIsReadInCOrder() throws {
        // a = np.arange(6, dtype='<i4').reshape(2, 3) in Fortran order: payload 0 3 1 4 2 5.
        let payload = [0, 3, 1, 4, 2, 5].flatMap { withUnsafeBytes(of: Int32($0).littleEndian, Array.init) }
        let a = try NPY.decode(bytes: npyBytes("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }", data: payload))
        XCTAssertEqual(a.shape, [2, 3])
        XCTAssertEqual(try a.asInts().values, [0, 1, 2, 3, 4, 5])
        // 3-D, float64: element (i, j, k) holds 100i + 10j + k; Fortran offset i + 2j + 6k.
        let shape = [2, 3, 4]
        var fortran = [Double](repeating: 0, count: 24)
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { fortran[i + 2 * j + 6 * k] = Double(100 * i + 10 * j + k) } } }
        let bytes = fortran.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        let b = try NPY.decode(bytes: npyBytes("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3, 4), }", data: bytes))
        var expected: [Double] = []
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { expected.append(Double(100 * i + 10 * j + k)) } } }
        XCTAssertEqual(b.shape, shape)
        XCTAssertEqual(try b.asDoubles(), expected)
    }

    func testRejectionsAreOneLineAndNamed() {
        let f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
        let eight = [UInt8](repeating: 0, count: 8)
        let cases: [([UInt8], NPYError.Kind, String)] = [
            ([], .truncatedHeader, "truncated header"),
            (Array("hello world".utf8), .badMagic, "bad magic"),
            (NPY.magic + [1], .truncatedHeader, "truncated header"),
            (NPY.magic + [4, 0, 0, 0], .unsupportedVersion, "version 4.0"),
            (NPY.magic + [1, 0, 0xFF, 0x00] + Array("{}".utf8), .truncatedHeader, "declares 255 bytes"),
            (npyBytes(f4, data: [0, 0, 0]), .truncatedData, "needs 8 bytes, found 3"),
            (npyBytes(f4, data: eight + [1]), .trailingData, "needs 8 bytes, found 9"),
            (npyBytes("{'descr': '>f8', 'fortran_order': False, 'shape': (1,)}", data: eight), .bigEndian, "big-endian"),
            (npyBytes("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", data: eight), .unsupportedDType, "pickle"),
            (npyBytes("{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}", data: eight), .unsupportedDType, "'<c8'"),
            (npyBytes("{'descr': '<U5', 'fortran_order': False, 'shape': (1,)}", data: eight), .unsupportedDType, "'<U5'"),
            (npyBytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", data: eight), .unsupportedDType, "structured"),
            (npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 2)}", data: eight), .invalidShape, "negative"),
            (npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999)}", data: eight), .invalidShape, "absurd"),
            (npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,)}", data: eight), .truncatedData, "found 8"),
            (npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,)}", data: eight), .invalidShape, "absurd"),
            (npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4611686018427387904)}", data: []), .invalidShape, "absurd"),
            (npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,)}", data: eight), .malformedHeader, "too large"),
            (npyBytes("{'descr': '<f4', 'fortran_order': False}", data: eight), .malformedHeader, "missing key 'shape'"),
            (npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", data: eight), .malformedHeader, "unexpected key"),
            (npyBytes("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", data: eight), .malformedHeader, "fortran_order"),
            (npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': 2}", data: eight), .malformedHeader, "not a tuple"),
            (npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", data: eight), .malformedHeader, "missing '}'"),
            (npyBytes("{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}", data: eight), .malformedHeader, "malformed"),
            (npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} junk", data: eight), .malformedHeader, "after the header"),
            (npyBytes("[1, 2]", data: eight), .malformedHeader, "not a dict"),
            (npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (02,)}", data: eight), .malformedHeader, "leading zero"),
            (npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\u{0B}", data: eight), .malformedHeader, "byte 0x0b"),
            (npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2L,)}", data: eight, version: 3), .malformedHeader, "'L'"),
            (npyBytes(String(repeating: "(", count: 100), data: eight), .malformedHeader, "nesting"),
        ]
        for (bytes, kind, fragment) in cases {
            XCTAssertThrowsError(try NPY.decode(bytes: bytes, source: "case.npy")) { error in
                guard let e = error as? NPYError else { return XCTFail("\(error)") }
                XCTAssertEqual(e.kind, kind, e.description)
                XCTAssertTrue(e.description.hasPrefix("case.npy: "), e.description)
                XCTAssertTrue(e.description.contains(fragment), "'\(fragment)' not in: \(e.description)")
                XCTAssertFalse(e.description.contains("\n"), e.description)
            }
        }
    }

    func testMissingFileIsAnNPYError() {
        XCTAssertThrowsError(try NPY.read("/nonexistent/dir/x.npy")) { error in
            XCTAssertEqual((error as? NPYError)?.description, "/nonexistent/dir/x.npy: no such file")
        }
    }
}

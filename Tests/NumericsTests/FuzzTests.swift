import Foundation
import XCTest
@testable import MCLNumerics

/// Seeded mutation fuzzing of the `.npy` reader and the JSON parser.
///
/// Inputs start from valid files and texts and are mutated (bit flips, byte insertions and
/// deletions, truncations, spliced garbage, absurd shapes, random bytes). Properties checked on
/// every input:
/// - no crash: a trap would kill the whole test process;
/// - every rejection is the reader's own error type with a non-empty, one-line description;
/// - every acceptance is self-consistent (the byte count matches the shape and dtype; JSON values
///   survive serialise → parse).
/// Each failure message carries the seed and input number; rerun with that seed to reproduce.
final class FuzzTests: XCTestCase {
    static let seed: UInt64 = 0x4D43_4C5F_494F  // "MCL_IO"

    // MARK: .npy

    /// Valid `.npy` files: the NumPy fixtures plus arrays encoded by this package.
    private func npyCorpus() throws -> [[UInt8]] {
        var corpus: [[UInt8]] = []
        let names = try FileManager.default.contentsOfDirectory(atPath: npyFixtures).filter { $0.hasSuffix(".npy") }.sorted()
        for name in names { corpus.append(Array(try XCTUnwrap(FileManager.default.contents(atPath: npyFixtures + "/" + name)))) }
        corpus.append(Array(NPY.encode(try NPYArray(floats: [1, 2, 3, 4, 5, 6], shape: [2, 3]))))
        corpus.append(Array(NPY.encode(try NPYArray(ints: [1, 0, 1], shape: [3], dtype: .bool))))
        corpus.append(Array(NPY.encode(try NPYArray(doubles: [7], shape: []))))
        corpus.append(Array(NPY.encode(try NPYArray(ints: [], shape: [0, 4], dtype: .int32))))
        return corpus
    }

    /// Decodes `bytes` and checks the properties above. Returns true when the input was accepted.
    @discardableResult
    private func checkNPY(_ bytes: [UInt8], _ label: @autoclosure () -> String) -> Bool {
        do {
            let a = try NPY.decode(bytes: bytes, source: "fuzz.npy")
            let count = a.shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).partialValue }
            XCTAssertTrue(a.shape.allSatisfy { $0 >= 0 }, "negative shape accepted: \(label())")
            XCTAssertEqual(a.bytes.count, count * a.dtype.itemSize, "inconsistent array accepted: \(label())")
            // The typed accessors must also behave: values or a clean NPYError.
            do {
                if a.dtype.isFloatingPoint {
                    let doubles = try a.asDoubles()
                    XCTAssertEqual(doubles.count, count, label())
                    if a.shape.count == 2 {
                        let m = try a.asMatrix(Float.self)
                        XCTAssertEqual(m.count, count, label())
                    }
                } else {
                    let ints = try a.asInts().values
                    XCTAssertEqual(ints.count, count, label())
                }
            } catch let e as NPYError {
                checkOneLine(e.description, label())
            }
            return true
        } catch let e as NPYError {
            checkOneLine(e.description, label())
        } catch {
            XCTFail("not an NPYError: \(error) — \(label())")
        }
        return false
    }

    private func checkOneLine(_ text: String, _ label: @autoclosure () -> String) {
        if text.isEmpty || text.contains("\n") || text.contains("\r") {
            XCTFail("bad error description '\(text)' — \(label())")
        }
    }

    private func label(_ seed: UInt64, _ i: Int, _ what: String, _ bytes: [UInt8]) -> String {
        let hex = bytes.prefix(160).map { String(format: "%02x", $0) }.joined()
        return "seed \(seed) input \(i) (\(what)): \(bytes.count) bytes \(hex)\(bytes.count > 160 ? "…" : "")"
    }

    func testNPYTruncationAtEveryLength() throws {
        // A strict prefix of a file always lacks part of its declared header or data.
        for (f, file) in try npyCorpus().enumerated() where file.count <= 400 {
            checkNPY(file, "corpus file \(f)")
            for n in 0..<file.count {
                XCTAssertFalse(checkNPY(Array(file[0..<n]), "file \(f) cut at \(n)"), "file \(f) cut at \(n) was accepted")
            }
        }
    }

    func testNPYMutations() throws {
        let corpus = try npyCorpus()
        var rng = RNG(seed: FuzzTests.seed, stream: 1)
        var accepted = 0
        let total = 100_000
        for i in 0..<total {
            var bytes = corpus[rng.int(below: corpus.count)]
            let what = mutate(&bytes, rng: &rng)
            if checkNPY(bytes, self.label(FuzzTests.seed, i, what, bytes)) { accepted += 1 }
        }
        print("FuzzTests: \(accepted) of \(total) mutated .npy files accepted (seed \(FuzzTests.seed))")
        XCTAssertGreaterThan(accepted, 0, "no mutated file was accepted: the fuzzer is too destructive")
        XCTAssertLessThan(accepted, total)
    }

    /// A `.npy` file with a header built from valid and invalid pieces (dtypes, dimensions, quotes,
    /// key order, missing or extra keys, trailing commas, versions) and data of a plausible or
    /// random length.
    private func generatedHeaderFile(_ rng: inout RNG) -> (bytes: [UInt8], dict: String) {
        let descrs = ["<f4", "<f8", "<i4", "<i8", "|b1", "|u1", "|i1", "<i2", "<u2", "<u4", "<u8", ">f4", ">i8",
                      "|O", "<c8", "<U5", "<f2", "f4", "<f4 ", "", "<", "|f4", ">u1", "=f8", "<M8[s]", "V8"]
        let dims = ["0", "1", "2", "3", "7", "-1", "99999999999", "9223372036854775807", "99999999999999999999",
                    "4611686018427387904", "2L", "+3", " 2 ", "x", "00", "-0"]
        let q = rng.bernoulli(0.5) ? "'" : "\""
        let descr = descrs[rng.int(below: descrs.count)]
        let fortran = ["False", "True", "0", "None", "false"][rng.bernoulli(0.85) ? 0 : rng.int(below: 5)]
        let rank = rng.int(below: 5)
        var shape = (0..<rank).map { _ in dims[rng.bernoulli(0.7) ? rng.int(below: 5) : rng.int(below: dims.count)] }
            .joined(separator: ", ")
        if rank == 1 || rng.bernoulli(0.2) { shape += "," }
        var entries = ["\(q)descr\(q): \(q)\(descr)\(q)", "\(q)fortran_order\(q): \(fortran)", "\(q)shape\(q): (\(shape))"]
        rng.shuffle(&entries)
        if rng.bernoulli(0.05) { entries.removeLast() }
        if rng.bernoulli(0.05) { entries.append("'extra': 1") }
        let dict = "{" + entries.joined(separator: rng.bernoulli(0.5) ? ", " : ",\n ") + (rng.bernoulli(0.5) ? ", }" : "}")
        // Data: usually about right for small shapes, sometimes random.
        let itemSize = NPYDType(descr: descr)?.itemSize ?? 4
        let guess = rank == 0 ? itemSize : (0..<rank).reduce(itemSize) { p, _ in p * [0, 1, 2, 3][rng.int(below: 4)] }
        let length = rng.bernoulli(0.6) ? guess : rng.int(below: 64)
        let data = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        return (npyBytes(dict, data: data, version: UInt8(1 + rng.int(below: 3))), dict)
    }

    func testNPYGeneratedHeaders() {
        var rng = RNG(seed: FuzzTests.seed, stream: 2)
        var accepted = 0
        let total = 40_000
        for i in 0..<total {
            let (bytes, dict) = generatedHeaderFile(&rng)
            if checkNPY(bytes, label(FuzzTests.seed, i, "header \(dict)", bytes)) { accepted += 1 }
        }
        print("FuzzTests: \(accepted) of \(total) generated headers accepted (seed \(FuzzTests.seed))")
        XCTAssertGreaterThan(accepted, 0)
    }

    /// Differential check against NumPy (skipped without python3 + numpy): every file the Swift
    /// reader accepts — mutated corpus files and generated headers — must load in `numpy.load` with
    /// the same dtype, shape and bytes. (NumPy accepts more: Fortran order, big-endian, other dtypes.)
    func testNPYAcceptedFilesLoadInNumPy() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/env") else { throw XCTSkip("no /usr/bin/env") }
        var rng = RNG(seed: FuzzTests.seed, stream: 6)
        let corpus = try npyCorpus()
        var accepted: [([UInt8], NPYArray)] = []
        var attempts = 0
        while accepted.count < 600 && attempts < 400_000 {
            attempts += 1
            var bytes: [UInt8]
            if attempts % 2 == 0 {
                bytes = corpus[rng.int(below: corpus.count)]
                _ = mutate(&bytes, rng: &rng)
            } else {
                bytes = generatedHeaderFile(&rng).bytes
            }
            if let a = try? NPY.decode(bytes: bytes) { accepted.append((bytes, a)) }
        }
        let dir = try makeTemporaryDirectory("fuzz-numpy")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (i, (bytes, _)) in accepted.enumerated() { try AtomicFile.write(Data(bytes), to: dir + "/\(i).npy") }
        let script = """
        import sys, json
        try:
            import numpy as np
        except ImportError:
            sys.exit(77)
        d, n = sys.argv[1], int(sys.argv[2])
        out = []
        for i in range(n):
            try:
                a = np.load('%s/%d.npy' % (d, i))
                out.append([a.dtype.str, list(a.shape), a.tobytes().hex()])
            except Exception as e:
                out.append(str(e).splitlines()[0] if str(e) else type(e).__name__)
        print(json.dumps(out))
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, dir, String(accepted.count)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus == 127 { throw XCTSkip("python3 not found on PATH") }
        if process.terminationStatus == 77 { throw XCTSkip("numpy not installed") }
        XCTAssertEqual(process.terminationStatus, 0)
        let results = try XCTUnwrap(JSONValue.parse(output).arrayValue)
        XCTAssertEqual(results.count, accepted.count)
        for (i, (result, (bytes, a))) in zip(results, accepted).enumerated() {
            let hex = a.bytes.map { String(format: "%02x", $0) }.joined()
            let label = self.label(FuzzTests.seed, i, "numpy differential", bytes)
            guard let r = result.arrayValue, r.count == 3 else {
                XCTFail("Swift accepted a file numpy rejects (\(result.stringValue ?? "?")): \(label)")
                continue
            }
            XCTAssertEqual(NPYDType(descr: r[0].stringValue ?? ""), a.dtype, label)
            XCTAssertEqual(r[1].arrayValue?.compactMap { $0.intValue }, a.shape, label)
            XCTAssertEqual(r[2].stringValue, hex, label)
        }
        print("FuzzTests: \(accepted.count) accepted mutants cross-checked with numpy.load")
    }

    func testNPYHugeShapesNeverAllocate() {
        // Declared sizes far beyond memory must be refused from the byte count alone.
        for shape in ["(99999999999, 99999999999)", "(1099511627776,)", "(4294967296, 4294967296, 0)",
                      "(9223372036854775807,)", "(-9223372036854775808,)", "(" + String(repeating: "2, ", count: 70) + ")",
                      "(3037000500, 3037000500)", "(1, 1, 1, 1, 1, 1, 99999999999999)"] {
            let bytes = npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': \(shape), }", data: [UInt8](repeating: 0, count: 40))
            XCTAssertFalse(checkNPY(bytes, "shape \(shape)"), "shape \(shape) accepted")
        }
    }

    func testNPYRandomBytes() {
        var rng = RNG(seed: FuzzTests.seed, stream: 3)
        for i in 0..<20_000 {
            let n = rng.int(below: 200)
            var bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if rng.bernoulli(0.7) { bytes = NPY.magic + [UInt8(1 + rng.int(below: 3)), 0] + bytes }
            checkNPY(bytes, label(FuzzTests.seed, i, "random", bytes))
        }
    }

    // MARK: JSON

    private let jsonCorpus: [String] = [
        #"{"a": [1, 2.5, -3e-7, true, false, null], "b": {"c": "d\n\u00e9\ud83d\ude00"}, "": []}"#,
        #"[0, -0, 1E+2, 123456789012345678901234567890, 0.000001, "x\\y\"z\/", {}]"#,
        "{\n  \"stages\": [\n    {\"k\": 8, \"loss\": 0.25}\n  ],\n  \"seed\": 42\n}\n",
        #""just a string with \t tab""#,
        "[[[[[[[[[[1]]]]]]]]]]",
        "-12.5e-3",
        "true",
        "null",
    ]

    /// Parses `bytes` and checks the properties above. Returns true when the input was accepted.
    @discardableResult
    private func checkJSON(_ bytes: [UInt8], _ label: @autoclosure () -> String) -> Bool {
        do {
            let value = try JSONValue.parse(bytes: bytes)
            XCTAssertEqual(try JSONValue.parse(value.serialized()), value, "round trip: \(label())")
            return true
        } catch let e as JSONParseError {
            checkOneLine(e.description, label())
            XCTAssertTrue(e.offset >= 0 && e.offset <= bytes.count, "offset out of range: \(label())")
        } catch {
            XCTFail("not a JSONParseError: \(error) — \(label())")
        }
        return false
    }

    func testJSONTruncationAtEveryLength() {
        for (t, text) in jsonCorpus.enumerated() {
            let bytes = Array(text.utf8)
            XCTAssertTrue(checkJSON(bytes, "corpus \(t)"))
            for n in 0..<bytes.count { checkJSON(Array(bytes[0..<n]), "corpus \(t) cut at \(n)") }
        }
    }

    func testJSONMutations() {
        var rng = RNG(seed: FuzzTests.seed, stream: 4)
        let corpus = jsonCorpus.map { Array($0.utf8) }
        var accepted = 0
        let total = 100_000
        for i in 0..<total {
            var bytes = corpus[rng.int(below: corpus.count)]
            let what = mutate(&bytes, rng: &rng, alphabet: Array(#"{}[],:"\0123456789.eE+-tfnulrsa \u"#.utf8))
            if checkJSON(bytes, label(FuzzTests.seed, i, what, bytes)) { accepted += 1 }
        }
        print("FuzzTests: \(accepted) of \(total) mutated JSON texts accepted (seed \(FuzzTests.seed))")
        XCTAssertGreaterThan(accepted, 0)
        XCTAssertLessThan(accepted, total)
    }

    func testJSONDeepNestingAndRandomBytes() {
        for n in [511, 512, 513, 10_000, 100_000] {
            checkJSON(Array(String(repeating: "[", count: n).utf8), "\(n) × [")
            checkJSON(Array((String(repeating: "{\"a\":", count: n) + "1" + String(repeating: "}", count: n)).utf8), "\(n) objects")
        }
        var rng = RNG(seed: FuzzTests.seed, stream: 5)
        for i in 0..<20_000 {
            let bytes = (0..<rng.int(below: 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            checkJSON(bytes, label(FuzzTests.seed, i, "random", bytes))
        }
    }

    // MARK: Mutations

    /// Applies 1–4 random mutations to `bytes` and names them. Inserted bytes come from
    /// `alphabet` half of the time (to reach deeper into the grammar), else are arbitrary.
    private func mutate(_ bytes: inout [UInt8], rng: inout RNG, alphabet: [UInt8] = Array("{}()[],:'\" 0123456789-TrueFalsdcp<|>f4i8b1\n".utf8)) -> String {
        var names: [String] = []
        func randomByte() -> UInt8 {
            rng.bernoulli(0.5) ? alphabet[rng.int(below: alphabet.count)] : UInt8(truncatingIfNeeded: rng.next())
        }
        for _ in 0..<(1 + rng.int(below: 4)) {
            let n = bytes.count
            switch rng.int(below: 8) {
            case 0 where n > 0:
                let at = rng.int(below: n)
                bytes[at] ^= UInt8(1) << UInt8(rng.int(below: 8))
                names.append("flip@\(at)")
            case 1:
                let at = rng.int(below: n + 1)
                let k = 1 + rng.int(below: 4)
                bytes.insert(contentsOf: (0..<k).map { _ in randomByte() }, at: at)
                names.append("insert\(k)@\(at)")
            case 2 where n > 0:
                let at = rng.int(below: n)
                let k = min(n - at, 1 + rng.int(below: 4))
                bytes.removeSubrange(at..<(at + k))
                names.append("delete\(k)@\(at)")
            case 3 where n > 0:
                let at = rng.int(below: n)
                bytes.removeSubrange(at...)
                names.append("truncate@\(at)")
            case 4 where n > 0:
                let at = rng.int(below: n)
                bytes[at] = randomByte()
                names.append("set@\(at)")
            case 5 where n > 1:
                // Duplicate a chunk elsewhere (repeats keys, brackets, data).
                let a = rng.int(below: n), b = min(n, a + 1 + rng.int(below: 16))
                let chunk = Array(bytes[a..<b])
                bytes.insert(contentsOf: chunk, at: rng.int(below: bytes.count + 1))
                names.append("dup\(a)..<\(b)")
            case 6:
                // Splice an absurd number into the text.
                let numbers = ["99999999999, 99999999999", "-1", "0", "1e999", "18446744073709551616", "NaN", "(((("]
                let s = numbers[rng.int(below: numbers.count)]
                bytes.insert(contentsOf: Array(s.utf8), at: rng.int(below: n + 1))
                names.append("splice '\(s)'")
            default:
                bytes.append(randomByte())
                names.append("append")
            }
        }
        return names.joined(separator: " ")
    }
}

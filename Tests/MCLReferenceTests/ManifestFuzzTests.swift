import Foundation
import XCTest
import MCLNumerics
@testable import MCLReference

/// Seeded mutation fuzzing of the fixture manifest reader (`FixtureManifest`, `manifest.json`).
///
/// Inputs start from the manifests of real fixture cases and are mutated two ways: as bytes (bit
/// flips, insertions, deletions, truncations, spliced absurd numbers) and as JSON trees (a value
/// replaced by a wrong type, a negative / huge / fractional number, a path-escaping file name, a
/// gigantic shape; a key removed or repeated). Properties checked on every input:
/// - no crash (a trap kills the test process) and no hang;
/// - a rejection is a `JSONParseError` (text level) or a `FixtureError` (manifest level) with a
///   non-empty one-line description naming the manifest;
/// - an accepted manifest is self-consistent (shapes non-negative, file names plain) and reading
///   its tensors against the real case directory either succeeds or fails with a `FixtureError` —
///   in particular a declared-but-absent gigantic shape is compared, never allocated.
/// Each failure message carries the seed and input number.
final class ManifestFuzzTests: XCTestCase {
    static let seed: UInt64 = 0x4D41_4E49_4645  // "MANIFE"
    var scratch = ""

    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "/mcl-manifest-fuzz-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    /// Real case directories written by `FixtureWriter` (small cases, both precisions).
    private func corpus() throws -> [(directory: String, text: [UInt8])] {
        var out: [(String, [UInt8])] = []
        for (name, precision) in [("linear", FixturePrecision.f64), ("kmeans_lloyd", .f32), ("relu", .f32)] {
            let root = scratch + "/\(precision)"
            try FixtureWriter.write(FixtureCase.named(name)!, precision: precision, to: root)
            let dir = root + "/" + name
            out.append((dir, Array(try XCTUnwrap(FileManager.default.contents(atPath: dir + "/manifest.json")))))
        }
        return out
    }

    /// Parses `bytes` as a manifest of the case in `directory`; checks the properties above.
    /// Returns true when accepted.
    @discardableResult
    private func check(_ bytes: [UInt8], directory: String, _ label: @autoclosure () -> String) -> Bool {
        let path = directory + "/manifest.json"
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes: bytes, source: path)
        } catch let e as JSONParseError {
            oneLine(e.description, label())
            return false
        } catch {
            XCTFail("not a JSONParseError: \(error) — \(label())")
            return false
        }
        return check(json, directory: directory, label())
    }

    @discardableResult
    private func check(_ json: JSONValue, directory: String, _ label: @autoclosure () -> String) -> Bool {
        let path = directory + "/manifest.json"
        let manifest: FixtureManifest
        do {
            manifest = try FixtureManifest(json: json, path: path)
        } catch let e as FixtureError {
            oneLine(e.description, label())
            XCTAssertTrue(e.description.hasPrefix(path), "error does not name the manifest: \(e) — \(label())")
            return false
        } catch {
            XCTFail("not a FixtureError: \(error) — \(label())")
            return false
        }
        for entry in manifest.inputs + manifest.outputs {
            XCTAssertTrue(entry.shape.allSatisfy { $0 >= 0 }, "negative shape accepted — \(label())")
            XCTAssertFalse(entry.file.contains("/") || entry.file.hasPrefix("."), "escaping file name accepted — \(label())")
            do {
                let a = try FixtureManifest.readTensor(entry, caseDirectory: directory, checkEntry: true)
                XCTAssertEqual(a.shape, entry.shape, label())
            } catch let e as FixtureError {
                oneLine(e.description, label())
            } catch {
                XCTFail("readTensor: not a FixtureError: \(error) — \(label())")
            }
        }
        return true
    }

    private func oneLine(_ text: String, _ label: @autoclosure () -> String) {
        if text.isEmpty || text.contains("\n") || text.contains("\r") { XCTFail("bad error description '\(text)' — \(label())") }
    }

    func testCorpusIsAccepted() throws {
        for (dir, text) in try corpus() { XCTAssertTrue(check(text, directory: dir, "corpus \(dir)")) }
    }

    func testTruncationAtEveryLength() throws {
        for (dir, text) in try corpus() {
            let close = try XCTUnwrap(text.lastIndex(of: UInt8(ascii: "}")))
            for n in 0...close {
                // A prefix without the closing brace of the object is never a complete value.
                XCTAssertFalse(check(Array(text[..<n]), directory: dir, "\(dir) truncated to \(n)"))
            }
        }
    }

    func testByteMutations() throws {
        let files = try corpus()
        var rng = RNG(seed: Self.seed)
        var accepted = 0
        for i in 0..<3000 {
            let (dir, original) = files[i % files.count]
            var bytes = original
            let what = mutateBytes(&bytes, rng: &rng)
            if check(bytes, directory: dir, "seed \(Self.seed) input \(i) (\(what))") { accepted += 1 }
        }
        // The mutations must reach the manifest level, not stop at the JSON parser every time.
        XCTAssertGreaterThan(accepted, 0)
    }

    func testTreeMutations() throws {
        let files = try corpus()
        var rng = RNG(seed: Self.seed &+ 1)
        var rejected = 0
        for i in 0..<3000 {
            let (dir, text) = files[i % files.count]
            var json = try JSONValue.parse(bytes: text)
            var what: [String] = []
            for _ in 0..<(1 + rng.int(below: 3)) { what.append(mutateTree(&json, rng: &rng, path: "")) }
            if !check(json, directory: dir, "seed \(Self.seed &+ 1) input \(i) (\(what.joined(separator: "; ")))") {
                rejected += 1
            }
            // The same tree through the text path (serialise, parse) must behave the same way.
            check(Array(json.serialized().utf8), directory: dir, "serialised input \(i)")
        }
        XCTAssertGreaterThan(rejected, 1000, "the tree mutations should mostly produce invalid manifests")
    }

    /// A manifest that declares an enormous tensor next to a tiny file: compared, rejected, and
    /// never allocated (an allocation of 2^60 elements would abort the process).
    func testGiganticDeclaredShapesAreNotAllocated() throws {
        let (dir, text) = try corpus()[0]
        let json = try JSONValue.parse(bytes: text)
        // Beyond 2^53 a JSON number is not an exact integer: such a shape is rejected while parsing.
        var tooLarge = try FixtureManifest(json: json, path: dir + "/manifest.json")
        tooLarge.outputs[0].shape = [1 << 60]
        XCTAssertThrowsError(try FixtureManifest(json: tooLarge.json, path: dir + "/manifest.json")) {
            XCTAssert("\($0)".contains("outputs[0]: missing or invalid 'shape'"), "\($0)")
        }
        for shape in [[1 << 52], [1 << 40, 1 << 40], [9_007_199_254_740_991, 9_007_199_254_740_991, 4]] {
            var m = try FixtureManifest(json: json, path: dir + "/manifest.json")
            m.outputs[0].shape = shape
            let reparsed = try FixtureManifest(json: m.json, path: dir + "/manifest.json")
            XCTAssertEqual(reparsed.outputs[0].shape, shape)
            XCTAssertThrowsError(try FixtureManifest.readTensor(reparsed.outputs[0], caseDirectory: dir, checkEntry: true)) {
                XCTAssert("\($0)".contains("the manifest says"), "\($0)")
            }
            try AtomicFile.write(m.json, to: dir + "/manifest.json")
            XCTAssertThrowsError(try FixtureCheck.compare(reference: (dir as NSString).deletingLastPathComponent,
                                                          candidate: (dir as NSString).deletingLastPathComponent)) {
                XCTAssert($0 is FixtureError, "\($0)")
            }
        }
    }

    // MARK: Mutations

    private func mutateBytes(_ bytes: inout [UInt8], rng: inout RNG) -> String {
        let alphabet = Array("{}[],:\" 0123456789-.eEtruefalsn\\".utf8)
        var names: [String] = []
        for _ in 0..<(1 + rng.int(below: 3)) {
            let n = bytes.count
            switch rng.int(below: 6) {
            case 0 where n > 0:
                let at = rng.int(below: n)
                bytes[at] ^= UInt8(1) << UInt8(rng.int(below: 8))
                names.append("flip@\(at)")
            case 1:
                let at = rng.int(below: n + 1)
                let b = rng.bernoulli(0.7) ? alphabet[rng.int(below: alphabet.count)] : UInt8(truncatingIfNeeded: rng.next())
                bytes.insert(b, at: at)
                names.append("insert@\(at)")
            case 2 where n > 0:
                let at = rng.int(below: n)
                bytes.removeSubrange(at..<min(n, at + 1 + rng.int(below: 4)))
                names.append("delete@\(at)")
            case 3 where n > 0:
                let at = rng.int(below: n)
                bytes[at] = alphabet[rng.int(below: alphabet.count)]
                names.append("set@\(at)")
            case 4:
                // Replace a digit run with an absurd number (keeps the text valid JSON more often).
                let digits = bytes.indices.filter { (48...57).contains(bytes[$0]) }
                guard let at = digits.isEmpty ? nil : digits[rng.int(below: digits.count)] else { continue }
                var end = at
                while end < bytes.count, (48...57).contains(bytes[end]) { end += 1 }
                let s = absurdNumbers[rng.int(below: absurdNumbers.count)]
                bytes.replaceSubrange(at..<end, with: Array(s.utf8))
                names.append("number@\(at)='\(s)'")
            default:
                let at = rng.int(below: n + 1)
                bytes.removeSubrange(at...)
                names.append("truncate@\(at)")
            }
        }
        return names.joined(separator: " ")
    }

    private let absurdNumbers = ["-1", "1e999", "-1e999", "18446744073709551616", "99999999999999999999", "0.5",
                                 "1e-400", "9007199254740993", "4294967296"]

    /// Replaces one randomly chosen node of `json` (or removes/duplicates an object key); returns
    /// a description.
    private func mutateTree(_ json: inout JSONValue, rng: inout RNG, path: String) -> String {
        switch json {
        case var .object(pairs) where !pairs.isEmpty && rng.bernoulli(0.75):
            let i = rng.int(below: pairs.count)
            switch rng.int(below: 8) {
            case 0:
                let key = pairs.remove(at: i).0
                json = .object(pairs)
                return "remove \(path)/\(key)"
            case 1:
                pairs.insert((pairs[i].0, replacement(&rng)), at: 0)
                json = .object(pairs)
                return "repeat \(path)/\(pairs[0].0) first"
            default:
                let what = mutateTree(&pairs[i].1, rng: &rng, path: path + "/" + pairs[i].0)
                json = .object(pairs)
                return what
            }
        case var .array(items) where !items.isEmpty && rng.bernoulli(0.75):
            let i = rng.int(below: items.count)
            if rng.bernoulli(0.2) {
                items.append(items[i])
                json = .array(items)
                return "duplicate \(path)[\(i)]"
            }
            let what = mutateTree(&items[i], rng: &rng, path: path + "[\(i)]")
            json = .array(items)
            return what
        default:
            let r = replacement(&rng)
            json = r
            return "\(path) = \(r.serialized().prefix(60))"
        }
    }

    private func replacement(_ rng: inout RNG) -> JSONValue {
        let choices: [JSONValue] = [
            .null, .bool(true), .number(-1), .number(0.5), .number(1e300), .number(-1e300), .number(0x1p64),
            .number(0x1p63), .number(0x1p53 + 2), .number(0x1p40), .string(""), .string("../escape.npy"),
            .string("a/b.npy"), .string(".hidden.npy"), .string("<f8"), .string(">f4"), .string("x.npy"),
            .array([]), .array([.number(0x1p40), .number(0x1p40)]), .array([.number(-3)]),
            .array([.string("1")]), .object([]), .object([("atol", .number(-1))]),
        ]
        return choices[rng.int(below: choices.count)]
    }
}

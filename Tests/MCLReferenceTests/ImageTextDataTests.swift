import XCTest
@testable import MCLReference
import MCLNumerics

/// `ImageTextData.load`: a user's images + token ids (+ labels) read as written, and every malformed
/// file refused with one line naming the file and what was expected.
final class ImageTextDataTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "mcl-imagetext-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // 4 images 2×3×3, captions of length 3 (padding at the end), labels with 2 columns.
        try NPY.write(floats: (0..<(4 * 18)).map { Float($0) / 72 }, shape: [4, 2, 3, 3], to: dir + "/x.npy")
        try NPY.write(ints: [1, 2, 0, 3, 0, 0, 2, 2, 4, 5, 1, 0], shape: [4, 3], dtype: .int32, to: dir + "/t.npy")
        try NPY.write(ints: [10, 7, 20, 7, 10, 8, 20, 8], shape: [4, 2], to: dir + "/y.npy")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func path(_ name: String) -> String { dir + "/" + name }

    func testLoadsImagesTokensAndEncodedLabels() throws {
        let d = try ImageTextData<Float>.load(images: path("x.npy"), tokens: path("t.npy"), labels: path("y.npy"),
                                              featureNames: ["kind", "size"])
        XCTAssertEqual(d.count, 4)
        XCTAssertEqual(d.images.sampleShape, [2, 3, 3])
        XCTAssertEqual(d.images.x[1, 0], Float(18) / 72)
        XCTAssertEqual(d.tokens, [[1, 2, 0], [3, 0, 0], [2, 2, 4], [5, 1, 0]])
        XCTAssertEqual(d.captionLength, 3)
        XCTAssertEqual(d.vocabulary, ["<pad>", "token1", "token2", "token3", "token4", "token5"])
        XCTAssertEqual(d.captionText(2), "token2 token2 token4")
        XCTAssertEqual(d.images.featureNames, ["kind", "size"])
        XCTAssertEqual(d.images.labels, [[0, 1, 0, 1], [0, 0, 1, 1]])
        XCTAssertEqual(d.images.classValues, [[10, 20], [7, 8]])
        // Without labels: no attributes; with a vocabulary: its words.
        let words = ["<pad>", "a", "b", "c", "d", "e", "f"]
        let u = try ImageTextData<Double>.load(images: path("x.npy"), tokens: path("t.npy"), labels: nil, featureNames: nil,
                                               vocabulary: words)
        XCTAssertEqual(u.images.featureCount, 0)
        XCTAssertEqual(u.vocabulary, words)
        XCTAssertEqual(u.captionText(0), "a b")
        // Whole-number floats are accepted as ids.
        try NPY.write(doubles: [1, 2, 0, 3, 0, 0, 2, 2, 4, 5, 1, 0], shape: [4, 3], to: path("tf.npy"))
        XCTAssertEqual(try ImageTextData<Float>.load(images: path("x.npy"), tokens: path("tf.npy"), labels: nil,
                                                     featureNames: nil).tokens, d.tokens)
    }

    /// Each malformed input → a `DataError` whose message names `file` and contains `expected`.
    func assertRefused(images: String = "x.npy", tokens: String = "t.npy", labels: String? = nil, names: [String]? = nil,
                       vocabulary: [String]? = nil, file: String, _ expected: String, line: UInt = #line) {
        XCTAssertThrowsError(try ImageTextData<Float>.load(images: path(images), tokens: path(tokens),
                                                           labels: labels.map(path), featureNames: names,
                                                           vocabulary: vocabulary), line: line) { error in
            guard let e = error as? DataError else { return XCTFail("not a DataError: \(error)", line: line) }
            XCTAssert(e.message.contains(file), "\(e.message) should name \(file)", line: line)
            XCTAssert(e.message.contains(expected), "\(e.message) should say \(expected)", line: line)
            XCTAssertFalse(e.message.contains("\n"), "one line", line: line)
        }
    }

    func testMalformedFilesAreRefusedNamingTheFileAndField() throws {
        try NPY.write(ints: [1, 2, 3, 4], shape: [4], to: path("t1d.npy"))
        assertRefused(tokens: "t1d.npy", file: "t1d.npy", "expected a 2-D array (N, L) of token ids")
        try NPY.write(ints: [1, 2, 3, 4, 5, 6], shape: [3, 2], to: path("t3.npy"))
        assertRefused(tokens: "t3.npy", file: "t3.npy", "3 captions for 4 images")
        try NPY.write(ints: [1, 2, 3, -1, 5, 6, 1, 1], shape: [4, 2], to: path("tneg.npy"))
        assertRefused(tokens: "tneg.npy", file: "tneg.npy", "row 1, position 1 is -1")
        try NPY.write(ints: [1, 2, 0, 0, 5, 6, 1, 1], shape: [4, 2], to: path("tpad.npy"))
        assertRefused(tokens: "tpad.npy", file: "tpad.npy", "caption at row 1 is all padding")
        try NPY.write(doubles: [1, 2, 3, 4.5, 5, 6, 1, 1], shape: [4, 2], to: path("tfrac.npy"))
        assertRefused(tokens: "tfrac.npy", file: "tfrac.npy", "row 1, position 1 is 4.5, not an integer id")
        assertRefused(vocabulary: ["<pad>", "a", "b", "c"], file: "t.npy", "is 4, outside the vocabulary of 4 words")
        assertRefused(vocabulary: ["a", "<pad>"], file: "t.npy", "must start with \"<pad>\"")
        try NPY.write(ints: [], shape: [4, 0], to: path("tempty.npy"))
        assertRefused(tokens: "tempty.npy", file: "tempty.npy", "captions of length 0")
        // Images: the loader's image checks.
        try NPY.write(floats: (0..<8).map(Float.init), shape: [4, 2], to: path("x2d.npy"))
        assertRefused(images: "x2d.npy", file: "x2d.npy", "expected a 4-D array (N, C, H, W)")
        try NPY.write(floats: [Float.nan] + [Float](repeating: 0, count: 71), shape: [4, 2, 3, 3], to: path("xnan.npy"))
        assertRefused(images: "xnan.npy", file: "xnan.npy", "must be finite")
        // Labels.
        try NPY.write(ints: [1, 2, 1], shape: [3], to: path("y3.npy"))
        assertRefused(labels: "y3.npy", file: "y3.npy", "3 labels for 4 samples")
        try NPY.write(ints: [5, 5, 5, 5], shape: [4], to: path("yone.npy"))
        assertRefused(labels: "yone.npy", file: "yone.npy", "single class")
        assertRefused(labels: "y.npy", names: ["only-one"], file: "y.npy", "1 names given")
        XCTAssertThrowsError(try ImageTextData<Float>.load(images: path("x.npy"), tokens: path("t.npy"), labels: nil,
                                                           featureNames: ["kind"])) {
            XCTAssertEqual(($0 as? DataError)?.setting, .featureNames, "\($0)")
        }
        // A missing file: the NPY reader's error names it.
        XCTAssertThrowsError(try ImageTextData<Float>.load(images: path("x.npy"), tokens: path("nope.npy"), labels: nil,
                                                           featureNames: nil)) {
            XCTAssert("\($0)".contains("nope.npy"), "\($0)")
        }
    }

    func testSubsetKeepsPairsTogether() {
        let d = ShapesCaptions.make(count: 10, seed: 1, as: Float.self)
        let s = d.subset([7, 2, 2])
        XCTAssertEqual(s.tokens, [d.tokens[7], d.tokens[2], d.tokens[2]])
        XCTAssertEqual(s.images.x.row(0), d.images.x.row(7))
        XCTAssertEqual(s.images.labels.map { $0[0] }, d.images.labels.map { $0[7] })
        XCTAssertEqual(d.subset([]).count, 0)
        XCTAssertEqual(d.subset([]).captionLength, 5)
    }
}

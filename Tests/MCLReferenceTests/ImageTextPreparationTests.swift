import XCTest
@testable import MCLReference
import MCLNumerics

/// `DataPreparation.preparePairs`: the built-in pairs are the two halves of one draw; user pairs are
/// split like `LabeledData.split` and standardised per channel with train statistics; bad settings
/// are `DataError`s.
final class ImageTextPreparationTests: XCTestCase {
    func testBuiltInPairsAreTheTwoHalvesOfOneDraw() throws {
        let (train, test) = try DataPreparation.preparePairs(.builtIn(name: "shapes-captions", samples: 20, imageSize: 16),
                                                             seed: 3, as: Float.self)
        let all = ShapesCaptions.make(count: 40, size: 16, seed: 3, as: Float.self)
        XCTAssertEqual(train.images.x, all.subset(Array(0..<20)).images.x)
        XCTAssertEqual(test.tokens, all.subset(Array(20..<40)).tokens)
        XCTAssertEqual(DataPreparation.pairedSets, ["shapes-captions"])
        for (source, expected) in [(ImageTextSource.builtIn(name: "trifeature", samples: 4, imageSize: 16), "no built-in image–text data set 'trifeature'"),
                                   (.builtIn(name: "shapes-captions", samples: 4, imageSize: 20), "image size must be 16 or 32, got 20"),
                                   (.builtIn(name: "shapes-captions", samples: 0, imageSize: 16), "need at least 1 sample")] {
            XCTAssertThrowsError(try DataPreparation.preparePairs(source, seed: 0, as: Float.self)) {
                XCTAssert("\($0)".contains(expected), "\($0)")
            }
        }
    }

    func testUserPairsAreSplitAndStandardisedWithTrainStatistics() throws {
        let dir = NSTemporaryDirectory() + "mcl-imagetext-prep-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = ShapesCaptions.make(count: 40, size: 16, seed: 1, as: Double.self)
        try NPY.write(doubles: d.images.x.storage, shape: [40, 3, 16, 16], to: dir + "/x.npy")
        try NPY.write(ints: d.tokens.flatMap { $0 }, shape: [40, 5], to: dir + "/t.npy")
        try NPY.write(ints: (0..<40).flatMap { i in d.images.labels.map { $0[i] } }, shape: [40, 5], to: dir + "/y.npy")
        let source = ImageTextSource.files(images: dir + "/x.npy", tokens: dir + "/t.npy", labels: dir + "/y.npy",
                                           featureNames: ShapesCaptions.attributeNames, testFraction: 0.25, standardize: true)
        let (train, test) = try DataPreparation.preparePairs(source, seed: 8, as: Double.self)
        let (rawTrain, rawTest) = d.split(testFraction: 0.25, seed: 8)
        XCTAssertEqual(train.tokens, rawTrain.tokens)
        XCTAssertEqual(test.tokens, rawTest.tokens)
        XCTAssertEqual(test.images.labels, rawTest.images.labels)
        XCTAssertNotNil(train.images.standardization)
        // Channel means of the train images are 0 after standardisation.
        for ch in 0..<3 {
            var sum = 0.0
            for i in 0..<train.count { for k in 0..<256 { sum += train.images.x[i, ch * 256 + k] } }
            XCTAssertEqual(sum / Double(train.count * 256), 0, accuracy: 1e-9, "channel \(ch)")
        }
        var raw = source
        if case let .files(x, t, y, names, _, _) = source { raw = .files(images: x, tokens: t, labels: y, featureNames: names,
                                                                        testFraction: 0.25, standardize: false) }
        XCTAssertEqual(try DataPreparation.preparePairs(raw, seed: 8, as: Double.self).test.images.x, rawTest.images.x)
        if case let .files(x, t, y, names, _, _) = source {
            XCTAssertThrowsError(try DataPreparation.preparePairs(.files(images: x, tokens: t, labels: y, featureNames: names,
                                                                         testFraction: 1, standardize: true), seed: 0, as: Double.self)) {
                XCTAssert("\($0)".contains("held-out fraction must be in (0, 1)"), "\($0)")
            }
        }
    }
}

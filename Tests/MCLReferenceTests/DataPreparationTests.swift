import XCTest
@testable import MCLReference
import MCLNumerics

/// The library's one data path (DataPreparation.swift): built-in sets, user vectors and images,
/// hold-out by fraction or file, standardisation with train statistics, errors naming the file.
final class DataPreparationTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "mcl-prep-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func testBuiltInSetsAreTheFirstAndSecondHalfOfOneDraw() throws {
        let p = try DataPreparation.prepare(.builtIn(name: "easy-hard", samples: 50, imageSize: 0), seed: 4, as: Double.self)
        let all = EasyHardVectors.make(count: 100, seed: 4, as: Double.self)
        XCTAssertEqual(p.train.x, all.subset(Array(0..<50)).x)
        XCTAssertEqual(p.test.x, all.subset(Array(50..<100)).x)
        XCTAssertEqual(p.source, "easy-hard")
        let img = try DataPreparation.prepare(.builtIn(name: "trifeature", samples: 6, imageSize: 16), seed: 1, as: Float.self)
        XCTAssertEqual(img.train.sampleShape, [3, 16, 16])
        XCTAssertThrowsError(try DataPreparation.prepare(.builtIn(name: "trifeature", samples: 6, imageSize: 20), seed: 1, as: Float.self))
        XCTAssertThrowsError(try DataPreparation.prepare(.builtIn(name: "mnist", samples: 6, imageSize: 16), seed: 1, as: Float.self)) {
            XCTAssert("\($0)".contains("no built-in data set 'mnist'"), "\($0)")
        }
    }

    func testUserVectorsAreSplitAndStandardisedWithTrainStatistics() throws {
        var rng = RNG(seed: 2)
        let x: Matrix<Double> = rng.normalMatrix(40, 3, std: 5)
        try NPY.write(x, to: dir + "/x.npy")
        try NPY.write(ints: (0..<40).map { $0 % 2 == 0 ? 7 : 500 }, shape: [40], to: dir + "/y.npy")
        let p = try DataPreparation.prepare(.files(UserFiles(data: dir + "/x.npy", labels: dir + "/y.npy", testFraction: 0.25)),
                                            seed: 9, as: Double.self)
        XCTAssertEqual(p.train.count, 30)
        XCTAssertEqual(p.test.count, 10)
        XCTAssertEqual(Set(p.train.labels[0]), [0, 1], "labels encoded like LabelEncoder")
        for j in 0..<3 {
            let col = (0..<30).map { p.train.x[$0, j] }
            XCTAssertEqual(col.reduce(0, +) / 30, 0, accuracy: 1e-12, "train column \(j) has mean 0")
        }
        XCTAssertNotNil(p.train.standardization)
        let raw = try DataPreparation.prepare(.files(UserFiles(data: dir + "/x.npy", labels: dir + "/y.npy", standardize: false)),
                                              seed: 9, as: Double.self)
        XCTAssertNil(raw.train.standardization)
        XCTAssertEqual(raw.train.count + raw.test.count, 40)
    }

    func testAHeldOutFileIsEncodedWithTheTrainClassesAndMustMatchTheSampleShape() throws {
        var rng = RNG(seed: 3)
        try NPY.write(rng.normalMatrix(20, 4) as Matrix<Double>, to: dir + "/x.npy")
        try NPY.write(ints: (0..<20).map { [3, 9][$0 % 2] }, shape: [20], to: dir + "/y.npy")
        try NPY.write(rng.normalMatrix(6, 4) as Matrix<Double>, to: dir + "/tx.npy")
        try NPY.write(ints: [9, 9, 3, 3, 9, 3], shape: [6], to: dir + "/ty.npy")
        try NPY.write(rng.normalMatrix(6, 5) as Matrix<Double>, to: dir + "/wide.npy")
        try NPY.write(ints: [1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2, 1], shape: [6, 2], to: dir + "/ty2.npy")
        let files = UserFiles(data: dir + "/x.npy", labels: dir + "/y.npy", testData: dir + "/tx.npy", testLabels: dir + "/ty.npy")
        let p = try DataPreparation.prepare(.files(files), seed: 0, as: Double.self)
        XCTAssertEqual(p.test.labels[0], [1, 1, 0, 0, 1, 0])
        var wide = files
        wide.testData = dir + "/wide.npy"
        XCTAssertThrowsError(try DataPreparation.prepare(.files(wide), seed: 0, as: Double.self)) {
            XCTAssert("\($0)".contains("wide.npy: samples have 5 values") && "\($0)".contains("x.npy has 4 values"), "\($0)")
        }
        var columns = files
        columns.testLabels = dir + "/ty2.npy"
        XCTAssertThrowsError(try DataPreparation.prepare(.files(columns), seed: 0, as: Double.self)) {
            XCTAssert("\($0)".contains("y.npy has 1"), "the train label file is named: \($0)")
        }
        var lonely = files
        lonely.testLabels = nil
        XCTAssertThrowsError(try DataPreparation.prepare(.files(lonely), seed: 0, as: Double.self))
    }
}

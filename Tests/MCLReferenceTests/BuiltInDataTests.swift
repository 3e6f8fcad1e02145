import XCTest
@testable import MCLReference

/// Every built-in data set is made of distinct samples, and its train and test parts (the first and
/// second half of one draw, as `train`, `demo` and `demo --images` use them) share no row: a
/// held-out accuracy then measures generalisation, not lookup of duplicates.
final class BuiltInDataTests: XCTestCase {
    /// The rows of `x` as bit patterns (equal rows ⇔ equal keys).
    func rowKeys(_ x: Matrix<Float>) -> [[UInt32]] {
        (0..<x.rows).map { i in (0..<x.cols).map { x.storage[i * x.cols + $0].bitPattern } }
    }

    /// Duplicates within `train`, within `test`, and rows of `test` that also occur in `train`.
    func overlap(_ all: LabeledData<Float>, trainCount n: Int) -> (train: Int, test: Int, shared: Int) {
        let keys = rowKeys(all.x)
        let train = keys[..<n], test = keys[n...]
        let trainSet = Set(train), testSet = Set(test)
        return (train.count - trainSet.count, test.count - testSet.count, testSet.intersection(trainSet).count)
    }

    func assertDistinct(_ all: LabeledData<Float>, trainCount n: Int, _ name: String,
                        file: StaticString = #filePath, line: UInt = #line) {
        let o = overlap(all, trainCount: n)
        XCTAssertEqual(o.train, 0, "\(name): duplicate rows within train", file: file, line: line)
        XCTAssertEqual(o.test, 0, "\(name): duplicate rows within test", file: file, line: line)
        XCTAssertEqual(o.shared, 0, "\(name): test rows that also occur in train", file: file, line: line)
    }

    /// easy-hard at the demo's size (2048 train + 2048 test), several seeds.
    func testEasyHardRowsAreDistinctAndTrainTestDisjoint() {
        for seed: UInt64 in [0, 1, 2] {
            let all = EasyHardVectors.make(count: 4096, seed: seed, as: Float.self)
            assertDistinct(all, trainCount: 2048, "easy-hard seed \(seed)")
        }
    }

    /// The check above can fail: without the per-sample nuisance there are only 200 distinct rows.
    func testEasyHardWithoutSampleNoiseRepeatsRows() {
        var c = EasyHardVectors.Configuration()
        c.sampleNoise = 0
        let all = EasyHardVectors.make(count: 4096, seed: 0, configuration: c, as: Float.self)
        let o = overlap(all, trainCount: 2048)
        XCTAssertGreaterThan(o.train, 1800)
        XCTAssertGreaterThan(o.shared, 150)
        XCTAssertEqual(Set(rowKeys(all.x)).count, 200)
    }

    func testImageSetsRowsAreDistinctAndTrainTestDisjoint() {
        for size in [16, 32] {
            let n = size == 16 ? 512 : 128
            assertDistinct(Trifeature.make(count: 2 * n, size: size, seed: 0, as: Float.self), trainCount: n,
                           "trifeature \(size)")
            assertDistinct(CifarMnistLike.make(count: 2 * n, size: size, seed: 0, as: Float.self), trainCount: n,
                           "cifar-mnist-like \(size)")
        }
    }
}

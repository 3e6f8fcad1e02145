import XCTest
@testable import MCLReference

final class ImageAugmentationTests: XCTestCase {
    func testShapeSeedingAndPresets() {
        let tri: LabeledData<Float> = Trifeature.make(count: 8, size: 32, seed: 1)
        let cm: LabeledData<Float> = CifarMnistLike.make(count: 8, size: 16, seed: 1)
        for (data, aug) in [(tri, ImageAugmentation.forTrifeature(size: 32)), (cm, ImageAugmentation.forCifarMnistLike(size: 16))] {
            var r1 = RNG(seed: 42), r2 = RNG(seed: 42), r3 = RNG(seed: 43)
            let v1 = aug.apply(data.x, rng: &r1), v2 = aug.apply(data.x, rng: &r2), v3 = aug.apply(data.x, rng: &r3)
            XCTAssertEqual(v1.rows, data.x.rows)
            XCTAssertEqual(v1.cols, data.x.cols)
            XCTAssertEqual(v1, v2)
            XCTAssertNotEqual(v1, v3)
            XCTAssertEqual(r1, r2)
        }
        XCTAssertFalse(ImageAugmentation.forTrifeature(size: 32).horizontalFlip)
        XCTAssertEqual(ImageAugmentation.forTrifeature(size: 32).brightness, 0)
        XCTAssertEqual(ImageAugmentation.forTrifeature(size: 32).contrast, 0)
        XCTAssertEqual(ImageAugmentation.forCifarMnistLike(size: 32).jitterChannels, [0, 1, 2])
    }

    /// A translation moves pixels exactly (zero fill); a flip mirrors rows; with no shift, no flip and
    /// no jitter the view is the input.
    func testTranslationFlipAndIdentity() {
        let shape = [1, 3, 4]
        let x = Matrix<Double>(rows: 1, cols: 12, storage: (1...12).map(Double.init))
        var rng = RNG(seed: 0)
        XCTAssertEqual(ImageAugmentation(sampleShape: shape).apply(x, rng: &rng), x)
        // Find seeds giving a known shift and check the result against the definition.
        let aug = ImageAugmentation(sampleShape: shape, maxShift: 1, horizontalFlip: true)
        var seen = Set<String>()
        for seed in 0..<200 {
            var r = RNG(seed: UInt64(seed)), replay = r
            let v = aug.apply(x, rng: &r)
            let dx = replay.int(in: -1..<2), dy = replay.int(in: -1..<2), flip = replay.bernoulli(0.5)
            seen.insert("\(dx),\(dy),\(flip)")
            for y in 0..<3 { for xx in 0..<4 {
                let sx = (flip ? 3 - xx : xx) - dx, sy = y - dy
                let expected = (sx >= 0 && sx < 4 && sy >= 0 && sy < 3) ? x[0, sy * 4 + sx] : 0
                XCTAssertEqual(v[0, y * 4 + xx], expected, "seed \(seed)")
            } }
        }
        XCTAssertEqual(seen.count, 18)
    }

    /// CIFAR-MNIST-like jitter leaves the digit channel untouched up to the translation, and the
    /// labelled content survives: the glyph keeps ≥ 97% of its mass (it is translated, not cut).
    func testCifarMnistLikeJitterSparesDigitChannel() {
        let size = 32, plane = size * size
        let d: LabeledData<Double> = CifarMnistLike.make(count: 50, size: size, seed: 8)
        let aug = ImageAugmentation.forCifarMnistLike(size: size)
        var rng = RNG(seed: 3)
        let v = aug.apply(d.x, rng: &rng)
        for i in 0..<d.count {
            let before = (0..<plane).reduce(0.0) { $0 + d.x[i, 3 * plane + $1] }
            let after = (0..<plane).reduce(0.0) { $0 + v[i, 3 * plane + $1] }
            XCTAssertGreaterThanOrEqual(after, 0.97 * before, "sample \(i)")
            XCTAssertTrue((0..<plane).allSatisfy { v[i, 3 * plane + $0] >= 0 && v[i, 3 * plane + $0] <= 1 })
        }
        // Contrast/brightness keep the mean of channels 0–2 up to the brightness offset b ∈ [−0.1, 0.1]
        // (zero-filled borders aside: compare on an unshifted augmentation).
        let jitterOnly = ImageAugmentation(sampleShape: d.sampleShape, brightness: 0.1, contrast: 0.2, jitterChannels: [0, 1, 2])
        let w = jitterOnly.apply(d.x, rng: &rng)
        for i in 0..<d.count {
            let m0 = (0..<(3 * plane)).reduce(0.0) { $0 + d.x[i, $1] } / Double(3 * plane)
            let m1 = (0..<(3 * plane)).reduce(0.0) { $0 + w[i, $1] } / Double(3 * plane)
            XCTAssertLessThanOrEqual(abs(m1 - m0), 0.1 + 1e-12)
            XCTAssertEqual(Array(w.row(i)[(3 * plane)...]), Array(d.x.row(i)[(3 * plane)...]))
        }
    }
}

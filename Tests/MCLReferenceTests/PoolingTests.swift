import XCTest
@testable import MCLReference

/// MaxPool2d, AvgPool2d, GlobalAvgPool, Flatten: values by hand, tie rule, gradient checks.
final class PoolingTests: XCTestCase {
    func testMaxPoolValuesAndTiesGoToFirstIndex() {
        // One channel 4×4, kernel 2, stride 2.
        let x = Matrix<Double>(rows: 1, cols: 16, storage: [1, 5, 2, 2,
                                                            3, 5, 2, 2,
                                                            0, 0, 9, 1,
                                                            0, 0, 1, 9])
        let pool = MaxPool2d<Double>(inputShape: ImageShape(channels: 1, height: 4, width: 4), kernelSize: 2)
        let (y, cache) = pool.forward(x)
        XCTAssertEqual(y.storage, [5, 2, 0, 9])
        XCTAssertEqual(cache.argmax, [1, 2, 8, 10])
        let dx = pool.backward(Matrix(rows: 1, cols: 4, storage: [1, 2, 3, 4]), cache).dInput
        XCTAssertEqual(dx.storage, [0, 1, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0])
    }

    func testAvgAndGlobalPoolValues() {
        let x = Matrix<Double>(rows: 1, cols: 8, storage: [1, 2, 3, 4, 10, 20, 30, 40])
        let avg = AvgPool2d<Double>(inputShape: ImageShape(channels: 2, height: 2, width: 2), kernelSize: 2)
        XCTAssertEqual(avg.forward(x).output.storage, [2.5, 25])
        let gap = GlobalAvgPool<Double>(channels: 2)
        XCTAssertEqual(gap.forward(x).output.storage, [2.5, 25])
        let flat = Flatten<Double>(inputShape: ImageShape(channels: 2, height: 2, width: 2))
        XCTAssertEqual(flat.forward(x).output, x)
        XCTAssertEqual(flat.backward(x, flat.forward(x).cache).dInput, x)
    }

    /// (C, H, W, k, stride, B): odd sizes, overlapping windows (stride < k), leftover rows (floor mode).
    static let cases: [(Int, Int, Int, Int, Int, Int)] = [
        (1, 5, 5, 2, 2, 1), (2, 7, 5, 3, 2, 2), (3, 4, 6, 2, 1, 2), (1, 3, 3, 3, 1, 1),
    ]

    func testMaxPoolGradients() {
        for (n, (c, h, w, k, s, b)) in Self.cases.enumerated() {
            var rng = RNG(seed: 50 + UInt64(n))
            let pool = MaxPool2d<Double>(inputShape: ImageShape(channels: c, height: h, width: w), kernelSize: k, stride: s)
            // A random permutation scaled by 0.01: distinct values ≥ 0.01 apart, so ±h never changes an arg-max.
            let perm = rng.permutation(b * c * h * w)
            let x = Matrix<Double>(rows: b, cols: c * h * w, storage: perm.map { Double($0) * 0.01 })
            let (y, cache) = pool.forward(x)
            let wt: Matrix<Double> = rng.normalMatrix(y.rows, y.cols)
            checkGradient("MaxPool2d dx case \(n)", analytic: pool.backward(wt, cache).dInput, at: x) {
                weightedSum(pool.forward($0).output, wt)
            }
        }
    }

    func testAvgPoolAndGlobalPoolGradients() {
        for (n, (c, h, w, k, s, b)) in Self.cases.enumerated() {
            var rng = RNG(seed: 60 + UInt64(n))
            let pool = AvgPool2d<Double>(inputShape: ImageShape(channels: c, height: h, width: w), kernelSize: k, stride: s)
            let x: Matrix<Double> = rng.normalMatrix(b, c * h * w)
            let (y, cache) = pool.forward(x)
            let wt: Matrix<Double> = rng.normalMatrix(y.rows, y.cols)
            checkGradient("AvgPool2d dx case \(n)", analytic: pool.backward(wt, cache).dInput, at: x) {
                weightedSum(pool.forward($0).output, wt)
            }
            let gap = GlobalAvgPool<Double>(channels: c)
            let (g, gc) = gap.forward(x)
            let wg: Matrix<Double> = rng.normalMatrix(g.rows, g.cols)
            checkGradient("GlobalAvgPool dx case \(n)", analytic: gap.backward(wg, gc).dInput, at: x) {
                weightedSum(gap.forward($0).output, wg)
            }
        }
    }

    /// Pooling layers inside a Sequential: a conv → maxpool → avgpool → flatten → linear stack.
    func testSequentialWithPoolingGradient() {
        var rng = RNG(seed: 70)
        let s0 = ImageShape(channels: 1, height: 7, width: 7)
        let conv = Conv2d<Double>(inputShape: s0, outChannels: 2, kernelSize: 3, stride: 1, padding: 1, rng: &rng)
        let mp = MaxPool2d<Double>(inputShape: conv.outputShape, kernelSize: 2)           // 2×3×3
        let ap = AvgPool2d<Double>(inputShape: mp.outputShape, kernelSize: 2, stride: 1)  // 2×2×2
        let net = Sequential<Double>([.conv2d(conv), .maxPool2d(mp), .avgPool2d(ap), .flatten(Flatten(inputShape: ap.outputShape)),
                                      .linear(Linear(inFeatures: ap.outputShape.count, outFeatures: 3, rng: &rng))])
        let x: Matrix<Double> = rng.normalMatrix(2, s0.count)
        var m = net
        let (y, cache) = m.forward(x, mode: .train)
        let wt: Matrix<Double> = rng.normalMatrix(y.rows, y.cols)
        let dx = net.backward(wt, cache).dInput
        // Random Gaussian inputs: max-pool arg-maxes are separated by ≫ 1e-6 with overwhelming probability.
        checkGradient("conv→pool stack dx", analytic: dx, at: x) { weightedSum(net($0), wt) }
    }
}

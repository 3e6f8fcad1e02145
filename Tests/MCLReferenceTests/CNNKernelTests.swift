import XCTest
@testable import MCLReference

/// The fast CNN kernels against their plain twins on awkward shapes (1 channel, prime H and W,
/// runs shorter and longer than the 8-wide vectors), and the BatchNorm2d → ReLU fusion and the
/// skipped input gradient against the unfused, full computation.
final class CNNKernelTests: XCTestCase {
    /// (B, C, H, W): 1 channel with prime sides, 1×1 planes, runs of 33 and of 16.
    static let bnShapes: [(Int, Int, Int, Int)] = [(3, 1, 7, 5), (2, 3, 1, 1), (5, 2, 3, 11), (4, 5, 4, 4), (2, 1, 13, 17)]

    func maxRelativeDifference<T: MCLFloat>(_ a: [T], _ b: [T]) -> Double {
        XCTAssertEqual(a.count, b.count)
        let scale = max(1, b.map { abs(Double($0)) }.max() ?? 0)
        return zip(a, b).map { abs(Double($0) - Double($1)) }.max().map { $0 / scale } ?? 0
    }

    /// BatchNorm2d's fast forward/backward agree with `forwardReference`/`backwardReference` to
    /// 1e-5 (Float) and 1e-12 (Double), relative to the largest value; running statistics too.
    func checkBatchNorm2dAgainstReference<T: MCLFloat>(_: T.Type, tolerance: Double) {
        for (seed, (b, c, h, w)) in Self.bnShapes.enumerated() {
            var rng = RNG(seed: UInt64(400 + seed))
            var bn = BatchNorm2d<T>(numFeatures: c)
            bn.weight = (0..<c).map { _ in T(rng.normal(mean: 1.0, std: 0.5)) }
            bn.bias = (0..<c).map { _ in T(rng.normal(mean: 0.0, std: 1.0)) }
            bn.runningMean = (0..<c).map { _ in T(rng.normal(mean: 0.0, std: 1.0)) }
            bn.runningVar = (0..<c).map { _ in T(0.5 + rng.nextDouble()) }
            let x: Matrix<T> = rng.normalMatrix(b, c * h * w, std: 2)
            let dy: Matrix<T> = rng.normalMatrix(b, c * h * w)
            for mode in Mode.allCases {
                var fast = bn, plain = bn
                let (y, cache) = fast.forward(x, mode: mode)
                let (yRef, cacheRef) = plain.forwardReference(x, mode: mode)
                let what = "\(T.self) \(mode) B=\(b) C=\(c) H=\(h) W=\(w)"
                XCTAssertLessThanOrEqual(maxRelativeDifference(y.storage, yRef.storage), tolerance, what)
                XCTAssertLessThanOrEqual(maxRelativeDifference(fast.runningMean, plain.runningMean), tolerance, what)
                XCTAssertLessThanOrEqual(maxRelativeDifference(fast.runningVar, plain.runningVar), tolerance, what)
                // Batch statistics: Double sums in lanes vs one by one, so to Double rounding.
                XCTAssertLessThanOrEqual(maxRelativeDifference(cache.mean, cacheRef.mean), 1e-13, what)
                XCTAssertLessThanOrEqual(maxRelativeDifference(cache.rstd, cacheRef.rstd), 1e-13, what)
                let (dx, g) = bn.backward(dy, cache)
                let (dxRef, gRef) = bn.backwardReference(dy, cacheRef)
                XCTAssertLessThanOrEqual(maxRelativeDifference(dx.storage, dxRef.storage), tolerance, what)
                XCTAssertLessThanOrEqual(maxRelativeDifference(g.weight, gRef.weight), tolerance, what)
                XCTAssertLessThanOrEqual(maxRelativeDifference(g.bias, gRef.bias), tolerance, what)
            }
        }
    }

    func testBatchNorm2dFastMatchesReferenceFloat() { checkBatchNorm2dAgainstReference(Float.self, tolerance: 1e-5) }
    func testBatchNorm2dFastMatchesReferenceDouble() { checkBatchNorm2dAgainstReference(Double.self, tolerance: 1e-12) }

    /// forward(relu: true) is ReLU(forward) and backward(reluOutput:) is backward(ReLU.backward), bit for bit.
    func testBatchNorm2dReLUFusionIsExact() {
        for (seed, (b, c, h, w)) in Self.bnShapes.enumerated() {
            var rng = RNG(seed: UInt64(500 + seed))
            var bn = BatchNorm2d<Float>(numFeatures: c)
            bn.bias = (0..<c).map { _ in Float(rng.normal(mean: 0.0, std: 1.0)) }
            let x: Matrix<Float> = rng.normalMatrix(b, c * h * w)
            let dy: Matrix<Float> = rng.normalMatrix(b, c * h * w)
            for mode in Mode.allCases {
                var fused = bn, plain = bn
                let (yFused, cacheFused) = fused.forward(x, mode: mode, relu: true)
                let (yBN, cacheBN) = plain.forward(x, mode: mode)
                let (yReLU, reluCache) = ReLU<Float>().forward(yBN)
                XCTAssertEqual(yFused, yReLU)
                XCTAssertEqual(fused, plain)
                XCTAssertTrue(yFused.storage.contains(0) && yFused.storage.contains { $0 > 0 })
                let (dxFused, gFused) = bn.backward(dy, cacheFused, reluOutput: yFused)
                let (dxPlain, gPlain) = bn.backward(ReLU<Float>().backward(dy, reluCache).dInput, cacheBN)
                XCTAssertEqual(dxFused, dxPlain)
                XCTAssertEqual(gFused, gPlain)
            }
        }
    }

    /// The fused Sequential (BatchNorm2d → ReLU as one pass) gives the layer-by-layer results bit
    /// for bit: outputs, running statistics, every gradient and dx.
    func testSequentialFusionMatchesLayerByLayer() {
        var rng = RNG(seed: 81)
        let enc = Sequential<Float>.cnnEncoder(inputShape: [2, 9, 7], widths: [3, 5], outputWidth: 4, rng: &rng)
        let x: Matrix<Float> = rng.normalMatrix(5, 2 * 9 * 7)
        let dOut: Matrix<Float> = rng.normalMatrix(5, 4)
        var fused = enc
        let (y, cache) = fused.forward(x, mode: .train)
        let (dx, grads) = enc.backward(dOut, cache)
        var plain = enc
        var h = x
        var caches = [Layer<Float>.Cache]()
        for i in plain.layers.indices {
            let (out, c) = plain.layers[i].forward(h, mode: .train)
            caches.append(c); h = out
        }
        XCTAssertEqual(y, h)
        XCTAssertEqual(fused, plain)
        var g = dOut
        var plainGrads = [Layer<Float>.Gradients](repeating: .none, count: enc.layers.count)
        for i in enc.layers.indices.reversed() {
            let (d, lg) = enc.layers[i].backward(g, caches[i])
            plainGrads[i] = lg; g = d
        }
        XCTAssertEqual(dx, g)
        XCTAssertEqual(grads.layers, plainGrads)
    }

    /// `inputGradient: false` gives the same parameter gradients and a B×0 dx.
    func testSkippedInputGradientKeepsParameterGradients() {
        var rng = RNG(seed: 82)
        let enc = Sequential<Float>.cnnEncoder(inputShape: [3, 8, 8], widths: [4, 6], outputWidth: 3, rng: &rng)
        let x: Matrix<Float> = rng.normalMatrix(11, 3 * 8 * 8)
        let dOut: Matrix<Float> = rng.normalMatrix(11, 3)
        var m = enc
        let cache = m.forward(x, mode: .train).cache
        let full = enc.backward(dOut, cache)
        let skipped = enc.backward(dOut, cache, inputGradient: false)
        XCTAssertEqual(full.gradients, skipped.gradients)
        XCTAssertEqual(full.dInput.rows, 11)
        XCTAssertEqual(full.dInput.cols, 3 * 8 * 8)
        XCTAssertEqual(skipped.dInput.cols, 0)
    }

    /// The stride-1 col2im (8 at a time) equals its plain twin bit for bit; geometries with runs
    /// shorter and longer than 8, padding 0, 1 and 2, and stride 2 (which the fast one hands over).
    func testCol2imMatchesReference() {
        // (C, H, W, k, stride, padding)
        let cases = [(1, 5, 5, 3, 1, 1), (2, 11, 13, 3, 1, 1), (1, 9, 17, 3, 1, 0), (3, 16, 16, 3, 1, 1),
                     (2, 7, 19, 5, 1, 2), (2, 7, 5, 3, 2, 1), (1, 13, 11, 1, 1, 0)]
        for (seed, (c, h, w, k, s, p)) in cases.enumerated() {
            var rng = RNG(seed: UInt64(600 + seed))
            let g = WindowGeometry(input: ImageShape(channels: c, height: h, width: w), kernelH: k, kernelW: k, stride: s, padding: p)
            // Two samples' columns side by side (ld = 2L), as the grouped backward lays them out.
            let l = g.outPlane
            let col: Matrix<Float> = rng.normalMatrix(g.patchSize, 2 * l)
            let start: Matrix<Float> = rng.normalMatrix(2, c * h * w)
            var fast = start, plain = start
            col.storage.withUnsafeBufferPointer { pc in
                fast.storage.withUnsafeMutableBufferPointer { pf in
                    plain.storage.withUnsafeMutableBufferPointer { pp in
                        for j in 0..<2 {
                            _col2imAccumulate(pc, g, into: pf, offset: j * c * h * w, ld: 2 * l, column: j * l)
                            _col2imAccumulateReference(pc, g, into: pp, offset: j * c * h * w, ld: 2 * l, column: j * l)
                        }
                    }
                }
            }
            XCTAssertEqual(fast, plain, "C=\(c) H=\(h) W=\(w) k=\(k) s=\(s) p=\(p)")
            XCTAssertNotEqual(fast, start)
        }
    }
}

import XCTest
@testable import MCLReference

final class ProbeTests: XCTestCase {
    /// Central-difference gradient check in Float64, h = 1e-6, PyTorch gradcheck tolerances
    /// (atol 1e-5, rtol 1e-3) — in practice the agreement is ~1e-9.
    func testGradientMatchesCentralDifferences() {
        for seed in UInt64(1)...5 {
            var rng = RNG(seed: seed)
            let n = 3 + rng.int(below: 10), d = 1 + rng.int(below: 6), c = 2 + rng.int(below: 4)
            let x: Matrix<Double> = rng.normalMatrix(n, d)
            let y = (0..<n).map { _ in rng.int(below: c) }
            let w: Matrix<Double> = rng.normalMatrix(c, d, std: 0.7)
            let b: [Double] = rng.normals(c, std: 0.3)
            let l2 = 0.05
            let e = LinearProbe.lossAndGradient(weights: w, bias: b, features: x, labels: y, l2: l2)
            let h = 1e-6
            var maxDiff = 0.0
            for p in 0..<w.count {
                var wp = w, wm = w
                wp.storage[p] += h; wm.storage[p] -= h
                let fp = LinearProbe.lossAndGradient(weights: wp, bias: b, features: x, labels: y, l2: l2).loss
                let fm = LinearProbe.lossAndGradient(weights: wm, bias: b, features: x, labels: y, l2: l2).loss
                let num = (fp - fm) / (2 * h)
                let got = e.weightGradient.storage[p]
                maxDiff = max(maxDiff, abs(num - got))
                XCTAssertLessThanOrEqual(abs(num - got), 1e-5 + 1e-3 * abs(num), "seed \(seed) dW[\(p)]")
            }
            for j in 0..<c {
                var bp = b, bm = b
                bp[j] += h; bm[j] -= h
                let num = (LinearProbe.lossAndGradient(weights: w, bias: bp, features: x, labels: y, l2: l2).loss
                    - LinearProbe.lossAndGradient(weights: w, bias: bm, features: x, labels: y, l2: l2).loss) / (2 * h)
                XCTAssertLessThanOrEqual(abs(num - e.biasGradient[j]), 1e-5 + 1e-3 * abs(num), "seed \(seed) db[\(j)]")
            }
            XCTAssertLessThan(maxDiff, 1e-7, "seed \(seed)")
        }
    }

    func testLossAndLogitsMatchPlainFormula() {
        var rng = RNG(seed: 11)
        let x: Matrix<Double> = rng.normalMatrix(6, 3)
        let w: Matrix<Double> = rng.normalMatrix(4, 3)
        let b: [Double] = rng.normals(4)
        let y = [0, 1, 2, 3, 0, 1]
        let e = LinearProbe.lossAndGradient(weights: w, bias: b, features: x, labels: y, l2: 0.1)
        var loss = 0.0
        for i in 0..<6 {
            let z = (0..<4).map { j in (0..<3).reduce(b[j]) { $0 + w[j, $1] * x[i, $1] } }
            for j in 0..<4 { XCTAssertEqual(e.logits[i, j], z[j], accuracy: 1e-12) }
            loss += Double.log(z.reduce(0) { $0 + Double.exp($1) }) - z[y[i]]
        }
        loss = loss / 6 + 0.05 * w.storage.reduce(0) { $0 + $1 * $1 }
        XCTAssertEqual(e.loss, loss, accuracy: 1e-12)
        // Float agrees with Double to Float rounding.
        let ef = LinearProbe.lossAndGradient(weights: w.converted(to: Float.self), bias: b.map { Float($0) },
                                             features: x.converted(to: Float.self), labels: y, l2: 0.1)
        XCTAssertEqual(ef.loss, e.loss, accuracy: 1e-5)
        for p in 0..<12 { XCTAssertEqual(Double(ef.weightGradient.storage[p]), e.weightGradient.storage[p], accuracy: 1e-5) }
    }

    func testLBFGSMinimisesRosenbrock() {
        let r = LBFGS(maxIterations: 2000, gradientTolerance: 1e-9, relativeTolerance: 0).minimize([-1.2, 1]) { p in
            let (a, b) = (p[0], p[1])
            let f = (1 - a) * (1 - a) + 100 * (b - a * a) * (b - a * a)
            return (f, [-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])
        }
        XCTAssertTrue(r.converged, "\(r.stopReason)")
        XCTAssertEqual(r.parameters[0], 1, accuracy: 1e-6)
        XCTAssertEqual(r.parameters[1], 1, accuracy: 1e-6)
    }

    func testSeparableDataReachesFullAccuracyAndConverges() throws {
        for seed in UInt64(1)...3 {
            var rng = RNG(seed: seed)
            let centres = [[5.0, 0, 0, 0], [0, 5, 0, 0], [0, 0, 5, 0]]
            let (train, ytr) = makeBlobs(centers: centres, perCluster: 60, spread: 0.7, rng: &rng)
            let (test, yte) = makeBlobs(centers: centres, perCluster: 30, spread: 0.7, rng: &rng)
            let r = try linearProbeAccuracy(trainX: train, trainY: ytr, testX: test, testY: yte)
            XCTAssertEqual(r.accuracy, 1, "seed \(seed)")
            XCTAssertEqual(r.trainAccuracy, 1, "seed \(seed)")
            XCTAssertTrue(r.model.converged, "seed \(seed): \(r.model.stopReason) after \(r.model.iterations)")
            XCTAssertEqual(r.testLogits.rows, 90)
            // Optimality: the gradient at the returned parameters is ~0.
            let xs = r.model.standardizer!.transform(train)
            let e = LinearProbe.lossAndGradient(weights: r.model.weights, bias: r.model.bias, features: xs,
                                                labels: ytr, l2: 1e-4)
            XCTAssertLessThanOrEqual(e.weightGradient.storage.map { abs($0) }.max()!, 1e-5, "seed \(seed)")
            // Deterministic.
            let again = try linearProbeAccuracy(trainX: train, trainY: ytr, testX: test, testY: yte)
            XCTAssertEqual(again.model.weights, r.model.weights, "seed \(seed)")
        }
    }

    func testRandomLabelsGiveChanceOnTest() throws {
        var rng = RNG(seed: 21)
        let train: Matrix<Double> = rng.normalMatrix(400, 8), test: Matrix<Double> = rng.normalMatrix(2000, 8)
        let ytr = (0..<400).map { _ in rng.int(below: 4) }, yte = (0..<2000).map { _ in rng.int(below: 4) }
        let r = try linearProbeAccuracy(trainX: train, trainY: ytr, testX: test, testY: yte)
        XCTAssertEqual(r.accuracy, 0.25, accuracy: 0.05)
    }

    func testFloatFeaturesAndValidation() throws {
        var rng = RNG(seed: 2)
        let (x, y) = makeBlobs(centers: [[3, 3], [-3, -3]], perCluster: 20, spread: 0.5, rng: &rng)
        let xf = x.converted(to: Float.self)
        let m = try LinearProbe.fit(features: xf, labels: y)
        XCTAssertEqual(m.accuracy(xf, labels: y), 1)
        XCTAssertThrowsError(try LinearProbe.fit(features: xf, labels: [0]))
        XCTAssertThrowsError(try LinearProbe.fit(features: xf, labels: y, classCount: 1)) {
            XCTAssertTrue("\($0)".contains("outside 0..<n_classes=1"))
        }
    }
}

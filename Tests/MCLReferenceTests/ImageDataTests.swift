import XCTest
import Foundation
@testable import MCLReference

/// Trifeature and CIFAR-MNIST-like: shapes, determinism, label balance and independence, and that
/// every class of every feature is distinct in a simple measurable way.
final class ImageDataTests: XCTestCase {
    func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0.0) { $0 + $1.0 * $1.1 } }

    /// Pearson χ² of a contingency table against independence (expected = row·col/N).
    func chiSquare(_ a: [Int], _ b: [Int], classes: Int) -> Double {
        var table = [[Double]](repeating: [Double](repeating: 0, count: classes), count: classes)
        for (x, y) in zip(a, b) { table[x][y] += 1 }
        let n = Double(a.count)
        let rows = table.map { $0.reduce(0, +) }, cols = (0..<classes).map { j in table.reduce(0) { $0 + $1[j] } }
        var chi = 0.0
        for i in 0..<classes { for j in 0..<classes {
            let e = rows[i] * cols[j] / n
            if e > 0 { chi += (table[i][j] - e) * (table[i][j] - e) / e }
        } }
        return chi
    }

    /// Each class within ±25% of N/10, and every pair of features passes χ² independence: 81 degrees of
    /// freedom, mean 81, sd ≈ 12.7; the bound 140 is ≈ mean + 4.6 sd (p ≈ 1e-4 for a correct generator).
    func assertBalancedAndIndependent<T>(_ d: LabeledData<T>, _ name: String) {
        for (f, labels) in d.labels.enumerated() {
            var counts = [Int](repeating: 0, count: 10)
            for l in labels { counts[l] += 1 }
            let expected = Double(d.count) / 10
            for (k, c) in counts.enumerated() {
                XCTAssertEqual(Double(c), expected, accuracy: 0.25 * expected, "\(name) feature \(d.featureNames[f]) class \(k)")
            }
        }
        for f in 0..<d.featureCount { for g in (f + 1)..<d.featureCount {
            let chi = chiSquare(d.labels[f], d.labels[g], classes: 10)
            XCTAssertLessThan(chi, 140, "\(name): \(d.featureNames[f]) vs \(d.featureNames[g]) χ² = \(chi)")
        } }
    }

    func testTrifeatureShapeDeterminismAndLabels() {
        let a: LabeledData<Float> = Trifeature.make(count: 3000, size: 16, seed: 5)
        XCTAssertEqual(a.sampleShape, [3, 16, 16])
        XCTAssertEqual(a.featureNames, ["shape", "texture", "color"])
        XCTAssertEqual(a.x.cols, 3 * 16 * 16)
        assertBalancedAndIndependent(a, "trifeature")
        let b: LabeledData<Float> = Trifeature.make(count: 20, size: 32, seed: 5)
        let c: LabeledData<Float> = Trifeature.make(count: 20, size: 32, seed: 5)
        let d: LabeledData<Float> = Trifeature.make(count: 20, size: 32, seed: 6)
        XCTAssertEqual(b.x, c.x)
        XCTAssertEqual(b.labels, c.labels)
        XCTAssertNotEqual(b.x, d.x)
        // Same seed, other size: same labels (draws do not depend on the size).
        XCTAssertEqual(b.labels.map { Array($0.prefix(20)) }, a.labels.map { Array($0.prefix(20)) })
        XCTAssertTrue(b.x.storage.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    /// The summed RGB of an image points in the direction of its palette colour (background is 0 and
    /// texture and anti-aliasing only scale the colour), and no other palette colour is as close.
    func testTrifeatureColourMeanMatchesLabel() {
        let d: LabeledData<Double> = Trifeature.make(count: 300, size: 32, seed: 9)
        let plane = 32 * 32
        for i in 0..<d.count {
            let sum = (0..<3).map { ch in (0..<plane).reduce(0.0) { $0 + d.x[i, ch * plane + $1] } }
            func cosine(_ p: [Double]) -> Double { dot(sum, p) / (dot(sum, sum) * dot(p, p)).squareRoot() }
            let label = d.labels[2][i]
            XCTAssertEqual(cosine(Trifeature.palette[label]), 1, accuracy: 1e-9, "sample \(i)")
            let best = (0..<10).max { cosine(Trifeature.palette[$0]) < cosine(Trifeature.palette[$1]) }!
            XCTAssertEqual(best, label, "sample \(i)")
        }
        // The palette's directions are well apart: every pair has cosine < 0.98.
        for a in 0..<10 { for b in (a + 1)..<10 {
            let p = Trifeature.palette[a], q = Trifeature.palette[b]
            let c = dot(p, q) / (dot(p, p) * dot(q, q)).squareRoot()
            XCTAssertLessThan(c, 0.98, "palette \(a) vs \(b)")
        } }
    }

    /// Canonical (centred, unrotated) shape masks at 32×32 differ pairwise in ≥ 20 pixels, and every
    /// shape covers a reasonable area; texture patterns on a 32×32 field differ pairwise in ≥ 15%
    /// of pixels; objects in generated images are non-empty and inside the frame.
    func testTrifeatureShapesAndTexturesDistinct() {
        let n = 32
        func mask(_ s: Int) -> [Bool] {
            (0..<(n * n)).map { k in
                let u = (Double(k % n) + 0.5 - 16) / 9.6, v = (Double(k / n) + 0.5 - 16) / 9.6
                return Trifeature.inside(shape: s, u, v)
            }
        }
        let masks = (0..<10).map(mask)
        // Every shape within radius 1 (checked on a fine polar grid just outside it).
        for s in 0..<10 {
            for k in 0..<720 {
                let a = Double(k) * Double.pi / 360
                XCTAssertFalse(Trifeature.inside(shape: s, 1.001 * cos(a), 1.001 * sin(a)), "\(Trifeature.shapeNames[s]) at angle \(k)/2°")
            }
        }
        for s in 0..<10 {
            let area = masks[s].filter { $0 }.count
            XCTAssertGreaterThan(area, 80, "\(Trifeature.shapeNames[s]) area \(area)")
            XCTAssertLessThan(area, 320, "\(Trifeature.shapeNames[s]) area \(area)")
        }
        for a in 0..<10 { for b in (a + 1)..<10 {
            let diff = zip(masks[a], masks[b]).filter { $0 != $1 }.count
            XCTAssertGreaterThanOrEqual(diff, 20, "\(Trifeature.shapeNames[a]) vs \(Trifeature.shapeNames[b])")
        } }
        let patterns = (0..<10).map { t in
            (0..<(n * n)).map { k -> Double in
                let x = Double(k % n) + 0.5, y = Double(k / n) + 0.5
                let r: Double = ((x - 16) * (x - 16) + (y - 16) * (y - 16)).squareRoot()
                return Trifeature.pattern(t, x, y, period: 6, radius: r)
            }
        }
        for a in 0..<10 { for b in (a + 1)..<10 {
            let diff = zip(patterns[a], patterns[b]).filter { $0 != $1 }.count
            XCTAssertGreaterThanOrEqual(Double(diff), 0.15 * Double(n * n), "\(Trifeature.textureNames[a]) vs \(Trifeature.textureNames[b])")
        } }
        let d: LabeledData<Float> = Trifeature.make(count: 100, size: 32, seed: 2)
        for i in 0..<d.count {
            let lit = (0..<(32 * 32)).filter { k in (0..<3).contains { d.x[i, $0 * 1024 + k] > 0 } }
            XCTAssertGreaterThan(lit.count, 60, "sample \(i) (\(Trifeature.shapeNames[d.labels[0][i]]))")
            // Nothing on the outermost pixel ring: the object is inside the frame.
            XCTAssertFalse(lit.contains { $0 % 32 == 0 || $0 % 32 == 31 || $0 / 32 == 0 || $0 / 32 == 31 },
                           "sample \(i) (\(Trifeature.shapeNames[d.labels[0][i]]))")
        }
    }

    func testCifarMnistLikeShapeDeterminismAndLabels() {
        let a: LabeledData<Float> = CifarMnistLike.make(count: 3000, size: 16, seed: 3)
        XCTAssertEqual(a.sampleShape, [5, 16, 16])  // channels 0–2 natural, 3 and 4 the digit glyph twice
        let plane = 16 * 16
        for i in 0..<20 {
            XCTAssertEqual((0..<plane).map { a.x[i, 3 * plane + $0] }, (0..<plane).map { a.x[i, 4 * plane + $0] }, "sample \(i)")
        }
        XCTAssertEqual(a.featureNames, ["natural", "digit"])
        assertBalancedAndIndependent(a, "cifar-mnist-like")
        let b: LabeledData<Float> = CifarMnistLike.make(count: 10, size: 32, seed: 3)
        let c: LabeledData<Float> = CifarMnistLike.make(count: 10, size: 32, seed: 3)
        XCTAssertEqual(b.x, c.x)
        XCTAssertNotEqual(b.x, CifarMnistLike.make(count: 10, size: 32, seed: 4, as: Float.self).x)
        XCTAssertTrue(b.x.storage.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    /// Digits: the canonical glyphs differ pairwise in ≥ 15 pixels at 32×32 (≥ 5 at 16×16), and the
    /// best-correlated canonical glyph (over shifts of ±3 px) recovers the digit of ≥ 90% of jittered
    /// samples. Digit channel
    /// (3; channel 4 is the same) contrast is high: ≥ 2% of its pixels (a "1" at the thinnest stroke) are > 0.9.
    func testCifarMnistLikeDigitsDistinct() {
        for (size, minDiff) in [(32, 15), (16, 5)] {
            let glyphs = (0..<10).map { CifarMnistLike.renderDigit($0, .canonical(size: size), size: size) }
            for a in 0..<10 { for b in (a + 1)..<10 {
                let diff = zip(glyphs[a], glyphs[b]).filter { abs($0 - $1) > 0.5 }.count
                XCTAssertGreaterThanOrEqual(diff, minDiff, "digits \(a) vs \(b) at \(size)")
            } }
            let d: LabeledData<Double> = CifarMnistLike.make(count: 300, size: size, seed: 11)
            let plane = size * size
            var correct = 0
            for i in 0..<d.count {
                let g = (0..<plane).map { d.x[i, 3 * plane + $0] }
                // Normalised correlation with the template shifted by (sx, sy), |sx|, |sy| ≤ 3 (zero fill),
                // maximised over the shifts: the samples are translated by up to 0.08·S.
                func corr(_ t: [Double]) -> Double {
                    var best = -Double.infinity
                    for sy in -3...3 { for sx in -3...3 {
                        var num = 0.0, vt = 0.0
                        for y in 0..<size { for x in 0..<size {
                            let tx = x - sx, ty = y - sy
                            let tv = (tx >= 0 && tx < size && ty >= 0 && ty < size) ? t[ty * size + tx] : 0
                            num += g[y * size + x] * tv; vt += tv * tv
                        } }
                        best = max(best, num / max(vt, 1e-12).squareRoot())
                    } }
                    return best
                }
                let best = (0..<10).max { corr(glyphs[$0]) < corr(glyphs[$1]) }!
                if best == d.labels[1][i] { correct += 1 }
                XCTAssertGreaterThan(Double(g.filter { $0 > 0.9 }.count), 0.02 * Double(plane), "sample \(i) at \(size)")
            }
            XCTAssertGreaterThanOrEqual(Double(correct), 0.9 * Double(d.count), "template matching at \(size): \(correct)/\(d.count)")
        }
    }

    /// Natural classes: the grating orientation is recoverable — the class whose oriented sinusoid
    /// (at the nominal period S/3, both phases) has the most energy in the mean of channels 0–2
    /// matches the label for ≥ 90% of samples. Its amplitude is small next to the digit's contrast.
    func testCifarMnistLikeNaturalClassesDistinct() {
        for size in [32, 16] {
            let d: LabeledData<Double> = CifarMnistLike.make(count: 300, size: size, seed: 12)
            let plane = size * size, s = Double(size)
            var correct = 0
            for i in 0..<d.count {
                var gray = (0..<plane).map { k in (0..<3).reduce(0.0) { $0 + d.x[i, $1 * plane + k] } / 3 }
                let mean = gray.reduce(0, +) / Double(plane)
                gray = gray.map { $0 - mean }
                func energy(_ k: Int) -> Double {
                    let th = Double(k) * Double.pi / 10
                    var cs = 0.0, sn = 0.0
                    for p in 0..<plane {
                        let x = Double(p % size) + 0.5, y = Double(p / size) + 0.5
                        let arg = 2 * Double.pi * (x * cos(th) + y * sin(th)) / (s / 3)
                        cs += gray[p] * cos(arg); sn += gray[p] * sin(arg)
                    }
                    return cs * cs + sn * sn
                }
                let best = (0..<10).max { energy($0) < energy($1) }!
                if best == d.labels[0][i] { correct += 1 }
            }
            XCTAssertGreaterThanOrEqual(Double(correct), 0.9 * Double(d.count), "orientation readout at \(size): \(correct)/\(d.count)")
        }
    }
}

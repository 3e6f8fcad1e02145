import XCTest
@testable import MCLReference

/// Every backward against central differences (see GradientChecking.swift for h and tolerances).
final class GradCheckTests: XCTestCase {
    func testCheckerItselfFailsOnMismatch() {
        let r = compare([1, 2, 3], [1, 2.1, 3], Tolerance())
        XCTAssertFalse(r.passed)
        XCTAssertEqual(r.worstIndex, 1)
        XCTAssertTrue(compare([1, 2, 3 + 1e-9], [1, 2, 3], Tolerance()).passed)
        XCTAssertFalse(compare([.nan], [0], Tolerance()).passed)
    }

    func testLinear() {
        for (seed, b, d, h) in [(1, 3, 5, 4), (2, 1, 1, 1), (3, 7, 2, 6)] {
            var rng = RNG(seed: UInt64(seed))
            let layer = Linear<Double>(inFeatures: d, outFeatures: h, rng: &rng)
            let x: Matrix<Double> = rng.normalMatrix(b, d)
            let w: Matrix<Double> = rng.normalMatrix(b, h)
            let (_, cache) = layer.forward(x)
            let (dx, g) = layer.backward(w, cache)
            checkGradient("Linear dx seed \(seed)", analytic: dx, at: x) { weightedSum(layer.forward($0).output, w) }
            checkGradient("Linear dW", analytic: g.weight, at: layer.weight) {
                weightedSum(Linear(weight: $0, bias: layer.bias).forward(x).output, w)
            }
            checkGradient("Linear db", analytic: vec(g.bias), at: vec(layer.bias)) {
                weightedSum(Linear(weight: layer.weight, bias: $0.storage).forward(x).output, w)
            }
        }
    }

    func testReLUAwayFromKinks() {
        var rng = RNG(seed: 5)
        var x: Matrix<Double> = rng.normalMatrix(4, 5)
        x = x.map { abs($0) < 1e-3 ? 0.5 : $0 }
        let w: Matrix<Double> = rng.normalMatrix(4, 5)
        let relu = ReLU<Double>()
        let dx = relu.backward(w, relu.forward(x).cache).dInput
        checkGradient("ReLU dx", analytic: dx, at: x) { weightedSum(relu.forward($0).output, w) }
    }

    func testBatchNormTrainAndEval() {
        for (seed, b, c) in [(7, 3, 5), (8, 2, 1), (9, 6, 4)] {
            var rng = RNG(seed: UInt64(seed))
            var bn = BatchNorm1d<Double>(numFeatures: c)
            bn.weight = (0..<c).map { _ in rng.normal(mean: 1.0, std: 0.5) }
            bn.bias = rng.normals(c)
            bn.runningMean = rng.normals(c)
            bn.runningVar = (0..<c).map { _ in 0.5 + rng.nextDouble() }
            let x: Matrix<Double> = rng.normalMatrix(b, c, std: 2)
            let w: Matrix<Double> = rng.normalMatrix(b, c)
            for mode in Mode.allCases {
                var layer = bn
                let (_, cache) = layer.forward(x, mode: mode)
                let (dx, g) = bn.backward(w, cache)
                func out(_ l: BatchNorm1d<Double>, _ x: Matrix<Double>) -> Double {
                    var l = l; return weightedSum(l.forward(x, mode: mode).output, w)
                }
                checkGradient("BN \(mode) dx seed \(seed)", analytic: dx, at: x) { out(bn, $0) }
                checkGradient("BN \(mode) dγ", analytic: vec(g.weight), at: vec(bn.weight)) {
                    var l = bn; l.weight = $0.storage; return out(l, x)
                }
                checkGradient("BN \(mode) dβ", analytic: vec(g.bias), at: vec(bn.bias)) {
                    var l = bn; l.bias = $0.storage; return out(l, x)
                }
            }
        }
    }

    func testL2Normalize() {
        var rng = RNG(seed: 11)
        let x: Matrix<Double> = rng.normalMatrix(3, 5, std: 3)
        let w: Matrix<Double> = rng.normalMatrix(3, 5)
        let l = L2Normalize<Double>()
        let dx = l.backward(w, l.forward(x).cache).dInput
        checkGradient("L2Normalize dx", analytic: dx, at: x) { weightedSum(l.forward($0).output, w) }
    }

    func testNTXentPlainAndMasked() {
        for tau in [0.1, 0.5] {
            for (seed, b, d) in [(12, 3, 5), (13, 2, 2), (14, 5, 3)] {
                var rng = RNG(seed: UInt64(seed))
                let z: Matrix<Double> = rng.normalMatrix(2 * b, d)
                let labels = (0..<b).map { _ in rng.int(below: 2) }
                for y in [nil, labels] {
                    let loss = NTXent<Double>(temperature: tau)
                    let dz = loss(z, pseudoLabels: y).dEmbeddings
                    checkGradient("NTXent τ=\(tau) B=\(b) masked=\(y != nil)", analytic: dz, at: z) {
                        Double(loss($0, pseudoLabels: y).loss)
                    }
                }
            }
        }
    }

    func testMoCoAndCLIP() {
        var rng = RNG(seed: 15)
        let q: Matrix<Double> = rng.normalMatrix(3, 4), k: Matrix<Double> = rng.normalMatrix(3, 4)
        let queue = L2Normalize<Double>().forward(rng.normalMatrix(5, 4)).output
        let ql = [0, 1, 1], qul = [1, 0, 1, 1, 0]
        for labels in [false, true] {
            let moco = MoCoInfoNCE<Double>(temperature: 0.2)
            let out = moco(queries: q, positiveKeys: k, queue: queue, queryLabels: labels ? ql : nil, queueLabels: labels ? qul : nil)
            checkGradient("MoCo dq labels=\(labels)", analytic: out.dQueries, at: q) {
                moco(queries: $0, positiveKeys: k, queue: queue, queryLabels: labels ? ql : nil, queueLabels: labels ? qul : nil).loss
            }
            checkGradient("MoCo dk labels=\(labels)", analytic: out.dPositiveKeys, at: k) {
                moco(queries: q, positiveKeys: $0, queue: queue, queryLabels: labels ? ql : nil, queueLabels: labels ? qul : nil).loss
            }
        }
        let img: Matrix<Double> = rng.normalMatrix(4, 3), txt: Matrix<Double> = rng.normalMatrix(4, 3)
        for labels in [nil, [0, 0, 1, 1]] {
            let clip = CLIPLoss<Double>(temperature: 0.1)
            let out = clip(image: img, text: txt, labels: labels)
            checkGradient("CLIP dImage", analytic: out.dImage, at: img) { clip(image: $0, text: txt, labels: labels).loss }
            checkGradient("CLIP dText", analytic: out.dText, at: txt) { clip(image: img, text: $0, labels: labels).loss }
        }
    }

    /// encoder → head → NT-Xent, w.r.t. every named parameter, train mode, masked and not.
    func testCompositeModelEveryParameter() throws {
        var rng = RNG(seed: 21)
        let encoder = Sequential<Double>.mlpEncoder(inputWidth: 5, hiddenWidths: [7], outputWidth: 4,
                                                    batchNormOnOutput: true, rng: &rng)
        let head = Sequential<Double>.projectionHead(inputWidth: 4, hiddenWidth: 6, outputWidth: 3, rng: &rng)
        let model = ContrastiveModel(encoder: encoder, head: head)
        let b = 3
        let x: Matrix<Double> = rng.normalMatrix(2 * b, 5)
        for labels in [nil, [0, 1, 0]] {
            let loss = NTXent<Double>(temperature: 0.5)
            func lossOf(_ m: ContrastiveModel<Double>) -> Double {
                var m = m
                return loss(m.forward(x, mode: .train).embedding, pseudoLabels: labels).loss
            }
            var m = model
            let (_, z, cache) = m.forward(x, mode: .train)
            let out = loss(z, pseudoLabels: labels)
            let (dx, grads) = model.backward(out.dEmbeddings, cache)
            let named = model.namedGradients(grads)
            let params = model.namedParameters()
            XCTAssertEqual(named.map { $0.name }, params.map { $0.name })
            for (k, (name, value)) in params.enumerated() {
                checkGradient("composite \(name) masked=\(labels != nil)", analytic: named[k].value, at: value) { v in
                    var p = params; p[k].value = v
                    var mm = model; try! mm.setParameters(p)
                    return lossOf(mm)
                }
            }
            checkGradient("composite dx", analytic: dx, at: x) { xv in
                var mm = model; return loss(mm.forward(xv, mode: .train).embedding, pseudoLabels: labels).loss
            }
        }
    }
}

import XCTest
import Foundation
@testable import MCLReference

/// Conv2d against a direct convolution, gradient checks of Conv2d and BatchNorm2d (Float64, central
/// differences, the tolerances of GradientChecking.swift), and the cnnEncoder composite.
final class ConvTests: XCTestCase {
    /// (C, H, W, O, k, stride, padding, B): odd sizes, stride 2, padding 1, 1 channel, batch 1, 1×1.
    static let convCases: [(Int, Int, Int, Int, Int, Int, Int, Int)] = [
        (1, 5, 5, 2, 3, 1, 1, 1),
        (2, 7, 5, 3, 3, 2, 1, 2),
        (3, 6, 7, 2, 2, 2, 0, 3),
        (2, 4, 4, 1, 1, 1, 0, 2),
        (1, 3, 5, 2, 3, 1, 0, 1),
        (2, 5, 6, 2, 3, 2, 2, 1),
    ]

    /// y[b, o, oy, ox] = bias[o] + Σ_c Σ_i Σ_j W[o, c, i, j]·x[b, c, oy·s − p + i, ox·s − p + j].
    func directConvolution(_ x: Matrix<Double>, _ conv: Conv2d<Double>) -> Matrix<Double> {
        let g = conv.geometry, inp = g.input, o = conv.outChannels
        var y = Matrix<Double>(rows: x.rows, cols: o * g.outPlane)
        for b in 0..<x.rows {
            for oc in 0..<o {
                for oy in 0..<g.outH {
                    for ox in 0..<g.outW {
                        var s = conv.bias[oc]
                        for c in 0..<inp.channels {
                            for i in 0..<g.kernelH {
                                for j in 0..<g.kernelW {
                                    let yy = oy * g.stride - g.padding + i, xx = ox * g.stride - g.padding + j
                                    if yy < 0 || yy >= inp.height || xx < 0 || xx >= inp.width { continue }
                                    let w = conv.weight[oc, (c * g.kernelH + i) * g.kernelW + j]
                                    s += w * x[b, (c * inp.height + yy) * inp.width + xx]
                                }
                            }
                        }
                        y[b, (oc * g.outH + oy) * g.outW + ox] = s
                    }
                }
            }
        }
        return y
    }

    func testForwardMatchesDirectConvolution() {
        for (n, (c, h, w, o, k, s, p, b)) in Self.convCases.enumerated() {
            var rng = RNG(seed: 100 + UInt64(n))
            let conv = Conv2d<Double>(inputShape: ImageShape(channels: c, height: h, width: w), outChannels: o,
                                      kernelSize: k, stride: s, padding: p, rng: &rng)
            let x: Matrix<Double> = rng.normalMatrix(b, c * h * w)
            let y = conv.forward(x).output
            XCTAssertEqual(y.cols, o * ImageShape.windowOutput(h, kernel: k, stride: s, padding: p)
                                      * ImageShape.windowOutput(w, kernel: k, stride: s, padding: p))
            // Tolerance: both are sums of ≤ 27 products of O(1) numbers in Float64; 1e-12 is ~10³ ulp.
            assertClose(y, directConvolution(x, conv), Tolerance(atol: 1e-12, rtol: 1e-12), "conv case \(n)")
        }
    }

    func testFloatForwardAgreesWithDouble() {
        var rng = RNG(seed: 120)
        let conv = Conv2d<Double>(inputShape: ImageShape(channels: 3, height: 9, width: 8), outChannels: 4,
                                  kernelSize: 3, stride: 2, padding: 1, rng: &rng)
        let x: Matrix<Double> = rng.normalMatrix(2, 3 * 9 * 8)
        let convF = Conv2d<Float>(inputShape: conv.inputShape, weight: conv.weight.converted(), bias: conv.bias.map { Float($0) },
                                  kernelSize: 3, stride: 2, padding: 1)
        let yF = convF.forward(x.converted()).output.converted(to: Double.self)
        // Float32 sums of 27 terms of size ~1: error ≲ 27·6e-8·|terms| ≈ 1e-5.
        assertClose(yF, conv.forward(x).output, Tolerance(atol: 1e-5, rtol: 1e-5), "Float conv")
    }

    func testConvGradients() {
        for (n, (c, h, w, o, k, s, p, b)) in Self.convCases.enumerated() {
            var rng = RNG(seed: 200 + UInt64(n))
            let conv = Conv2d<Double>(inputShape: ImageShape(channels: c, height: h, width: w), outChannels: o,
                                      kernelSize: k, stride: s, padding: p, rng: &rng)
            let x: Matrix<Double> = rng.normalMatrix(b, c * h * w)
            let (y, cache) = conv.forward(x)
            let wt: Matrix<Double> = rng.normalMatrix(y.rows, y.cols)
            let (dx, g) = conv.backward(wt, cache)
            func rebuilt(_ weight: Matrix<Double>, _ bias: [Double]) -> Conv2d<Double> {
                Conv2d(inputShape: conv.inputShape, weight: weight, bias: bias, kernelSize: k, stride: s, padding: p)
            }
            checkGradient("Conv2d dx case \(n)", analytic: dx, at: x) { weightedSum(conv.forward($0).output, wt) }
            checkGradient("Conv2d dW case \(n)", analytic: g.weight, at: conv.weight) {
                weightedSum(rebuilt($0, conv.bias).forward(x).output, wt)
            }
            checkGradient("Conv2d db case \(n)", analytic: vec(g.bias), at: vec(conv.bias)) {
                weightedSum(rebuilt(conv.weight, $0.storage).forward(x).output, wt)
            }
        }
    }

    func testBatchNorm2dGradientsTrainAndEval() {
        // (B, C, H, W): batch 1 with H·W ≥ 2 is valid in train mode, as in PyTorch.
        for (seed, b, c, h, w) in [(30, 2, 3, 3, 2), (31, 1, 2, 3, 3), (32, 3, 1, 1, 1), (33, 2, 2, 5, 3)] {
            var rng = RNG(seed: UInt64(seed))
            var bn = BatchNorm2d<Double>(numFeatures: c)
            bn.weight = (0..<c).map { _ in rng.normal(mean: 1.0, std: 0.5) }
            bn.bias = rng.normals(c)
            bn.runningMean = rng.normals(c)
            bn.runningVar = (0..<c).map { _ in 0.5 + rng.nextDouble() }
            let x: Matrix<Double> = rng.normalMatrix(b, c * h * w, std: 2)
            let wt: Matrix<Double> = rng.normalMatrix(b, c * h * w)
            for mode in Mode.allCases {
                var layer = bn
                let (_, cache) = layer.forward(x, mode: mode)
                let (dx, g) = bn.backward(wt, cache)
                func out(_ l: BatchNorm2d<Double>, _ x: Matrix<Double>) -> Double {
                    var l = l; return weightedSum(l.forward(x, mode: mode).output, wt)
                }
                checkGradient("BN2d \(mode) dx seed \(seed)", analytic: dx, at: x) { out(bn, $0) }
                checkGradient("BN2d \(mode) dγ", analytic: vec(g.weight), at: vec(bn.weight)) {
                    var l = bn; l.weight = $0.storage; return out(l, x)
                }
                checkGradient("BN2d \(mode) dβ", analytic: vec(g.bias), at: vec(bn.bias)) {
                    var l = bn; l.bias = $0.storage; return out(l, x)
                }
            }
        }
    }

    /// Per-channel statistics over (B, H, W) and the running-stat update with n/(n − 1).
    func testBatchNorm2dStatistics() {
        var rng = RNG(seed: 34)
        let (b, c, l) = (3, 2, 4)
        let x: Matrix<Double> = rng.normalMatrix(b, c * l, std: 3)
        var bn = BatchNorm2d<Double>(numFeatures: c)
        let y = bn.forward(x, mode: .train).output
        for ch in 0..<c {
            var values: [Double] = [], outs: [Double] = []
            for i in 0..<b { for t in 0..<l { values.append(x[i, ch * l + t]); outs.append(y[i, ch * l + t]) } }
            let n = Double(values.count)
            let mean = values.reduce(0, +) / n
            let varB = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n
            XCTAssertEqual(outs.reduce(0, +) / n, 0, accuracy: 1e-12)
            XCTAssertEqual(outs.map { $0 * $0 }.reduce(0, +) / n, varB / (varB + 1e-5), accuracy: 1e-12)
            XCTAssertEqual(bn.runningMean[ch], 0.1 * mean, accuracy: 1e-12)
            XCTAssertEqual(bn.runningVar[ch], 0.9 + 0.1 * varB * n / (n - 1), accuracy: 1e-12)
        }
        XCTAssertEqual(bn.numBatchesTracked, 1)
    }

    func testCNNEncoderArchitectureAndNames() {
        var rng = RNG(seed: 40)
        let enc = Sequential<Float>.cnnEncoder(inputShape: [3, 32, 32], widths: [16, 32, 64], outputWidth: 128, rng: &rng)
        XCTAssertEqual(enc.layers.map { $0.kindName },
                       ["Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d", "ReLU",
                        "GlobalAvgPool", "Flatten", "Linear"])
        let names = enc.stateDict(prefix: "encoder.").map { $0.name }
        XCTAssertEqual(Array(names.prefix(7)), ["encoder.0.weight", "encoder.0.bias", "encoder.1.weight", "encoder.1.bias",
                                                "encoder.1.running_mean", "encoder.1.running_var", "encoder.1.num_batches_tracked"])
        XCTAssertEqual(names.suffix(2), ["encoder.11.weight", "encoder.11.bias"])
        let shapes = enc.namedParameters().map { $0.value.shapeDescription }
        XCTAssertEqual(shapes.first, "16×27")
        XCTAssertTrue(shapes.contains("64×288"))
        let x: Matrix<Float> = rng.normalMatrix(4, 3 * 32 * 32)
        XCTAssertEqual(enc(x).shapeDescription, "4×128")
        if case .conv2d(let last) = enc.layers[6] { XCTAssertEqual(last.outputShape, ImageShape(channels: 64, height: 8, width: 8)) }
        else { XCTFail("layer 6 is not a Conv2d") }
        // Round trip of the state dict.
        var other = Sequential<Float>.cnnEncoder(inputShape: [3, 32, 32], widths: [16, 32, 64], outputWidth: 128, rng: &rng)
        XCTAssertNotEqual(other, enc)
        XCTAssertNoThrow(try other.loadStateDict(enc.stateDict(prefix: "e."), prefix: "e."))
        XCTAssertEqual(other, enc)
    }

    /// Tiny cnnEncoder → projection head → NT-Xent, every named parameter and the input, train mode.
    func testCNNCompositeEveryParameter() throws {
        var rng = RNG(seed: 41)
        // 2 channels, 5×4 (odd), widths [3, 4]: stem 5×4, stride-2 conv 3×2.
        let encoder = Sequential<Double>.cnnEncoder(inputShape: [2, 5, 4], widths: [3, 4], outputWidth: 4, rng: &rng)
        let head = Sequential<Double>.projectionHead(inputWidth: 4, hiddenWidth: 5, outputWidth: 3, rng: &rng)
        let model = ContrastiveModel(encoder: encoder, head: head)
        let b = 3
        let x: Matrix<Double> = rng.normalMatrix(2 * b, 2 * 5 * 4)
        let loss = NTXent<Double>(temperature: 0.5)
        for labels in [nil, [0, 1, 0]] {
            var m = model
            let (_, z, cache) = m.forward(x, mode: .train)
            let out = loss(z, pseudoLabels: labels)
            let (dx, grads) = model.backward(out.dEmbeddings, cache)
            let named = model.namedGradients(grads)
            let params = model.namedParameters()
            XCTAssertEqual(named.map { $0.name }, params.map { $0.name })
            for (k, (name, value)) in params.enumerated() {
                checkGradient("cnn composite \(name) masked=\(labels != nil)", analytic: named[k].value, at: value) { v in
                    var p = params; p[k].value = v
                    var mm = model; try! mm.setParameters(p)
                    return loss(mm.forward(x, mode: .train).embedding, pseudoLabels: labels).loss
                }
            }
            checkGradient("cnn composite dx", analytic: dx, at: x) { xv in
                var mm = model; return loss(mm.forward(xv, mode: .train).embedding, pseudoLabels: labels).loss
            }
        }
    }
}

/// Results do not depend on the thread count (the GEMM splits by output tiles; rendering by sample).
final class ConvDeterminismTests: XCTestCase {
    func testConvAndDataBitIdenticalAcrossThreadCounts() {
        let saved = Parallel.maxThreads
        defer { Parallel.maxThreads = saved }
        var rng = RNG(seed: 80)
        let enc = Sequential<Float>.cnnEncoder(inputShape: [3, 16, 16], widths: [8, 16], outputWidth: 10, rng: &rng)
        let x: Matrix<Float> = rng.normalMatrix(6, 3 * 16 * 16)
        let wt: Matrix<Float> = rng.normalMatrix(6, 10)
        func run() -> (Matrix<Float>, Matrix<Float>, [Float], Matrix<Float>) {
            var m = enc
            let (y, cache) = m.forward(x, mode: .train)
            let (dx, g) = enc.backward(wt, cache)
            let tri: LabeledData<Float> = Trifeature.make(count: 9, size: 16, seed: 4)
            return (y, dx, enc.namedGradients(g).flatMap { $0.value.storage }, tri.x)
        }
        Parallel.maxThreads = 1
        let one = run()
        Parallel.maxThreads = 2
        let two = run()
        XCTAssertEqual(one.0, two.0)
        XCTAssertEqual(one.1, two.1)
        XCTAssertEqual(one.2, two.2)
        XCTAssertEqual(one.3, two.3)
    }
}

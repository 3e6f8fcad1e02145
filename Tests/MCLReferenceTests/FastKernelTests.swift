import XCTest
@testable import MCLReference

/// The MLP step's fast kernels against their plain twins on awkward shapes (1, primes, tails that
/// are not a multiple of the SIMD width), and the whole step's bits for any thread count.
final class FastKernelTests: XCTestCase {
    func double(_ m: Matrix<Float>) -> Matrix<Double> { Matrix(rows: m.rows, cols: m.cols, storage: m.storage.map(Double.init)) }

    /// InfoNCE's Float32 row pass (`fastExp`, sums in Double) against the Double/libm reference pass.
    /// Tolerance atol 1e-6, rtol 2e-5: the fast pass forms ℓ − μ in Float (an error of ≤ ½ ulp of
    /// |ℓ − μ| ≤ 2/τ = 200 at τ = 0.01, i.e. ≤ 8e-6 in the exponent, but only for terms that are
    /// below e⁻¹⁰⁰ of the largest) and exp to 2⁻²¹; the loss and gradients are O(1).
    func testInfoNCEFastRowMatchesReference() {
        var rng = RNG(seed: 21)
        for (n, m, d) in [(1, 1, 1), (1, 3, 2), (3, 13, 5), (7, 17, 3), (16, 31, 8), (24, 64, 4)] {
            for tau: Float in [0.5, 0.07, 0.01] {
                let q = L2Normalize<Float>().forward(rng.normalMatrix(n, d)).output
                let k = L2Normalize<Float>().forward(rng.normalMatrix(m, d)).output
                let positives = (0..<n).map { $0 % m }
                // Labels in 3 groups: some anchors keep only their positive.
                let mask = InfoNCE.Mask.make(anchors: n, keys: m, anchorLabels: (0..<n).map { $0 % 3 },
                                             keyLabels: (0..<m).map { ($0 * 7) % 3 })
                for shift: Float in [0, 0.1] {
                    let fast = InfoNCE.loss(anchors: q, keys: k, positives: positives, mask: mask, temperature: tau, shift: shift)
                    let reference = InfoNCE.loss(anchors: q, keys: k, positives: positives, mask: mask, temperature: tau,
                                                 shift: shift, kernel: .reference)
                    let what = "N=\(n) M=\(m) D=\(d) τ=\(tau) shift=\(shift)"
                    let tol = Tolerance(atol: 1e-6, rtol: 2e-5)
                    assertClose(Matrix(rows: 1, cols: 1, storage: [Double(fast.loss)]),
                                Matrix(rows: 1, cols: 1, storage: [Double(reference.loss)]), tol, what + " loss")
                    assertClose(Matrix(rows: n, cols: 1, storage: fast.perAnchorLoss.map(Double.init)),
                                Matrix(rows: n, cols: 1, storage: reference.perAnchorLoss.map(Double.init)), tol, what + " loss_i")
                    assertClose(double(fast.dAnchors), double(reference.dAnchors), tol, what + " dQ")
                    assertClose(double(fast.dKeys), double(reference.dKeys), tol, what + " dK")
                    XCTAssertEqual(fast.admissibleNegatives, reference.admissibleNegatives)
                }
            }
        }
    }

    /// A NaN embedding gives a NaN loss on the fast path too (the row falls back to the reference).
    func testInfoNCEFastRowPropagatesNaN() {
        var rng = RNG(seed: 2)
        var q: Matrix<Float> = rng.normalMatrix(4, 3)
        q[1, 2] = .nan
        let out = InfoNCE.loss(anchors: q, keys: q, positives: [2, 3, 0, 1], mask: InfoNCE.Mask(rows: 4, cols: 4), temperature: 0.5)
        XCTAssert(out.loss.isNaN)
    }

    /// BatchNorm1d's fast kernel (constants folded in Double, elementwise passes in T) against the
    /// per-element Double reference, both modes, forward and backward. Float tolerance atol 1e-5,
    /// rtol 1e-5 (a few Float roundings on O(1) values); Double agrees to 1e-12.
    func testBatchNorm1dFastMatchesReference() {
        var rng = RNG(seed: 8)
        for (b, c) in [(2, 1), (3, 5), (7, 13), (31, 17), (64, 8)] {
            for mode in [Mode.train, .eval] {
                var layer = BatchNorm1d<Float>(numFeatures: c)
                layer.weight = (0..<c).map { _ in rng.uniform(0.5, 1.5) }
                layer.bias = (0..<c).map { _ in rng.uniform(-0.5, 0.5) }
                layer.runningMean = (0..<c).map { _ in rng.uniform(-1, 1) }
                layer.runningVar = (0..<c).map { _ in rng.uniform(0.5, 2) }
                let x: Matrix<Float> = addRowVector(rng.normalMatrix(b, c, std: 2), [Float](repeating: 3, count: c))
                let dy: Matrix<Float> = rng.normalMatrix(b, c)
                var (fastLayer, refLayer) = (layer, layer)
                let f = fastLayer.forward(x, mode: mode)
                let r = refLayer.forward(x, mode: mode, kernel: .reference)
                XCTAssertEqual(fastLayer, refLayer, "running statistics are the same Double sums")
                let what = "B=\(b) C=\(c) \(mode)"
                let tol = Tolerance(atol: 1e-5, rtol: 1e-5)
                assertClose(double(f.output), double(r.output), tol, what + " y")
                assertClose(double(f.cache.normalized), double(r.cache.normalized), tol, what + " x̂")
                let fb = layer.backward(dy, f.cache), rb = layer.backward(dy, r.cache, kernel: .reference)
                assertClose(double(fb.dInput), double(rb.dInput), tol, what + " dx")
                assertClose(Matrix(rows: 1, cols: c, storage: fb.gradients.weight.map(Double.init)),
                            Matrix(rows: 1, cols: c, storage: rb.gradients.weight.map(Double.init)), tol, what + " dγ")
                XCTAssertEqual(fb.gradients.bias, rb.gradients.bias, what + " dβ")
                // Double: the two kernels differ only by reassociation.
                var dLayer = BatchNorm1d<Double>(numFeatures: c)
                dLayer.weight = layer.weight.map(Double.init); dLayer.bias = layer.bias.map(Double.init)
                var dRef = dLayer
                let df = dLayer.forward(double(x), mode: .train), dr = dRef.forward(double(x), mode: .train, kernel: .reference)
                assertClose(df.output, dr.output, Tolerance(atol: 1e-12, rtol: 1e-12), what + " Double y")
                assertClose(dLayer.backward(double(dy), df.cache).dInput, dRef.backward(double(dy), dr.cache, kernel: .reference).dInput,
                            Tolerance(atol: 1e-12, rtol: 1e-12), what + " Double dx")
            }
        }
    }

    /// The whole `bench mlp` step (SimCLR, NT-Xent τ 0.5, Adam), two steps, at B = 400 — large
    /// enough that the loss's row pass (800² logits ≥ 2¹⁹) and its GEMMs (41 MFLOP ≥ 32) split over
    /// workers — gives the same bits with 1, 2 and 3 threads: loss, dL/dz, every gradient and every
    /// parameter.
    func testMLPStepBitIdenticalForAnyThreadCount() {
        func run(threads: Int) -> (losses: [Float], gradients: [[Float]], model: ContrastiveModel<Float>) {
            let saved = Parallel.maxThreads
            Parallel.maxThreads = threads
            defer { Parallel.maxThreads = saved }
            var rng = RNG(seed: 0)
            let model = ContrastiveModel<Float>(
                encoder: .mlpEncoder(inputWidth: 32, hiddenWidths: [128], outputWidth: 16, rng: &rng),
                head: .projectionHead(inputWidth: 16, hiddenWidth: 64, outputWidth: 32, rng: &rng))
            let views: Matrix<Float> = rng.normalMatrix(800, 32)
            var step = TrainingStep(model: model, objective: .simclr(NTXent(temperature: 0.5)), optimizer: .adam(Adam(lr: 1e-3)))
            var losses: [Float] = [], gradients: [[Float]] = []
            for _ in 0..<2 {
                let r = step(views: views, labels: nil, learningRate: 1e-3)
                XCTAssertEqual(r.status, .ok)
                losses.append(r.loss)
                gradients = r.gradients + [r.embeddings.storage]
            }
            return (losses, gradients, step.model)
        }
        let one = run(threads: 1)
        for t in [2, 3] {
            let other = run(threads: t)
            XCTAssertEqual(one.losses.map(\.bitPattern), other.losses.map(\.bitPattern), "\(t) threads")
            XCTAssertEqual(one.gradients.map { $0.map(\.bitPattern) }, other.gradients.map { $0.map(\.bitPattern) }, "\(t) threads")
            XCTAssertEqual(one.model, other.model, "\(t) threads")
        }
    }
}

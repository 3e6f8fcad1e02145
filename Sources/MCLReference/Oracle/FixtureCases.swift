import MCLNumerics

// MARK: - The registry
//
// Every case is computed by mcl-ref itself from inputs drawn from `RNG(seed:)` with the case's own
// seed, so regenerating a case changes nothing unless the code under test changed. Shapes are tiny
// on purpose: the committed goldens stay small and a failing element is easy to find by hand.
//
// Tolerances are per output and per precision, each with its reason (the `why` of the manifest).
// Where a tolerance is written `atol = c·max|e|`, c is multiplied by the largest magnitude in that
// reference tensor, so the absolute slack follows the tensor's own scale.

extension FixtureCase {
    /// Every case, in the order `mcl-ref fixtures --list` prints them.
    public static let all: [FixtureCase] = {
        var cases: [FixtureCase] = []
        for (ta, tb) in [(Transpose.none, Transpose.none), (.none, .transpose), (.transpose, .none), (.transpose, .transpose)] {
            let name = "gemm_\(ta == .none ? "n" : "t")\(tb == .none ? "n" : "t")"
            cases.append(FixtureCase(name, "gemm", "C ← α·op(A)·op(B) + β·C with op(A) \(ta), op(B) \(tb) (reference kernel)") {
                $0.pick(FixtureCases.gemmCase(Float.self, ta, tb), FixtureCases.gemmCase(Double.self, ta, tb))
            })
        }
        cases += [
            FixtureCase("linear", "Linear", "y = x·Wᵀ + b forward, and dx, dW, db for a given dy") {
                $0.pick(FixtureCases.linear(Float.self), FixtureCases.linear(Double.self))
            },
            FixtureCase("relu", "ReLU", "y = max(x, 0) forward (exact zeros included), dx for a given dy") {
                $0.pick(FixtureCases.relu(Float.self), FixtureCases.relu(Double.self))
            },
            FixtureCase("batchnorm1d_train", "BatchNorm1d", "train-mode batch norm: y, running statistics, dx, dγ, dβ for a given dy") {
                $0.pick(FixtureCases.batchNorm(Float.self), FixtureCases.batchNorm(Double.self))
            },
            FixtureCase("l2_normalize", "L2Normalize", "y = x/max(‖x‖, 1e-12) per row, dx for a given dy (rows of very different norms)") {
                $0.pick(FixtureCases.l2Normalize(Float.self), FixtureCases.l2Normalize(Double.self))
            },
        ]
        cases += FixtureCases.imageCases
        for masked in [false, true] {
            for tau in [0.1, 0.5] {
                let name = "ntxent_\(masked ? "masked" : "plain")_t\(tau)"
                let what = masked ? "NT-Xent masked by pseudo labels (paper Eq. 3)" : "NT-Xent (SimCLR, positive in the denominator)"
                cases.append(FixtureCase(name, "NTXent", "\(what) at τ = \(tau): loss, per-anchor loss, dL/dz") {
                    $0.pick(FixtureCases.ntXent(Float.self, tau: tau, masked: masked, saturated: false),
                            FixtureCases.ntXent(Double.self, tau: tau, masked: masked, saturated: false))
                })
            }
            let name = "ntxent_\(masked ? "masked" : "plain")_saturated_t0.1"
            cases.append(FixtureCase(name, "NTXent", "NT-Xent\(masked ? " masked" : "") at τ = 0.1 with near-saturated logits (cosines ≈ ±1, large norms)") {
                $0.pick(FixtureCases.ntXent(Float.self, tau: 0.1, masked: masked, saturated: true),
                        FixtureCases.ntXent(Double.self, tau: 0.1, masked: masked, saturated: true))
            })
        }
        cases += [
            FixtureCase("kmeans_lloyd", "KMeans", "Lloyd's K-means from given initial centroids: centroids, labels, inertia, iterations") {
                $0.pick(FixtureCases.kMeans(Float.self), FixtureCases.kMeans(Double.self))
            },
            FixtureCase("pseudo_labels_3stage", "PseudoLabels", "pseudo labels (paper Eq. 2) of a 3-stage cluster history: tuple, mixed radix, dense ids") {
                $0.pick(FixtureCases.pseudoLabels(Float.self), FixtureCases.pseudoLabels(Double.self))
            },
            FixtureCase("cluster_batch_sampler", "ClusterBatchSampler", "cluster-batch sampler, world size 2: each rank's batches and their groups for epochs 0 and 1") {
                $0.pick(FixtureCases.sampler(Float.self), FixtureCases.sampler(Double.self))
            },
            FixtureCase("linear_probe", "LinearProbe", "linear-probe objective at given (W, b): logits, loss, dW, db") {
                $0.pick(FixtureCases.linearProbe(Float.self), FixtureCases.linearProbe(Double.self))
            },
            FixtureCase("simclr_step", "SimCLR", "one SimCLR step of the MLP encoder + head (loss, every gradient, Adam update), then the losses of 10 more steps") {
                $0.pick(FixtureCases.simCLRStep(Float.self), FixtureCases.simCLRStep(Double.self))
            },
            FixtureCase("moco_step", "MoCo", "three MoCo-v2 steps with Eq. 3 over the queue: loss, gradients, Adam update, momentum key model, queue and labels after enqueue") {
                $0.pick(FixtureCases.mocoStep(Float.self), FixtureCases.mocoStep(Double.self))
            },
            FixtureCase("byol_step", "BYOL", "one BYOL step: online and predictor passes per view, EMA target, symmetrised loss, gradients of model and predictor, SGD update, target after the EMA") {
                $0.pick(FixtureCases.byolStep(Float.self), FixtureCases.byolStep(Double.self))
            },
            FixtureCase("barlow_step", "BarlowTwins", "one Barlow Twins step: a pass per view, cross-correlation loss, gradients, SGD update") {
                $0.pick(FixtureCases.barlowStep(Float.self), FixtureCases.barlowStep(Double.self))
            },
            FixtureCase("clip_step", "CLIP", "one CLIP step: image tower and text tower (mean-pooled embedding + MLP), masked CLIP loss in both directions with the learnable logit scale, gradients of both towers and θ, SGD update") {
                $0.pick(FixtureCases.clipStep(Float.self), FixtureCases.clipStep(Double.self))
            },
        ]
        cases += FixtureCases.analysisCases
        cases += FixtureCases.baselineCases
        return cases
    }()
}

/// The case functions (one per case family). Each is generic over the precision and returns the
/// inputs it drew, mcl-ref's outputs, and the tolerance of every output with its reason.
public enum FixtureCases {
    /// max |x| over `values` (at least `floor`, so an all-zero tensor still gets a positive scale).
    @inlinable static func scale<T: MCLFloat>(_ values: [T], floor: Double = 1e-300) -> Double {
        max(floor, values.reduce(0.0) { max($0, abs(Double($1))) })
    }
    /// atol = c·max|e|, rtol = r, chosen by precision.
    @inlinable static func scaled<T: MCLFloat>(_ values: [T], f32: (Double, Double), f64: (Double, Double)) -> ComparisonTolerance {
        let s = scale(values)
        let (c, r) = T.self == Float.self ? f32 : f64
        return ComparisonTolerance(atol: c * s, rtol: r)
    }
    static func js(_ x: Double) -> JSONValue { .number(x) }
    static func js(_ x: Int) -> JSONValue { .number(Double(x)) }

    // MARK: GEMM

    static let gemmWhy32 = "float32 dot products of length K=5 accumulate ≈ K·2⁻²⁴·Σ|a·b| of rounding; the reference sums in float64 and rounds once"
    static let gemmWhy64 = "float64 dot products of length K=5: ≈ K·2⁻⁵³·Σ|a·b| of rounding in any summation order"

    static func gemmCase<T: MCLFloat>(_: T.Type, _ ta: Transpose, _ tb: Transpose) -> FixtureData {
        let (m, n, k) = (3, 4, 5)
        let alpha: T = 0.75, beta: T = -0.5
        let seed: UInt64 = 101 + UInt64(ta == .none ? 0 : 2) + UInt64(tb == .none ? 0 : 1)
        var rng = RNG(seed: seed)
        let a: Matrix<T> = ta == .none ? rng.uniformMatrix(m, k, -1, 1) : rng.uniformMatrix(k, m, -1, 1)
        let b: Matrix<T> = tb == .none ? rng.uniformMatrix(k, n, -1, 1) : rng.uniformMatrix(n, k, -1, 1)
        let c0: Matrix<T> = rng.uniformMatrix(m, n, -1, 1)
        var c = c0
        gemm(a, b, transA: ta, transB: tb, alpha: alpha, beta: beta, into: &c, kernel: .reference)
        return FixtureData(
            seed: seed,
            params: [("trans_a", .bool(ta == .transpose)), ("trans_b", .bool(tb == .transpose)),
                     ("alpha", js(Double(alpha))), ("beta", js(Double(beta))), ("m", js(m)), ("n", js(n)), ("k", js(k)),
                     ("layout", "row-major; a is stored M×K (trans_a false) or K×M (true), b K×N or N×K, c M×N")],
            inputs: [.matrix("a", a), .matrix("b", b), .matrix("c", c0)],
            outputs: [FixtureOutput(.matrix("c_out", c), tol(T.self, f32: (1e-5, 1e-5), f64: (1e-13, 1e-12)),
                                    T.self == Float.self ? gemmWhy32 : gemmWhy64)])
    }

    // MARK: Layers

    static func linear<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 201
        var rng = RNG(seed: seed)
        let (b, d, h) = (4, 5, 3)
        let x: Matrix<T> = rng.normalMatrix(b, d)
        let layer = Linear<T>(inFeatures: d, outFeatures: h, rng: &rng)
        let dy: Matrix<T> = rng.normalMatrix(b, h)
        let (y, cache) = layer.forward(x)
        let (dx, g) = layer.backward(dy, cache)
        let t = tol(T.self, f32: (1e-5, 1e-5), f64: (1e-13, 1e-12))
        let why = T.self == Float.self ? "sums of ≤ 5 float32 products of O(1) values: a few 2⁻²⁴ relative" : "sums of ≤ 5 float64 products of O(1) values: a few 2⁻⁵³ relative"
        return FixtureData(
            seed: seed, params: [("in_features", js(d)), ("out_features", js(h)),
                                 ("convention", "PyTorch nn.Linear: weight is out×in, y = x·weightᵀ + bias")],
            inputs: [.matrix("x", x), .matrix("weight", layer.weight), .vector("bias", layer.bias), .matrix("d_out", dy)],
            outputs: [FixtureOutput(.matrix("y", y), t, why), FixtureOutput(.matrix("d_x", dx), t, why),
                      FixtureOutput(.matrix("d_weight", g.weight), t, why), FixtureOutput(.vector("d_bias", g.bias), t, why)])
    }

    static func relu<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 202
        var rng = RNG(seed: seed)
        var x: Matrix<T> = rng.normalMatrix(4, 6)
        for i in [0, 7, 13, 22] { x.storage[i] = 0 }  // the subgradient at 0 is 0, as PyTorch
        x.storage[5] = -0.0
        let dy: Matrix<T> = rng.normalMatrix(4, 6)
        let layer = ReLU<T>()
        let (y, cache) = layer.forward(x)
        let (dx, _) = layer.backward(dy, cache)
        let why = "no arithmetic: every value is an input or zero (x = 0 gives y = 0, dx = 0, as PyTorch)"
        return FixtureData(
            seed: seed, params: [("zeros_at_flat_indices", .array([0, 5, 7, 13, 22].map { js($0) }))],
            inputs: [.matrix("x", x), .matrix("d_out", dy)],
            outputs: [FixtureOutput(.matrix("y", y), .exact, why), FixtureOutput(.matrix("d_x", dx), .exact, why)])
    }

    static func batchNorm<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 203
        var rng = RNG(seed: seed)
        let (b, c) = (6, 4)
        var x: Matrix<T> = rng.normalMatrix(b, c, std: 2)
        for i in 0..<x.count { x.storage[i] += 3 }  // |μ| > σ: a one-pass variance would lose digits
        var layer = BatchNorm1d<T>(numFeatures: c)
        layer.weight = (0..<c).map { _ in 1 + rng.normal(mean: T(0), std: T(0.2)) }
        layer.bias = (0..<c).map { _ in rng.normal(mean: T(0), std: T(0.2)) }
        layer.runningMean = (0..<c).map { _ in rng.normal(mean: T(0), std: T(0.5)) }
        layer.runningVar = (0..<c).map { _ in 0.5 + rng.uniform(T(0), T(1)) }
        let inputs: [FixtureTensor] = [.matrix("x", x), .vector("weight", layer.weight), .vector("bias", layer.bias),
                                       .vector("running_mean", layer.runningMean), .vector("running_var", layer.runningVar)]
        let dy: Matrix<T> = rng.normalMatrix(b, c)
        let (y, cache) = layer.forward(x, mode: .train)
        let (dx, g) = layer.backward(dy, cache)
        let f32 = T.self == Float.self
        let fwd = tol(T.self, f32: (1e-5, 1e-5), f64: (1e-12, 1e-11))
        let whyF = f32 ? "x̂ = (x − μ)·rstd in float32: a few ulps of O(1) values; the running stats are O(1)"
                       : "x̂ = (x − μ)·rstd in float64: a few ulps of O(1) values"
        let bwd = scaled(dx.storage, f32: (2e-5, 1e-4), f64: (1e-12, 1e-10))
        let whyB = "dx = rstd·(g − mean g − x̂·mean(g·x̂)) cancels three O(|dy|) terms; atol = \(f32 ? "2e-5" : "1e-12")·max|dx| covers the cancellation"
        return FixtureData(
            seed: seed, params: [("eps", js(Double(layer.eps))), ("momentum", js(Double(layer.momentum))), ("mode", "train"),
                                 ("convention", "PyTorch BatchNorm1d: biased batch variance normalises, unbiased variance enters running_var")],
            inputs: inputs + [.matrix("d_out", dy)],
            outputs: [FixtureOutput(.matrix("y", y), fwd, whyF),
                      FixtureOutput(.vector("running_mean_out", layer.runningMean), fwd, whyF),
                      FixtureOutput(.vector("running_var_out", layer.runningVar), fwd, whyF),
                      FixtureOutput(.matrix("d_x", dx), bwd, whyB),
                      FixtureOutput(.vector("d_weight", g.weight), scaled(g.weight, f32: (1e-5, 1e-5), f64: (1e-13, 1e-12)), "Σ_b dy·x̂ over 6 rows"),
                      FixtureOutput(.vector("d_bias", g.bias), scaled(g.bias, f32: (1e-6, 1e-5), f64: (1e-14, 1e-12)), "Σ_b dy over 6 rows")])
    }

    static func l2Normalize<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 204
        var rng = RNG(seed: seed)
        var x: Matrix<T> = rng.normalMatrix(5, 4)
        for j in 0..<4 { x[1, j] *= 1000; x[3, j] *= T(0.001) }  // norms far from 1 both ways
        let dy: Matrix<T> = rng.normalMatrix(5, 4)
        let layer = L2Normalize<T>()
        let (y, cache) = layer.forward(x)
        let (dx, _) = layer.backward(dy, cache)
        let f32 = T.self == Float.self
        return FixtureData(
            seed: seed, params: [("eps", js(1e-12)), ("dim", js(1)),
                                 ("convention", "torch.nn.functional.normalize(x, p=2, dim=1, eps=1e-12)")],
            inputs: [.matrix("x", x), .matrix("d_out", dy)],
            outputs: [FixtureOutput(.matrix("y", y), tol(T.self, f32: (1e-6, 1e-5), f64: (1e-14, 1e-13)),
                                    "unit rows: one norm and one division, a few ulps"),
                      FixtureOutput(.matrix("d_x", dx), tol(T.self, f32: (1e-6, 1e-4), f64: (1e-14, 1e-11)),
                                    "(dy − y⟨y, dy⟩)/‖x‖ cancels the radial part, so small elements carry the rounding of O(|dy|) terms; rows with ‖x‖ = 1e-3 scale it by 1e3\(f32 ? " (float32)" : "")")])
    }

    // MARK: Losses

    static func ntXent<T: MCLFloat>(_: T.Type, tau: Double, masked: Bool, saturated: Bool) -> FixtureData {
        let seed: UInt64 = 300 + (masked ? 10 : 0) + (saturated ? 9 : UInt64(tau * 10))  // 301, 305, 309, 311, 315, 319
        var rng = RNG(seed: seed)
        let b = 4, d = saturated ? 3 : 5
        var z: Matrix<T>
        if saturated {
            // Samples on ±e₀, ±e₁ with both views almost identical: positive cosines ≈ 1 (logit ≈ 10),
            // opposite samples ≈ −1 (logit ≈ −10); norms of O(100) go through L2Normalize.
            let directions: [[Double]] = [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]]
            z = Matrix(rows: 2 * b, cols: d)
            for v in 0..<2 {
                for i in 0..<b {
                    let norm = 50 + 100 * rng.nextDouble()
                    for j in 0..<d { z[v * b + i, j] = T(norm * (directions[i][j] + 1e-3 * rng.normal())) }
                }
            }
        } else {
            z = rng.normalMatrix(2 * b, d)
        }
        let labels = [0, 1, 0, 0]  // sample 1 alone in its group: its anchors have no negative (loss 0)
        let out = NTXent<T>(temperature: T(tau))(z, pseudoLabels: masked ? labels : nil)
        let f32 = T.self == Float.self
        var inputs: [FixtureTensor] = [.matrix("z", z)]
        if masked { inputs.append(.ints("pseudo_labels", labels)) }
        let lossTol = tol(T.self, f32: (2e-6 / tau, 1e-5), f64: (1e-13 / tau, 1e-11))
        let lossWhy = "logits u·uᵀ/τ carry ≈ \(f32 ? "2⁻²⁴" : "2⁻⁵³")/τ absolute error, and the loss (a log-sum-exp minus a logit) inherits it"
            + (saturated ? "; near saturation the loss is O(1e-4), so only an absolute bound is meaningful" : "")
        let gradTol = saturated ? scaled(out.dEmbeddings.storage, f32: (2e-3, 1e-2), f64: (1e-11, 1e-8))
                                : scaled(out.dEmbeddings.storage, f32: (1e-5, 1e-4), f64: (1e-13, 1e-10))
        let gradWhy = saturated
            ? "near saturation S − P is 1 − p ≈ 1e-4 computed from p ≈ 1, which carries \(f32 ? "2⁻²⁴" : "2⁻⁵³") absolute error: relative error ≈ \(f32 ? "6e-4" : "1e-12"), so atol = \(f32 ? "2e-3" : "1e-11")·max|dz|"
            : "dz = J_norm·(S − P)·u/(Nτ): softmax differences and the tangential projection cancel, so atol = \(f32 ? "1e-5" : "1e-13")·max|dz|"
        var outputs = [FixtureOutput(.scalar("loss", out.loss), lossTol, lossWhy),
                       FixtureOutput(.vector("per_anchor_loss", out.perAnchorLoss), lossTol, lossWhy),
                       FixtureOutput(.matrix("d_z", out.dEmbeddings), gradTol, gradWhy)]
        outputs.append(.exact(.ints("admissible_negatives", out.admissibleNegatives),
                              "a count per anchor: 2B − 2 unmasked, else the other views with the anchor's pseudo label"))
        var p: [(String, JSONValue)] = [("temperature", js(tau)), ("batch_size", js(b)), ("masked", .bool(masked)),
                                        ("layout", "z is 2B×D: rows 0..<B are view 1 of samples 0..<B, rows B..<2B view 2; the positive of row i is i ± B"),
                                        ("normalize", "u = z/max(‖z‖, 1e-12) per row inside the loss"),
                                        ("denominator", "all 2B − 1 other rows, positive included (SimCLR); masked: a negative counts only if its pseudo label equals the anchor's")]
        if saturated { p.append(("note", "near-saturated: cosines ≈ ±1 so logits ≈ ±1/τ")) }
        return FixtureData(seed: seed, params: p, inputs: inputs, outputs: outputs)
    }

    static func linearProbe<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 401
        var rng = RNG(seed: seed)
        let (n, d, c) = (6, 4, 3)
        let l2 = 1e-2
        let x: Matrix<T> = rng.normalMatrix(n, d)
        let w: Matrix<T> = rng.normalMatrix(c, d, std: 0.5)
        let bias: [T] = rng.normals(c, std: 0.5)
        let labels = (0..<n).map { _ in rng.int(below: c) }
        let e = LinearProbe.lossAndGradient(weights: w, bias: bias, features: x, labels: labels, l2: l2)
        let t = tol(T.self, f32: (1e-5, 1e-5), f64: (1e-13, 1e-12))
        let why = "products of ≤ 4 terms and a row-wise log-sum-exp/softmax of 3 logits, O(1): a few ulps"
        return FixtureData(
            seed: seed, params: [("l2", js(l2)), ("classes", js(c)),
                                 ("objective", "mean softmax cross-entropy of z = x·Wᵀ + b plus (l2/2)·‖W‖²_F (bias unpenalised)")],
            inputs: [.matrix("features", x), .ints("labels", labels), .matrix("weight", w), .vector("bias", bias)],
            outputs: [FixtureOutput(.matrix("logits", e.logits), t, why),
                      FixtureOutput(.scalar("loss", T(e.loss)), t, why),
                      FixtureOutput(.matrix("d_weight", e.weightGradient), scaled(e.weightGradient.storage, f32: (1e-6, 1e-5), f64: (1e-14, 1e-12)), why),
                      FixtureOutput(.vector("d_bias", e.biasGradient), scaled(e.biasGradient, f32: (1e-6, 1e-5), f64: (1e-14, 1e-12)),
                                    "Σ_i (p_i − e_{y_i})/N: the softmax rows sum to one, so the sum cancels; atol scaled by max|db|")])
    }
}

import MCLNumerics

// MARK: - SparseHead-paper pieces: BYOL, Barlow Twins, the L2,1 penalty, eigen-spectra, Eq. 9
//
// Seeds 801–811. The analysis functions compute in Float64 whatever T is; their f32 cases store
// float32 inputs and outputs rounded to float32 (so the f32 tolerance is the final rounding).

extension FixtureCases {
    /// The SparseHead-paper cases, in `FixtureCase.all` order.
    static var analysisCases: [FixtureCase] {
        var cases: [FixtureCase] = [
            FixtureCase("byol_loss_ema", "BYOLLoss", "BYOL's symmetrised 2 − 2·cos loss (mean over samples of the two directions' sum): loss, dL/dp₁, dL/dp₂; and one target EMA update on the cosine τ schedule") {
                $0.pick(FixtureCases.byol(Float.self), FixtureCases.byol(Double.self))
            },
            FixtureCase("barlow_twins_loss", "BarlowTwinsLoss", "Barlow Twins (per-view batch norm, biased variance, ε = 1e-5; λ = 5e-3): loss, cross-correlation, dL/dz₁, dL/dz₂") {
                $0.pick(FixtureCases.barlowTwins(Float.self), FixtureCases.barlowTwins(Double.self))
            },
            FixtureCase("l21_penalty", "L21Penalty", "SparseHead λ·Σ_j ‖W[:, j]‖₂ with a zero column: value, sub-gradient (0 at the zero column), proximal step, active columns") {
                $0.pick(FixtureCases.l21Penalty(Float.self), FixtureCases.l21Penalty(Double.self))
            },
        ]
        for n in [1, 2, 7, 33] {
            cases.append(FixtureCase("symmetric_eigen_n\(n)", "SymmetricEigen", "eigenvalues (descending) of a random symmetric \(n)×\(n) matrix by cyclic Jacobi in Float64") {
                $0.pick(FixtureCases.symmetricEigen(Float.self, n: n, repeated: false), FixtureCases.symmetricEigen(Double.self, n: n, repeated: false))
            })
        }
        cases += [
            FixtureCase("symmetric_eigen_repeated_n6", "SymmetricEigen", "eigenvalues of Q·diag(3, 3, 3, 1, 1, 0)·Qᵀ (repeated and zero eigenvalues) by cyclic Jacobi") {
                $0.pick(FixtureCases.symmetricEigen(Float.self, n: 6, repeated: true), FixtureCases.symmetricEigen(Double.self, n: 6, repeated: true))
            },
            FixtureCase("covariance_spectrum", "CovarianceSpectrum", "covariance (1/(N − 1)), its eigenvalues, the normalised spectrum and the effective rank exp(entropy) of 12 samples × 5 features with a near-dependent feature") {
                $0.pick(FixtureCases.covarianceSpectrum(Float.self), FixtureCases.covarianceSpectrum(Double.self))
            },
            FixtureCase("min_max_distance_ratio", "MinMaxDistanceRatio", "(δmax − δmin)/δmin per query (SparseHead Eq. 9) and its mean, on raw and on L2-normalised rows") {
                $0.pick(FixtureCases.minMaxRatio(Float.self), FixtureCases.minMaxRatio(Double.self))
            },
        ]
        return cases
    }

    static func byol<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 801
        var rng = RNG(seed: seed)
        let (b, d) = (5, 4)
        let p1: Matrix<T> = rng.normalMatrix(b, d, std: 2)
        let p2: Matrix<T> = rng.normalMatrix(b, d, std: 0.5)
        let z1: Matrix<T> = rng.normalMatrix(b, d)
        let z2: Matrix<T> = rng.normalMatrix(b, d, std: 3)
        let online: Matrix<T> = rng.normalMatrix(3, d)
        let target0: Matrix<T> = rng.normalMatrix(3, d)
        let (base, step, total) = (0.99, 37, 100)
        let out = BYOLLoss<T>()(prediction1: p1, prediction2: p2, target1: z1, target2: z2)
        let tau = BYOLTargetEMA.decay(step: step, totalSteps: total, base: base)
        var target = target0
        BYOLTargetEMA.update(target: &target, online: online, decay: tau)
        let f32 = T.self == Float.self
        let gradWhy = "dL/dp = (I − p̂p̂ᵀ)·(−2ẑ′/B)/‖p‖ removes the radial part, so small elements carry the rounding of O(|dL/dp|) terms: atol = \(f32 ? "1e-5" : "1e-13")·max|g|"
        return FixtureData(
            seed: seed,
            params: [("batch_size", js(b)), ("ema_base", js(base)), ("step", js(step)), ("total_steps", js(total)),
                     ("loss", "L = (1/B)·Σ_i [ℓ(p1_i, z2_i) + ℓ(p2_i, z1_i)], ℓ(p, z) = ‖p/‖p‖ − z/‖z‖‖² = 2 − 2·cos(p, z) (official BYOL: sum over the two directions, mean over samples; lightly's ½(negcos + negcos) is (L − 4)/4)"),
                     ("normalize", "x/max(‖x‖, 1e-12) per row"),
                     ("stop_gradient", "target_1, target_2 receive no gradient"),
                     ("ema", "tau = 1 − (1 − ema_base)·(cos(π·min(step, total_steps)/total_steps) + 1)/2; target_weight_after = tau·target_weight + (1 − tau)·online_weight")],
            inputs: [.matrix("prediction_1", p1), .matrix("prediction_2", p2), .matrix("target_1", z1), .matrix("target_2", z2),
                     .matrix("online_weight", online), .matrix("target_weight", target0)],
            outputs: [FixtureOutput(.scalar("loss", out.loss), tol(T.self, f32: (1e-5, 1e-5), f64: (1e-13, 1e-12)),
                                    "a mean of 2B terms 2 − 2·cos, each a dot product of unit vectors of length D = \(d): a few ulps of O(1)"),
                      FixtureOutput(.vector("per_sample_loss", out.perSampleLoss), tol(T.self, f32: (1e-5, 1e-5), f64: (1e-13, 1e-12)),
                                    "two terms 2 − 2·cos per sample: a few ulps of O(1)"),
                      FixtureOutput(.matrix("d_prediction_1", out.dPrediction1), scaled(out.dPrediction1.storage, f32: (1e-5, 1e-4), f64: (1e-13, 1e-10)), gradWhy),
                      FixtureOutput(.matrix("d_prediction_2", out.dPrediction2), scaled(out.dPrediction2.storage, f32: (1e-5, 1e-4), f64: (1e-13, 1e-10)), gradWhy),
                      FixtureOutput(.scalar("ema_decay", T(tau)), tol(T.self, f32: (1e-7, 1e-7), f64: (1e-15, 1e-15)),
                                    "one cosine in float64, stored as \(f32 ? "float32 (≤ 2⁻²⁴ relative)" : "float64")"),
                      FixtureOutput(.matrix("target_weight_after", target), tol(T.self, f32: (1e-6, 1e-6), f64: (1e-15, 1e-14)),
                                    "τ·θ′ + (1 − τ)·θ of O(1) values in float64, rounded once to \(f32 ? "float32" : "float64")")])
    }

    static func barlowTwins<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 802
        var rng = RNG(seed: seed)
        let (n, d) = (6, 4)
        var z1: Matrix<T> = rng.normalMatrix(n, d, std: 2)
        for i in 0..<z1.count { z1.storage[i] += 3 }   // |μ| > σ: a one-pass variance would lose digits
        var z2: Matrix<T> = rng.normalMatrix(n, d)
        for i in 0..<n { for j in 0..<d { z2[i, j] += T(0.8) * z1[i, j] } }   // correlated views: C far from 0
        let loss = BarlowTwinsLoss<T>()
        let out = loss(z1, z2)
        let f32 = T.self == Float.self
        let gradWhy = "G·z̃/N then the batch-norm backward rstd·(g − mean g − z̃·mean(g·z̃)), which cancels three O(|g|) terms: atol = \(f32 ? "2e-5" : "1e-12")·max|dz|"
        return FixtureData(
            seed: seed,
            params: [("lambda", js(Double(loss.lambda))), ("eps", js(Double(loss.eps))),
                     ("normalize", "per view and per dimension over the batch: (z − mean)/sqrt(biased var + eps), as nn.BatchNorm1d(D, affine=False) in training mode (official code); each view has its own statistics"),
                     ("loss", "C = z1_normᵀ·z2_norm/N; L = Σ_i (1 − C_ii)² + lambda·Σ_{i≠j} C_ij²")],
            inputs: [.matrix("z1", z1), .matrix("z2", z2)],
            outputs: [FixtureOutput(.scalar("loss", out.loss), tol(T.self, f32: (1e-5, 1e-5), f64: (1e-13, 1e-12)),
                                    "a sum of D² squares of O(1) correlations: a few ulps"),
                      FixtureOutput(.matrix("cross_correlation", out.crossCorrelation), tol(T.self, f32: (1e-5, 1e-5), f64: (1e-13, 1e-12)),
                                    "means of N = \(n) products of normalised values, |C| ≤ 1: a few ulps"),
                      FixtureOutput(.matrix("d_z1", out.dZ1), scaled(out.dZ1.storage, f32: (2e-5, 1e-4), f64: (1e-12, 1e-10)), gradWhy),
                      FixtureOutput(.matrix("d_z2", out.dZ2), scaled(out.dZ2.storage, f32: (2e-5, 1e-4), f64: (1e-12, 1e-10)), gradWhy)])
    }

    static func l21Penalty<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 803
        var rng = RNG(seed: seed)
        let (o, i) = (4, 6)
        var w: Matrix<T> = rng.normalMatrix(o, i)
        // Column 2 exactly zero; column 4 tiny (below both the prox threshold and the active threshold);
        // column 5 small but above both.
        for r in 0..<o { w[r, 2] = 0; w[r, 4] *= T(0.002); w[r, 5] *= T(0.05) }
        let (lambda, stepSize, threshold) = (0.1, 0.5, 1e-2)
        let penalty = L21Penalty<T>(lambda: T(lambda))
        let norms = L21Penalty<T>.columnNorms(w).map { T($0) }
        let active = L21Penalty<T>.activeColumns(w, threshold: threshold)
        let f32 = T.self == Float.self
        let t = tol(T.self, f32: (1e-6, 1e-6), f64: (1e-15, 1e-13))
        let why = "a norm of \(o) values and one division/scaling per element, in float64, rounded once\(f32 ? " to float32" : "")"
        return FixtureData(
            seed: seed,
            params: [("lambda", js(lambda)), ("step_size", js(stepSize)), ("active_threshold", js(threshold)),
                     ("layout", "weight is out×in (PyTorch); column j = input feature j"),
                     ("value", "lambda·Σ_j ‖W[:, j]‖₂"),
                     ("gradient", "lambda·W[:, j]/‖W[:, j]‖₂; 0 for a zero column (minimum-norm sub-gradient)"),
                     ("proximal", "W[:, j]·max(0, 1 − step_size·lambda/‖W[:, j]‖₂): columns with norm ≤ step_size·lambda become exactly 0"),
                     ("active", "indices j with ‖W[:, j]‖₂ > active_threshold·max_k ‖W[:, k]‖₂")],
            inputs: [.matrix("weight", w)],
            outputs: [FixtureOutput(.vector("column_norms", norms), t, why),
                      FixtureOutput(.scalar("value", penalty.value(w)), t, "a sum of \(i) column norms: " + why),
                      FixtureOutput(.matrix("gradient", penalty.gradient(w)), t, why + "; exactly 0 in the zero column"),
                      FixtureOutput(.matrix("proximal_weight", penalty.proximal(w, stepSize: stepSize)), t, why + "; exactly 0 in columns 2 and 4"),
                      .exact(.ints("active_columns", active), "column norms are far from the threshold (no near-ties)")])
    }

    static func symmetricEigen<T: MCLFloat>(_: T.Type, n: Int, repeated: Bool) -> FixtureData {
        let seed: UInt64 = repeated ? 810 : 803 + UInt64(n == 1 ? 1 : n == 2 ? 2 : n == 7 ? 3 : 4)  // 804–807, 810
        var rng = RNG(seed: seed)
        var a: Matrix<T>
        if repeated {
            // Q from the eigenvectors of a random symmetric matrix; A = Q·diag(3, 3, 3, 1, 1, 0)·Qᵀ.
            let b: Matrix<Double> = rng.normalMatrix(n, n)
            let q = SymmetricEigen(add(b, b.transposed())).eigenvectors
            let m = matmul(scaleColumns(q, by: [3, 3, 3, 1, 1, 0]), q, transB: .transpose, kernel: .reference)
            a = Matrix(rows: n, cols: n)
            for r in 0..<n { for c in 0..<n { a[r, c] = T((m[r, c] + m[c, r]) / 2) } }
        } else {
            let b: Matrix<T> = rng.normalMatrix(n, n)
            a = Matrix(rows: n, cols: n)
            for r in 0..<n { for c in 0..<n { a[r, c] = (b[r, c] + b[c, r]) / 2 } }
        }
        let e = SymmetricEigen(a)
        let f32 = T.self == Float.self
        return FixtureData(
            seed: seed,
            params: [("n", js(n)), ("order", "descending"), ("method", "cyclic Jacobi in float64 (numpy.linalg.eigh gives the same values ascending)"),
                     ("note", .string(repeated ? "eigenvalues 3, 3, 3, 1, 1, 0 up to the rounding of the input\(f32 ? " to float32" : "")" : "a = (b + bᵀ)/2, b standard normal"))],
            inputs: [.matrix("a", a)],
            outputs: [FixtureOutput(.vector("eigenvalues", e.eigenvalues.map { T($0) }),
                                    scaled(e.eigenvalues.map { T($0) }, f32: (1e-6, 1e-6), f64: (1e-13, 1e-12)),
                                    "a backward-stable method moves each eigenvalue by ≈ n·ε·‖A‖ (n = \(n)), so atol = \(f32 ? "1e-6" : "1e-13")·max|λ|\(f32 ? "; computed in float64 and rounded once to float32" : "")")])
    }

    static func covarianceSpectrum<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 808
        var rng = RNG(seed: seed)
        let (n, d) = (12, 5)
        var x: Matrix<T> = rng.normalMatrix(n, d, std: 2)
        for r in 0..<n {
            x[r, 4] = x[r, 0] + T(1e-3) * rng.normal(mean: T(0), std: T(1))   // nearly a copy of feature 0
            for c in 0..<d { x[r, c] += T(c) }                                  // a mean to remove
        }
        let cov = CovarianceSpectrum.covariance(x)
        let s = CovarianceSpectrum(of: x)
        let f32 = T.self == Float.self
        let round = f32 ? "; computed in float64 and rounded once to float32" : ""
        return FixtureData(
            seed: seed,
            params: [("covariance", "C = (X − mean)ᵀ(X − mean)/(N − 1), as numpy.cov(X, rowvar=False)"),
                     ("spectrum", "eigenvalues of C descending, clamped at 0, divided by their sum"),
                     ("effective_rank", "exp(−Σ p·log p) over p > 0 (Roy & Vetterli 2007)")],
            inputs: [.matrix("x", x)],
            outputs: [FixtureOutput(.matrix("covariance", cov.converted(to: T.self)), scaled(cov.storage.map { T($0) }, f32: (1e-6, 1e-6), f64: (1e-13, 1e-12)),
                                    "sums of N = \(n) products of centred values: a few ulps of max|C|" + round),
                      FixtureOutput(.vector("eigenvalues", s.eigenvalues.map { T($0) }), scaled(s.eigenvalues.map { T($0) }, f32: (1e-6, 1e-6), f64: (1e-13, 1e-12)),
                                    "Jacobi moves each eigenvalue by ≈ n·ε·‖C‖; the smallest (≈ 1e-6, the near-copy) is only absolutely accurate" + round),
                      FixtureOutput(.vector("spectrum", s.normalized.map { T($0) }), scaled(s.normalized.map { T($0) }, f32: (1e-6, 1e-6), f64: (1e-13, 1e-12)),
                                    "eigenvalues over their sum: the same absolute accuracy relative to the largest" + round),
                      FixtureOutput(.scalar("effective_rank", T(s.effectiveRank)), tol(T.self, f32: (1e-6, 1e-6), f64: (1e-13, 1e-12)),
                                    "exp of an entropy of O(1): p·log p is smooth away from p = 0, and p → 0 terms vanish" + round)])
    }

    static func minMaxRatio<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 809
        var rng = RNG(seed: seed)
        let (n, d) = (10, 3)
        var x: Matrix<T> = rng.normalMatrix(n, d)
        for c in 0..<d { x[2, c] *= 10; x[7, c] *= T(0.1) }   // norms far from 1: normalising changes the geometry
        let raw = MinMaxDistanceRatio(x, normalized: false)
        let unit = MinMaxDistanceRatio(x, normalized: true)
        let f32 = T.self == Float.self
        let why = "differences and square roots in float64; (δmax − δmin)/δmin keeps their relative accuracy\(f32 ? "; rounded once to float32" : "")"
        let t = tol(T.self, f32: (1e-6, 1e-6), f64: (1e-13, 1e-12))
        return FixtureData(
            seed: seed,
            params: [("definition", "per query i: M_i = (max_{j≠i} ‖x_i − x_j‖ − min_{j≠i} ‖x_i − x_j‖)/min_{j≠i} ‖x_i − x_j‖; mean over the N queries"),
                     ("normalized", "rows first divided by max(‖x‖, 1e-12)")],
            inputs: [.matrix("x", x)],
            outputs: [FixtureOutput(.vector("per_query_raw", raw.perQuery.map { T($0) }), t, why),
                      FixtureOutput(.scalar("mean_raw", T(raw.mean)), t, why),
                      FixtureOutput(.vector("per_query_normalized", unit.perQuery.map { T($0) }), t, why),
                      FixtureOutput(.scalar("mean_normalized", T(unit.mean)), t, why)])
    }
}

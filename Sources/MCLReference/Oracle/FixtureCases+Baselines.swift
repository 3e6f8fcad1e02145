import MCLNumerics

extension FixtureCases {
    // MARK: Issue 14's loss-side baselines (IFM, DCL, TS) on NT-Xent, plain and with Eq. 3 labels

    /// The baseline cases, plain and masked (masked = an MCL stage > 0: Eq. 3 pseudo labels).
    static var baselineCases: [FixtureCase] {
        var cases: [FixtureCase] = []
        for masked in [false, true] {
            let m = masked ? "masked" : "plain"
            let eq3 = masked ? ", masked by pseudo labels (Eq. 3)" : ""
            cases += [
                FixtureCase("ifm_ntxent_\(m)", "IFMNTXent",
                            "IFM on NT-Xent\(eq3): (plain + α·adversarial)/(1 + α) with cosines shifted by ∓ε; loss, per-anchor loss, dL/dz") {
                    $0.pick(FixtureCases.baselineLoss(Float.self, .ifm(epsilon: 0.1, alpha: 1), masked: masked),
                            FixtureCases.baselineLoss(Double.self, .ifm(epsilon: 0.1, alpha: 1), masked: masked))
                },
                FixtureCase("dcl_ntxent_\(m)", "DebiasedNTXent",
                            "debiased contrastive loss (DCL) on NT-Xent\(eq3), τ⁺ = 0.3, some anchors at the e^(−1/τ) clamp; loss, per-anchor loss, dL/dz") {
                    $0.pick(FixtureCases.baselineLoss(Float.self, .debiased(tauPlus: 0.3), masked: masked),
                            FixtureCases.baselineLoss(Double.self, .debiased(tauPlus: 0.3), masked: masked))
                },
            ]
        }
        cases.append(FixtureCase("ts_ntxent_masked", "TemperatureScheduleNTXent",
                                 "cosine temperature schedule τ(e) for epochs 0–9 (period 8) and the masked NT-Xent loss the trainer's objective gives at each τ(e)") {
            $0.pick(FixtureCases.temperatureSchedule(Float.self), FixtureCases.temperatureSchedule(Double.self))
        })
        cases.append(FixtureCase("fd_step", "FDStep",
                                 "FD: the MLP viewmaker on [views, noise], its L1 budget and the perturbed views, then one SimCLR step of the encoder (SGD) and one sign-flipped step of the viewmaker (SGD on −dL/dθ)") {
            $0.pick(FixtureCases.fdStep(Float.self), FixtureCases.fdStep(Double.self))
        })
        return cases
    }

    /// Inputs shared by the baseline cases: B = 5 samples of D = 3 (2B views) and pseudo labels with
    /// a singleton group (its anchors have no negative: loss 0 under every variant). Samples 0 and 3
    /// have two views of the same direction (norms 1.5× and 0.8×), so their positive logit is 1/τ and
    /// DCL's estimate falls below its bound there: both branches of the clamp are in the case.
    static func baselineInputs<T: MCLFloat>(_: T.Type, seed: UInt64) -> (z: Matrix<T>, labels: [Int]) {
        var rng = RNG(seed: seed)
        var z: Matrix<T> = rng.normalMatrix(10, 3)
        for j in 0..<3 { z[5, j] = T(1.5) * z[0, j]; z[8, j] = T(0.8) * z[3, j] }
        return (z, [0, 1, 0, 2, 2])
    }

    static func baselineLoss<T: MCLFloat>(_: T.Type, _ variant: InfoNCEVariant, masked: Bool) -> FixtureData {
        let seed: UInt64
        let tau: Double
        var p: [(String, JSONValue)]
        switch variant {
        case .ifm(let e, let a):
            seed = 701; tau = 0.5
            p = [("epsilon", js(e)), ("alpha", js(a)),
                 ("loss", "per anchor i: CE_i(ε') = −ℓ_p + log(e^{ℓ_p} + Σ_{j admissible} e^{ℓ_j}) with ℓ_p = (u_i·u_p − ε')/τ and ℓ_j = (u_i·u_j + ε')/τ; loss_i = (CE_i(0) + α·CE_i(ε))/(1 + α); loss = mean_i loss_i (Robinson et al. 2021, official code's combination)")]
        case .debiased(let t):
            seed = 702; tau = 0.5
            p = [("tau_plus", js(t)),
                 ("loss", "per anchor i: pos = e^{u_i·u_p/τ}, neg = Σ_{j admissible} e^{u_i·u_j/τ}, N = number of admissible negatives, Ng = max((neg − τ⁺·N·pos)/(1 − τ⁺), N·e^{−1/τ}); loss_i = −log(pos/(pos + Ng)); loss = mean_i loss_i (Chuang et al. 2020); where the max takes the bound, Ng has no gradient")]
        case .plain:
            preconditionFailure("baselineLoss: the plain loss has its own ntxent_* cases")
        }
        let (z, labels) = baselineInputs(T.self, seed: seed)
        let out = NTXent<T>(temperature: T(tau), variant: variant)(z, pseudoLabels: masked ? labels : nil)
        var inputs: [FixtureTensor] = [.matrix("z", z)]
        if masked { inputs.append(.ints("pseudo_labels", labels)) }
        let f32 = T.self == Float.self
        let lossTol = tol(T.self, f32: (1e-5, 1e-5), f64: (1e-13, 1e-11))
        let lossWhy = "logits u·uᵀ/τ carry ≈ \(f32 ? "2⁻²⁴" : "2⁻⁵³")/τ absolute error; the rest is in Double"
        let gradTol = scaled(out.dEmbeddings.storage, f32: (1e-5, 1e-4), f64: (1e-13, 1e-10))
        p += [("temperature", js(tau)), ("batch_size", js(5)), ("masked", .bool(masked)),
              ("layout", "z is 2B×D: rows 0..<B are view 1 of samples 0..<B, rows B..<2B view 2; the positive of row i is i ± B"),
              ("normalize", "u = z/max(‖z‖, 1e-12) per row inside the loss"),
              ("admissible", "every other row but the anchor itself and its positive; masked: only rows whose sample's pseudo label equals the anchor's")]
        return FixtureData(seed: seed, params: p, inputs: inputs, outputs: [
            FixtureOutput(.scalar("loss", out.loss), lossTol, lossWhy),
            FixtureOutput(.vector("per_anchor_loss", out.perAnchorLoss), lossTol, lossWhy),
            FixtureOutput(.matrix("d_z", out.dEmbeddings), gradTol,
                          "dz = J_norm·(∂loss/∂ℓ)·u/(Nτ): softmax-like differences and the tangential projection cancel, so atol ∝ max|dz|"),
            .exact(.ints("admissible_negatives", out.admissibleNegatives), "a count per anchor: 2B − 2 unmasked, else the other views with the anchor's pseudo label"),
        ])
    }

    /// τ(e) of a cosine schedule and the masked NT-Xent loss of a fixed batch at each τ(e), as the
    /// trainer's objective computes it after setting its temperature for epoch e.
    static func temperatureSchedule<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 703
        let schedule = TemperatureSchedule(minimum: 0.1, maximum: 0.5, periodEpochs: 8)
        let epochs = 10
        let (z, labels) = baselineInputs(T.self, seed: seed)
        var objective = Objective<T>.simclr(NTXent(temperature: T(schedule.maximum)))
        var taus: [T] = [], losses: [T] = []
        for e in 0..<epochs {
            objective.temperature = T(schedule.temperature(epoch: e))
            guard case .simclr(let loss) = objective else { preconditionFailure() }
            taus.append(objective.temperature)
            losses.append(loss(z, pseudoLabels: labels).loss)
        }
        return FixtureData(
            seed: seed,
            params: [("tau_min", js(schedule.minimum)), ("tau_max", js(schedule.maximum)), ("period_epochs", js(schedule.periodEpochs)),
                     ("epochs", js(epochs)),
                     ("schedule", "τ(e) = τ− + ½(τ+ − τ−)(1 + cos(2π·e/T)) for e = 0..<epochs (Kukleva et al. 2023; τ is set once per epoch)"),
                     ("loss", "masked NT-Xent (Eq. 3) of z with pseudo_labels at τ(e), as in the ntxent_masked_* cases"),
                     ("layout", "z is 2B×D (B = 5): the positive of row i is i ± B")],
            inputs: [.matrix("z", z), .ints("pseudo_labels", labels)],
            outputs: [
                FixtureOutput(.vector("temperatures", taus), tol(T.self, f32: (1e-7, 1e-6), f64: (1e-15, 1e-14)),
                              "a cosine of a multiple of 2π/8, rounded once to the precision"),
                FixtureOutput(.vector("losses", losses), tol(T.self, f32: (2e-5, 1e-5), f64: (1e-12, 1e-11)),
                              "logits carry ≈ ε/τ absolute error with τ down to 0.1"),
            ])
    }

    // MARK: FD (viewmaker) inside the training step

    /// One FD step: the viewmaker perturbs the 2B augmented views (noise drawn by the step, recorded
    /// as an input), the encoder takes an SGD step on the SimCLR loss of the perturbed views and the
    /// viewmaker an SGD step on −dL/dθ, both from the same forward (TrainingStep.swift).
    static func fdStep<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 704
        let c = simclr
        let (hidden, budget, tau, lr, viewmakerLR) = (7, 0.2, 0.5, 0.1, 0.5)
        var rng = RNG(seed: seed)
        let model = stepFixtureModel(T.self, rng: &rng)
        let network = ViewmakerNetwork<T>.mlp(inputWidth: c.input, hiddenWidth: hidden, budget: T(budget), rng: &rng)
        let views: Matrix<T> = rng.normalMatrix(2 * c.batch, c.input)
        let noiseRNG = rng.split()
        var step = TrainingStep(model: model, objective: .simclr(NTXent(temperature: T(tau))), optimizer: .sgd(SGD(lr: T(lr))))
        step.viewmaker = ViewmakerTraining(network: network, optimizer: .sgd(SGD(lr: T(viewmakerLR))), noiseRNG: noiseRNG)
        var noiseCopy = noiseRNG
        let noise = network.drawNoise(rows: views.rows, rng: &noiseCopy)
        let (perturbed, delta, _) = network.forward(views, noise: noise)
        let result = step(views: views, labels: nil, learningRate: lr)
        precondition(result.status == .ok, "fd_step: the step ended with \(result.status)")
        let tensor = { (prefix: String, name: String, m: Matrix<T>) in pytorchTensor(prefix, name, m, model: model) }
        let vmNames = network.net.namedParameters().map { $0.name }   // "0.weight", …
        func vmTensor(_ prefix: String, _ k: Int, _ values: [T]) -> FixtureTensor {
            let name = prefix + vmNames[k]
            guard case .linear(let l) = network.net.layers[2 * (k / 2)], k % 2 == 0 else { return .vector(name, values) }
            return .matrix(name, Matrix(rows: l.weight.rows, cols: l.weight.cols, storage: values))
        }
        let preBN = preBatchNormBiases(model)
        let grads = model.namedGradients(positional: Array(result.gradients.prefix(model.parameterTensorCount)))
        let gradScale = grads.map { scale($0.value.storage) }.max() ?? 1
        let f32 = T.self == Float.self
        var outputs: [FixtureOutput] = [
            FixtureOutput(.matrix("delta", delta), scaled(delta.storage, f32: (4e-6, 1e-5), f64: (1e-13, 1e-12)),
                          "three Linear layers, tanh and one division per row"),
            FixtureOutput(.matrix("perturbed_views", perturbed), scaled(perturbed.storage, f32: (4e-6, 1e-5), f64: (1e-13, 1e-12)),
                          "views + delta"),
            FixtureOutput(.scalar("loss", result.loss), tol(T.self, f32: (1e-5, 1e-5), f64: (1e-12, 1e-11)), "NT-Xent at τ = 0.5 of O(1) logits"),
        ]
        for (name, g) in grads {
            outputs.append(preBN.contains(name)
                ? FixtureOutput(tensor("grad.", name, g), ComparisonTolerance(atol: (f32 ? 1e-5 : 1e-12) * gradScale, rtol: 0),
                                "analytically zero (a Linear bias feeding BatchNorm): rounding noise only")
                : FixtureOutput(tensor("grad.", name, g), scaled(g.storage, f32: (1e-4, 1e-3), f64: (1e-10, 1e-8)),
                                "backprop through NT-Xent, L2-normalise, 2 BatchNorms and 4 Linears"))
        }
        for (name, p) in step.model.namedParameters() {
            outputs.append(FixtureOutput(tensor("param_after.", name, p), tol(T.self, f32: (1e-5, 1e-5), f64: (1e-11, 1e-10)),
                                         "θ − lr·g with lr = \(lr): the gradient's error times lr"))
        }
        let vmScale = result.viewmakerGradients.map { scale($0) }.max() ?? 1
        for (k, g) in result.viewmakerGradients.enumerated() {
            outputs.append(FixtureOutput(vmTensor("viewmaker_grad.", k, g), ComparisonTolerance(atol: (f32 ? 1e-4 : 1e-10) * vmScale, rtol: f32 ? 1e-3 : 1e-8),
                                         "dL/dviews from the encoder's backward (2 BatchNorms), then the budget's backward and three Linears; atol ∝ the largest viewmaker gradient"))
        }
        for (k, p) in step.viewmaker!.network.parameterTensors.enumerated() {
            outputs.append(FixtureOutput(vmTensor("viewmaker_param_after.", k, p), ComparisonTolerance(atol: (f32 ? 1e-4 : 1e-10) * vmScale * viewmakerLR + (f32 ? 1e-6 : 1e-14), rtol: f32 ? 1e-5 : 1e-12),
                                         "θ + lr·g (the sign-flipped step) with lr = \(viewmakerLR): the gradient's tolerance times lr"))
        }
        var inputs = model.namedParameters().map { tensor("param.", $0.name, $0.value) }
        inputs += network.parameterTensors.enumerated().map { vmTensor("viewmaker_param.", $0.offset, $0.element) }
        inputs += [.matrix("views", views), .matrix("noise", noise)]
        return FixtureData(
            seed: seed,
            params: [("batch_size", js(c.batch)), ("input_width", js(c.input)), ("temperature", js(tau)),
                     ("budget", js(budget)), ("stabilizer", js(1e-4)), ("lr", js(lr)), ("viewmaker_lr", js(viewmakerLR)),
                     ("encoder", "encoder.0 Linear(6,10), encoder.1 BatchNorm1d(10), encoder.2 ReLU, encoder.3 Linear(10,5)"),
                     ("head", "head.0 Linear(5,8), head.1 BatchNorm1d(8), head.2 ReLU, head.3 Linear(8,4)"),
                     ("viewmaker", .string("0 Linear(12,\(hidden)), 1 ReLU, 2 Linear(\(hidden),\(hidden)), 3 ReLU, 4 Linear(\(hidden),6), on [views, noise] (each row of views followed by its row of noise, 2B×12)")),
                     ("budget_formula", "y = viewmaker([views, noise]); t = tanh(y); m = mean_d |t| per row; delta = t·budget/(m + stabilizer); perturbed_views = views + delta"),
                     ("layout", "views is 2B×D: rows 0..<B view 1, B..<2B view 2; the positive of row i is i ± B"),
                     ("batchnorm", "train mode, eps 1e-5, statistics over the whole 2B batch"),
                     ("loss", "NT-Xent at τ on z = head(encoder(perturbed_views))"),
                     ("update", "from the same forward: encoder θ ← θ − lr·dL/dθ (plain SGD); viewmaker φ ← φ + viewmaker_lr·dL/dφ (SGD on −L: the adversarial step)"),
                     ("parameters", "'param.<name>' (model) and 'viewmaker_param.<i>.<field>' are the initial weights by PyTorch name; Linear weights out×in")],
            inputs: inputs,
            outputs: outputs)
    }
}

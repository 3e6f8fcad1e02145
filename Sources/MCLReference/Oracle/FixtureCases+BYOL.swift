import MCLNumerics

extension FixtureCases {
    // MARK: BYOL and Barlow Twins training steps

    /// Settings of the BYOL and Barlow step fixtures: the SimCLR fixture's model, a predictor
    /// Linear(4,6) → BN(6) → ReLU → Linear(6,4), one step of plain SGD (lr 0.1, no momentum: the
    /// update is param − lr·grad, so every output follows from the gradients), BYOL's EMA with
    /// τ_base = 0.9 at step 0 of 4 (τ = 0.9, so the target visibly moves), Barlow's λ = 0.05.
    static let twoView = (predictorHidden: 6, lr: 0.1, emaBase: 0.9, totalSteps: 4, barlowLambda: 0.05)

    /// Parameters whose gradient is analytically zero in these steps: the SimCLR fixture's (a Linear
    /// bias before a BatchNorm), plus head.3.bias — z feeds only the predictor's Linear → BatchNorm
    /// (BYOL) or Barlow's per-dimension batch normalisation, both blind to a constant shift — and
    /// predictor.0.bias (before the predictor's BatchNorm).
    static func twoViewZeroGradients<T: MCLFloat>(_ model: ContrastiveModel<T>) -> Set<String> {
        preBatchNormBiases(model).union(["head.3.bias", "predictor.0.bias"])
    }

    /// Shapes in PyTorch's convention for the model's and the predictor's tensors (Linear weights out×in).
    static func twoViewTensor<T: MCLFloat>(_ prefix: String, _ name: String, _ m: Matrix<T>, model: ContrastiveModel<T>) -> FixtureTensor {
        name.hasPrefix("predictor.")
            ? (name.hasSuffix(".weight") && (name.hasPrefix("predictor.0.") || name.hasPrefix("predictor.3."))
               ? .matrix(prefix + name, m) : .vector(prefix + name, m.storage))
            : pytorchTensor(prefix, name, m, model: model)
    }

    static let twoViewModelDescription: [(String, JSONValue)] = [
        ("encoder", "encoder.0 Linear(6,10), encoder.1 BatchNorm1d(10), encoder.2 ReLU, encoder.3 Linear(10,5)"),
        ("head", "head.0 Linear(5,8), head.1 BatchNorm1d(8), head.2 ReLU, head.3 Linear(8,4)"),
        ("batchnorm", "train mode, eps 1e-5; each view is its own forward pass (views_a and views_b have separate batch statistics)"),
        ("optimizer", "torch.optim.SGD(lr=0.1, momentum=0, weight_decay=0): param_after = param − 0.1·grad"),
    ]

    /// Every gradient and every parameter after a plain-SGD step (`names` in position order): the
    /// analytically-zero gradients in `zero` at an absolute tolerance scaled by the largest gradient,
    /// the others relative to their own scale; parameters as param − lr·grad allows.
    static func stepParameterOutputs<T: MCLFloat>(names: [String], gradients: [[T]], after: [[T]], shapes: [Matrix<T>],
                                                  zero: Set<String>, gradientWhy: String, afterWhy: String,
                                                  tensor: (String, String, Matrix<T>) -> FixtureTensor) -> [FixtureOutput] {
        let f32 = T.self == Float.self
        let gradScale = gradients.map { scale($0) }.max() ?? 1
        var outputs: [FixtureOutput] = []
        for (k, name) in names.enumerated() {
            let g = Matrix(rows: shapes[k].rows, cols: shapes[k].cols, storage: gradients[k])
            outputs.append(zero.contains(name)
                ? FixtureOutput(tensor("grad.", name, g), ComparisonTolerance(atol: (f32 ? 1e-5 : 1e-12) * gradScale, rtol: 0),
                                "analytically zero (a bias before a batch normalisation): rounding noise, atol = \(f32 ? "1e-5" : "1e-12")·(largest gradient)")
                : FixtureOutput(tensor("grad.", name, g), scaled(g.storage, f32: (1e-4, 1e-3), f64: (1e-10, 1e-8)), gradientWhy))
        }
        for (k, name) in names.enumerated() {
            let p = Matrix(rows: shapes[k].rows, cols: shapes[k].cols, storage: after[k])
            outputs.append(FixtureOutput(tensor("param_after.", name, p), tol(T.self, f32: (2e-5, 1e-5), f64: (1e-12, 1e-11)), afterWhy))
        }
        return outputs
    }

    /// The outputs every two-view step fixture has: z of both views, the loss, every gradient and
    /// every parameter after the update (`names` in position order).
    static func twoViewOutputs<T: MCLFloat>(z: Matrix<T>, loss: T, lossWhy: String, names: [String], gradients: [[T]],
                                            after: [[T]], shapes: [Matrix<T>], zero: Set<String>,
                                            tensor: (String, String, Matrix<T>) -> FixtureTensor) -> [FixtureOutput] {
        let outputs: [FixtureOutput] = [
            FixtureOutput(.matrix("embedding", z), scaled(z.storage, f32: (1e-5, 1e-4), f64: (1e-12, 1e-10)),
                          "[z(views_a); z(views_b)] = head(encoder(·)) of the online model, 2B×E"),
            FixtureOutput(.scalar("loss", loss), tol(T.self, f32: (1e-5, 1e-5), f64: (1e-12, 1e-11)), lossWhy),
        ]
        return outputs + stepParameterOutputs(names: names, gradients: gradients, after: after, shapes: shapes, zero: zero,
                                              gradientWhy: "dL/dθ summed over the two views' passes; BatchNorm backward cancels, so atol ∝ max|g|",
                                              afterWhy: "param − 0.1·grad: the gradient's tolerance times lr, plus rounding of the parameter",
                                              tensor: tensor)
    }

    /// One BYOL step through `TrainingStep`: online passes of both views, predictor, target passes
    /// (stop-gradient), the symmetrised loss, backward into model and predictor, SGD on both, then the
    /// target's EMA with the updated online parameters.
    static func byolStep<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 603
        let c = simclr, tv = twoView
        var rng = RNG(seed: seed)
        let model = stepFixtureModel(T.self, rng: &rng)
        let target = perturbedCopy(of: model, rng: &rng)
        let predictor = BYOL<T>.makePredictor(width: c.embedding, hiddenWidth: tv.predictorHidden, rng: &rng)
        let x0: Matrix<T> = rng.normalMatrix(c.batch, c.input)
        let augmentation = VectorAugmentation(noiseStd: 0.3)
        let a = augmentation.apply(x0, rng: &rng), b = augmentation.apply(x0, rng: &rng)
        var byol = BYOL(online: model, predictor: predictor, baseDecay: tv.emaBase, totalSteps: tv.totalSteps)
        byol.targetModel = target
        var step = TrainingStep(model: model, objective: .byol(byol), optimizer: .sgd(SGD(lr: T(tv.lr))))
        let names = step.parameterNames
        let before = model.parameterTensors + predictor.parameterTensors
        let shapes = model.namedParameters().map { $0.value } + predictor.namedParameters(prefix: "predictor.").map { $0.value }
        let result = step(views: .vconcat([a, b]), labels: nil, learningRate: tv.lr)
        precondition(result.status == .ok, "byol_step: the step ended with \(result.status)")
        guard case .byol(let final) = step.objective else { preconditionFailure("byol_step: objective changed") }
        let after = step.model.parameterTensors + final.predictor.parameterTensors
        let tensor = { (prefix: String, name: String, m: Matrix<T>) in twoViewTensor(prefix, name, m, model: model) }
        var outputs = twoViewOutputs(z: result.embeddings, loss: result.loss,
                                     lossWhy: "mean_i [ℓ(p(a)_i, z′(b)_i) + ℓ(p(b)_i, z′(a)_i)], ℓ = 2 − 2·cos, in [0, 8]",
                                     names: names, gradients: result.gradients, after: after, shapes: shapes,
                                     zero: twoViewZeroGradients(model), tensor: tensor)
        for (name, p) in final.targetModel.namedParameters() {
            outputs.append(FixtureOutput(tensor("target_param_after.", name, p), tol(T.self, f32: (2e-5, 1e-5), f64: (1e-12, 1e-11)),
                                         "τ·target_param + (1 − τ)·param_after, τ = 0.9: rounding of the parameters"))
        }
        var inputs = zip(names, zip(before, shapes)).map { name, v in
            tensor("param.", name, Matrix(rows: v.1.rows, cols: v.1.cols, storage: v.0))
        }
        inputs += target.namedParameters().map { tensor("target_param.", $0.name, $0.value) }
        inputs += [.matrix("views_a", a), .matrix("views_b", b)]
        return FixtureData(
            seed: seed,
            params: [("batch_size", js(c.batch)), ("lr", js(tv.lr)), ("ema_base", js(tv.emaBase)),
                     ("total_steps", js(tv.totalSteps)), ("step", js(0))] + twoViewModelDescription + [
                     ("predictor", "predictor.0 Linear(4,6), predictor.1 BatchNorm1d(6), predictor.2 ReLU, predictor.3 Linear(6,4)"),
                     ("step_order", "(1) z_a = head(encoder(views_a)), z_b likewise, with param; p_a = predictor(z_a), p_b = predictor(z_b); (2) z′_a, z′_b = head(encoder(·)) with target_param (train mode, no gradient); (3) loss = mean_i [‖p̂_a,i − ẑ′_b,i‖² + ‖p̂_b,i − ẑ′_a,i‖²], x̂ = x/max(‖x‖, 1e-12); (4) gradients of every param (model and predictor) by backprop, the two views' passes summed; (5) SGD; (6) target_param ← τ·target_param + (1 − τ)·param_after for encoder.* and head.*, τ = 1 − (1 − ema_base)·(cos(π·step/total_steps) + 1)/2"),
                     ("parameters", "'param.<name>' online model and predictor, 'target_param.<name>' target (encoder.*, head.*), PyTorch state_dict names; Linear weights out×in, everything else 1-D")],
            inputs: inputs,
            outputs: outputs)
    }

    /// One Barlow Twins step through `TrainingStep`: both views' passes, the loss on their
    /// cross-correlation, backward, SGD.
    static func barlowStep<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 604
        let c = simclr, tv = twoView
        var rng = RNG(seed: seed)
        let model = stepFixtureModel(T.self, rng: &rng)
        let x0: Matrix<T> = rng.normalMatrix(c.batch, c.input)
        let augmentation = VectorAugmentation(noiseStd: 0.3)
        let a = augmentation.apply(x0, rng: &rng), b = augmentation.apply(x0, rng: &rng)
        var step = TrainingStep(model: model, objective: .barlow(BarlowTwinsLoss(lambda: T(tv.barlowLambda))),
                                optimizer: .sgd(SGD(lr: T(tv.lr))))
        let names = step.parameterNames
        let shapes = model.namedParameters().map { $0.value }
        let result = step(views: .vconcat([a, b]), labels: nil, learningRate: tv.lr)
        precondition(result.status == .ok, "barlow_step: the step ended with \(result.status)")
        let tensor = { (prefix: String, name: String, m: Matrix<T>) in pytorchTensor(prefix, name, m, model: model) }
        let outputs = twoViewOutputs(z: result.embeddings, loss: result.loss,
                                     lossWhy: "Σ_i (1 − C_ii)² + λ·Σ_i≠j C_ij² of the 4×4 cross-correlation",
                                     names: names, gradients: result.gradients, after: step.model.parameterTensors,
                                     shapes: shapes, zero: twoViewZeroGradients(model), tensor: tensor)
        let inputs = model.namedParameters().map { tensor("param.", $0.name, $0.value) } + [.matrix("views_a", a), .matrix("views_b", b)]
        return FixtureData(
            seed: seed,
            params: [("batch_size", js(c.batch)), ("lr", js(tv.lr)), ("lambda", js(tv.barlowLambda)), ("eps", js(1e-5))]
                + twoViewModelDescription + [
                ("step_order", "(1) z_a = head(encoder(views_a)), z_b likewise; (2) per view and dimension ẑ = (z − mean)/sqrt(var + eps), biased variance over the batch (BatchNorm1d(affine=False), train mode); C = ẑ_aᵀ·ẑ_b / B; loss = Σ_i (1 − C_ii)² + lambda·Σ_i≠j C_ij²; (3) gradients by backprop, both passes summed; (4) SGD"),
                ("parameters", "'param.<name>' by PyTorch state_dict name; Linear weights out×in, everything else 1-D")],
            inputs: inputs,
            outputs: outputs)
    }
}

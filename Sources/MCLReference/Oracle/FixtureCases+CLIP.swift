import MCLNumerics

extension FixtureCases {
    // MARK: CLIP training step

    /// Settings of `clip_step`: the SimCLR fixture's model as the image tower, a text tower over a
    /// vocabulary of 7 (word width 3, hidden 5, output 4 = the image embedding width), captions of 4
    /// tokens with padding, two pseudo-label groups (Eq. 3 in both directions), θ = ln(1/0.07) + 0.3
    /// (s ≈ 19.3, off CLIP's initial value so a wrong exp/log shows), one step of plain SGD (lr 0.1).
    static let clipFixture = (vocabulary: 7, wordWidth: 3, textHidden: 5, captionLength: 4, lr: 0.1,
                              logScale: CLIP<Double>.initialLogScale + 0.3)

    /// One CLIP step through `TrainingStep` with the `.clip` objective: image tower forward (train
    /// mode), text tower forward, masked CLIP loss with the learnable scale, backward into both towers
    /// and θ, SGD on all of them, θ clamped to [0, ln 100].
    static func clipStep<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 605
        let c = simclr, f = clipFixture
        var rng = RNG(seed: seed)
        let model = stepFixtureModel(T.self, rng: &rng)
        let text = TextTower<T>(vocabularySize: f.vocabulary, wordWidth: f.wordWidth, hiddenWidth: f.textHidden,
                                outputWidth: c.embedding, rng: &rng)
        let images: Matrix<T> = rng.normalMatrix(c.batch, c.input)
        // Captions: 1–4 real tokens then padding; a token may repeat (the scatter-add must sum).
        let captions: [[Int]] = (0..<c.batch).map { _ in
            let words = 1 + rng.int(below: f.captionLength)
            return (0..<f.captionLength).map { l in l < words ? 1 + rng.int(below: f.vocabulary - 1) : 0 }
        }
        let labels = (0..<c.batch).map { $0 % 2 }
        let clip = CLIP(textTower: text, logScale: f.logScale)
        var step = TrainingStep(model: model, objective: .clip(clip), optimizer: .sgd(SGD(lr: T(f.lr))))
        let names = step.parameterNames
        let before = model.parameterTensors + clip.trainableTensors
        let shapes = model.namedParameters().map { $0.value } + text.namedParameters(prefix: "text.").map { $0.value }
            + [Matrix<T>(rows: 1, cols: 1)]
        let textEmbedding = text.forward(captions).output
        let result = step(views: images, labels: labels, learningRate: f.lr, captions: captions)
        precondition(result.status == .ok, "clip_step: the step ended with \(result.status)")
        guard case .clip(let final) = step.objective else { preconditionFailure("clip_step: objective changed") }
        let after = step.model.parameterTensors + final.trainableTensors
        func tensor(_ prefix: String, _ name: String, _ m: Matrix<T>) -> FixtureTensor {
            if name == "logit_scale" { return .scalar(prefix + name, m.storage[0]) }
            if name.hasPrefix("text.") {
                return name.hasSuffix(".weight") ? .matrix(prefix + name, m) : .vector(prefix + name, m.storage)
            }
            return pytorchTensor(prefix, name, m, model: model)
        }
        let zero = preBatchNormBiases(model)
        var outputs: [FixtureOutput] = [
            FixtureOutput(.matrix("image_embedding", result.embeddings), scaled(result.embeddings.storage, f32: (1e-5, 1e-4), f64: (1e-12, 1e-10)),
                          "z = head(encoder(images)), B×E, train mode"),
            FixtureOutput(.matrix("text_embedding", textEmbedding), scaled(textEmbedding.storage, f32: (1e-5, 1e-4), f64: (1e-12, 1e-10)),
                          "y = mlp(mean of the non-padding token vectors), B×E"),
            FixtureOutput(.scalar("loss", result.loss), tol(T.self, f32: (1e-5, 1e-5), f64: (1e-12, 1e-11)),
                          "½(image→text + text→image) masked InfoNCE at scale exp(θ)"),
        ]
        outputs += stepParameterOutputs(names: names, gradients: result.gradients, after: after, shapes: shapes, zero: zero,
                                        gradientWhy: "dL/dθ by backprop through both towers; logits scaled by s ≈ 19 and BatchNorm cancellation, so atol ∝ max|g|",
                                        afterWhy: "param − 0.1·grad (θ then clamped to [0, ln 100], inactive here)", tensor: tensor)
        var inputs = zip(names, zip(before, shapes)).map { name, v in
            tensor("param.", name, Matrix(rows: v.1.rows, cols: v.1.cols, storage: v.0))
        }
        inputs += [.matrix("images", images), .ints("captions", captions.flatMap { $0 }, shape: [c.batch, f.captionLength]),
                   .ints("pseudo_labels", labels)]
        return FixtureData(
            seed: seed,
            params: [("batch_size", js(c.batch)), ("lr", js(f.lr)), ("max_log_scale", js(CLIP<Double>.maxLogScale))]
                + twoViewModelDescription.filter { $0.0 != "batchnorm" } + [
                ("batchnorm", "train mode, eps 1e-5, one forward pass of the images"),
                ("text_tower", "text.embedding.weight V×W (7×3, row 0 = padding, never used); u_b = mean of the rows of caption b's non-zero ids (repeats counted); text.mlp.0 Linear(3,5), text.mlp.1 ReLU, text.mlp.2 Linear(5,4)"),
                ("step_order", "(1) z = head(encoder(images)); y = text tower(captions); (2) a = z/max(‖z‖, 1e-12), t = y/max(‖y‖, 1e-12), s = exp(logit_scale), logits = s·a·tᵀ; pair j is admissible for anchor i iff pseudo_labels equal (the diagonal always); loss = ½(mean_i CE over admissible columns of row i, diagonal target + mean_i the same for logitsᵀ); (3) gradients of every param by backprop (dL/dlogit_scale = Σ_ij dL/dlogits_ij·logits_ij); (4) SGD; logit_scale then clamped to [0, max_log_scale]"),
                ("parameters", "'param.<name>': image tower by PyTorch state_dict name (Linear weights out×in), text.* (weights 2-D, biases 1-D), logit_scale (0-d, the log of the scale)")],
            inputs: inputs,
            outputs: outputs)
    }
}

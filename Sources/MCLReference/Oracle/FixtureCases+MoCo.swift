import MCLNumerics

extension FixtureCases {
    // MARK: MoCo-v2 training step

    /// Widths of the MoCo fixture: the SimCLR fixture's model, a queue of 12 (not a multiple of the
    /// batch of 8, so the ring wraps mid-batch), 3 steps.
    static let moco = (queue: 12, steps: 3, momentum: 0.9, temperature: 0.2, lr: 1e-2, groups: 3)

    /// Three MoCo-v2 steps through `TrainingStep` with Eq. 3 over the queue: queries of view a, keys of
    /// view b through the momentum key model, InfoNCE against the queue (entries of another pseudo
    /// label, and the initial unlabelled ones, are not negatives), backward, Adam, enqueue.
    static func mocoStep<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 602
        let c = simclr, mc = moco
        var rng = RNG(seed: seed)
        let model = stepFixtureModel(T.self, rng: &rng)
        // The key model starts away from the query model, so the momentum update is visible.
        let keyModel = perturbedCopy(of: model, rng: &rng)
        let tensor = { (prefix: String, name: String, m: Matrix<T>) in pytorchTensor(prefix, name, m, model: model) }
        var views: [(Matrix<T>, Matrix<T>)] = []
        var viewsA: [T] = [], viewsB: [T] = [], batchLabels: [Int] = []
        let x0: Matrix<T> = rng.normalMatrix(c.batch, c.input)
        let augmentation = VectorAugmentation(noiseStd: 0.3)
        for _ in 0..<mc.steps {
            let a = augmentation.apply(x0, rng: &rng), b = augmentation.apply(x0, rng: &rng)
            viewsA += a.storage; viewsB += b.storage
            views.append((a, b))
            batchLabels += (0..<c.batch).map { _ in rng.int(below: mc.groups) }
        }
        var queueRNG = rng.split()
        var state = MoCo(online: model, momentum: T(mc.momentum), temperature: T(mc.temperature), queueLength: mc.queue,
                         embeddingWidth: c.embedding, rng: &queueRNG)
        state.keyModel = keyModel
        // Half the initial entries carry a group (as if enqueued earlier), half are unlabelled (−1).
        state.queueLabels = (0..<mc.queue).map { $0 % 2 == 0 ? -1 : rng.int(below: mc.groups) }
        let queueInit = state.queue, queueLabelsInit = state.queueLabels
        let initial = model.namedParameters(), keyInitial = keyModel.namedParameters()

        var step = TrainingStep(model: model, objective: .moco(state), optimizer: .adam(Adam(lr: T(mc.lr))))
        var losses: [T] = []
        var first: (grads: NamedMatrices<T>, z: Matrix<T>, after: NamedMatrices<T>)?
        for (s, (a, b)) in views.enumerated() {
            let labels = Array(batchLabels[(s * c.batch)..<((s + 1) * c.batch)])
            let result = step(views: .vconcat([a, b]), labels: labels, learningRate: mc.lr)
            precondition(result.status == .ok, "moco_step: step \(s) ended with \(result.status)")
            losses.append(result.loss)
            if s == 0 { first = (step.model.namedGradients(positional: result.gradients), result.embeddings, step.model.namedParameters()) }
        }
        guard case .moco(let final) = step.objective, let first else { preconditionFailure("moco_step: objective changed") }
        let f32 = T.self == Float.self
        let preBN = preBatchNormBiases(model)
        let gradScale = first.grads.map { scale($0.value.storage) }.max() ?? 1
        for (name, g) in first.grads where !preBN.contains(name) {
            let smallest = g.storage.map { abs(Double($0)) }.min() ?? 1
            precondition(smallest >= 1e-5, "moco_step: |grad.\(name)| has an element \(smallest) < 1e-5; revisit the param_after tolerance")
        }
        var outputs: [FixtureOutput] = [
            FixtureOutput(.matrix("query_embedding", first.z), scaled(first.z.storage, f32: (1e-5, 1e-4), f64: (1e-12, 1e-10)),
                          "q = head(encoder(views_a[0])) of step 0 (B×E, before normalisation)"),
            FixtureOutput(.scalar("loss", losses[0]), tol(T.self, f32: (1e-5, 1e-5), f64: (1e-12, 1e-11)),
                          "InfoNCE at τ = 0.2 of step 0 against its keys and the masked queue"),
        ]
        for (name, g) in first.grads {
            outputs.append(preBN.contains(name)
                ? FixtureOutput(tensor("grad.", name, g), ComparisonTolerance(atol: (f32 ? 1e-5 : 1e-12) * gradScale, rtol: 0),
                                "analytically zero (a Linear bias feeding BatchNorm): rounding noise, atol = \(f32 ? "1e-5" : "1e-12")·(largest gradient)")
                : FixtureOutput(tensor("grad.", name, g), scaled(g.storage, f32: (1e-4, 1e-3), f64: (1e-10, 1e-8)),
                                "dL/dθ of the query model only (no gradient reaches keys or queue); BatchNorm backward cancels, so atol ∝ max|g|"))
        }
        for (name, p) in first.after {
            outputs.append(preBN.contains(name)
                ? FixtureOutput(tensor("param_after.", name, p), ComparisonTolerance(atol: 2 * mc.lr, rtol: 0),
                                "its gradient is rounding noise and Adam's first step moves it by up to lr either way")
                : FixtureOutput(tensor("param_after.", name, p), tol(T.self, f32: (2e-5, 1e-5), f64: (1e-11, 1e-10)),
                                "Adam step 1 moves each element by ≈ ±lr; every gradient element is ≥ 1e-5, far above ε"))
        }
        // After 3 steps: key model = EMA of the query models; noise biases drift by ≤ 3·2·lr·(1 − m).
        for (name, p) in final.keyModel.namedParameters() {
            outputs.append(preBN.contains(name)
                ? FixtureOutput(tensor("key_param_after.", name, p), ComparisonTolerance(atol: 6 * mc.lr * (1 - mc.momentum), rtol: 0),
                                "(1 − m)-weighted copies of query biases whose gradient is rounding noise")
                : FixtureOutput(tensor("key_param_after.", name, p), tol(T.self, f32: (1e-4, 1e-4), f64: (1e-9, 1e-9)),
                                "θ_k after 3 momentum updates from query models that Adam moved twice: rounding in small gradients compounds mildly"))
        }
        outputs += [
            FixtureOutput(.vector("losses_next", Array(losses.dropFirst())), tol(T.self, f32: (1e-4, 1e-4), f64: (1e-9, 1e-9)),
                          "losses of steps 1 and 2 (each before its own update)"),
            FixtureOutput(.matrix("queue_after", final.queue), tol(T.self, f32: (1e-4, 1e-4), f64: (1e-9, 1e-9)),
                          "the queue after 3 enqueues of 8 normalised keys into 12 slots (ring: slots 0–7, 8–11 then 0–3, 4–11 then 0–3)"),
            .exact(.ints("queue_labels_after", final.queueLabels), "pseudo labels moved with their keys: exact"),
            .exact(.ints("queue_pointer_after", [final.queuePointer], shape: []), "(3·8) mod 12 = 0"),
        ]
        var inputs = initial.map { tensor("param.", $0.name, $0.value) } + keyInitial.map { tensor("key_param.", $0.name, $0.value) }
        inputs += [
            .float("views_a", viewsA, shape: [mc.steps, c.batch, c.input]),
            .float("views_b", viewsB, shape: [mc.steps, c.batch, c.input]),
            .ints("batch_labels", batchLabels, shape: [mc.steps, c.batch]),
            .matrix("queue", queueInit),
            .ints("queue_labels", queueLabelsInit),
        ]
        return FixtureData(
            seed: seed,
            params: [("batch_size", js(c.batch)), ("queue_length", js(mc.queue)), ("momentum", js(mc.momentum)),
                     ("temperature", js(mc.temperature)), ("steps", js(mc.steps)),
                     ("encoder", "encoder.0 Linear(6,10), encoder.1 BatchNorm1d(10), encoder.2 ReLU, encoder.3 Linear(10,5)"),
                     ("head", "head.0 Linear(5,8), head.1 BatchNorm1d(8), head.2 ReLU, head.3 Linear(8,4)"),
                     ("batchnorm", "train mode, eps 1e-5: queries use the statistics of views_a[s], keys those of views_b[s] (two separate forwards, no shuffling)"),
                     ("step", "for s = 0, 1, 2: (1) key_param ← m·key_param + (1 − m)·param; (2) q = head(encoder(views_a[s])) with param, k = normalize(head(encoder(views_b[s]))) with key_param; (3) loss_i = −log softmax([q̂_i·k_i, q̂_i·queue_l for admissible l]/τ)[0], mean over i, q̂ = normalize(q); queue entry l is admissible for query i iff queue_labels[l] == batch_labels[s][i] (Eq. 3; −1 never matches); (4) dL/dparam by backprop through q only; (5) Adam; (6) write k_i and batch_labels[s][i] into queue slot pointer, pointer ← (pointer + 1) mod 12, for i in order"),
                     ("optimizer", "torch.optim.Adam(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)"),
                     ("outputs", "'loss', 'query_embedding', 'grad.*', 'param_after.*' are from step 0; 'losses_next' steps 1–2; key_param_after, queue_after, queue_labels_after, queue_pointer_after after step 2"),
                     ("parameters", "'param.<name>' (query model) and 'key_param.<name>' (key model) by PyTorch state_dict name; Linear weights out×in, everything else 1-D")],
            inputs: inputs,
            outputs: outputs)
    }
}

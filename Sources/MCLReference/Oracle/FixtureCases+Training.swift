import MCLNumerics

extension FixtureCases {
    // MARK: Clustering

    static func kMeans<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 501
        var rng = RNG(seed: seed)
        // Three well-separated blobs of 8 points each, shuffled; initial centroids deliberately off.
        let centers: [[Double]] = [[0, 0], [5, 5], [-5, 5]]
        var rows: [[T]] = []
        for c in centers { for _ in 0..<8 { rows.append(c.map { T($0 + 0.7 * rng.normal()) }) } }
        let order = rng.permutation(rows.count)
        let x = Matrix<T>(order.map { rows[$0] })
        let initial = Matrix<T>([[1, 1], [2, 2], [-3, 4]])
        let tolerance = 1e-4
        let result = try! KMeans<T>(clusterCount: 3, initialization: .centroids(initial), maxIterations: 300,
                                    tolerance: tolerance).fit(x)
        let f32 = T.self == Float.self
        return FixtureData(
            seed: seed,
            params: [("n_clusters", js(3)), ("max_iter", js(300)), ("tol", js(tolerance)),
                     ("algorithm", "Lloyd (scikit-learn KMeans semantics) from init_centroids: E-step argmin ‖x − c‖² (ties → lowest index), M-step means; stop when labels are unchanged or Σ‖Δc‖² ≤ tol·mean per-feature variance of x; final E-step unless labels were unchanged"),
                     ("iterations", "number of E/M rounds, including the one that found the labels unchanged")],
            inputs: [.matrix("x", x), .matrix("init_centroids", initial)],
            outputs: [FixtureOutput(.matrix("centroids", result.centroids), tol(T.self, f32: (1e-5, 1e-5), f64: (1e-13, 1e-12)),
                                    "means of ≤ 8+ points of O(5)\(f32 ? "; mcl-ref averages in float64 and rounds once, a float32 mean is within a few ulps" : "")"),
                      .exact(.ints("labels", result.labels), "cluster ids: well-separated blobs, no near-ties, so every correct implementation agrees"),
                      FixtureOutput(.scalar("inertia", T(result.inertia)), tol(T.self, f32: (1e-4, 1e-4), f64: (1e-11, 1e-11)),
                                    "Σ‖x − c‖² of 24 terms; implementations using ‖x‖² − 2x·c + ‖c‖² cancel digits, hence \(f32 ? "1e-4" : "1e-11") relative"),
                      .exact(.ints("iterations", [result.iterations], shape: []), "an integer count, deterministic for this data")])
    }

    static func pseudoLabels<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 502
        var rng = RNG(seed: seed)
        let m = 12
        let ks = [3, 2, 3]
        let history = ks.map { k in (0..<m).map { _ in rng.int(below: k) } }
        let p = try! PseudoLabels(history: history, clusterCounts: ks)
        let tuples = (0..<m).flatMap { p.tuple(ofSample: $0) }
        let why = "integers: exact"
        return FixtureData(
            seed: seed,
            params: [("cluster_counts", .array(ks.map { js($0) })), ("stages", js(ks.count)),
                     ("mixed_radix", "v = ((y0·K1 + y1)·K2 + y2): stage 0 is the most significant digit (label = label*K_s + y_s)"),
                     ("dense", "distinct mixed-radix values numbered 0..<G in ascending order")],
            inputs: [.ints("history", history.flatMap { $0 }, shape: [ks.count, m]), .ints("cluster_counts", ks)],
            outputs: [.exact(.ints("tuples", tuples, shape: [m, ks.count]), why),
                      .exact(.ints("mixed_radix", p.mixedRadixValues), why),
                      .exact(.ints("dense", p.labels), why),
                      .exact(.ints("group_values", p.groupValues), why),
                      .exact(.ints("group_sizes", p.groupSizes), why)])
    }

    static func sampler<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 503
        var rng = RNG(seed: seed)
        // 40 samples in 3 groups of 17, 13 and 10, in a shuffled order.
        var labels = [Int](repeating: 0, count: 17) + [Int](repeating: 1, count: 13) + [Int](repeating: 2, count: 10)
        rng.shuffle(&labels)
        let (batch, world) = (3, 2)
        var outputs: [FixtureOutput] = []
        let why = "sample indices and group ids from the seeded xoshiro256** stream: exact (a backend must use the same generator, or check the invariants instead)"
        for epoch in 0..<2 {
            for rank in 0..<world {
                let s = try! ClusterBatchSampler(pseudoLabels: labels, batchSize: batch, worldSize: world, rank: rank, seed: seed)
                let bs = s.batchesWithGroups(epoch: epoch)
                outputs.append(.exact(.ints("batches_epoch\(epoch)_rank\(rank)", bs.flatMap { $0.indices }, shape: [bs.count, batch]), why))
                outputs.append(.exact(.ints("groups_epoch\(epoch)_rank\(rank)", bs.map { $0.group }), why))
            }
        }
        return FixtureData(
            seed: seed,
            params: [("batch_size", js(batch)), ("world_size", js(world)), ("sampler_seed", js(Int(seed))), ("epochs", js(2)),
                     ("rng", "epoch e uses RNG(seed: sampler_seed, stream: e) (xoshiro256** seeded by SplitMix64; see RNG.swift); each group, in order, is Fisher–Yates shuffled (i from n−1 down to 1, j = Lemire int(below: i+1))"),
                     ("algorithm", "each group's shuffled list is cut to a multiple of batch_size·world_size; rank r keeps positions j with j % world_size == r, in batches of batch_size; batches are emitted round-robin over groups"),
                     ("invariants", "every batch is from one group; batches are disjoint within and across ranks; together they cover Σ_g ⌊|g|/(b·W)⌋·b·W samples of each epoch")],
            inputs: [.ints("pseudo_labels", labels)],
            outputs: outputs)
    }

    // MARK: SimCLR training step

    /// Widths of the SimCLR fixture: B batch, D input, hidden 10, R 5, head hidden 8, E 4.
    static let simclr = (batch: 8, input: 6, hidden: 10, representation: 5, headHidden: 8, embedding: 4, steps: 11)

    static func simCLRStep<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 601
        let c = simclr
        var rng = RNG(seed: seed)
        let model = stepFixtureModel(T.self, rng: &rng)
        let tensor = { (prefix: String, name: String, m: Matrix<T>) in pytorchTensor(prefix, name, m, model: model) }
        let x0: Matrix<T> = rng.normalMatrix(c.batch, c.input)
        let augmentation = VectorAugmentation(noiseStd: 0.3)
        var viewsA: [T] = [], viewsB: [T] = []
        var views: [(Matrix<T>, Matrix<T>)] = []
        for _ in 0..<c.steps {
            let a = augmentation.apply(x0, rng: &rng), b = augmentation.apply(x0, rng: &rng)
            viewsA += a.storage; viewsB += b.storage
            views.append((a, b))
        }
        let tau: T = 0.5
        let initial = model.namedParameters()
        // The step training runs (TrainingStep.swift), with SimCLR's objective and Adam.
        var step = TrainingStep(model: model, objective: .simclr(NTXent(temperature: tau)), optimizer: .adam(Adam(lr: 1e-2)))
        var losses: [T] = []
        var firstGradients: NamedMatrices<T> = []
        var firstEmbedding = Matrix<T>(rows: 0, cols: 0)
        var afterFirst: NamedMatrices<T> = []
        for (s, (a, b)) in views.enumerated() {
            let result = step(views: .vconcat([a, b]), labels: nil, learningRate: 1e-2)
            precondition(result.status == .ok, "simclr_step: step \(s) ended with \(result.status)")
            losses.append(result.loss)
            if s == 0 {
                firstGradients = step.model.namedGradients(positional: result.gradients)
                firstEmbedding = result.embeddings
                afterFirst = step.model.namedParameters()
            }
        }
        let f32 = T.self == Float.self
        let preBN = preBatchNormBiases(model)
        let gradScale = firstGradients.map { scale($0.value.storage) }.max() ?? 1
        // The param_after tolerances below assume no non-zero gradient element is near Adam's ε.
        for (name, g) in firstGradients where !preBN.contains(name) {
            let smallest = g.storage.map { abs(Double($0)) }.min() ?? 1
            precondition(smallest >= 1e-4, "simclr_step: |grad.\(name)| has an element \(smallest) < 1e-4; revisit the param_after tolerance")
        }
        var outputs: [FixtureOutput] = [
            FixtureOutput(.matrix("embedding", firstEmbedding), scaled(firstEmbedding.storage, f32: (1e-5, 1e-4), f64: (1e-12, 1e-10)),
                          "z of step 0 after two Linear+BatchNorm blocks; BatchNorm's rstd amplifies input rounding a little"),
            FixtureOutput(.scalar("loss", losses[0]), tol(T.self, f32: (1e-5, 1e-5), f64: (1e-12, 1e-11)),
                          "NT-Xent at τ = 0.5 of O(1) logits"),
        ]
        for (name, g) in firstGradients {
            if preBN.contains(name) {
                outputs.append(FixtureOutput(tensor("grad.", name, g), ComparisonTolerance(atol: (f32 ? 1e-5 : 1e-12) * gradScale, rtol: 0),
                                             "analytically zero (a Linear bias feeding BatchNorm); only rounding noise, so atol = \(f32 ? "1e-5" : "1e-12")·(largest gradient anywhere)"))
            } else {
                outputs.append(FixtureOutput(tensor("grad.", name, g), scaled(g.storage, f32: (1e-4, 1e-3), f64: (1e-10, 1e-8)),
                                             "backprop through NT-Xent, L2-normalise, 2 BatchNorms and 4 Linears; BatchNorm backward cancels, so atol = \(f32 ? "1e-4" : "1e-10")·max|g|"))
            }
        }
        for (name, p) in afterFirst {
            if preBN.contains(name) {
                outputs.append(FixtureOutput(tensor("param_after.", name, p), ComparisonTolerance(atol: 2e-2, rtol: 0),
                                             "its gradient is rounding noise, and Adam's first step moves a parameter by lr·g/(|g| + ε), up to lr = 1e-2 in either direction whatever |g| is: two correct implementations can differ by 2·lr"))
            } else {
                outputs.append(FixtureOutput(tensor("param_after.", name, p), tol(T.self, f32: (2e-5, 1e-5), f64: (1e-11, 1e-10)),
                                             "Adam step 1 moves each element by lr·g/(|g| + ε) ≈ ±lr: the gradient’s error matters only where |g| is near ε = 1e-8, and every element of these gradients is ≥ 4e-4 in magnitude"))
            }
        }
        outputs.append(FixtureOutput(.vector("losses_next", Array(losses.dropFirst())), tol(T.self, f32: (1e-4, 1e-4), f64: (1e-9, 1e-9)),
                                     "losses of steps 1…10 after 1…10 Adam updates: Adam normalises each update, so rounding differences in small gradients change parameters by up to lr·(relative error); they compound mildly over 10 steps"))
        var inputs = initial.map { tensor("param.", $0.name, $0.value) }
        inputs.append(.float("views_a", viewsA, shape: [c.steps, c.batch, c.input]))
        inputs.append(.float("views_b", viewsB, shape: [c.steps, c.batch, c.input]))
        return FixtureData(
            seed: seed,
            params: [("batch_size", js(c.batch)), ("input_width", js(c.input)), ("encoder_hidden", js(c.hidden)),
                     ("representation_width", js(c.representation)), ("head_hidden", js(c.headHidden)),
                     ("embedding_width", js(c.embedding)), ("temperature", js(Double(tau))),
                     ("encoder", "encoder.0 Linear(6,10), encoder.1 BatchNorm1d(10), encoder.2 ReLU, encoder.3 Linear(10,5)"),
                     ("head", "head.0 Linear(5,8), head.1 BatchNorm1d(8), head.2 ReLU, head.3 Linear(8,4)"),
                     ("batchnorm", "train mode, eps 1e-5, statistics over the whole 2B batch (both views concatenated)"),
                     ("loss", "NT-Xent at τ = 0.5 on z = head(encoder([views_a[s]; views_b[s]])) — rows 0..<B view a, B..<2B view b"),
                     ("optimizer", "torch.optim.Adam(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0), one step per batch"),
                     ("schedule", "step s = 0…10 feeds views_a[s], views_b[s]; 'loss', 'embedding' and 'grad.*' are from step 0, 'param_after.*' after its Adam update, 'losses_next' are the losses of steps 1…10 (each before its own update)"),
                     ("parameters", "'param.<name>' are the initial weights by PyTorch state_dict name; Linear weights out×in, everything else 1-D")],
            inputs: inputs,
            outputs: outputs)
    }

    // MARK: Helpers of the step fixtures

    /// The MLP model of the step fixtures (widths `simclr`), BatchNorm γ, β drawn away from (1, 0) so
    /// their gradients are not special.
    static func stepFixtureModel<T: MCLFloat>(_: T.Type, rng: inout RNG) -> ContrastiveModel<T> {
        let c = simclr
        var model = ContrastiveModel<T>(
            encoder: .mlpEncoder(inputWidth: c.input, hiddenWidths: [c.hidden], outputWidth: c.representation, rng: &rng),
            head: .projectionHead(inputWidth: c.representation, hiddenWidth: c.headHidden, outputWidth: c.embedding, rng: &rng))
        for net in [\ContrastiveModel<T>.encoder, \ContrastiveModel<T>.head] {
            for i in model[keyPath: net].layers.indices {
                if case .batchNorm1d(var bn) = model[keyPath: net].layers[i] {
                    bn.weight = bn.weight.map { _ in 1 + rng.normal(mean: T(0), std: T(0.2)) }
                    bn.bias = bn.bias.map { _ in rng.normal(mean: T(0), std: T(0.2)) }
                    model[keyPath: net].layers[i] = .batchNorm1d(bn)
                }
            }
        }
        return model
    }

    /// A copy of `model` with N(0, 0.05²) added to every parameter, in position order — a key/target
    /// model that starts away from the online one, so the momentum/EMA update is visible.
    static func perturbedCopy<T: MCLFloat>(of model: ContrastiveModel<T>, rng: inout RNG) -> ContrastiveModel<T> {
        var copy = model
        copy.updateParameters { _, p in for i in p.indices { p[i] += rng.normal(mean: T(0), std: T(0.05)) } }
        return copy
    }

    /// `prefix + name` as a PyTorch-shaped tensor: 2-D for Linear weights, 1-D for everything else.
    static func pytorchTensor<T: MCLFloat>(_ prefix: String, _ name: String, _ m: Matrix<T>,
                                           model: ContrastiveModel<T>) -> FixtureTensor {
        var linearWeights = Set<String>()
        for (p, net) in [("encoder.", model.encoder), ("head.", model.head)] {
            for (i, layer) in net.layers.enumerated() { if case .linear = layer { linearWeights.insert("\(p)\(i).weight") } }
        }
        return linearWeights.contains(name) ? .matrix(prefix + name, m) : .vector(prefix + name, m.storage)
    }

    /// Parameters whose gradient is analytically zero: the bias of a Linear whose output reaches a
    /// BatchNorm through affine layers only (encoder.0 → encoder.1, and encoder.3 → head.0 →
    /// head.1): a constant shift of a column is removed by the batch mean. What any implementation
    /// computes there is rounding noise.
    static func preBatchNormBiases<T: MCLFloat>(_ model: ContrastiveModel<T>) -> Set<String> {
        let flat: [(String, Layer<T>)] = model.encoder.layers.enumerated().map { ("encoder.\($0.offset)", $0.element) }
            + model.head.layers.enumerated().map { ("head.\($0.offset)", $0.element) }
        var preBN = Set<String>()
        for (i, (name, layer)) in flat.enumerated() {
            guard case .linear = layer else { continue }
            for (_, next) in flat.dropFirst(i + 1) {
                if case .linear = next { continue }
                if case .batchNorm1d = next { preBN.insert(name + ".bias") }
                break
            }
        }
        return preBN
    }
}

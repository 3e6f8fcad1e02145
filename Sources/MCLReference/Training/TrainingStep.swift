/// One optimiser step of any contrastive method — the only copy of the training loop's body.
///
/// Stage training (StageTrainer.swift), `bench mlp`, `bench train` (with a `StepProfiler`), `trace`
/// (through the trainer's observer) and the step fixtures all call `callAsFunction`; the simulated
/// data-parallel step (DataParallelStep.swift) calls its two halves, `lossAndGradients` per rank and
/// `update` once with the all-reduced gradients. Each call:
///
///  1. forward the views through the online model (train mode: BatchNorm uses and updates batch
///     statistics);
///  2. the objective's loss and dL/dz (SimCLR: NT-Xent of the 2B views; MoCo: momentum update of the
///     key model, keys of view 2, InfoNCE of the queries of view 1 against keys and queue; BYOL and
///     Barlow Twins: one pass per view, BYOL.swift and BarlowTwins.swift);
///  3. backward to every parameter (gradients by position, Models/Parameters.swift; a two-view
///     objective's passes are summed), then the objective's own trainable tensors (BYOL's predictor)
///     at the positions after the model's, and the SparseHead sub-gradient when `sparseHead` is set
///     (SparseHead.swift; its R(W) is added to the loss);
///  4. the optimiser's update at the given learning rate (model, then the objective's tensors);
///  5. the objective's bookkeeping after the update (MoCo: enqueue the keys; BYOL: the target's EMA).
///
/// FD (`viewmaker`, ViewmakerNetwork.swift): before 1, every view x becomes x + δ; after 3, dL/dviews
/// (the model's dInput) goes back through δ to the viewmaker's parameters; after 4, the viewmaker's own
/// optimiser takes a step on −dL/dθ (it maximises the loss the encoder minimises). Both players use
/// the gradients of the same forward (a simultaneous step; the official code alternates, docs/ALGORITHM.md).
///
/// CLIP (CLIP.swift) is the one multimodal objective: its `views` are ONE view of B images (B×D, not
/// 2B×D) and the step takes their B `captions`; step 2 runs the text tower and the CLIP loss, step 3
/// adds the text tower's gradients (unless locked) and θ's. `frozenModelPositions` (CLIP's
/// `--trainable-layers`) keeps the first positions of the model out of the update.
///
/// Nothing here throws or names a parameter: a non-finite loss, gradient or parameter comes back as
/// `Status` (the step stops before the update on the first two), and the caller words the error.
///
/// Dimension legend: B batch, D input width (C·H·W for images), E embedding width.
public struct TrainingStep<T: MCLFloat>: Sendable {
    /// The online model (encoder f and projection head g): what the optimiser trains.
    public var model: ContrastiveModel<T>
    public var objective: Objective<T>
    public var optimizer: Optimizer<T>
    /// λ·‖W‖₂,₁ on the head's last Linear weight (SparseHead.swift), or nil.
    public var sparseHead: L21Penalty<T>?
    /// FD: the viewmaker that perturbs both views before the forward and is updated *against* the
    /// loss with its own optimiser (ViewmakerNetwork.swift), or nil. SimCLR only.
    public var viewmaker: ViewmakerTraining<T>?
    /// The first `frozenModelPositions` parameter positions of the model get no update (their gradients
    /// come back as zero): CLIP's `--trainable-layers N` (CLIPTraining.swift). 0: everything trains.
    public var frozenModelPositions = 0

    public init(model: ContrastiveModel<T>, objective: Objective<T>, optimizer: Optimizer<T>, sparseHead: L21Penalty<T>? = nil) {
        self.model = model; self.objective = objective; self.optimizer = optimizer; self.sparseHead = sparseHead
    }

    /// The name of every position the optimisers update: the model's, then the objective's own, then
    /// (FD) the viewmaker's (`viewmaker.<i>.<field>`, updated by its own optimiser).
    public var parameterNames: [String] {
        model.parameterNames + objective.trainableNames + (viewmaker?.network.parameterNames ?? [])
    }

    /// How a step ended.
    public enum Status: Equatable, Sendable {
        case ok
        /// The loss or dL/dz is NaN or infinite (no update was made).
        case nonFiniteLoss
        /// A parameter gradient is NaN or infinite (no update was made).
        case nonFiniteGradient(position: Int)
        /// The update made a parameter NaN or infinite.
        case nonFiniteParameter(position: Int)
    }

    public struct Result: Sendable {
        public var status: Status
        /// The loss before the update (with R(W) when `sparseHead` is set).
        public var loss: T
        /// z the loss saw: 2B×E for SimCLR, BYOL and Barlow Twins ([view 1; view 2]), B×E queries for MoCo.
        public var embeddings: Matrix<T>
        /// dL/dθ by parameter position, the model's then the objective's own (empty if the step stopped
        /// at the loss).
        public var gradients: [[T]]
        /// FD: dL/dθ of the viewmaker by its positions (the step applies −1 times this); empty without one.
        public var viewmakerGradients: [[T]] = []
    }

    /// What the first half of a step computed, before any update.
    public struct Gradients: Sendable {
        public var status: Status
        public var loss: T
        public var embeddings: Matrix<T>
        /// dL/dθ by parameter position, the model's then the objective's own (empty if the loss was
        /// not finite).
        public var gradients: [[T]]
        /// MoCo: the normalised keys of this step, enqueued after the update.
        var keys: Matrix<T>?
        /// FD: dL/dθ of the viewmaker (empty without one).
        public var viewmakerGradients: [[T]] = []
    }

    /// One step on two views of a batch: `lossAndGradients`, then `update`.
    /// - Parameters:
    ///   - views: [view 1; view 2] stacked, 2B×D: rows i and i + B are the two views of sample i.
    ///   - labels: pseudo label per sample (B) as the loss must see them (`Objective.lossLabels`), or nil.
    ///   - learningRate: the rate of this step's update (the schedule lives with the caller).
    ///   - profiler: times each part when given (`bench train`).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public mutating func callAsFunction(views: Matrix<T>, labels: [Int]?, learningRate: Double,
                                        profiler: StepProfiler? = nil, captions: [[Int]]? = nil) -> Result {
        let g = lossAndGradients(views: views, labels: labels, profiler: profiler, captions: captions)
        guard g.status == .ok else { return Result(status: g.status, loss: g.loss, embeddings: g.embeddings, gradients: g.gradients) }
        let status = update(gradients: g.gradients, learningRate: learningRate, keys: g.keys, labels: labels,
                            batchSize: captions?.count ?? views.rows / 2, viewmakerGradients: g.viewmakerGradients,
                            profiler: profiler)
        return Result(status: status, loss: g.loss, embeddings: g.embeddings, gradients: g.gradients,
                      viewmakerGradients: g.viewmakerGradients)
    }

    /// The first half of a step: forward (train mode, so BatchNorm buffers move), the objective's
    /// loss (MoCo: momentum update of the key model and the keys; BYOL, Barlow Twins: one pass per
    /// view), backward, the objective's own gradients and the SparseHead sub-gradient. No parameter
    /// changes.
    /// - Shape: views 2B×D, labels B (CLIP: views B×D images, captions B×L).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public mutating func lossAndGradients(views augmentedViews: Matrix<T>, labels: [Int]?, profiler: StepProfiler? = nil,
                                          captions: [[Int]]? = nil) -> Gradients {
        let views: Matrix<T>
        var viewmakerCache: ViewmakerNetwork<T>.Cache? = nil
        if var vm = viewmaker {
            // FD: every view x becomes x + δ (fresh noise per row) before the forward.
            precondition(objective.method == .simclr, "TrainingStep: the viewmaker is wired for SimCLR only")
            (views, viewmakerCache) = vm.perturb(augmentedViews)
            viewmaker = vm
        } else {
            views = augmentedViews
        }
        let b: Int
        if case .clip = objective {
            precondition(captions?.count == views.rows && views.rows >= 2,
                         "TrainingStep: CLIP takes B×D images and their B captions, got \(views.shapeDescription) and \(captions?.count ?? 0) captions")
            b = views.rows
        } else {
            precondition(views.rows >= 2 && views.rows % 2 == 0, "TrainingStep: views are \(views.shapeDescription), expected 2B×D")
            b = views.rows / 2
        }
        precondition(labels.map { $0.count == b } ?? true, "TrainingStep: \(labels!.count) labels for B = \(b)")
        var z: Matrix<T>
        var dz: Matrix<T>
        var loss: T
        var cache: ContrastiveModel<T>.Cache
        var keys: Matrix<T>? = nil
        /// The passes to backpropagate (a two-view objective has two; otherwise (dz, cache) alone).
        var passes: [(dz: Matrix<T>, cache: ContrastiveModel<T>.Cache)]? = nil
        var objectiveGradients: [[T]] = []
        switch objective {
        case .simclr(let ntxent):
            (_, z, cache) = model.forward(views, mode: .train, profiler: profiler)
            let out = profiler.map { p in p.measure("loss") { ntxent(z, pseudoLabels: labels) } } ?? ntxent(z, pseudoLabels: labels)
            (loss, dz) = (out.loss, out.dEmbeddings)
        case .byol(var byol):
            objective = .simclr(NTXent())  // release the payload: target and predictor are used in place
            let out = byol.stepLoss(model: &model, views: views, profiler: profiler)
            objective = .byol(byol)
            (loss, z, passes, objectiveGradients) = (out.loss, out.embeddings, out.passes, out.predictorGradients)
            (dz, cache) = out.passes[0]
        case .clip(let clip):
            let out = clip.stepLoss(model: &model, images: views, captions: captions!, labels: labels, profiler: profiler)
            (loss, z, dz, cache, objectiveGradients) = (out.loss, out.imageEmbeddings, out.dImage, out.cache, out.objectiveGradients)
        case .barlow(let barlow):
            let out = barlow.stepLoss(model: &model, views: views, profiler: profiler)
            (loss, z, passes) = (out.loss, out.embeddings, out.passes)
            (dz, cache) = out.passes[0]
        case .moco(var moco):
            objective = .simclr(NTXent())  // release the payload: the key model is updated in place
            let (q, k) = (views.gatherRows(0..<b), views.gatherRows(b..<(2 * b)))
            (_, z, cache) = model.forward(q, mode: .train, profiler: profiler)
            func keyPass() -> Matrix<T> {
                moco.momentumUpdate(from: model)
                let raw = moco.keyModel.forward(k, mode: .train, profiler: profiler, scope: "key ").embedding
                return L2Normalize<T>().forward(raw).output
            }
            let normalizedKeys = profiler.map { p in p.measure("momentum update + keys") { keyPass() } } ?? keyPass()
            keys = normalizedKeys
            func lossPass() -> MoCoInfoNCE<T>.Output {
                moco.loss(queries: z, positiveKeys: normalizedKeys, queue: moco.queue,
                          queryLabels: labels.map { $0 }, queueLabels: labels.map { _ in moco.queueLabels })
            }
            let out = profiler.map { p in p.measure("loss") { lossPass() } } ?? lossPass()
            (loss, dz) = (out.loss, out.dQueries)
            objective = .moco(moco)
        }
        let allPasses = passes ?? [(dz, cache)]
        guard loss.isFinite, allPasses.allSatisfy({ $0.dz.isFinite }) else {
            return Gradients(status: .nonFiniteLoss, loss: loss, embeddings: z, gradients: [], keys: keys)
        }
        // The views' own gradient is needed only by FD's viewmaker; without it the first layer skips Wᵀ·dY.
        let needInputGradient = viewmakerCache != nil
        let backward = allPasses.map { model.backward($0.dz, $0.cache, inputGradient: needInputGradient, profiler: profiler) }
        var grads = backward.map { ContrastiveModel<T>.gradientTensors($0.gradients) }
            .reduce(nil as [[T]]?) { sum, g in sum.map { addGradients($0, g) } ?? g }! + objectiveGradients
        // FD: dL/dviews (SimCLR's one pass over the stacked views) back through δ to the viewmaker.
        let viewmakerGradients = viewmakerCache.map { viewmaker!.network.backward(backward[0].dInput, $0) } ?? []
        if let sparseHead {
            loss += SparseHead.apply(sparseHead, model: model, gradients: &grads)
        }
        for k in 0..<min(frozenModelPositions, grads.count) { grads[k] = [T](repeating: 0, count: grads[k].count) }
        if let bad = grads.firstIndex(where: { !$0.allSatisfy { $0.isFinite } }) {
            return Gradients(status: .nonFiniteGradient(position: bad), loss: loss, embeddings: z, gradients: grads, keys: keys)
        }
        if let bad = viewmakerGradients.firstIndex(where: { !$0.allSatisfy { $0.isFinite } }) {
            return Gradients(status: .nonFiniteGradient(position: grads.count + bad), loss: loss, embeddings: z, gradients: grads, keys: keys)
        }
        return Gradients(status: .ok, loss: loss, embeddings: z, gradients: grads, keys: keys, viewmakerGradients: viewmakerGradients)
    }

    /// The second half of a step: the optimiser's update with `gradients` (the model's positions, then
    /// the objective's own) at `learningRate`, then the objective's bookkeeping (MoCo: enqueue `keys`
    /// with `labels`, 0 at stage 0; BYOL: the target's EMA from the updated model).
    public mutating func update(gradients grads: [[T]], learningRate: Double, keys: Matrix<T>? = nil, labels: [Int]? = nil,
                                batchSize b: Int, viewmakerGradients: [[T]] = [], profiler: StepProfiler? = nil) -> Status {
        optimizer.lr = learningRate
        if frozenModelPositions > 0 {
            var opt = optimizer
            let frozen = frozenModelPositions
            optimizer = .sgd(SGD(lr: 0))  // release: updated without a copy
            model.updateParameters { k, p in if k >= frozen { opt.update(&p, gradient: grads[k], position: k) } }
            optimizer = opt
        } else if let profiler {
            profiler.measure("optimizer") { optimizer.step(&model, gradients: grads) }
        } else {
            optimizer.step(&model, gradients: grads)
        }
        let modelTensors = model.parameterTensorCount
        if grads.count > modelTensors {
            var (opt, obj) = (optimizer, objective)
            (optimizer, objective) = (.sgd(SGD(lr: 0)), .simclr(NTXent()))  // release: updated without a copy
            obj.updateTrainableParameters(from: modelTensors) { k, p in
                opt.update(&p, gradient: grads[k], position: k)
            }
            (optimizer, objective) = (opt, obj)
        }
        if case .moco(var moco) = objective, let keys {
            objective = .simclr(NTXent())
            moco.enqueue(keys, labels: labels ?? [Int](repeating: 0, count: b))
            objective = .moco(moco)
        }
        if case .byol(var byol) = objective {
            objective = .simclr(NTXent())
            byol.updateTarget(from: model)
            objective = .byol(byol)
        }
        if var vm = viewmaker, !viewmakerGradients.isEmpty {
            // FD: the viewmaker moves to *increase* the loss, at its own fixed rate.
            viewmaker = nil
            vm.adversarialStep(lossGradients: viewmakerGradients)
            viewmaker = vm
        }
        let tensors = model.parameterTensors + objective.trainableTensors + (viewmaker?.network.parameterTensors ?? [])
        if let bad = tensors.firstIndex(where: { !$0.allSatisfy { $0.isFinite } }) {
            return .nonFiniteParameter(position: bad)
        }
        return .ok
    }
}

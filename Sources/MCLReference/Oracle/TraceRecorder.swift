import Foundation
import MCLNumerics

/// Records a replayable trace of an MCL run (`mcl-ref trace`) into a directory, and indexes every file
/// it writes in `trace.json`.
///
/// Layout (j the stage, s the 0-based step within the stage, zero-padded to 6 digits):
///
///     data/{train,test}_{x,labels}.npy         the inputs exactly as trained on (after standardisation)
///     stage<j>/initial_state/<name>.npy        the freshly initialised model (parameters and buffers)
///     stage<j>/pseudo_labels.npy               the Eq. 2 pseudo labels stage j trains with (0 at stage 0)
///     stage<j>/steps/<s>/batch.npy             sample indices (b)
///     stage<j>/steps/<s>/views.npy             the two augmented views stacked (2b×D)
///     stage<j>/steps/<s>/mask_labels.npy       pseudo label per batch sample, when the loss is masked
///     stage<j>/steps/<s>/loss.npy              the method's loss before the update (0-d)
///     stage<j>/steps/<s>/grad/<name>.npy       dL/dθ by parameter name
///     stage<j>/steps/<s>/state_after/…         model after the update
///     stage<j>/steps/<s>/optimizer_after/…     optimiser state after the update
///     stage<j>/steps/<s>/{state,optimizer}_before/…   only when step s − 1 is not recorded
///     stage<j>/steps/<s>/rank<r>/{batch,views,mask_labels,loss}.npy   data parallelism only (world size > 1):
///                                              each rank's batch, views and own loss; grad/ is the all-reduced mean
///     stage<j>/initial_queue.npy, initial_queue_labels.npy   MoCo only: the queue before step 0
///     stage<j>/steps/<s>/key_state_after/…, queue_after.npy, queue_labels_after.npy, queue_pointer_after.npy
///                                              MoCo only: key model, queue and its labels after the step
///     stage<j>/final_state/<name>.npy          the trained model
///     stage<j>/representations.npy, test_representations.npy, kmeans_centroids.npy, kmeans_labels.npy
///     integrated_representations.npy, integrated_test_representations.npy, report.json, trace.json
///
/// Step s is recorded when s < `firstSteps` or s % `stepsEvery` == 0. Tensors are stored in
/// PyTorch's shapes (`PyTorchLayout`): Linear weights out×in, Conv2d weights (O, C, kh, kw), every
/// other parameter, buffer and optimiser moment 1-D, `num_batches_tracked` and the optimiser's `step`
/// 0-d int64.
///
/// The recorder is the run's `TrainingObserver` plus a `stageCompleted` handler; it writes as the
/// run goes (nothing is held in memory but the previous step's state) and `finish` writes the index.
public final class TraceRecorder<T: MCLFloat> {
    /// The index of a trace directory (its presence marks a directory as a trace).
    public static var indexFile: String { "trace.json" }

    public let directory: String
    public let firstSteps: Int
    public let stepsEvery: Int

    /// One `trace.json` "files" entry per file written.
    private var files: [JSONValue] = []
    private var stages: [[(String, JSONValue)]] = []
    private var steps: [JSONValue] = []
    /// The previous step's state (the state before the current step), and whether it was recorded.
    private var previous: (step: Int, model: ContrastiveModel<T>, optimizer: Optimizer<T>)?
    private var previousRecorded = false
    /// The shapes of the current stage's tensors in PyTorch (set when the stage starts).
    private var layout: PyTorchLayout?

    /// - Parameters:
    ///   - directory: where to write (created; normally a temporary directory renamed by the caller).
    ///   - firstSteps: N, every step s < N of each stage is recorded.
    ///   - stepsEvery: M ≥ 1, and every step s with s % M == 0.
    public init(directory: String, firstSteps: Int, stepsEvery: Int) throws {
        precondition(firstSteps >= 0 && stepsEvery >= 1, "TraceRecorder: firstSteps=\(firstSteps) must be ≥ 0, stepsEvery=\(stepsEvery) ≥ 1")
        self.directory = directory
        self.firstSteps = firstSteps
        self.stepsEvery = stepsEvery
        try AtomicFile.prepareOutputDirectory(directory)
    }

    /// Whether step s of a stage is recorded.
    public func records(step s: Int) -> Bool { s < firstSteps || s % stepsEvery == 0 }

    /// The observer to hand to `MultistageContrastiveLearning`.
    public var observer: TrainingObserver<T> {
        { [self] event in
            switch event {
            case .stageStarted(let r): try self.stageStarted(r)
            case .step(let r): try self.step(r)
            }
        }
    }

    // MARK: Writing files

    /// Writes `array` to `relative` (under `directory`) and indexes it.
    public func write(_ array: NPYArray, _ relative: String, _ description: String) throws {
        let path = directory + "/" + relative
        try AtomicFile.prepareOutputDirectory((path as NSString).deletingLastPathComponent)
        // A plain write, no fsync per file: the caller writes the whole trace into a temporary
        // directory and renames it into place, so no reader sees a partial trace (and a thousand
        // fsyncs would dominate the run time).
        // (Foundation's Data.write and createFile both fsync, hence stdio.)
        let bytes = NPY.encode(array)
        guard let f = fopen(path, "wb") else { throw FileWriteError(path: path, problem: "cannot create file") }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        guard fclose(f) == 0, written == bytes.count else { throw FileWriteError(path: path, problem: "write failed") }
        files.append(.object([("file", .string(relative)), ("dtype", .string(array.dtype.descr)),
                              ("shape", .array(array.shape.map { .number(Double($0)) })),
                              ("description", .string(description))]))
    }

    public func write(_ m: Matrix<T>, _ relative: String, _ description: String) throws {
        try write(FixtureTensor.matrix("", m).array, relative, description)
    }

    public func write(ints: [Int], shape: [Int]? = nil, _ relative: String, _ description: String) throws {
        try write(try NPYArray(ints: ints, shape: shape ?? [ints.count]), relative, description)
    }

    /// Writes every named tensor to `<folder>/<name>.npy` in PyTorch's shape and dtype (the stage's
    /// `PyTorchLayout`: state-dict entries, gradients and optimiser values `<parameter>.<field>`).
    func writeNamed(_ list: NamedMatrices<T>, _ folder: String, _ what: String) throws {
        guard let layout else { preconditionFailure("TraceRecorder: a tensor written before the stage started") }
        for (name, array) in layout.arrays(list) {
            try write(array, "\(folder)/\(name).npy", "\(what): \(name)")
        }
    }

    // MARK: Events

    /// The data exactly as the run sees it.
    public func recordData(train: LabeledData<T>, test: LabeledData<T>) throws {
        try write(train.x, "data/train_x.npy", "training samples X (M×D), as trained on (after standardisation)")
        try write(test.x, "data/test_x.npy", "held-out samples (M′×D), as evaluated")
        for (set, d) in [("train", train), ("test", test)] {
            let labelColumns = d.labels.count
            let rows = d.count
            var flat = [Int](repeating: 0, count: rows * labelColumns)
            for (f, column) in d.labels.enumerated() { for i in 0..<rows { flat[i * labelColumns + f] = column[i] } }
            try write(ints: flat, shape: [rows, labelColumns], "data/\(set)_labels.npy",
                      "\(set) labels (rows × features \(d.featureNames.joined(separator: ", "))); used only by the probes")
        }
    }

    func stageIndex(_ stream: UInt64) -> Int { RNGStream.stage(ofTrainingStream: stream) }

    func stageStarted(_ r: StageStartRecord<T>) throws {
        let j = stageIndex(r.stream)
        layout = PyTorchLayout(r.model)
        try writeNamed(r.model.stateDict(), "stage\(j)/initial_state", "stage \(j) model before its first step")
        if case .moco(let moco) = r.objective {
            try write(moco.queue, "stage\(j)/initial_queue.npy", "stage \(j): MoCo's initial queue (L random unit vectors)")
            try write(ints: moco.queueLabels, "stage\(j)/initial_queue_labels.npy", "stage \(j): labels of the initial queue (all −1)")
        }
        if let p = r.pseudoLabels {  // stage 0's (all 0) is written when it completes
            try write(ints: p, "stage\(j)/pseudo_labels.npy", "stage \(j): dense Eq. 2 pseudo label per training sample")
        }
        stages.append([("stage", .number(Double(j))), ("name", .string(r.name)), ("rng_stream", .number(Double(r.stream))),
                       ("masked_loss", .bool(r.maskedLoss)), ("batches_per_epoch", .number(Double(r.batchesPerEpoch))),
                       ("total_steps", .number(Double(r.totalSteps)))])
        steps = []
        previous = (-1, r.model, Optimizer<T>(.sgd, lr: 0, weightDecay: 0))
        previousRecorded = true  // the initial state is recorded
    }

    func step(_ r: TrainingStepRecord<T>) throws {
        guard let j = stages.last?.first(where: { $0.0 == "stage" })?.1.intValue else { return }
        defer { previous = (r.step, r.model, r.optimizer); previousRecorded = records(step: r.step) }
        guard records(step: r.step) else { return }
        let dir = "stage\(j)/steps/" + String(format: "%06d", r.step)
        let at = "stage \(j) step \(r.step)"
        try write(ints: r.batch, "\(dir)/batch.npy", "\(at): training-sample indices of the batch (b)")
        try write(r.views, "\(dir)/views.npy", "\(at): augmented views [view 1; view 2] (2b×D); rows i and i + b are the positive pair of batch[i]")
        if let m = r.maskLabels {
            try write(ints: m, "\(dir)/mask_labels.npy", "\(at): pseudo label of each batch sample (Eq. 3 mask)")
        }
        try write(FixtureTensor.scalar("", r.loss).array, "\(dir)/loss.npy",
                  r.ranks == nil ? "\(at): the loss before the update (0-d)"
                                 : "\(at): the mean over ranks of each rank's loss, before the update (0-d)")
        for (k, rank) in (r.ranks ?? []).enumerated() {
            let rd = "\(dir)/rank\(k)", ra = "\(at) rank \(k)"
            try write(ints: rank.batch, "\(rd)/batch.npy", "\(ra): training-sample indices of this rank's batch (b)")
            try write(rank.views, "\(rd)/views.npy", "\(ra): augmented views of this rank's batch [view 1; view 2] (2b×D)")
            if let m = rank.maskLabels {
                try write(ints: m, "\(rd)/mask_labels.npy", "\(ra): pseudo label of each batch sample (Eq. 3 mask)")
            }
            try write(FixtureTensor.scalar("", rank.loss).array, "\(rd)/loss.npy", "\(ra): this rank's own loss (mean over its batch), before the update (0-d)")
        }
        try writeNamed(r.gradients, "\(dir)/grad", "\(at): dL/dθ")
        try writeNamed(r.model.stateDict(), "\(dir)/state_after", "\(at): model after the update")
        try writeNamed(r.optimizer.namedState(like: r.model.namedParameters()), "\(dir)/optimizer_after", "\(at): optimiser state after the update")
        if case .moco(let moco) = r.objective {
            try writeNamed(moco.keyModel.stateDict(), "\(dir)/key_state_after", "\(at): MoCo key model after this step's momentum update")
            try write(moco.queue, "\(dir)/queue_after.npy", "\(at): MoCo queue after the enqueue (L×E, normalised keys)")
            try write(ints: moco.queueLabels, "\(dir)/queue_labels_after.npy", "\(at): pseudo label of each queue entry (−1: initial random entry)")
            try write(ints: [moco.queuePointer], shape: [], "\(dir)/queue_pointer_after.npy", "\(at): next queue slot to overwrite (0-d)")
        }
        let isolated = !previousRecorded
        if isolated, let p = previous {
            try writeNamed(p.model.stateDict(), "\(dir)/state_before", "\(at): model before the update (= after step \(p.step))")
            try writeNamed(p.optimizer.namedState(like: p.model.namedParameters()), "\(dir)/optimizer_before",
                           "\(at): optimiser state before the update (= after step \(p.step))")
        }
        let before: String
        if r.step == 0 { before = "stage\(j)/initial_state" }
        else if isolated { before = "\(dir)/state_before" }
        else { before = "stage\(j)/steps/" + String(format: "%06d", r.step - 1) + "/state_after" }
        steps.append(.object([("step", .number(Double(r.step))), ("epoch", .number(Double(r.epoch))),
                              ("dir", .string(dir)), ("loss", .number(Double(r.loss))), ("lr", .number(r.learningRate)),
                              ("state_before", .string(before)),
                              ("optimizer_before", .string(r.step == 0 ? "" : isolated ? "\(dir)/optimizer_before"
                                                            : "stage\(j)/steps/" + String(format: "%06d", r.step - 1) + "/optimizer_after"))]))
        stages[stages.count - 1].removeAll { $0.0 == "recorded_steps" }
        stages[stages.count - 1].append(("recorded_steps", .array(steps)))
    }

    /// After a stage: the trained model, representations and clustering.
    public func stageCompleted(_ a: StageArtifacts<T>) throws {
        let j = a.stage
        try writeNamed(a.model.stateDict(), "stage\(j)/final_state", "stage \(j) model after its last step")
        try write(a.trainRepresentations, "stage\(j)/representations.npy", "Z_\(j) = f_\(j)(train x) in eval mode (M×R)")
        try write(a.testRepresentations, "stage\(j)/test_representations.npy", "f_\(j)(test x) in eval mode (M′×R)")
        try write(a.clustering.centroids, "stage\(j)/kmeans_centroids.npy",
                  "K-means centroids of the L2-normalised rows of Z_\(j) (K×R)")
        try write(ints: a.clustering.labels, "stage\(j)/kmeans_labels.npy",
                  "K-means cluster of each training sample (Y_\(j)); stage \(j + 1)'s pseudo labels are Eq. 2 of Y_0 … Y_\(j)")
        if j == 0 {
            try write(ints: a.pseudoLabels, "stage0/pseudo_labels.npy", "stage 0: one group (all 0)")
        }
        if let k = stages.firstIndex(where: { $0.first?.1.intValue == j }) {
            stages[k] += [("last_epoch_loss", .number(a.report.loss)), ("kmeans_inertia", .number(a.clustering.inertia)),
                          ("kmeans_iterations", .number(Double(a.clustering.iterations))),
                          ("groups", .number(Double(a.report.groups)))]
        }
    }

    /// Writes the integrated representations, the report and `trace.json`.
    public func finish(run: MCLRun<T>, header: [(String, JSONValue)]) throws {
        try write(run.integratedTrain, "integrated_representations.npy", "Eq. 5: [Z_0, …, Z_{N−1}] for the train set")
        try write(run.integratedTest, "integrated_test_representations.npy", "Eq. 5 for the test set")
        try run.report.json.write(to: directory + "/" + RunDirectory.File.report)
        files.append(.object([("file", .string(RunDirectory.File.report)),
                              ("description", "the probe and kNN results (the `train --json` report)")]))
        files.append(.object([("file", .string(TraceRecorder.indexFile)), ("description", "this index")]))
        let index: JSONValue = .object(header + [
            ("recording", .object([("first_steps", .number(Double(firstSteps))), ("steps_every", .number(Double(stepsEvery))),
                                   ("rule", "step s (0-based within a stage) is recorded when s < first_steps or s % steps_every == 0")])),
            ("stages", .array(stages.map { .object($0) })),
            ("probe", run.report.json),
            ("files", .array(files)),
        ])
        try index.write(to: directory + "/" + TraceRecorder.indexFile)
    }
}

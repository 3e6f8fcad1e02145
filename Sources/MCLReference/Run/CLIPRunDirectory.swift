import Foundation

/// The directory of one CLIP run (`train --method clip --out DIR`), in the run-directory format of
/// docs/RUN-DIRECTORY.md ("CLIP runs"): the same commit protocol as `RunDirectory` — every file
/// atomically, a stage's files first, then `checkpoint.json` (`CLIPCheckpoint`) listing the stage with
/// a checksum of each file — and these files (j the stage, M train / M′ test pairs, E the joint width):
///
///     checkpoint.json                      the index: arguments, configuration, text tower, stages, checksums
///     stage<j>_image_embeddings.npy        normalised image embeddings of the training images, M×E
///     stage<j>_test_image_embeddings.npy   the same for the test images, M′×E
///     stage<j>_cluster_labels.npy          Y_j: K-means on the training embeddings (Eq. 2 for later stages)
///     stage<j>_centroids.npy               its centroids, K×E
///     pseudo_labels_stage<j>.npy           the Eq. 2 group ids stage j trained with (0 at stage 0)
///     stage<j>.safetensors                 image tower (`image.` + PyTorch state dict), text tower
///                                          (`text.embedding.weight`, `text.mlp.<i>.*`) and `logit_scale`
///     report.json                          the `--json` report (written when the run finishes)
///
/// Every stage's safetensors holds both towers: stage 0's are the pretrained weights every later stage
/// starts from; a later stage's text tower is stage 0's (locked), its image tower and θ its own.
public struct CLIPRunDirectory: Sendable {
    public let run: RunDirectory
    public var path: String { run.path }

    public init(_ path: String) { run = RunDirectory(path) }

    /// The names of a CLIP run's own files (the shared ones are `RunDirectory.File`'s).
    public enum File {
        public static func imageEmbeddings(stage j: Int) -> String { "stage\(j)_image_embeddings.npy" }
        public static func testImageEmbeddings(stage j: Int) -> String { "stage\(j)_test_image_embeddings.npy" }
    }

    /// Whether the directory holds a run of either kind, or a report.json of one.
    public var holdsRun: Bool { run.holdsRun || FileManager.default.fileExists(atPath: run.path(of: RunDirectory.File.report)) }

    // MARK: Writing

    /// Creates the directory and writes the initial checkpoint (no stage completed).
    public func start<T: MCLFloat>(arguments: [String], trainer: CLIPTrainer<T>, train: ImageTextData<T>,
                                   test: ImageTextData<T>) throws -> CLIPCheckpoint {
        try AtomicFile.prepareOutputDirectory(path)
        let checkpoint = CLIPCheckpoint(arguments: arguments, configuration: .object(trainer.configuration.json),
                                        dataFingerprint: CLIPCheckpoint.fingerprint(train: train, test: test),
                                        sampleShape: train.images.sampleShape, vocabularySize: train.vocabulary.count,
                                        wordWidth: trainer.wordWidth, textHidden: trainer.textHidden)
        try write(checkpoint)
        return checkpoint
    }

    /// Writes stage `s`'s files (`testEmbeddings`: its normalised test image embeddings), then records
    /// the stage in `checkpoint` and rewrites checkpoint.json (the commit point of the stage).
    public func commit<T: MCLFloat>(_ s: CLIPStage<T>, testEmbeddings: Matrix<T>, to checkpoint: inout CLIPCheckpoint) throws {
        let j = s.stage
        precondition(j == checkpoint.stages.count, "CLIPRunDirectory: stage \(j) committed after \(checkpoint.stages.count) stages")
        var files: [String: String] = [:]
        func put(_ bytes: Data, _ relative: String) throws {
            try AtomicFile.write(bytes, to: run.path(of: relative))
            files[relative] = FileChecksum.of(bytes)
        }
        try put(NPY.encode(NPYArray(s.trainEmbeddings)), File.imageEmbeddings(stage: j))
        try put(NPY.encode(NPYArray(testEmbeddings)), File.testImageEmbeddings(stage: j))
        let labels = s.clustering.labels
        try put(NPY.encode(try NPYArray(ints: labels, shape: [labels.count])), RunDirectory.File.clusterLabels(stage: j))
        try put(NPY.encode(NPYArray(s.clustering.centroids)), RunDirectory.File.centroids(stage: j))
        try put(NPY.encode(try NPYArray(ints: s.pseudoLabels, shape: [s.pseudoLabels.count])), RunDirectory.File.pseudoLabels(stage: j))
        let state = SafeTensorsFile(tensors: try s.model.stateDict(),
                                    metadata: [("format", "pt"), ("producer", "mcl-ref"), ("stage", String(j))])
        try put(try SafeTensors.encode(state), RunDirectory.File.safetensors(stage: j))
        let k = s.clustering
        checkpoint.stages.append(CLIPCheckpoint.Stage(
            stage: j, epochLosses: s.epochLosses, logitScale: Double(s.model.clip.logitScale), groups: Set(s.pseudoLabels).count,
            seconds: s.seconds, inertia: k.inertia,
            kmeans: MCLCheckpoint.ClusteringRecord(iterations: k.iterations, converged: k.converged,
                                                   strictConvergence: k.strictConvergence, restart: k.restart,
                                                   absoluteTolerance: k.absoluteTolerance),
            files: files))
        try write(checkpoint)
    }

    /// Writes `checkpoint.json` atomically.
    public func write(_ checkpoint: CLIPCheckpoint) throws {
        try AtomicFile.write(checkpoint.json, to: run.path(of: RunDirectory.File.checkpoint))
    }

    /// Writes report.json (when the run finishes).
    public func finish(report: JSONValue) throws {
        try AtomicFile.write(report, to: run.path(of: RunDirectory.File.report))
    }

    // MARK: Reading

    /// Reads and parses `checkpoint.json` (a unimodal run's is refused, naming the file).
    public func readCheckpoint() throws -> CLIPCheckpoint {
        try CLIPCheckpoint(json: try run.checkpointJSON(), path: run.path(of: RunDirectory.File.checkpoint))
    }

    /// The completed stages of a run to resume, after checking that the run is the one the checkpoint
    /// was made for: the same settings (the trainer's, as the caller derives them now), the same text
    /// tower and the same pairs. Every file of every completed stage is checked against its checksum.
    public func resume<T: MCLFloat>(_ checkpoint: CLIPCheckpoint, trainer: CLIPTrainer<T>, train: ImageTextData<T>,
                                    test: ImageTextData<T>) throws -> [CLIPStage<T>] {
        let file = run.path(of: RunDirectory.File.checkpoint)
        let c = trainer.configuration
        let now = JSONValue.object(c.json), stored = checkpoint.configuration
        if now != stored {
            let keys = Set((now.objectValue ?? []).map { $0.0 } + (stored.objectValue ?? []).map { $0.0 })
            let differing = keys.filter { now[$0] != stored[$0] }.sorted()
            throw CheckpointError(path: file, "the stored configuration does not match what its arguments give now "
                + "(differs in: \(differing.joined(separator: ", "))); was checkpoint.json edited, or made by another version of mcl-ref?")
        }
        let fingerprint = CLIPCheckpoint.fingerprint(train: train, test: test)
        guard fingerprint == checkpoint.dataFingerprint else {
            throw CheckpointError(path: file, "the pairs differ from those the run started with (fingerprint "
                + "\(fingerprint), checkpoint \(checkpoint.dataFingerprint)); were the input files changed?")
        }
        guard checkpoint.sampleShape == train.images.sampleShape else {
            throw CheckpointError(path: file, "images of shape \(checkpoint.sampleShape) recorded, the data have \(train.images.sampleShape)")
        }
        let text = (train.vocabulary.count, trainer.wordWidth, trainer.textHidden)
        guard (checkpoint.vocabularySize, checkpoint.wordWidth, checkpoint.textHidden) == text,
              checkpoint.textLockedFromStage == 1 else {
            throw CheckpointError(path: file, "text_tower: V=\(checkpoint.vocabularySize), W=\(checkpoint.wordWidth), "
                + "H=\(checkpoint.textHidden), locked from stage \(checkpoint.textLockedFromStage) recorded; this run has "
                + "V=\(text.0), W=\(text.1), H=\(text.2), locked from stage 1")
        }
        guard checkpoint.stages.count <= c.stages else {
            throw CheckpointError(path: file, "lists \(checkpoint.stages.count) completed stages, the run has \(c.stages)")
        }
        return try checkpoint.stages.indices.map { try loadStage($0, checkpoint: checkpoint, trainer: trainer, train: train, test: test) }
    }

    /// Loads completed stage `j`: every file it wrote is checked against its checksum, every shape
    /// against the run; embeddings, labels and weights are the stored ones, bit for bit.
    public func loadStage<T: MCLFloat>(_ j: Int, checkpoint: CLIPCheckpoint, trainer: CLIPTrainer<T>,
                                       train: ImageTextData<T>, test: ImageTextData<T>) throws -> CLIPStage<T> {
        let record = checkpoint.stages[j]
        let c = trainer.configuration
        let files = try StageFiles(run: run, stage: j, checksums: record.files)
        func matrix(_ name: String, rows: Int, cols: Int) throws -> Matrix<T> { try files.matrix(name, rows: rows, cols: cols) }
        func ints(_ name: String, count: Int, below: Int?) throws -> [Int] { try files.ints(name, count: count, below: below) }
        let e = c.embeddingWidth, m = train.count
        let z = try matrix(File.imageEmbeddings(stage: j), rows: m, cols: e)
        _ = try matrix(File.testImageEmbeddings(stage: j), rows: test.count, cols: e)
        let labels = try ints(RunDirectory.File.clusterLabels(stage: j), count: m, below: c.clusters)
        let centroids = try matrix(RunDirectory.File.centroids(stage: j), rows: c.clusters, cols: e)
        let pseudo = try ints(RunDirectory.File.pseudoLabels(stage: j), count: m, below: nil)
        let weights = RunDirectory.File.safetensors(stage: j)
        var (model, _) = trainer.initialModel(sampleShape: checkpoint.sampleShape, vocabularySize: checkpoint.vocabularySize,
                                              stream: RNGStream.stageTraining(j))
        do {
            try model.loadStateDict(try SafeTensors.decode(try files.data(weights), source: run.path(of: weights)).tensors)
        } catch let e as SafeTensorsError {
            throw CheckpointError(path: run.path(of: weights), "unreadable (\(e.message))")
        } catch let e as StateLoadingError {
            throw CheckpointError(path: run.path(of: weights), "does not fit the run's model (\(e))")
        }
        model.clip.textLocked = j >= checkpoint.textLockedFromStage
        let k = record.kmeans
        let lloyd = _LloydRun(centroids: centroids.converted(to: Double.self), labels: labels, inertia: record.inertia,
                              iterations: k.iterations, converged: k.converged, strict: k.strictConvergence)
        let clustering = KMeansResult<T>(run: lloyd, restart: k.restart, absoluteTolerance: k.absoluteTolerance, normalizeRows: true)
        return CLIPStage(stage: j, model: model, trainEmbeddings: z, clustering: clustering, pseudoLabels: pseudo,
                         epochLosses: record.epochLosses, seconds: record.seconds)
    }
}

extension RunDirectory {
    /// `checkpoint.json` parsed as JSON (either kind of run); a missing or malformed file is a
    /// `CheckpointError` naming it.
    public func checkpointJSON() throws -> JSONValue {
        let file = path(of: File.checkpoint)
        guard FileManager.default.fileExists(atPath: file) else {
            throw CheckpointError(path: file, "missing file (not a 'train --out' directory?)")
        }
        do {
            return try JSONValue.read(file)
        } catch {
            throw CheckpointError(path: file, "malformed JSON (\(error))")
        }
    }

    /// Whether the run in this directory is a CLIP run (`train --method clip`).
    public func holdsCLIPRun() throws -> Bool { CLIPCheckpoint.isCLIP(try checkpointJSON()) }
}

extension CLIPModel {
    /// The state dict of both towers: `image.<PyTorch name>` (`ContrastiveModel.pytorchStateDict`),
    /// `text.embedding.weight` (V, W), `text.mlp.<i>.weight` (out, in), `text.mlp.<i>.bias` (out,), and
    /// `logit_scale` (0-d, θ = the log of the scale), float32 (Float runs) or float64.
    public func stateDict() throws -> [(name: String, array: NPYArray)] {
        let image = self.image.pytorchStateDict().map { (name: "image." + $0.name, array: $0.array) }
        let text = try clip.textTower.namedParameters(prefix: "text.").map { p in
            (name: p.name, array: try Self.array(p.value.storage, shape: Self.textShape(p.name, p.value)))
        }
        return image + text + [(name: "logit_scale", array: try Self.array(clip.logScale, shape: []))]
    }

    /// Values of T as an .npy array of T's dtype (float32 or float64), exactly.
    static func array(_ values: [T], shape: [Int]) throws -> NPYArray {
        try NPYArray(doubles: values.map { Double($0) }, shape: shape, dtype: T.self == Float.self ? .float32 : .float64)
    }

    static func textShape(_ name: String, _ m: Matrix<T>) -> [Int] {
        m.rows == 1 && !name.hasSuffix("weight") ? [m.cols] : [m.rows, m.cols]
    }

    /// Loads `stateDict()`'s entries (every one, no other, shapes and dtypes exactly; as
    /// `load_state_dict(strict=True)`).
    public mutating func loadStateDict(_ tensors: [(name: String, array: NPYArray)]) throws {
        var image: [(name: String, array: NPYArray)] = []
        var rest: [String: NPYArray] = [:]
        for (name, a) in tensors {
            if name.hasPrefix("image.") { image.append((String(name.dropFirst("image.".count)), a)) }
            else if rest.updateValue(a, forKey: name) != nil { throw StateLoadingError.duplicate(name) }
        }
        let want: NPYDType = T.self == Float.self ? .float32 : .float64
        let textNames = clip.textTower.namedParameters(prefix: "text.")
        let known = Set(textNames.map { $0.name } + ["logit_scale"])
        let extra = rest.keys.filter { !known.contains($0) }.sorted()
        if !extra.isEmpty { throw StateLoadingError.unexpected(extra) }
        let missing = textNames.map { $0.name }.filter { rest[$0] == nil } + (rest["logit_scale"] == nil ? ["logit_scale"] : [])
        if !missing.isEmpty { throw StateLoadingError.missing(missing) }
        var values: [[T]] = []
        for p in textNames + [(name: "logit_scale", value: Matrix<T>(rows: 1, cols: 1))] {
            let a = rest[p.name]!
            let shape = p.name == "logit_scale" ? [] : Self.textShape(p.name, p.value)
            guard a.dtype == want, a.shape == shape else {
                throw StateLoadingError.shapeMismatch(name: p.name, expected: "\(want.descr) \(NPYArray.describe(shape))",
                                              got: "\(a.dtype.descr) \(NPYArray.describe(a.shape))")
            }
            values.append(T.self == Float.self ? try a.asFloats().map { T($0) } : try a.asDoubles().map { T($0) })
        }
        try self.image.loadPyTorchStateDict(image)
        var tower = clip.textTower
        let end = tower.updateParameters(from: 0) { k, storage in storage = values[k] }
        precondition(end == values.count - 1, "CLIPModel.loadStateDict: \(end) text tensors, expected \(values.count - 1)")
        clip.textTower = tower
        clip.logScale = values[values.count - 1]
    }
}

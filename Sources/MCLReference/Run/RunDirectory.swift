import Foundation

/// The directory of one MCL run (`train --out DIR`): every file name, the order files are written in,
/// and how they are read back — by `train --resume`, `mcl-ref encode` and library users. The layout
/// and its format version are documented in docs/RUN-DIRECTORY.md:
///
///     checkpoint.json                       the index: settings, input, completed stages, checksums
///     input_mean.npy, input_std.npy         μ and σ of the input standardisation (float64), if any
///     stage<j>_representations.npy          Z_j = f_j(X_train), M×R
///     stage<j>_test_representations.npy     f_j(X_test), M′×R
///     stage<j>_cluster_labels.npy           Y_j, M integers in 0..<K
///     stage<j>_centroids.npy                K×R
///     pseudo_labels_stage<j>.npy            the Eq. 2 group ids stage j trained with
///     stage<j>_weights/<name>.npy           the state dict, PyTorch names, shapes and dtypes
///     stage<j>.safetensors                  the same state dict in one safetensors file
///     stage<j>_spectrum.npy                 eigenvalues of the covariance of f_j(X_test), descending,
///                                           normalised to sum 1 (float64; StageAnalysis, CovarianceSpectrum)
///     integrated_representations.npy        Eq. 5 for the train set (written when the run finishes)
///     integrated_test_representations.npy   Eq. 5 for the test set
///     report.json                           the `train --json` report
///
/// Writing: every file atomically (temporary name, fsync, rename); a stage's files first, then
/// `checkpoint.json` listing the stage and a checksum of each of its files — the commit point. A kill
/// at any moment leaves either the old or the new checkpoint.json, and every stage it lists has all its
/// files. Reading: every file listed in the checkpoint is checked against its checksum before use, so a
/// file changed after its stage completed is refused by name.
public struct RunDirectory: Sendable {
    public let path: String

    public init(_ path: String) {
        self.path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    // MARK: Layout

    /// The names of a run's files, relative to the run directory. Defined here and nowhere else.
    public enum File {
        public static let checkpoint = "checkpoint.json"
        public static let report = "report.json"
        public static let inputMean = "input_mean.npy"
        public static let inputStd = "input_std.npy"
        public static let integratedRepresentations = "integrated_representations.npy"
        public static let integratedTestRepresentations = "integrated_test_representations.npy"
        public static func representations(stage j: Int) -> String { "stage\(j)_representations.npy" }
        public static func testRepresentations(stage j: Int) -> String { "stage\(j)_test_representations.npy" }
        public static func clusterLabels(stage j: Int) -> String { "stage\(j)_cluster_labels.npy" }
        public static func centroids(stage j: Int) -> String { "stage\(j)_centroids.npy" }
        public static func pseudoLabels(stage j: Int) -> String { "pseudo_labels_stage\(j).npy" }
        public static func weights(stage j: Int) -> String { "stage\(j)_weights" }
        public static func weight(stage j: Int, _ name: String) -> String { "\(weights(stage: j))/\(name).npy" }
        public static func safetensors(stage j: Int) -> String { "stage\(j).safetensors" }
        public static func spectrum(stage j: Int) -> String { "stage\(j)_spectrum.npy" }
    }

    /// The full path of a file of the run.
    public func path(of relative: String) -> String { path + "/" + relative }

    /// Whether the directory already holds a run (finished or not).
    public var holdsRun: Bool { FileManager.default.fileExists(atPath: path(of: File.checkpoint)) }

    // MARK: Writing

    /// Creates the directory, writes the input standardisation (when `train` has one) and the initial
    /// checkpoint (no stage completed). Returns the checkpoint to `commit` stages to.
    /// - Parameter arguments: the options that define the run (what `train --resume` re-parses).
    public func start<T: MCLFloat>(arguments: [String], configuration c: MCLConfiguration,
                                   train: LabeledData<T>, test: LabeledData<T>) throws -> MCLCheckpoint {
        try AtomicFile.prepareOutputDirectory(path)
        var files: [String: String] = [:]
        if let s = train.standardization {
            try put(NPY.encode(try NPYArray(doubles: s.mean, shape: [s.mean.count])), File.inputMean, &files)
            try put(NPY.encode(try NPYArray(doubles: s.std, shape: [s.std.count])), File.inputStd, &files)
        }
        let checkpoint = MCLCheckpoint(arguments: arguments, configuration: .object(c.json),
                                       dataFingerprint: MCLCheckpoint.fingerprint(train: train, test: test),
                                       sampleShape: train.sampleShape, standardization: train.standardization?.kind ?? "none",
                                       inputFiles: files)
        try write(checkpoint)
        return checkpoint
    }

    /// Writes stage `s`'s files, then records the stage in `checkpoint` and rewrites checkpoint.json
    /// (the commit point of the stage).
    public func commit<T: MCLFloat>(_ s: StageArtifacts<T>, to checkpoint: inout MCLCheckpoint) throws {
        let j = s.stage
        var files: [String: String] = [:]
        try put(NPY.encode(NPYArray(s.trainRepresentations)), File.representations(stage: j), &files)
        try put(NPY.encode(NPYArray(s.testRepresentations)), File.testRepresentations(stage: j), &files)
        let labels = s.clustering.labels
        try put(NPY.encode(try NPYArray(ints: labels, shape: [labels.count])), File.clusterLabels(stage: j), &files)
        try put(NPY.encode(NPYArray(s.clustering.centroids)), File.centroids(stage: j), &files)
        try put(NPY.encode(try NPYArray(ints: s.pseudoLabels, shape: [s.pseudoLabels.count])), File.pseudoLabels(stage: j), &files)
        let state = s.model.pytorchStateDict()
        try AtomicFile.prepareOutputDirectory(path(of: File.weights(stage: j)))
        for (name, array) in state { try put(NPY.encode(array), File.weight(stage: j, name), &files) }
        let safetensors = SafeTensorsFile(tensors: state, metadata: [("format", "pt"), ("producer", "mcl-ref"), ("stage", String(j))])
        try put(try SafeTensors.encode(safetensors), File.safetensors(stage: j), &files)
        if let spectrum = s.report.analysis?.representation.raw.testSpectrum.normalized {
            try put(NPY.encode(try NPYArray(doubles: spectrum, shape: [spectrum.count])), File.spectrum(stage: j), &files)
        }
        checkpoint.record(s, files: files)
        try write(checkpoint)
    }

    /// Writes the integrated representations (Eq. 5) and the report of a finished run.
    /// `report` is what report.json holds (default: the run's report; the CLI adds provenance).
    public func finish<T: MCLFloat>(_ run: MCLRun<T>, report: JSONValue? = nil) throws {
        try NPY.write(run.integratedTrain, to: path(of: File.integratedRepresentations))
        try NPY.write(run.integratedTest, to: path(of: File.integratedTestRepresentations))
        try AtomicFile.write(report ?? run.report.json, to: path(of: File.report))
    }

    /// Writes `checkpoint.json` atomically.
    public func write(_ checkpoint: MCLCheckpoint) throws {
        try AtomicFile.write(checkpoint.json, to: path(of: File.checkpoint))
    }

    /// Writes `bytes` to `relative` atomically and records its checksum.
    private func put(_ bytes: Data, _ relative: String, _ files: inout [String: String]) throws {
        try AtomicFile.write(bytes, to: path(of: relative))
        files[relative] = FileChecksum.of(bytes)
    }

    // MARK: Reading

    /// Reads and parses `checkpoint.json`; every problem is a `CheckpointError` naming it.
    public func readCheckpoint() throws -> MCLCheckpoint {
        let file = path(of: File.checkpoint)
        guard FileManager.default.fileExists(atPath: file) else {
            throw CheckpointError(path: file, "missing file (not a 'train --out' directory?)")
        }
        let json: JSONValue
        do {
            json = try JSONValue.read(file)
        } catch {
            throw CheckpointError(path: file, "malformed JSON (\(error))")
        }
        return try MCLCheckpoint(json: json, path: file)
    }

    /// The run's settings, as stored in its checkpoint.
    public func configuration(_ checkpoint: MCLCheckpoint) throws -> MCLConfiguration {
        try MCLConfiguration(json: checkpoint.configuration, path: path(of: File.checkpoint))
    }

    /// The bytes of `relative`, checked against the checksum the checkpoint recorded for it.
    func verifiedBytes(_ relative: String, checksum: String?, stage: Int?) throws -> [UInt8] {
        let file = path(of: relative)
        let owner = stage.map { "stage \($0)" } ?? "the run"
        guard let checksum else {
            throw CheckpointError(path: path(of: File.checkpoint), "lists no checksum for \(relative) (\(owner))")
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CheckpointError(path: file, "missing or unreadable (written by \(owner), listed in \(File.checkpoint))")
        }
        let actual = FileChecksum.of(data)
        guard actual == checksum else {
            throw CheckpointError(path: file, "changed since \(owner) wrote it (checksum \(actual), \(File.checkpoint) "
                + "recorded \(checksum)); restore the file or start a new run")
        }
        return [UInt8](data)
    }

    /// The input standardisation stored with the run (nil when its inputs were not standardised).
    public func standardization(_ checkpoint: MCLCheckpoint) throws -> InputStandardization? {
        guard checkpoint.standardization != "none" else { return nil }
        func vector(_ name: String) throws -> [Double] {
            let bytes = try verifiedBytes(name, checksum: checkpoint.inputFiles[name], stage: nil)
            do {
                let a = try NPY.decode(bytes: bytes, source: path(of: name))
                guard a.dtype == .float64, a.shape.count == 1 else {
                    throw CheckpointError(path: path(of: name), "holds \(a.dtype.descr) \(NPYArray.describe(a.shape)), expected a float64 vector")
                }
                return try a.asDoubles()
            } catch let e as NPYError {
                throw CheckpointError(path: path(of: name), "unreadable (\(e.message))")
            }
        }
        let mean = try vector(File.inputMean), std = try vector(File.inputStd)
        guard let s = InputStandardization(kind: checkpoint.standardization, mean: mean, std: std),
              s.accepts(sampleShape: checkpoint.sampleShape) else {
            throw CheckpointError(path: path(of: File.checkpoint), "input standardization '\(checkpoint.standardization)' "
                + "with \(mean.count) means and \(std.count) deviations does not fit samples of shape \(checkpoint.sampleShape)")
        }
        return s
    }

    /// A model of the run's architecture for samples of `sampleShape` (its values are replaced when
    /// weights are loaded). The one place the run directory builds a model.
    func emptyModel<T: MCLFloat>(_ c: MCLConfiguration, sampleShape: [Int], stage j: Int) -> ContrastiveModel<T> {
        StageTrainer<T>(configuration: c).initialModel(sampleShape: sampleShape, stream: RNGStream.stageTraining(j)).0
    }

    /// Completed stage `j`'s trained model, read from `stage<j>.safetensors` (checksum checked).
    public func loadModel<T: MCLFloat>(stage j: Int, checkpoint: MCLCheckpoint, configuration c: MCLConfiguration) throws
        -> ContrastiveModel<T> {
        precondition(j < checkpoint.stages.count, "loadModel: stage \(j) is not completed")
        let name = File.safetensors(stage: j)
        let bytes = try verifiedBytes(name, checksum: checkpoint.stageFiles[j][name], stage: j)
        var model: ContrastiveModel<T> = emptyModel(c, sampleShape: checkpoint.sampleShape, stage: j)
        do {
            try model.loadPyTorchStateDict(try SafeTensors.decode(bytes, source: path(of: name)).tensors)
        } catch let e as SafeTensorsError {
            throw CheckpointError(path: path(of: name), "unreadable (\(e.message))")
        } catch let e as StateLoadingError {
            throw CheckpointError(path: path(of: name), "does not fit the run's model (\(e))")
        }
        return model
    }

    /// The completed stages of a run to resume, after checking that the run is the one the checkpoint
    /// was made for: the same settings (`c`, as the caller derives them now) and the same data.
    public func resume<T: MCLFloat>(_ checkpoint: MCLCheckpoint, configuration c: MCLConfiguration,
                                    train: LabeledData<T>, test: LabeledData<T>) throws -> [StageArtifacts<T>] {
        let file = path(of: File.checkpoint)
        let now = JSONValue.object(c.json), stored = checkpoint.configuration
        if now != stored {
            let differing = (now.objectValue ?? []).filter { key, value in stored[key] != value }.map { $0.0 }
            throw CheckpointError(path: file, "the stored configuration does not match what its arguments give now "
                + "(differs in: \(differing.isEmpty ? "keys" : differing.joined(separator: ", "))); "
                + "was the checkpoint made by another version of mcl-ref?")
        }
        let fingerprint = MCLCheckpoint.fingerprint(train: train, test: test)
        guard fingerprint == checkpoint.dataFingerprint else {
            throw CheckpointError(path: file, "the data differ from those the run started with (fingerprint "
                + "\(fingerprint), checkpoint \(checkpoint.dataFingerprint)); were the input files changed?")
        }
        guard checkpoint.sampleShape == train.sampleShape else {
            throw CheckpointError(path: file, "samples of shape \(checkpoint.sampleShape) recorded, the data have \(train.sampleShape)")
        }
        guard checkpoint.stages.count <= c.stages else {
            throw CheckpointError(path: file, "lists \(checkpoint.stages.count) completed stages, the run has \(c.stages)")
        }
        return try checkpoint.stages.indices.map { try loadStage($0, checkpoint: checkpoint, configuration: c, train: train, test: test) }
    }

    /// Loads completed stage `j`: every file it wrote is checked against its checksum, every shape
    /// against the run; the representations and cluster labels are the stored ones, bit for bit.
    public func loadStage<T: MCLFloat>(_ j: Int, checkpoint: MCLCheckpoint, configuration c: MCLConfiguration,
                                       train: LabeledData<T>, test: LabeledData<T>) throws -> StageArtifacts<T> {
        precondition(j < checkpoint.stages.count, "loadStage: stage \(j) is not completed")
        let files = try StageFiles(run: self, stage: j, checksums: checkpoint.stageFiles[j])
        func matrix(_ name: String, rows: Int, cols: Int) throws -> Matrix<T> { try files.matrix(name, rows: rows, cols: cols) }
        func ints(_ name: String, count: Int, below: Int?) throws -> [Int] { try files.ints(name, count: count, below: below) }
        let r = c.representationWidth
        let z = try matrix(File.representations(stage: j), rows: train.count, cols: r)
        let zTest = try matrix(File.testRepresentations(stage: j), rows: test.count, cols: r)
        let labels = try ints(File.clusterLabels(stage: j), count: train.count, below: c.clusters)
        let centroids = try matrix(File.centroids(stage: j), rows: c.clusters, cols: r)
        let pseudo = try ints(File.pseudoLabels(stage: j), count: train.count, below: nil)
        let model: ContrastiveModel<T> = try loadModel(stage: j, checkpoint: checkpoint, configuration: c)
        let k = checkpoint.clusterings[j]
        let run = _LloydRun(centroids: centroids.converted(to: Double.self), labels: labels, inertia: checkpoint.stages[j].inertia,
                            iterations: k.iterations, converged: k.converged, strict: k.strictConvergence)
        let clustering = KMeansResult<T>(run: run, restart: k.restart, absoluteTolerance: k.absoluteTolerance,
                                         normalizeRows: true)
        return StageArtifacts(stage: j, model: model, trainRepresentations: z, testRepresentations: zTest,
                              clustering: clustering, pseudoLabels: pseudo, report: checkpoint.stages[j])
    }
}

/// The files one completed stage lists in the checkpoint, read once and verified against their
/// checksums, with typed readers that name the file and what was expected when a file does not fit.
struct StageFiles {
    let run: RunDirectory
    let stage: Int
    let bytes: [String: [UInt8]]

    init(run: RunDirectory, stage j: Int, checksums: [String: String]) throws {
        var bytes: [String: [UInt8]] = [:]
        for name in checksums.keys.sorted() { bytes[name] = try run.verifiedBytes(name, checksum: checksums[name], stage: j) }
        (self.run, self.stage, self.bytes) = (run, j, bytes)
    }

    /// The verified bytes of `name`; a file the stage does not list is an error of the checkpoint.
    func data(_ name: String) throws -> [UInt8] {
        guard let b = bytes[name] else {
            throw CheckpointError(path: run.path(of: RunDirectory.File.checkpoint), "stage \(stage) lists no \(name)")
        }
        return b
    }

    func array(_ name: String) throws -> NPYArray {
        let b = try data(name)
        do {
            return try NPY.decode(bytes: b, source: run.path(of: name))
        } catch let e as NPYError {
            throw CheckpointError(path: run.path(of: name), "unreadable (\(e.message))")
        }
    }

    /// A stored matrix of T of the given size.
    func matrix<T: MCLFloat>(_ name: String, rows: Int, cols: Int) throws -> Matrix<T> {
        let a = try array(name)
        let want: NPYDType = T.self == Float.self ? .float32 : .float64
        guard a.dtype == want, a.shape == [rows, cols] else {
            throw CheckpointError(path: run.path(of: name), "holds \(a.dtype.descr) \(NPYArray.describe(a.shape)), "
                + "expected \(want.descr) (\(rows), \(cols))")
        }
        return try a.asMatrix(T.self)
    }

    /// `count` stored integer labels, each in 0..<below (any non-negative value when `below` is nil).
    func ints(_ name: String, count: Int, below: Int?) throws -> [Int] {
        let a = try array(name)
        guard !a.dtype.isFloatingPoint, let values = try? a.asInts().values, a.shape == [count],
              values.allSatisfy({ $0 >= 0 && $0 < (below ?? Int.max) }) else {
            throw CheckpointError(path: run.path(of: name), "expected \(count) labels in 0..<\(below.map(String.init) ?? "∞")")
        }
        return values
    }
}

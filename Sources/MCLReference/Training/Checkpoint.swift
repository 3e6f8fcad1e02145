import Foundation

// MARK: - Checkpoints at stage boundaries
//
// A run directory (`train --out DIR`) holds, per completed stage j:
//
//     stage<j>_representations.npy        Z_j = f_j(X_train), M×R
//     stage<j>_test_representations.npy   f_j(X_test), M′×R
//     stage<j>_cluster_labels.npy         Y_j, M integers in 0..<K
//     stage<j>_centroids.npy              K×R (rounded to T)
//     pseudo_labels_stage<j>.npy          the Eq. 2 group ids stage j trained with
//     stage<j>_weights/<name>.npy         the model's state dict (parameters and BatchNorm buffers)
//
// and one `checkpoint.json` (below) that lists the completed stages. Every file is written
// atomically (temporary name, fsync, rename), and checkpoint.json is rewritten *last*, after all of
// stage j's files: it is the commit point. A kill at any moment leaves either the old or the new
// checkpoint.json, and every stage it lists has all its files; files of a stage it does not list
// yet are rewritten on resume.
//
// Why no optimiser or RNG state: every stage trains a *fresh* encoder with a fresh optimiser
// (Sec. 4.1), and stage j draws all its randomness from `RNG(seed, stream: 1000 + j)` and its
// K-means from `RNG(seed, stream: 2000 + j)`. So a run resumed at a stage boundary needs no
// mid-stage state: only the completed stages' cluster labels (the Eq. 2 pseudo labels of later
// stages) and representations (the Eq. 5 integrated evaluation). Those are stored bit for bit
// (.npy of T), so a resumed run computes exactly the numbers an uninterrupted run computes.
// A kill *inside* stage j loses that stage's progress only; it is retrained from its start.

/// A checkpoint that is missing, malformed or does not match the run: one line naming the file.
public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var problem: String
    public init(path: String, _ problem: String) { self.path = path; self.problem = problem }
    public var description: String { "\(path): \(problem)" }
}

/// The contents of `checkpoint.json`.
public struct MCLCheckpoint: Sendable {
    public static let fileName = "checkpoint.json"
    public static let formatVersion = 1

    /// The `train` options that define the run (data paths absolute), so `--resume` can rebuild it.
    public var arguments: [String]
    /// `MCLConfiguration.json` of the run: checked again on resume.
    public var configuration: JSONValue
    /// `fingerprint(train:test:)` of the data the run trains and evaluates on.
    public var dataFingerprint: String
    /// Reports of the completed stages 0..<stages.count (full precision).
    public var stages: [StageReport]
    /// K-means details of each completed stage (not needed to continue; kept for the record).
    public var clusterings: [ClusteringRecord]

    /// What a resumed `KMeansResult` cannot rebuild from the .npy files.
    public struct ClusteringRecord: Sendable, Equatable {
        public var iterations: Int
        public var converged: Bool
        public var strictConvergence: Bool
        public var restart: Int
        public var absoluteTolerance: Double
    }

    public init(arguments: [String], configuration: JSONValue, dataFingerprint: String,
                stages: [StageReport] = [], clusterings: [ClusteringRecord] = []) {
        self.arguments = arguments; self.configuration = configuration; self.dataFingerprint = dataFingerprint
        self.stages = stages; self.clusterings = clusterings
    }

    /// Records stage `s` as completed (stages must be recorded in order).
    public mutating func record<T>(_ s: StageArtifacts<T>) {
        precondition(s.stage == stages.count, "checkpoint: stage \(s.stage) recorded after \(stages.count) stages")
        stages.append(s.report)
        clusterings.append(ClusteringRecord(iterations: s.clustering.iterations, converged: s.clustering.converged,
                                            strictConvergence: s.clustering.strictConvergence,
                                            restart: s.clustering.restart,
                                            absoluteTolerance: s.clustering.absoluteTolerance))
    }

    public var json: JSONValue {
        func scores(_ f: FeatureScores) -> JSONValue {
            .object([("probe", .array(f.probe.map { .number($0) })), ("knn", .array(f.knn.map { .number($0) }))])
        }
        let stageList: [JSONValue] = zip(stages, clusterings).map { s, k in
            .object([
                ("stage", .number(Double(s.stage))), ("loss", .number(s.loss)),
                ("alone", scores(s.alone)), ("integrated", scores(s.integrated)),
                ("groups", .number(Double(s.groups))), ("untrained_samples", .number(Double(s.untrainedSamples))),
                ("inertia", .number(s.inertia)), ("seconds", .number(s.seconds)),
                ("kmeans_iterations", .number(Double(k.iterations))), ("kmeans_converged", .bool(k.converged)),
                ("kmeans_strict", .bool(k.strictConvergence)), ("kmeans_restart", .number(Double(k.restart))),
                ("kmeans_absolute_tolerance", .number(k.absoluteTolerance)),
                ("loss_per_epoch", .array(s.epochLosses.map { .number($0) })),
                ("cluster_sizes", .array(s.clusterSizes.map { .number(Double($0)) })),
                ("group_sizes", .array(s.groupSizes.map { .number(Double($0)) })),
            ])
        }
        return .object([
            ("format", .string("mcl-ref checkpoint")),
            ("format_version", .number(Double(MCLCheckpoint.formatVersion))),
            ("completed_stages", .number(Double(stages.count))),
            ("arguments", .array(arguments.map { .string($0) })),
            ("configuration", configuration),
            ("data_fingerprint", .string(dataFingerprint)),
            ("stages", .array(stageList)),
        ])
    }

    /// Parses a checkpoint; every problem is a `CheckpointError` naming `path` and the field.
    public init(json: JSONValue, path: String) throws {
        func fail(_ problem: String) -> CheckpointError { CheckpointError(path: path, problem) }
        guard json["format"]?.stringValue == "mcl-ref checkpoint" else { throw fail("not an mcl-ref checkpoint") }
        guard let version = json["format_version"]?.intValue else { throw fail("missing or non-integer 'format_version'") }
        guard version == MCLCheckpoint.formatVersion else {
            throw fail("checkpoint format_version \(version) is not supported (this mcl-ref reads \(MCLCheckpoint.formatVersion))")
        }
        guard let args = json["arguments"]?.arrayValue, args.allSatisfy({ $0.stringValue != nil }) else {
            throw fail("missing or invalid 'arguments' (a list of strings)")
        }
        arguments = args.map { $0.stringValue! }
        guard let conf = json["configuration"], case .object = conf else { throw fail("missing 'configuration' object") }
        configuration = conf
        guard let fp = json["data_fingerprint"]?.stringValue else { throw fail("missing 'data_fingerprint'") }
        dataFingerprint = fp
        guard let list = json["stages"]?.arrayValue else { throw fail("missing or non-list 'stages'") }
        guard json["completed_stages"]?.intValue == list.count else {
            throw fail("'completed_stages' disagrees with the \(list.count) listed stages")
        }
        stages = []
        clusterings = []
        for (j, item) in list.enumerated() {
            let context = "stages[\(j)]"
            func number(_ key: String) throws -> Double {
                guard let x = item[key]?.doubleValue, x.isFinite else { throw fail("\(context): missing or non-numeric '\(key)'") }
                return x
            }
            func int(_ key: String) throws -> Int {
                guard let x = item[key]?.intValue, x >= 0 else { throw fail("\(context): missing or invalid '\(key)'") }
                return x
            }
            func bool(_ key: String) throws -> Bool {
                guard let x = item[key]?.boolValue else { throw fail("\(context): missing or non-boolean '\(key)'") }
                return x
            }
            func scores(_ key: String) throws -> FeatureScores {
                guard let probe = item[key]?["probe"]?.arrayValue?.compactMap({ $0.doubleValue }),
                      let knn = item[key]?["knn"]?.arrayValue?.compactMap({ $0.doubleValue }),
                      probe.count == item[key]?["probe"]?.arrayValue?.count, knn.count == probe.count else {
                    throw fail("\(context): missing or invalid '\(key)' scores")
                }
                return FeatureScores(probe: probe, knn: knn)
            }
            /// The report's per-epoch losses and group sizes (absent in checkpoints of older versions: []).
            func list<V>(_ key: String, _ value: (JSONValue) -> V?) throws -> [V] {
                guard let items = item[key] else { return [] }
                guard let values = items.arrayValue?.compactMap(value), values.count == items.arrayValue?.count else {
                    throw fail("\(context): invalid '\(key)' (a list of numbers)")
                }
                return values
            }
            guard try int("stage") == j else { throw fail("\(context): 'stage' is not \(j)") }
            stages.append(StageReport(stage: j, loss: try number("loss"), alone: try scores("alone"),
                                      integrated: try scores("integrated"), groups: try int("groups"),
                                      untrainedSamples: try int("untrained_samples"), inertia: try number("inertia"),
                                      seconds: try number("seconds"),
                                      epochLosses: try list("loss_per_epoch") { $0.doubleValue },
                                      clusterSizes: try list("cluster_sizes") { $0.intValue.flatMap { $0 >= 0 ? $0 : nil } },
                                      groupSizes: try list("group_sizes") { $0.intValue.flatMap { $0 >= 0 ? $0 : nil } }))
            clusterings.append(ClusteringRecord(iterations: try int("kmeans_iterations"),
                                                converged: try bool("kmeans_converged"),
                                                strictConvergence: try bool("kmeans_strict"),
                                                restart: try int("kmeans_restart"),
                                                absoluteTolerance: try number("kmeans_absolute_tolerance")))
        }
    }

    /// Reads `<directory>/checkpoint.json`.
    public static func read(directory: String) throws -> MCLCheckpoint {
        let path = directory + "/" + fileName
        guard FileManager.default.fileExists(atPath: path) else {
            throw CheckpointError(path: path, "missing file (not a 'train --out' directory?)")
        }
        let json: JSONValue
        do {
            json = try JSONValue.read(path)
        } catch {
            throw CheckpointError(path: path, "malformed JSON (\(error))")
        }
        return try MCLCheckpoint(json: json, path: path)
    }

    /// Writes `<directory>/checkpoint.json` atomically.
    public func write(directory: String) throws {
        try AtomicFile.write(json, to: directory + "/" + MCLCheckpoint.fileName)
    }

    /// A 64-bit FNV-1a hash (hex) of the train and test samples and labels, bit for bit: a resumed
    /// run must see exactly the data the checkpoint was made with.
    public static func fingerprint<T: MCLFloat>(train: LabeledData<T>, test: LabeledData<T>) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ v: UInt64) {
            var v = v
            for _ in 0..<8 { h = (h ^ (v & 0xff)) &* 0x100_0000_01b3; v >>= 8 }
        }
        for d in [train, test] {
            mix(UInt64(d.x.rows)); mix(UInt64(d.x.cols))
            for x in d.x.storage { mix(Double(x).bitPattern) }
            mix(UInt64(d.labels.count))
            for column in d.labels { for y in column { mix(UInt64(bitPattern: Int64(y))) } }
        }
        return String(h, radix: 16)
    }

    /// Loads completed stage `j` from `directory` (the files of the format above), checking every
    /// shape against the run. The model is rebuilt with stage j's architecture and loaded from its
    /// weights; the representations and cluster labels are the stored ones, bit for bit.
    public func loadStage<T: MCLFloat>(_ j: Int, directory: String, configuration c: MCLConfiguration,
                                       train: LabeledData<T>, test: LabeledData<T>) throws -> StageArtifacts<T> {
        precondition(j < stages.count, "loadStage: stage \(j) is not completed")
        /// A stored matrix of T; `rows`/`cols` nil accept any size.
        func matrix(_ name: String, rows: Int?, cols: Int?) throws -> Matrix<T> {
            let path = "\(directory)/\(name)"
            let m: Matrix<T>
            do {
                let a = try NPY.read(path)
                let want: NPYDType = T.self == Float.self ? .float32 : .float64
                guard a.dtype == want else { throw CheckpointError(path: path, "holds \(a.dtype.descr), expected \(want.descr)") }
                m = try a.asMatrix(T.self, vectorAsColumn: false)
            } catch let e as NPYError {
                throw CheckpointError(path: path, "unreadable (\(e.message))")
            }
            guard rows.map({ m.rows == $0 }) ?? true, cols.map({ m.cols == $0 }) ?? true else {
                throw CheckpointError(path: path, "holds \(m.rows)×\(m.cols), expected \(rows ?? m.rows)×\(cols ?? m.cols)")
            }
            return m
        }
        func ints(_ name: String, count: Int, below: Int?) throws -> [Int] {
            let path = "\(directory)/\(name)"
            let values: [Int]
            do {
                values = try NPY.readIntArray(path).values
            } catch let e as NPYError {
                throw CheckpointError(path: path, "unreadable (\(e.message))")
            }
            guard values.count == count, values.allSatisfy({ $0 >= 0 && $0 < (below ?? Int.max) }) else {
                throw CheckpointError(path: path, "expected \(count) labels in 0..<\(below.map(String.init) ?? "∞")")
            }
            return values
        }
        let r = c.representationWidth
        let z = try matrix("stage\(j)_representations.npy", rows: train.count, cols: r)
        let zTest = try matrix("stage\(j)_test_representations.npy", rows: test.count, cols: r)
        let labels = try ints("stage\(j)_cluster_labels.npy", count: train.count, below: c.clusters)
        let centroids = try matrix("stage\(j)_centroids.npy", rows: c.clusters, cols: r)
        let pseudo = try ints("pseudo_labels_stage\(j).npy", count: train.count, below: nil)
        var (model, _) = StageTrainer<T>(configuration: c).initialModel(sampleShape: train.sampleShape, stream: 1000 + UInt64(j))
        var state: NamedMatrices<T> = []
        for (name, expected) in model.stateDict() {
            let file = "stage\(j)_weights/\(name).npy"
            var m = try matrix(file, rows: nil, cols: nil)
            guard m.count == expected.count else {
                throw CheckpointError(path: "\(directory)/\(file)", "holds \(m.count) values, the model needs \(expected.count)")
            }
            m = Matrix(rows: expected.rows, cols: expected.cols, storage: m.storage)
            state.append((name, m))
        }
        do {
            try model.loadStateDict(state)
        } catch {
            throw CheckpointError(path: "\(directory)/stage\(j)_weights", "cannot load the weights (\(error))")
        }
        let k = clusterings[j]
        let run = _LloydRun(centroids: centroids.converted(to: Double.self), labels: labels, inertia: stages[j].inertia,
                            iterations: k.iterations, converged: k.converged, strict: k.strictConvergence)
        let clustering = KMeansResult<T>(run: run, restart: k.restart, absoluteTolerance: k.absoluteTolerance,
                                         normalizeRows: true)
        return StageArtifacts(stage: j, model: model, trainRepresentations: z, testRepresentations: zTest,
                              clustering: clustering, pseudoLabels: pseudo, report: stages[j])
    }
}

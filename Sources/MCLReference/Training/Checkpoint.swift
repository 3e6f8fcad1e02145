import Foundation

// MARK: - checkpoint.json, the index of a run directory
//
// The files of a `train --out` directory and the order they are written in are owned by
// `RunDirectory` (Sources/MCLReference/Run/RunDirectory.swift; the layout is documented in
// docs/RUN-DIRECTORY.md). `checkpoint.json` lists the completed stages with a checksum of every file
// each one wrote; it is rewritten *last*, after all of stage j's files: it is the commit point.
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

/// The fields every checkpoint has, unimodal or CLIP — format, version, arguments, configuration,
/// data fingerprint, checksum algorithm and the stage list with its count — checked once, in this
/// order, with `kindCheck` (which kind of run may be read) right after the version.
struct CheckpointCommonFields {
    var arguments: [String]
    var configuration: JSONValue
    var dataFingerprint: String
    var stageList: [JSONValue]

    /// The leading fields of `checkpoint.json`, in file order (each kind appends its own, then
    /// `checksum` and `stages`).
    static func json(completedStages: Int, arguments: [String], configuration: JSONValue, dataFingerprint: String,
                     sampleShape: [Int], standardization: String, inputFiles: JSONValue) -> [(String, JSONValue)] {
        [
            ("format", .string("mcl-ref checkpoint")),
            ("format_version", .number(Double(MCLCheckpoint.formatVersion))),
            ("completed_stages", .number(Double(completedStages))),
            ("arguments", .array(arguments.map { .string($0) })),
            ("configuration", configuration),
            ("data_fingerprint", .string(dataFingerprint)),
            ("input", .object([("sample_shape", .array(sampleShape.map { .number(Double($0)) })),
                               ("standardization", .string(standardization)), ("files", inputFiles)])),
        ]
    }

    init(json: JSONValue, fail: (String) -> CheckpointError, kindCheck: () throws -> Void) throws {
        guard json["format"]?.stringValue == "mcl-ref checkpoint" else { throw fail("not an mcl-ref checkpoint") }
        guard let version = json["format_version"]?.intValue else { throw fail("missing or non-integer 'format_version'") }
        guard version == MCLCheckpoint.formatVersion else {
            throw fail("checkpoint format_version \(version) is not supported (this mcl-ref reads \(MCLCheckpoint.formatVersion))")
        }
        try kindCheck()
        guard let args = json["arguments"]?.arrayValue, args.allSatisfy({ $0.stringValue != nil }) else {
            throw fail("missing or invalid 'arguments' (a list of strings)")
        }
        arguments = args.map { $0.stringValue! }
        guard let conf = json["configuration"], case .object = conf else { throw fail("missing 'configuration' object") }
        configuration = conf
        guard let fp = json["data_fingerprint"]?.stringValue else { throw fail("missing 'data_fingerprint'") }
        dataFingerprint = fp
        guard json["checksum"]?.stringValue == FileChecksum.algorithm else {
            throw fail("missing 'checksum' or not '\(FileChecksum.algorithm)'")
        }
        guard let list = json["stages"]?.arrayValue else { throw fail("missing or non-list 'stages'") }
        guard json["completed_stages"]?.intValue == list.count else {
            throw fail("'completed_stages' disagrees with the \(list.count) listed stages")
        }
        stageList = list
    }
}

/// The contents of `checkpoint.json`.
public struct MCLCheckpoint: Sendable {
    public static let fileName = RunDirectory.File.checkpoint
    /// 2: PyTorch-shaped weights, `stage<j>.safetensors`, the input's shape and standardisation, and a
    /// checksum of every stage file (1: none of these; not readable by this version).
    public static let formatVersion = 2

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
    /// The shape of one input sample: [D] for vectors, [C, H, W] for images.
    public var sampleShape: [Int]
    /// How the inputs were standardised: "none", or `InputStandardization.kind` (μ and σ are files).
    public var standardization: String
    /// Checksums (`FileChecksum`) of the files written when the run started, by relative path.
    public var inputFiles: [String: String]
    /// Per completed stage, the checksum of every file it wrote, by relative path.
    public var stageFiles: [[String: String]]

    /// What a resumed `KMeansResult` cannot rebuild from the .npy files.
    public struct ClusteringRecord: Sendable, Equatable {
        public var iterations: Int
        public var converged: Bool
        public var strictConvergence: Bool
        public var restart: Int
        public var absoluteTolerance: Double
    }

    public init(arguments: [String], configuration: JSONValue, dataFingerprint: String, sampleShape: [Int],
                standardization: String = "none", inputFiles: [String: String] = [:]) {
        self.arguments = arguments; self.configuration = configuration; self.dataFingerprint = dataFingerprint
        self.sampleShape = sampleShape; self.standardization = standardization; self.inputFiles = inputFiles
        self.stages = []; self.clusterings = []; self.stageFiles = []
    }

    /// Records stage `s` as completed with the checksums of the files it wrote (stages must be
    /// recorded in order).
    public mutating func record<T>(_ s: StageArtifacts<T>, files: [String: String]) {
        precondition(s.stage == stages.count, "checkpoint: stage \(s.stage) recorded after \(stages.count) stages")
        stageFiles.append(files)
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
        func checksums(_ files: [String: String]) -> JSONValue {
            .object(files.keys.sorted().map { ($0, .string(files[$0]!)) })
        }
        let stageList: [JSONValue] = zip(zip(stages, clusterings), stageFiles).map { sk, files in
            let (s, k) = sk
            return .object([
                ("stage", .number(Double(s.stage))), ("loss", .number(s.loss)),
                ("alone", scores(s.alone)), ("integrated", scores(s.integrated)),
                ("groups", .number(Double(s.groups))), ("untrained_samples", .number(Double(s.untrainedSamples))),
                ("inertia", .number(s.inertia)), ("seconds", .number(s.seconds)),
                ("kmeans_iterations", .number(Double(k.iterations))), ("kmeans_converged", .bool(k.converged)),
                ("kmeans_strict", .bool(k.strictConvergence)), ("kmeans_restart", .number(Double(k.restart))),
                ("kmeans_absolute_tolerance", .number(k.absoluteTolerance)),
                ("files", checksums(files)),
                ("loss_per_epoch", .array(s.epochLosses.map { .number($0) })),
                ("cluster_sizes", .array(s.clusterSizes.map { .number(Double($0)) })),
                ("group_sizes", .array(s.groupSizes.map { .number(Double($0)) })),
            ])
        }
        return .object(CheckpointCommonFields.json(completedStages: stages.count, arguments: arguments,
                                                   configuration: configuration, dataFingerprint: dataFingerprint,
                                                   sampleShape: sampleShape, standardization: standardization,
                                                   inputFiles: checksums(inputFiles)) + [
            ("checksum", .string(FileChecksum.algorithm)),
            ("stages", .array(stageList)),
        ])
    }

    /// Parses a checkpoint; every problem is a `CheckpointError` naming `path` and the field.
    public init(json: JSONValue, path: String) throws {
        func fail(_ problem: String) -> CheckpointError { CheckpointError(path: path, problem) }
        let common = try CheckpointCommonFields(json: json, fail: fail) {
            guard !CLIPCheckpoint.isCLIP(json) else {
                throw fail("is the checkpoint of a CLIP run (train --method clip): 'mcl-ref train --resume DIR' continues it; "
                    + "this reads unimodal runs (simclr, moco, byol, barlow) only")
            }
        }
        (arguments, configuration, dataFingerprint) = (common.arguments, common.configuration, common.dataFingerprint)
        func checksums(_ value: JSONValue?, _ context: String) throws -> [String: String] {
            guard let pairs = value?.objectValue, pairs.allSatisfy({ $0.1.stringValue != nil }) else {
                throw fail("\(context): missing or invalid 'files' (an object of file → checksum)")
            }
            return Dictionary(pairs.map { ($0.0, $0.1.stringValue!) }, uniquingKeysWith: { a, _ in a })
        }
        guard let input = json["input"], let shape = input["sample_shape"]?.arrayValue?.compactMap({ $0.intValue }),
              !shape.isEmpty, shape.count == input["sample_shape"]?.arrayValue?.count, shape.allSatisfy({ $0 > 0 }),
              let kind = input["standardization"]?.stringValue else {
            throw fail("missing or invalid 'input' (sample_shape, standardization)")
        }
        sampleShape = shape
        standardization = kind
        inputFiles = try checksums(input["files"], "input")
        let list = common.stageList
        stages = []
        clusterings = []
        stageFiles = []
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
            stageFiles.append(try checksums(item["files"], context))
        }
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
}

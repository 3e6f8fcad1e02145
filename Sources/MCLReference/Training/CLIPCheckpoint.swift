import Foundation

// MARK: - checkpoint.json of a CLIP run
//
// A CLIP run directory (`train --method clip --out DIR`, `CLIPRunDirectory`) has the same frame as a
// unimodal one (docs/RUN-DIRECTORY.md): "format", "format_version" 2, the run-defining "arguments",
// the "configuration" (here with "method": "clip" — what tells the two kinds apart), a
// "data_fingerprint", the "input" and, per completed stage, its record and a checksum of every file it
// wrote. It is rewritten last, after all of a stage's files: the commit point.
//
// Why no optimiser or RNG state, as for the other methods (Checkpoint.swift): every CLIP stage trains
// with a fresh optimiser; stage j draws its sampler seed (and, at stage 0, its initial weights) from
// `RNG(seed, stream: RNGStream.stageTraining(j))` and its K-means from `RNGStream.kmeans(j)`; a later
// stage starts from the **stage-0 weights** (both towers and θ), which are in `stage0.safetensors`
// bit for bit (float32). So a run resumed at a stage boundary needs only the completed stages' models,
// cluster labels (Eq. 2 for later stages) and embeddings — all stored exactly.

/// The contents of a CLIP run's `checkpoint.json`.
public struct CLIPCheckpoint: Sendable {
    /// The `train` options that define the run (data paths absolute), so `--resume` can rebuild it.
    public var arguments: [String]
    /// `MCLConfiguration.json` of the run (method "clip", trainable_layers, …): checked again on resume.
    public var configuration: JSONValue
    /// `fingerprint(train:test:)` of the pairs the run trains and evaluates on.
    public var dataFingerprint: String
    /// One image, [C, H, W] (or [D] for vectors).
    public var sampleShape: [Int]
    /// The text tower's architecture: V (vocabulary), W (word width), H (hidden width).
    public var vocabularySize: Int, wordWidth: Int, textHidden: Int
    /// The first stage whose text tower is locked (stage 0's, no update): 1, as the paper.
    public var textLockedFromStage: Int = 1
    /// The completed stages 0..<stages.count.
    public var stages: [Stage]

    /// What a completed stage leaves besides its files.
    public struct Stage: Sendable, Equatable {
        public var stage: Int
        public var epochLosses: [Double]
        /// s = exp(θ) after the stage (θ itself is `logit_scale` in the stage's safetensors).
        public var logitScale: Double
        public var groups: Int
        public var seconds: Double
        public var inertia: Double
        public var kmeans: MCLCheckpoint.ClusteringRecord
        /// The checksum (`FileChecksum`) of every file the stage wrote, by relative path.
        public var files: [String: String]
    }

    public init(arguments: [String], configuration: JSONValue, dataFingerprint: String, sampleShape: [Int],
                vocabularySize: Int, wordWidth: Int, textHidden: Int) {
        self.arguments = arguments; self.configuration = configuration; self.dataFingerprint = dataFingerprint
        self.sampleShape = sampleShape; self.vocabularySize = vocabularySize; self.wordWidth = wordWidth
        self.textHidden = textHidden; self.stages = []
    }

    /// Whether a parsed `checkpoint.json` is a CLIP run's (its configuration's method is "clip").
    public static func isCLIP(_ json: JSONValue) -> Bool {
        json["configuration"]?["method"]?.stringValue == ContrastiveMethod.clip.rawValue
    }

    public var json: JSONValue {
        let list: [JSONValue] = stages.map { s in
            .object([
                ("stage", .number(Double(s.stage))), ("loss_per_epoch", .array(s.epochLosses.map { .number($0) })),
                ("logit_scale", .number(s.logitScale)), ("groups", .number(Double(s.groups))), ("seconds", .number(s.seconds)),
                ("inertia", .number(s.inertia)),
                ("kmeans_iterations", .number(Double(s.kmeans.iterations))), ("kmeans_converged", .bool(s.kmeans.converged)),
                ("kmeans_strict", .bool(s.kmeans.strictConvergence)), ("kmeans_restart", .number(Double(s.kmeans.restart))),
                ("kmeans_absolute_tolerance", .number(s.kmeans.absoluteTolerance)),
                ("files", .object(s.files.keys.sorted().map { ($0, .string(s.files[$0]!)) })),
            ])
        }
        return .object(CheckpointCommonFields.json(completedStages: stages.count, arguments: arguments,
                                                   configuration: configuration, dataFingerprint: dataFingerprint,
                                                   sampleShape: sampleShape, standardization: "none",
                                                   inputFiles: .object([])) + [
            ("text_tower", .object([("vocabulary_size", .number(Double(vocabularySize))),
                                    ("word_width", .number(Double(wordWidth))), ("hidden_width", .number(Double(textHidden))),
                                    ("locked_from_stage", .number(Double(textLockedFromStage)))])),
            ("checksum", .string(FileChecksum.algorithm)),
            ("stages", .array(list)),
        ])
    }

    /// Parses a CLIP checkpoint; every problem (a unimodal run's checkpoint included) is a
    /// `CheckpointError` naming `path` and the field.
    public init(json: JSONValue, path: String) throws {
        func fail(_ problem: String) -> CheckpointError { CheckpointError(path: path, problem) }
        let common = try CheckpointCommonFields(json: json, fail: fail) {
            guard Self.isCLIP(json) else {
                throw fail("is the checkpoint of a \(json["configuration"]?["method"]?.stringValue ?? "simclr") run, not of a CLIP run "
                    + "(train --method clip); continue it with 'mcl-ref train --resume DIR' alone")
            }
        }
        (arguments, configuration, dataFingerprint) = (common.arguments, common.configuration, common.dataFingerprint)
        guard let shapeList = json["input"]?["sample_shape"]?.arrayValue, case let shape = shapeList.compactMap({ $0.intValue }),
              !shape.isEmpty, shape.count == shapeList.count, shape.allSatisfy({ $0 > 0 }) else {
            throw fail("missing or invalid 'input.sample_shape'")
        }
        sampleShape = shape
        func positive(_ object: JSONValue?, _ key: String, _ context: String) throws -> Int {
            guard let v = object?[key]?.intValue, v >= 0 else { throw fail("\(context): missing or invalid '\(key)'") }
            return v
        }
        let text = json["text_tower"]
        vocabularySize = try positive(text, "vocabulary_size", "text_tower")
        wordWidth = try positive(text, "word_width", "text_tower")
        textHidden = try positive(text, "hidden_width", "text_tower")
        textLockedFromStage = try positive(text, "locked_from_stage", "text_tower")
        let list = common.stageList
        stages = []
        for (j, item) in list.enumerated() {
            let context = "stages[\(j)]"
            func number(_ key: String) throws -> Double {
                guard let x = item[key]?.doubleValue, x.isFinite else { throw fail("\(context): missing or non-numeric '\(key)'") }
                return x
            }
            func bool(_ key: String) throws -> Bool {
                guard let x = item[key]?.boolValue else { throw fail("\(context): missing or non-boolean '\(key)'") }
                return x
            }
            guard let losses = item["loss_per_epoch"]?.arrayValue, case let l = losses.compactMap({ $0.doubleValue }),
                  l.count == losses.count else { throw fail("\(context): missing or invalid 'loss_per_epoch'") }
            guard let files = item["files"]?.objectValue, files.allSatisfy({ $0.1.stringValue != nil }) else {
                throw fail("\(context): missing or invalid 'files' (an object of file → checksum)")
            }
            guard try positive(item, "stage", context) == j else { throw fail("\(context): 'stage' is not \(j)") }
            stages.append(Stage(
                stage: j, epochLosses: l, logitScale: try number("logit_scale"), groups: try positive(item, "groups", context),
                seconds: try number("seconds"), inertia: try number("inertia"),
                kmeans: MCLCheckpoint.ClusteringRecord(iterations: try positive(item, "kmeans_iterations", context),
                                                       converged: try bool("kmeans_converged"),
                                                       strictConvergence: try bool("kmeans_strict"),
                                                       restart: try positive(item, "kmeans_restart", context),
                                                       absoluteTolerance: try number("kmeans_absolute_tolerance")),
                files: Dictionary(files.map { ($0.0, $0.1.stringValue!) }, uniquingKeysWith: { a, _ in a })))
        }
    }

    /// A 64-bit FNV-1a hash (hex) of the train and test images, captions and labels, bit for bit: a
    /// resumed run must see exactly the pairs the checkpoint was made with.
    public static func fingerprint<T: MCLFloat>(train: ImageTextData<T>, test: ImageTextData<T>) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ v: UInt64) {
            var v = v
            for _ in 0..<8 { h = (h ^ (v & 0xff)) &* 0x100_0000_01b3; v >>= 8 }
        }
        for d in [train, test] {
            mix(UInt64(d.images.x.rows)); mix(UInt64(d.images.x.cols))
            for x in d.images.x.storage { mix(Double(x).bitPattern) }
            mix(UInt64(d.images.labels.count))
            for column in d.images.labels { for y in column { mix(UInt64(bitPattern: Int64(y))) } }
            mix(UInt64(d.captionLength)); mix(UInt64(d.vocabulary.count))
            for row in d.tokens { for t in row { mix(UInt64(t)) } }
        }
        return String(h, radix: 16)
    }
}

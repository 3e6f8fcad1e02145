import Foundation
import MCLReference

/// Options shared by `train` and `demo` (the MCL hyper-parameters).
let mclOptions: [OptionSpec] = [
    .value("stages", "N", "number of stages N (stage 0 is plain SimCLR); byol and barlow: 1 only, their default", default: "3"),
    .value("clusters", "K", "K-means clusters per stage (clip: 10)", default: "5"),
    .value("method", "NAME", "contrastive method of every stage: simclr | moco (MoCo-v2: momentum key encoder + queue) | byol (predictor + EMA target) | barlow (Barlow Twins) | clip (image–caption pairs, --dataset shapes-captions; see --trainable-layers)", default: "simclr"),
    .value("temperature", "T", "InfoNCE temperature τ, at least 0.01 (default 0.5 for simclr, 0.2 for moco)", default: "0.5"),
    .value("momentum", "M", "moco: key-encoder momentum m, default 0.99 (MoCo-v2 uses 0.999 on ImageNet)"),
    .value("queue-size", "L", "moco: queue length, default 4096, capped at the number of training samples"),
    .value("barlow-lambda", "L", "barlow: weight λ of the off-diagonal term, default 0.005 (the paper's)"),
    .optionalValue("sparse-head", "LAMBDA", "SparseHead: add LAMBDA·‖W‖₂,₁ on the projection head's last Linear weight (alone: the paper's λ)", implicit: "1e-4"),
    .value("epochs", "E", "epochs per stage (clip: 10)", default: "60"),
    .value("batch-size", "B", "samples per batch (2B views; clip: 128 pairs)", default: "256"),
    .value("lr", "LR", "learning rate (clip: 0.002)", default: "0.001"),
    .value("weight-decay", "WD", "weight decay", default: "0"),
    .value("optimizer", "NAME", "sgd | adam | adamw", default: "adam"),
    .value("sampler", "NAME", "feature-aware negatives: mask (Eq. 3) | cluster-batch (official code)", default: "mask"),
    .value("hidden", "LIST", "encoder hidden widths, comma-separated (clip: 256)", default: "128"),
    .value("rep-width", "R", "representation width (encoder output; clip: 64)", default: "16"),
    .value("batch-norm", "on|off", "BatchNorm1d in the encoder's hidden blocks and the projection head", default: "on"),
    .value("noise", "SIGMA", "augmentation: Gaussian noise standard deviation", default: "0.3"),
    .value("feature-dropout", "P", "augmentation: probability of zeroing a coordinate", default: "0"),
    .value("kmeans-restarts", "R", "K-means restarts (k-means++ each)", default: "3"),
    .value("knn", "K", "k of the cosine kNN evaluation", default: "5"),
    .flag("multi-simclr", "also run the Multi-SimCLR ablation (N independent SimCLR encoders)"),
] + baselineOptions + [
    .flag("json", "print exactly one JSON object on stdout (progress stays on stderr)"),
    .flag("quiet", "no progress on stderr"),
]

/// The flag that sets a configuration field the library names in a `TrainingError`.
func flagName(of setting: TrainingError.Setting) -> String {
    switch setting {
    case .learningRate: return "lr"
    case .temperature: return "temperature"
    case .batchSize: return "batch-size"
    case .clusters: return "clusters"
    case .stages: return "stages"
    case .sampler: return "sampler"
    case .encoder: return "encoder"
    case .lossVariant: return "ifm/--debiased"
    case .viewmaker: return "viewmaker"
    }
}
/// The smallest accepted τ. NT-Xent divides cosine similarities in [−1, 1] by τ; at τ = 1e-30 the
/// logits are ±1e30 and the loss ≈ 1e28, numbers with no meaning. At τ = 0.01 the logits span
/// ±100, and Float32's 24-bit significand still resolves similarity differences of 1e-5 between
/// them (100·2⁻²⁴ ≈ 6e-6); SimCLR-style runs use τ from 0.05 to 1.
let minimumTemperature = 0.01

/// Reads the MCL hyper-parameters, validating each (errors name the flag).
func mclConfiguration(_ args: ParsedArguments) throws -> MCLConfiguration {
    var c = MCLConfiguration()
    c.clusters = try args.int("clusters", default: c.clusters, min: 2)!
    c.method = ContrastiveMethod(rawValue: try args.choice("method", ContrastiveMethod.unimodal.map(\.rawValue),
                                                           default: c.method.rawValue))!
    c.stages = try args.int("stages", default: c.method.hasNegatives ? c.stages : 1, min: 1, max: 16)!
    if !c.method.hasNegatives && c.stages > 1 {
        throw CLIError("--stages \(c.stages): --method \(c.method.rawValue) has no negatives, so MCL's feature-aware "
            + "negatives (Eq. 3) do not apply to its later stages; use --stages 1 (or --method simclr|moco)")
    }
    if c.method == .barlow {
        c.barlowLambda = try args.double("barlow-lambda", default: c.barlowLambda) { $0 >= 0 ? nil : "must be ≥ 0" }!
    } else if args.string("barlow-lambda") != nil {
        throw CLIError("--barlow-lambda applies to --method barlow only")
    }
    c.sparseHeadLambda = try args.double("sparse-head") { $0 >= 0 ? nil : "must be ≥ 0" }
    c.temperature = try args.double("temperature", default: c.method.defaultTemperature) {
        $0 > 0 ? ($0 >= minimumTemperature ? nil : "must be at least \(minimumTemperature) (logits s/τ of cosine "
            + "similarities s ∈ [−1, 1] must stay within ±\(Int(1 / minimumTemperature)) to be resolved in Float32)")
               : "must be > 0"
    }!
    if c.method == .moco {
        c.mocoMomentum = try args.double("momentum", default: c.mocoMomentum) { $0 >= 0 && $0 < 1 ? nil : "must be in [0, 1)" }!
        c.queueLength = try args.int("queue-size", default: c.queueLength, min: 1)!
    } else if let flag = ["momentum", "queue-size"].first(where: { args.string($0) != nil }) {
        throw CLIError("--\(flag) applies to --method moco only")
    }
    c.epochs = try args.int("epochs", default: c.epochs, min: 1)!
    c.batchSize = try args.int("batch-size", default: c.batchSize, min: 2)!
    c.learningRate = try args.double("lr", default: c.learningRate) { $0 > 0 ? nil : "must be > 0" }!
    c.weightDecay = try args.double("weight-decay", default: c.weightDecay) { $0 >= 0 ? nil : "must be ≥ 0" }!
    c.optimizer = OptimizerKind(rawValue: try args.choice("optimizer", OptimizerKind.allCases.map(\.rawValue),
                                                          default: c.optimizer.rawValue))!
    c.sampler = NegativeSamplingStrategy(rawValue: try args.choice(
        "sampler", NegativeSamplingStrategy.allCases.map(\.rawValue), default: c.sampler.rawValue))!
    c.encoderHidden = try args.intList("hidden", min: 1) ?? c.encoderHidden
    c.representationWidth = try args.int("rep-width", default: c.representationWidth, min: 1)!
    c.batchNorm = try args.choice("batch-norm", ["on", "off"], default: c.batchNorm ? "on" : "off") == "on"
    let noise = try args.double("noise", default: 0.3) { $0 >= 0 ? nil : "must be ≥ 0" }!
    let dropout = try args.double("feature-dropout", default: 0) { $0 >= 0 && $0 < 1 ? nil : "must be in [0, 1)" }!
    c.augmentation = VectorAugmentation(noiseStd: noise, dropout: dropout)
    c.kmeansRestarts = try args.int("kmeans-restarts", default: c.kmeansRestarts, min: 1)!
    c.knnK = try args.int("knn", default: c.knnK, min: 1)!
    c.multiSimCLR = args.has("multi-simclr")
    c.seed = try args.uint64("seed", default: 0)
    try readBaselineOptions(args, into: &c)
    return c
}

/// Where the data comes from: a built-in set or the user's arrays (`train` and `trace`).
let dataOptions: [OptionSpec] = [
        .value("dataset", "NAME", "built-in data: \(builtInDatasets.joined(separator: ", "))", default: "easy-hard"),
        .value("samples", "N", "built-in data: train samples (the test set has as many)", default: "2048"),
        .value("data", "X.npy", "your samples, float32/float64 of shape (N, D), or images (N, C, H, W)"),
        .value("labels", "Y.npy", "your labels, integer of shape (N,) or (N, F)"),
        .value("feature-names", "A,B", "names of the label columns"),
        .value("test-fraction", "F", "held-out fraction of --data", default: "0.5"),
        .value("test-data", "X.npy", "a separate held-out set (instead of --test-fraction)"),
        .value("test-labels", "Y.npy", "labels of --test-data"),
        .flag("no-standardize", "do not standardise user data"),
]

/// Built-in data sets by name.
let builtInDatasets = DataPreparation.vectorSets + DataPreparation.imageSets

/// The train and test sets a command runs on: the options resolved into a `DataSource` (every
/// option combination checked here, where the flags are known), then prepared by the library
/// (DataPreparation.swift: generation, reading, label encoding, hold-out, standardisation).
func loadTrainTest(_ args: ParsedArguments, seed: UInt64) throws -> (LabeledData<Float>, LabeledData<Float>, String) {
    let source = try dataSource(args)
    do {
        let p = try DataPreparation.prepare(source, seed: seed, as: Float.self)
        return (p.train, p.test, p.source)
    } catch let e as DataError where e.setting == .featureNames {
        throw CLIError("--feature-names: " + e.message)
    }
}

/// The data options as a `DataSource`; options that do nothing or contradict each other are refused.
func dataSource(_ args: ParsedArguments) throws -> DataSource {
    try refuseDataOptionsWithoutEffect(args)
    let dataPath = args.string("data"), dataset = args.string("dataset")
    if dataPath != nil && dataset != nil { throw CLIError("--dataset and --data are mutually exclusive") }
    guard let dataPath else {
        if args.string("test-fraction") != nil {
            throw CLIError("--test-fraction applies to --data only (a built-in data set has its own test set)")
        }
        let name = try args.choice("dataset", builtInDatasets, default: "easy-hard")
        let n = try args.int("samples", default: 2048, min: 2)!
        let size = try args.int("size", default: 16)!
        let isImage = builtInImageDatasets.contains(name)
        if isImage && size != 16 && size != 32 { throw CLIError("--size: must be 16 or 32, got \(size)") }
        try checkBuiltInSize(samples: n, valuesPerSample: isImage
            ? (name == "trifeature" ? 3 : 3 + CifarMnistLike.digitCopies) * size * size : 32)
        return .builtIn(name: name, samples: n, imageSize: size)
    }
    guard let labelsPath = args.string("labels") else { throw CLIError("--data needs --labels Y.npy") }
    var files = UserFiles(data: dataPath, labels: labelsPath, featureNames: try featureNamesOption(args),
                          standardize: !args.has("no-standardize"), images: try userDataAreImages(args, dataPath: dataPath))
    if let testPath = args.string("test-data") {
        guard let testLabels = args.string("test-labels") else { throw CLIError("--test-data needs --test-labels") }
        if args.string("test-fraction") != nil { throw CLIError("--test-fraction and --test-data are mutually exclusive") }
        files.testData = testPath
        files.testLabels = testLabels
    } else {
        files.testFraction = try args.double("test-fraction", default: 0.5) { $0 > 0 && $0 < 1 ? nil : "must be in (0, 1)" }!
    }
    return .files(files)
}

/// Checks the data against the run's settings before anything is trained or written.
func validate(_ train: LabeledData<Float>, _ c: MCLConfiguration, source: String) throws {
    if train.count < c.batchSize {
        throw CLIError("\(source): \(train.count) training samples are fewer than one batch (--batch-size \(c.batchSize))")
    }
    if train.count < c.clusters {
        throw CLIError("\(source): \(train.count) training samples are fewer than --clusters \(c.clusters)")
    }
    if train.count < c.knnK {
        throw CLIError("\(source): \(train.count) training samples are fewer than the neighbours of --knn \(c.knnK)")
    }
    try checkStepCount(samples: train.count, batchSize: c.batchSize, epochs: c.epochs)
    try checkStageBudget(c, trainCount: train.count)
    try checkModelSize(c, sampleShape: train.sampleShape)
}

/// The warnings of a run, in the order they were given (written into report.json and `--json`).
final class WarningLog {
    var messages: [String] = []
    var json: JSONValue {
        .object([("count", .number(Double(messages.count))), ("messages", .array(messages.map { .string($0) }))])
    }
}

/// Prints training events on stderr.
/// Warnings (`warning: …` notes) are also kept in `warnings`, for the report.
func progressHandler(_ printer: ProgressPrinter, warnings: WarningLog? = nil) -> (TrainingEvent) -> Void {
    return { event in
        switch event {
        case let .epoch(stage, epoch, epochs, loss, rate):
            printer.update(String(format: "%@  epoch %d/%d  loss %.4f  %.0f samples/s", stage, epoch, epochs, loss, rate))
        case let .note(text):
            if text.hasPrefix("warning: ") {
                printer.warn(text)
                warnings?.messages.append(String(text.dropFirst("warning: ".count)))
            } else {
                printer.log("note: " + text)
            }
        case let .stageFinished(r):
            printer.log(String(format: "stage %d done in %.1f s  loss %.4f  groups %d", r.stage, r.seconds, r.loss, r.groups))
        }
    }
}

let trainCommand = CommandSpec(
    words: ["train"],
    summary: "Run Multistage Contrastive Learning on a built-in data set or your own .npy arrays.",
    discussion: """
    Trains N stages (stage 0 = SimCLR; stage j restricts negatives to the anchor's pseudo-label group
    from the clusterings of stages 0..j-1), then reports linear-probe and kNN accuracy per feature for
    each stage alone and for the concatenation of stages 0..j. User data: --data X.npy (N, D) float,
    --labels Y.npy (N,) or (N, F) integer; inputs are standardised with train statistics unless
    --no-standardize. Images: --dataset trifeature|cifar-mnist-like, or --data X.npy (N, C, H, W)
    with --encoder cnn (standardised per channel).
    """,
    options: dataOptions + [
        .value("out", "DIR", "write representations, clusters, pseudo labels, weights and report.json; a checkpoint after every stage"),
        .value("resume", "DIR", "continue the run in DIR (a 'train --out DIR' that was stopped) from its last complete stage"),
    ] + imageOptions + mclOptions + clipOptions + clipTrainOptions,
    run: runTrain
)

func runTrain(_ given: ParsedArguments) throws -> Int32 {
    if let directory = given.string("resume") {
        // The kind of run (CLIP or unimodal) is the checkpoint's, never the command line's.
        let json = try RunDirectory(directory).checkpointJSON()
        if let method = given.string("method") {
            let stored = json["configuration"]?["method"]?.stringValue ?? ContrastiveMethod.simclr.rawValue
            throw CLIError("--method \(method) cannot be combined with --resume: \(directory) holds a \(stored) run, and its "
                + "settings are read from \(directory)/\(MCLCheckpoint.fileName); resume it with 'mcl-ref train --resume \(directory)'")
        }
        if CLIPCheckpoint.isCLIP(json) { return try runCLIPTrain(given) }
    } else if given.string("method") == ContrastiveMethod.clip.rawValue {
        return try runCLIPTrain(given)
    }
    let resume = try prepareResume(given)
    let args = resume?.arguments ?? given
    try refuseCLIPOnlyOptions(args, extra: ["tokens"], context: "--method clip")
    var c = try mclConfiguration(args)
    let out = try outOption(args)
    if let out {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDir), !isDir.boolValue {
            throw CLIError("--out: '\(out)' exists and is not a directory")
        }
        if resume == nil { try refuseExistingRun(in: out) }
    }
    let (train, test, source) = try loadTrainTest(args, seed: c.seed)
    try applyImageOptions(args, &c, data: train, source: source)
    try validate(train, c, source: source)
    let runDirectory = out.map(RunDirectory.init)
    let completed = try resume.map { try $0.run.resume($0.checkpoint, configuration: c, train: train, test: test) } ?? []
    var checkpoint = try resume?.checkpoint ?? runDirectory.map {
        try $0.start(arguments: checkpointArguments(args), configuration: c, train: train, test: test)
    }
    let printer = ProgressPrinter(quiet: args.has("quiet"))
    let warnings = WarningLog()
    let provenance = Provenance(args: args, train: train, test: test, source: source)
    printer.log("mcl-ref train: \(source), \(train.count) train / \(test.count) test samples, "
        + "features \(train.featureNames.joined(separator: ", ")), seed \(c.seed), threads \(Parallel.maxThreads)")
    if let resume {
        printer.log("resuming \(resume.directory): \(completed.count) of \(c.stages) stages complete")
    }
    let run = try MultistageContrastiveLearning<Float>(configuration: c).run(
        train: train, test: test, progress: progressHandler(printer, warnings: warnings), resuming: completed,
        stageCompleted: { stage in
            try runDirectory?.commit(stage, to: &checkpoint!)  // its files, then checkpoint.json
        })
    let report = withProvenance(run.report.json, provenance, warnings: warnings.messages)
    try runDirectory?.finish(run, report: report)
    if args.has("json") {
        print(report.serialized())
    } else {
        print(run.report.table, terminator: "")
        if let out { print("wrote \(out)/") }
    }
    return 0
}

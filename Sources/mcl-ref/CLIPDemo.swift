import Foundation
import MCLNumerics
import MCLReference

/// CLIP's own options (`train --method clip` and `demo --clip`).
let clipOptions: [OptionSpec] = [
    .value("trainable-layers", "N", "clip, stages ≥ 1: only the last N parameterised layers (Conv2d, Linear, BatchNorm) of the image tower train (default: all)"),
    .value("mmvp-threshold", "C", "clip evaluation: least stage-0 image cosine of an MMVP pair", default: "0.8"),
    .value("mmvp-pairs", "N", "clip evaluation: at most N MMVP pairs per attribute", default: "50"),
]

/// `train`'s own CLIP option: the captions of user images.
let clipTrainOptions: [OptionSpec] = [
    .value("tokens", "T.npy", "clip with --data IMAGES.npy (N, C, H, W): caption token ids (N, L), 0 = padding; --labels optional (evaluation)"),
]

/// `demo`'s options for --clip.
let clipDemoOptions: [OptionSpec] = [
    .flag("clip", "run the CLIP demo (two towers on shapes-captions, MMVP-style pairs; paper Table 3) instead; its defaults: 2000 train / 1000 test pairs, 3 stages, K = 10, 10 epochs, batch 128, Adam 2e-3"),
    .value("encoder", "NAME", "clip: image tower mlp | cnn", default: "cnn"),
    .flag("no-control", "clip: skip the control column 'continued' (stage 0 trained on like stage 1, without pseudo labels)"),
] + clipOptions

/// The CLIP demo's defaults where they differ from `train`'s (chosen by the runs in README).
enum CLIPDemoDefaults {
    static let samples = 2000
    static let testSamples = 1000
    static let stages = 3
    static let clusters = 10
    static let epochs = 10
    static let batchSize = 128
    static let learningRate = 2e-3
}

/// The MCL settings of a CLIP run from the command line: `mclConfiguration`'s shared flags that apply
/// to CLIP (the unimodal-only ones are refused), CLIP's defaults where a flag is not given.
func clipConfiguration(_ args: ParsedArguments, sampleShape: [Int]) throws -> MCLConfiguration {
    // Unimodal options that would do nothing in a CLIP run are refused, each with its reason.
    let reasons: [(flags: [String], why: String)] = [
        (["temperature", "temperature-schedule"], "its temperature is the learnable logit scale, init 1/0.07"),
        (["momentum", "queue-size", "barlow-lambda", "multi-simclr"], "they belong to the unimodal methods"),
        (["ifm", "ifm-alpha", "debiased", "sparse-head"], "the CLIP loss has no such variant here"),
        (["noise", "feature-dropout", "image-augmentation", "viewmaker"], "CLIP does not augment: the caption is each image's positive"),
        (["knn"], "CLIP is evaluated by MMVP pairs, zero-shot and linear probes, not kNN"),
    ]
    for (flags, why) in reasons {
        if let flag = flags.first(where: { args.string($0) != nil || args.has($0) }) {
            throw CLIError("--\(flag) does not apply to CLIP (\(why))")
        }
    }
    var c = MCLConfiguration()
    c.method = .clip
    c.stages = try args.int("stages", default: CLIPDemoDefaults.stages, min: 1, max: 16)!
    c.clusters = try args.int("clusters", default: CLIPDemoDefaults.clusters, min: 2)!
    c.epochs = try args.int("epochs", default: CLIPDemoDefaults.epochs, min: 1)!
    c.batchSize = try args.int("batch-size", default: CLIPDemoDefaults.batchSize, min: 2)!
    c.learningRate = try args.double("lr", default: CLIPDemoDefaults.learningRate) { $0 > 0 ? nil : "must be > 0" }!
    c.weightDecay = try args.double("weight-decay", default: 0) { $0 >= 0 ? nil : "must be ≥ 0" }!
    c.optimizer = OptimizerKind(rawValue: try args.choice("optimizer", OptimizerKind.allCases.map(\.rawValue), default: "adam"))!
    c.sampler = NegativeSamplingStrategy(rawValue: try args.choice(
        "sampler", NegativeSamplingStrategy.allCases.map(\.rawValue), default: c.sampler.rawValue))!
    c.trainableLayers = try args.int("trainable-layers", min: 1)
    if c.stages == 1, let flag = ["trainable-layers", "sampler"].first(where: { args.string($0) != nil }) {
        throw CLIError("--\(flag) applies to the MCL stages ≥ 1 (text locked, pseudo labels); with --stages 1 it does nothing")
    }
    c.kmeansRestarts = try args.int("kmeans-restarts", default: c.kmeansRestarts, min: 1)!
    c.encoderHidden = try args.intList("hidden", min: 1) ?? [256]
    c.representationWidth = try args.int("rep-width", default: 64, min: 1)!
    c.headHidden = 128
    c.embeddingWidth = 32
    c.batchNorm = try args.choice("batch-norm", ["on", "off"], default: "on") == "on"
    let isImage = sampleShape.count == 3
    c.encoder = EncoderKind(rawValue: try args.choice("encoder", EncoderKind.allCases.map(\.rawValue), default: isImage ? "cnn" : "mlp"))!
    c.convWidths = try args.intList("conv-widths", min: 1) ?? [16, 32, 64]
    if c.encoder == .mlp && args.string("conv-widths") != nil {
        throw CLIError("--conv-widths applies to --encoder cnn only (this image tower is an MLP)")
    }
    c.seed = try args.uint64("seed", default: 0)
    do {
        try c.validateInput(sampleShape: sampleShape)
    } catch let e as TrainingError {
        throw CLIError("--encoder: \(e.message)")
    }
    return c
}

/// CLIP's own options, refused outside a CLIP run (`train` without `--method clip`, `demo` without
/// `--clip`), where they would do nothing. `extra`: the command's other CLIP-only options.
func refuseCLIPOnlyOptions(_ args: ParsedArguments, extra: [String], context: String) throws {
    if let flag = (["trainable-layers", "mmvp-threshold", "mmvp-pairs"] + extra).first(where: { args.string($0) != nil || args.has($0) }) {
        throw CLIError("--\(flag) applies to \(context) only")
    }
}

/// The zero-shot prompts of the built-in set: prompts[a][k] names value k of attribute a.
func shapesCaptionsPrompts() -> [[[Int]]] {
    ShapesCaptions.valueNames.indices.map { a in
        ShapesCaptions.valueNames[a].indices.map { k in ShapesCaptions.prompt(attribute: a, value: k) }
    }
}

/// `demo --clip`: pretraining + MCL stages of CLIP on `shapes-captions`, per seed; the paper's
/// Table 3 layout for MMVP pair accuracy, zero-shot and probe accuracy per attribute.
func runCLIPDemo(_ args: ParsedArguments) throws -> Int32 {
    for flag in ["report", "method", "dataset", "data", "seed", "images", "baselines", "quick", "taus"]
    where args.string(flag) != nil || args.has(flag) {
        throw CLIError("--\(flag) does not apply to demo --clip" + (flag == "seed" ? " (it takes --seeds LIST)" : ""))
    }
    let seeds = try args.intList("seeds", min: 0) ?? demoDefaultSeeds
    if seeds.isEmpty { throw CLIError("--seeds: expected at least one seed") }
    let n = try args.int("samples", default: CLIPDemoDefaults.samples, min: 2)!
    let size = try args.int("size", default: 16, min: 16)!
    if size != 16 && size != 32 { throw CLIError("--size \(size): expected 16 or 32") }
    var c = try clipConfiguration(args, sampleShape: [3, size, size])
    if n < c.batchSize { throw CLIError("--samples \(n) is fewer than one batch (--batch-size \(c.batchSize))") }
    try checkBuiltInSize(samples: n + CLIPDemoDefaults.testSamples, valuesPerSample: 3 * size * size)
    let threshold = try args.double("mmvp-threshold", default: 0.8) { $0 >= -1 && $0 <= 1 ? nil : "must be in [-1, 1]" }!
    let maxPairs = try args.int("mmvp-pairs", default: 50, min: 1)!
    let printer = ProgressPrinter(quiet: args.has("quiet"))
    let start = DispatchTime.now().uptimeNanoseconds
    var runs: [(seed: Int, eval: CLIPEvaluation, seconds: Double)] = []
    for (i, seed) in seeds.enumerated() {
        let began = DispatchTime.now().uptimeNanoseconds
        c.seed = UInt64(seed)
        printer.log("demo --clip: seed \(seed) (\(i + 1) of \(seeds.count)), shapes-captions \(n) train / "
            + "\(CLIPDemoDefaults.testSamples) test pairs, \(c.stages) stages, K = \(c.clusters), threads \(Parallel.maxThreads)")
        let all = ShapesCaptions.make(count: n + CLIPDemoDefaults.testSamples, size: size, seed: UInt64(seed), as: Float.self)
        let train = all.subset(Array(0..<n)), test = all.subset(Array(n..<all.count))
        let trainer = CLIPTrainer<Float>(configuration: c)
        let stages = try trainer.run(images: train.images.x, captions: train.tokens, sampleShape: train.images.sampleShape,
                                     vocabularySize: train.vocabulary.count, progress: { event in
            if case let .epoch(stage, epoch, epochs, loss, sps) = event {
                printer.update("\(stage) epoch \(epoch)/\(epochs) loss \(String(format: "%.4f", loss)) (\(Int(sps)) pairs/s)")
            }
        }, stageCompleted: { s in
            printer.log("  stage \(s.stage): loss \(String(format: "%.4f", s.epochLosses.last ?? .nan)), logit scale "
                + String(format: "%.1f", Double(s.model.clip.logitScale)) + ", \(Set(s.pseudoLabels).count) pseudo-label groups, "
                + String(format: "%.0f s", s.seconds))
        })
        var control: CLIPModel<Float>? = nil
        if stages.count > 1 && !args.has("no-control") {
            control = try trainer.continuedWithoutPseudoLabels(
                images: train.images.x, captions: train.tokens, pretrained: stages[0].model, sampleShape: train.images.sampleShape,
                vocabularySize: train.vocabulary.count, progress: { event in
                    if case let .epoch(stage, epoch, epochs, loss, _) = event {
                        printer.update("\(stage) epoch \(epoch)/\(epochs) loss \(String(format: "%.4f", loss))")
                    }
                })
        }
        let eval = try CLIPEvaluation.evaluate(stages: stages.map { $0.model }, control: control, train: train, test: test,
                                               statements: ShapesCaptions.statements(test),
                                               prompts: shapesCaptionsPrompts(), threshold: threshold,
                                               maxPerAttribute: maxPairs, seed: UInt64(seed))
        runs.append((seed, eval, Double(DispatchTime.now().uptimeNanoseconds - began) * 1e-9))
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    let mean = meanEvaluation(runs.map { $0.eval })
    if args.has("json") {
        print(JSONValue.object(mean.json + [
            ("seeds", .array(seeds.map { .string(String($0)) })),
            ("runs", .array(runs.map { .object([("seed", .string(String($0.seed))), ("seconds", .number(($0.seconds * 10).rounded() / 10))] + $0.eval.json) })),
            ("configuration", .object(c.json)),
            ("seconds", .number((seconds * 10).rounded() / 10)),
        ]).serialized())
        return 0
    }
    if runs.count > 1 {
        print("Mean over seeds \(seeds.map(String.init).joined(separator: ",")) (MMVP attribute cells: mean over the seeds that have pairs for it)\n")
    }
    print(mean.text)
    print(String(format: "\n(%.0f s for %d seed%@ on %d threads)", seconds, seeds.count, seeds.count == 1 ? "" : "s", Parallel.maxThreads))
    return 0
}

/// The mean of several seeds' evaluations, cell by cell (an MMVP cell over the seeds that have a
/// pair for that attribute; pair counts summed).
func meanEvaluation(_ evals: [CLIPEvaluation]) -> CLIPEvaluation {
    var m = evals[0]
    guard evals.count > 1 else { return m }
    func avg(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
    m.pairCounts = m.attributes.indices.map { a in evals.reduce(0) { $0 + $1.pairCounts[a] } }
    m.mmvpOverall = m.columns.indices.map { c in avg(evals.map { $0.mmvpOverall[c] }) }
    m.mmvp = m.columns.indices.map { c in m.attributes.indices.map { a in
        let v = evals.compactMap { $0.mmvp[c][a] }
        return v.isEmpty ? nil : avg(v)
    } }
    m.probe = m.columns.indices.map { c in m.attributes.indices.map { a in avg(evals.map { $0.probe[c][a] }) } }
    if evals.allSatisfy({ $0.zeroShot != nil }) {
        m.zeroShot = m.columns.indices.map { c in m.attributes.indices.map { a in avg(evals.map { $0.zeroShot![c][a] }) } }
    }
    return m
}

import Foundation
import MCLNumerics
import MCLReference

/// The files of a CLIP run (`train --method clip --out DIR`), all written atomically, a stage's
/// files as soon as it is complete:
///
///     stage<j>_image_embeddings.npy        normalised image embeddings of the training images, M×E
///     stage<j>_test_image_embeddings.npy   the same for the test images, M′×E
///     stage<j>_cluster_labels.npy          Y_j: K-means on the training embeddings (what later stages use)
///     pseudo_labels_stage<j>.npy           the Eq. 2 group ids stage j trained with (0 at stage 0)
///     stage<j>.safetensors                 image tower (`image.` + PyTorch state dict), text tower
///                                          (`text.embedding.weight`, `text.mlp.<i>.*`) and `logit_scale`
///     report.json                          the `--json` report (evaluation, stages, configuration)
///
/// Not (yet) a resumable checkpoint: `--resume` is refused for CLIP runs (see runCLIPTrain).
enum CLIPRunFile {
    static func imageEmbeddings(stage j: Int) -> String { "stage\(j)_image_embeddings.npy" }
    static func testImageEmbeddings(stage j: Int) -> String { "stage\(j)_test_image_embeddings.npy" }
    static func clusterLabels(stage j: Int) -> String { "stage\(j)_cluster_labels.npy" }
    static func pseudoLabels(stage j: Int) -> String { "pseudo_labels_stage\(j).npy" }
    static func safetensors(stage j: Int) -> String { "stage\(j).safetensors" }
    static let report = "report.json"
}

/// The state dict of a CLIP model: `image.<PyTorch name>`, `text.*`, `logit_scale` (float32).
func clipStateDict(_ m: CLIPModel<Float>) throws -> [(name: String, array: NPYArray)] {
    let image = m.image.pytorchStateDict().map { (name: "image." + $0.name, array: $0.array) }
    let text = try m.clip.textTower.namedParameters(prefix: "text.").map { p in
        (name: p.name, array: try NPYArray(floats: p.value.storage,
                                          shape: p.value.rows == 1 && !p.name.hasSuffix("weight") ? [p.value.cols] : [p.value.rows, p.value.cols]))
    }
    return image + text + [(name: "logit_scale", array: try NPYArray(floats: m.clip.logScale, shape: []))]
}

/// `train --method clip`: CLIP pretraining (stage 0) and MCL stages on image–caption pairs.
func runCLIPTrain(_ args: ParsedArguments) throws -> Int32 {
    if args.string("resume") != nil {
        throw CLIError("--resume: train --method clip does not write a resumable checkpoint yet; start the run again "
            + "(each stage's files are kept in --out as it completes)")
    }
    let source: ImageTextSource
    let sourceName: String
    if let images = args.string("data") {
        if args.string("dataset") != nil { throw CLIError("--dataset and --data are mutually exclusive") }
        guard let tokens = args.string("tokens") else { throw CLIError("--data with --method clip needs --tokens T.npy (N, L) token ids") }
        if args.string("test-data") != nil { throw CLIError("--test-data: --method clip holds out --test-fraction of --data") }
        let fraction = try args.double("test-fraction", default: 0.5) { $0 > 0 && $0 < 1 ? nil : "must be in (0, 1)" }!
        source = .files(images: images, tokens: tokens, labels: args.string("labels"), featureNames: try featureNamesOption(args),
                        testFraction: fraction, standardize: !args.has("no-standardize"))
        sourceName = images
    } else {
        if args.string("tokens") != nil { throw CLIError("--tokens applies with --data (your images) only") }
        let dataset = args.string("dataset") ?? "shapes-captions"
        guard DataPreparation.pairedSets.contains(dataset) else {
            throw CLIError("--dataset \(dataset): --method clip needs image–caption pairs: "
                + DataPreparation.pairedSets.joined(separator: ", ") + " (or --data IMAGES.npy --tokens T.npy)")
        }
        let n = try args.int("samples", default: 2048, min: 2)!
        let size = try args.int("size", default: 16)!
        if size != 16 && size != 32 { throw CLIError("--size: must be 16 or 32, got \(size)") }
        try checkBuiltInSize(samples: n, valuesPerSample: 3 * size * size)
        source = .builtIn(name: dataset, samples: n, imageSize: size)
        sourceName = dataset
    }
    let seed = try args.uint64("seed", default: 0)
    let (train, test): (ImageTextData<Float>, ImageTextData<Float>)
    do {
        (train, test) = try DataPreparation.preparePairs(source, seed: seed, as: Float.self)
    } catch let e as DataError {
        throw CLIError(e.message)
    }
    let n = train.count
    let c = try clipConfiguration(args, sampleShape: train.images.sampleShape)
    if n < c.batchSize { throw CLIError("--samples \(n) is fewer than one batch (--batch-size \(c.batchSize))") }
    if n < c.clusters { throw CLIError("--samples \(n) is fewer than --clusters \(c.clusters)") }
    try checkStepCount(samples: n, batchSize: c.batchSize, epochs: c.epochs)
    let threshold = try args.double("mmvp-threshold", default: 0.8) { $0 >= -1 && $0 <= 1 ? nil : "must be in [-1, 1]" }!
    let maxPairs = try args.int("mmvp-pairs", default: 50, min: 1)!
    let out = try outOption(args)
    if let out {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDir), !isDir.boolValue {
            throw CLIError("--out: '\(out)' exists and is not a directory")
        }
        if FileManager.default.fileExists(atPath: out + "/" + CLIPRunFile.report) || RunDirectory(out).holdsRun {
            throw CLIError("--out: '\(out)' already holds a run; choose another directory")
        }
        try AtomicFile.prepareOutputDirectory(out)
    }
    let printer = ProgressPrinter(quiet: args.has("quiet"))
    let began = DispatchTime.now().uptimeNanoseconds
    printer.log("mcl-ref train --method clip: \(sourceName), \(n) train / \(test.count) test pairs, attributes "
        + "\(train.images.featureNames.isEmpty ? "none (no labels: no evaluation)" : train.images.featureNames.joined(separator: ", ")), "
        + "seed \(c.seed), threads \(Parallel.maxThreads)")
    func write(_ data: Data, _ name: String) throws { if let out { try AtomicFile.write(data, to: out + "/" + name) } }
    let stages = try CLIPTrainer<Float>(configuration: c).run(
        images: train.images.x, captions: train.tokens, sampleShape: train.images.sampleShape,
        vocabularySize: train.vocabulary.count, progress: progressHandler(printer),
        stageCompleted: { s in
            let j = s.stage
            try write(NPY.encode(NPYArray(s.trainEmbeddings)), CLIPRunFile.imageEmbeddings(stage: j))
            try write(NPY.encode(NPYArray(s.model.imageEmbeddings(test.images.x))), CLIPRunFile.testImageEmbeddings(stage: j))
            try write(NPY.encode(try NPYArray(ints: s.clustering.labels, shape: [s.clustering.labels.count])), CLIPRunFile.clusterLabels(stage: j))
            try write(NPY.encode(try NPYArray(ints: s.pseudoLabels, shape: [s.pseudoLabels.count])), CLIPRunFile.pseudoLabels(stage: j))
            try write(try SafeTensors.encode(SafeTensorsFile(tensors: try clipStateDict(s.model),
                                                             metadata: [("format", "pt"), ("producer", "mcl-ref"), ("stage", String(j))])),
                      CLIPRunFile.safetensors(stage: j))
            printer.log(String(format: "stage %d done in %.1f s  loss %.4f  logit scale %.1f  groups %d", j, s.seconds,
                               s.epochLosses.last ?? .nan, Double(s.model.clip.logitScale), Set(s.pseudoLabels).count))
        })
    let builtIn = args.string("data") == nil
    let eval = train.images.featureNames.isEmpty ? nil : try CLIPEvaluation.evaluate(
        stages: stages.map { $0.model }, train: train, test: test, statements: builtIn ? ShapesCaptions.statements(test) : nil,
        prompts: builtIn ? shapesCaptionsPrompts() : nil,
        threshold: threshold, maxPerAttribute: maxPairs, seed: c.seed)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - began) * 1e-9
    let report = JSONValue.object((eval?.json ?? [("mmvp", .null)]) + [
        ("stages", .array(stages.map { s in .object([
            ("stage", .number(Double(s.stage))), ("loss", .number(s.epochLosses.last ?? .nan)),
            ("logit_scale", .number(Double(s.model.clip.logitScale))), ("groups", .number(Double(Set(s.pseudoLabels).count))),
            ("seconds", .number((s.seconds * 10).rounded() / 10)),
        ]) })),
        ("configuration", .object(c.json)),
        ("dataset", .string(sourceName)), ("train_pairs", .number(Double(n))), ("test_pairs", .number(Double(test.count))),
        ("seconds", .number((seconds * 10).rounded() / 10)),
    ])
    if let out { try AtomicFile.write(report, to: out + "/" + CLIPRunFile.report) }
    if args.has("json") {
        print(report.serialized())
    } else {
        print(eval?.text ?? "no labels given (--labels): trained and saved, nothing to evaluate")
        if let out { print("wrote \(out)/") }
    }
    return 0
}

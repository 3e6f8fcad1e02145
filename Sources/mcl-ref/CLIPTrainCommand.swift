import Foundation
import MCLNumerics
import MCLReference

/// Data and evaluation options that would do nothing in `train --method clip` are refused.
func refuseCLIPOptionsWithoutEffect(_ args: ParsedArguments) throws {
    if args.string("data") == nil {
        for name in ["labels", "feature-names", "test-fraction"] where args.string(name) != nil {
            throw CLIError("--\(name) applies to --data only (a built-in data set has its own labels and test set)")
        }
        if args.has("no-standardize") { throw CLIError("--no-standardize applies to --data only (built-in data are not standardised)") }
    } else {
        for name in ["samples", "size"] where args.string(name) != nil {
            throw CLIError("--\(name) applies to built-in data only (--data has as many images as its file, of its size)")
        }
        if args.string("labels") == nil,
           let name = ["mmvp-threshold", "mmvp-pairs", "feature-names"].first(where: { args.string($0) != nil }) {
            throw CLIError("--\(name): without --labels a CLIP run on --data is not evaluated")
        }
    }
    if args.string("test-labels") != nil { throw CLIError("--test-labels: --method clip holds out --test-fraction of --data") }
}

/// `train --method clip`: CLIP pretraining (stage 0) and MCL stages on image–caption pairs.
/// With `--out DIR` the run is a run directory (`CLIPRunDirectory`, docs/RUN-DIRECTORY.md "CLIP runs"):
/// a checkpoint after every stage; `train --resume DIR` continues after the last completed stage.
func runCLIPTrain(_ given: ParsedArguments) throws -> Int32 {
    var resume: (run: CLIPRunDirectory, checkpoint: CLIPCheckpoint)? = nil
    var args = given
    if let directory = given.string("resume") {
        try refuseOptionsBesideResume(given, directory: directory)
        let run = CLIPRunDirectory(directory)
        let checkpoint = try run.readCheckpoint()
        args = try resumedArguments(given, directory: directory, stored: checkpoint.arguments)
        resume = (run, checkpoint)
    }
    try refuseCLIPOptionsWithoutEffect(args)
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
        if resume == nil && CLIPRunDirectory(out).holdsRun {
            throw CLIError("--out: '\(out)' already holds a run; continue it with 'mcl-ref train --resume \(out)' or choose another directory")
        }
    }
    let printer = ProgressPrinter(quiet: args.has("quiet"))
    let began = DispatchTime.now().uptimeNanoseconds
    printer.log("mcl-ref train --method clip: \(sourceName), \(n) train / \(test.count) test pairs, attributes "
        + "\(train.images.featureNames.isEmpty ? "none (no labels: no evaluation)" : train.images.featureNames.joined(separator: ", ")), "
        + "seed \(c.seed), threads \(Parallel.maxThreads)")
    let trainer = CLIPTrainer<Float>(configuration: c)
    let runDirectory = out.map(CLIPRunDirectory.init)
    let completed = try resume.map { try $0.run.resume($0.checkpoint, trainer: trainer, train: train, test: test) } ?? []
    var checkpoint = try resume?.checkpoint ?? runDirectory.map {
        try $0.start(arguments: checkpointArguments(args), trainer: trainer, train: train, test: test)
    }
    if let resume {
        printer.log("resuming \(resume.run.path): \(completed.count) of \(c.stages) stages complete")
    }
    let stages = try trainer.run(
        images: train.images.x, captions: train.tokens, sampleShape: train.images.sampleShape,
        vocabularySize: train.vocabulary.count, progress: progressHandler(printer), resuming: completed,
        stageCompleted: { s in
            // its files, then checkpoint.json
            try runDirectory?.commit(s, testEmbeddings: s.model.imageEmbeddings(test.images.x), to: &checkpoint!)
            printer.log(String(format: "stage %d done in %.1f s  loss %.4f  logit scale %.1f  groups %d", s.stage, s.seconds,
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
    try runDirectory?.finish(report: report)
    if args.has("json") {
        print(report.serialized())
    } else {
        print(eval?.text ?? "no labels given (--labels): trained and saved, nothing to evaluate")
        if let out { print("wrote \(out)/") }
    }
    return 0
}

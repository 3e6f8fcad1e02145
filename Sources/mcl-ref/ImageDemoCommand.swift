import Foundation
import MCLReference

/// `mcl-ref demo --images`: the image part of the demo, on the two built-in image sets.
///
/// - cifar-mnist-like: SimCLR (stage 0) vs MCL (stages integrated) vs Multi-SimCLR, per seed, with
///   the same tables as the vector demo (paper Table 2 / Table 5 pattern).
/// - trifeature: the per-stage table (paper Fig. 3: which feature each stage favours) and whether
///   the integrated representation is at least as good as stage 0 on every feature.
///
/// Settings not given on the command line take the values of `ImageDemoSettings` (chosen so the
/// whole demo stays within a few minutes on 2 cores; measured numbers in README.md ("Images")).
struct ImageDemoSettings {
    var samples: Int
    var size: Int
    var convWidths: [Int]
    var epochs: Int
    var batchSize: Int
    var representationWidth: Int
    var learningRate: Double
    var clusters: Int

    static let cifarMnistLike = ImageDemoSettings(samples: 1024, size: 16, convWidths: [16, 32, 64], epochs: 10,
                                                  batchSize: 128, representationWidth: 64, learningRate: 1e-3, clusters: 5)
    static let trifeature = ImageDemoSettings(samples: 1024, size: 16, convWidths: [16, 32, 64], epochs: 10,
                                              batchSize: 128, representationWidth: 64, learningRate: 1e-3, clusters: 5)
}

/// Options the demo accepts only for its image part.
let imageDemoOptions: [OptionSpec] = [
    .flag("images", "run the image demo (cifar-mnist-like and trifeature with the CNN encoder) instead of the vector one"),
    .value("dataset", "NAME", "images: cifar-mnist-like | trifeature | both", default: "both"),
    .value("size", "S", "images: image size, 16 or 32", default: "16"),
    .value("conv-widths", "LIST", "images: cnn channel widths", default: "16,32,64"),
]

/// The configuration of one image-demo run: the command line where given, else `defaults`.
func imageDemoConfiguration(_ args: ParsedArguments, _ d: ImageDemoSettings, dataset: String) throws -> MCLConfiguration {
    var c = try mclConfiguration(args)
    if args.string("epochs") == nil { c.epochs = d.epochs }
    if args.string("batch-size") == nil { c.batchSize = d.batchSize }
    if args.string("rep-width") == nil { c.representationWidth = d.representationWidth }
    if args.string("lr") == nil { c.learningRate = d.learningRate }
    if args.string("clusters") == nil { c.clusters = d.clusters }
    c.encoder = .cnn
    c.convWidths = try args.intList("conv-widths", min: 1) ?? d.convWidths
    c.imageAugmentation = ImageAugmentationPreset(rawValue: dataset)!
    return c
}

func runImageDemo(_ args: ParsedArguments) throws -> Int32 {
    let seeds = try args.intList("seeds", min: 0) ?? [0, 1, 2]  // as the vector demo; about 2 minutes on 2 cores
    if seeds.isEmpty { throw CLIError("--seeds: expected at least one seed") }
    if args.string("seed") != nil { throw CLIError("--seed: demo takes --seeds LIST") }
    let which = try args.choice("dataset", ["both"] + builtInImageDatasets, default: "both")
    let printer = ProgressPrinter(quiet: args.has("quiet"))
    let start = DispatchTime.now().uptimeNanoseconds
    var json: [(String, JSONValue)] = []
    for dataset in ["cifar-mnist-like", "trifeature"] where which == "both" || which == dataset {
        let d = dataset == "trifeature" ? ImageDemoSettings.trifeature : ImageDemoSettings.cifarMnistLike
        var c = try imageDemoConfiguration(args, d, dataset: dataset)
        c.multiSimCLR = dataset == "cifar-mnist-like"
        let n = try args.int("samples", default: d.samples, min: 2)!
        let size = try args.int("size", default: d.size)!
        guard size == 16 || size == 32 else { throw CLIError("--size: must be 16 or 32, got \(size)") }
        if n < c.batchSize { throw CLIError("--samples \(n) is fewer than one batch (--batch-size \(c.batchSize))") }
        try checkBuiltInSize(samples: n, valuesPerSample: (dataset == "trifeature" ? 3 : 3 + CifarMnistLike.digitCopies) * size * size)
        try checkStepCount(samples: n, batchSize: c.batchSize, epochs: c.epochs)
        try checkStageBudget(c, trainCount: n)
        try checkModelSize(c, sampleShape: [dataset == "trifeature" ? 3 : 3 + CifarMnistLike.digitCopies, size, size])
        var results: [SeedResult] = []
        var provenance: Provenance?
        let warnings = WarningLog()
        let partStart = DispatchTime.now().uptimeNanoseconds
        for (i, seed) in seeds.enumerated() {
            c.seed = UInt64(seed)
            printer.log("demo --images: \(dataset) \(size)×\(size), seed \(seed) (\(i + 1) of \(seeds.count)), "
                + "\(n) train / \(n) test images, threads \(Parallel.maxThreads)")
            let (train, test) = try makeImageDataset(dataset, samples: n, size: size, seed: c.seed)
            provenance = provenance ?? Provenance(builtIn: dataset, train: train, test: test)
            let run = try MultistageContrastiveLearning<Float>(configuration: c).run(
                train: train, test: test, progress: progressHandler(printer, warnings: warnings))
            results.append(SeedResult(seed: c.seed, report: run.report))
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - partStart) * 1e-9
        if args.has("json") {
            var part: [(String, JSONValue)] = [
                ("seeds", .array(results.map { .string(String($0.seed)) })),
                ("runs", .array(results.map { .object([("seed", .string(String($0.seed))), ("report", $0.report.json)]) })),
                ("seconds", .number((seconds * 10).rounded() / 10)),
                ("warnings", warnings.json),
                ("provenance", provenance!.json),
            ]
            part.insert(("summary", (c.multiSimCLR ? demoSummary(results) : stageSummary(results)).json), at: 1)
            json.append((dataset, .object(part)))
            continue
        }
        print("== \(dataset), \(size)×\(size), CNN widths \(c.convWidths.map(String.init).joined(separator: ",")), "
            + "\(n) train / \(n) test images, \(c.epochs) epochs per stage ==\n")
        print("Per-stage linear-probe and kNN accuracy (%), seed \(results[0].seed):\n")
        print(results[0].report.table)
        if c.multiSimCLR {
            let summary = demoSummary(results)
            print("Linear-probe accuracy (%) over seeds \(seeds.map(String.init).joined(separator: ",")): mean ± sd [min–max]\n")
            print(summary.table)
            if results.count > 1 { print(perSeedTable(results)) }
            let f = results[0].report.features  // [natural (hard), digit (easy)]
            if let s0 = summary.rows.first, let mcl = summary.rows.dropFirst().first, let multi = summary.rows.last {
                print(DemoConclusion(simclr: s0, mcl: mcl, multi: multi, features: f, easy: 1, hard: 0, stages: c.stages).text)
                let flipped = results.filter { $0.report.stages[0].alone.probe[0] >= $0.report.stages[0].alone.probe[1] }
                if !flipped.isEmpty {
                    print("On seed(s) \(flipped.map { String($0.seed) }.joined(separator: ", ")) stage 0 learned '\(f[0])' instead and "
                        + "suppressed '\(f[1])' (see the per-seed rows): which of the two this small CNN picks first depends on the seed.")
                }
            }
        } else {
            print(stageFavourSummary(results[0].report))
            if results.count > 1 {
                print("\nLinear-probe accuracy (%) over seeds \(seeds.map(String.init).joined(separator: ",")): mean ± sd [min–max]\n")
                print(stageSummary(results).table, terminator: "")
                let worst = results.map { r in zip(r.report.stages.last!.integrated.probe, r.report.stages[0].alone.probe)
                    .map { $0 - $1 }.min()! }.min()!
                print("Integrated minus stage 0, worst feature over all seeds: \(signedPoints(worst))")
            }
        }
        print(String(format: "(%@: %.0f s on %d threads)\n", dataset, seconds, Parallel.maxThreads))
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    if args.has("json") {
        print(JSONValue.object(json + [("seconds", .number((seconds * 10).rounded() / 10))]).serialized())
    } else {
        print(String(format: "(image demo: %.0f s on %d threads)", seconds, Parallel.maxThreads))
    }
    return 0
}

func signedPoints(_ x: Double) -> String { String(format: "%+.1f points", 100 * x) }

/// Which feature each stage favours (the largest gain of its probe over stage 0), and whether the
/// integrated representation is at least stage 0 on every feature.
func stageFavourSummary(_ r: MCLReport) -> String {
    guard let s0 = r.stages.first, let last = r.stages.last else { return "" }
    var lines: [String] = []
    for s in r.stages {
        let gains = zip(s.alone.probe, s0.alone.probe).map { $0 - $1 }
        let best = s.stage == 0 ? s.alone.probe.indices.max { s.alone.probe[$0] < s.alone.probe[$1] }!
                                : gains.indices.max { gains[$0] < gains[$1] }!
        let what = s.stage == 0 ? "best feature \(r.features[best]) (\(pct(s.alone.probe[best]))%)"
                                : "largest gain over stage 0: \(r.features[best]) (\(signedPoints(gains[best])))"
        lines.append("stage \(s.stage): \(what)")
    }
    let deltas = zip(last.integrated.probe, s0.alone.probe).map { $0 - $1 }
    let worst = deltas.min() ?? 0
    lines.append("MCL stages 0–\(last.stage) vs stage 0: " + zip(r.features, deltas).map { "\($0) \(signedPoints($1))" }
        .joined(separator: ", ") + (worst >= 0 ? " — at least stage 0 on every feature" : " — below stage 0 on some feature"))
    return lines.joined(separator: "\n")
}

/// Mean ± sd [min–max] over seeds of every stage alone and of all stages integrated.
func stageSummary(_ results: [SeedResult]) -> DemoSummary {
    let features = results[0].report.features
    let stages = results[0].report.stages.count
    func row(_ name: String, _ pick: (MCLReport) -> [Double]) -> DemoSummary.Row {
        DemoSummary.Row(name: name, results: results, features: features.count, pick)
    }
    return DemoSummary(features: features, rows: (0..<stages).map { j in row("stage \(j) alone") { $0.stages[j].alone.probe } }
        + [row("MCL, \(stagesText(stages))") { $0.stages[stages - 1].integrated.probe }])
}

/// One row per seed: linear-probe accuracy (%) of every feature for SimCLR (stage 0), MCL (all
/// stages) and Multi-SimCLR, so a seed where the pattern differs is visible.
func perSeedTable(_ results: [SeedResult]) -> String {
    let f = results[0].report.features
    let header = ["seed"] + ["SimCLR", "MCL", "Multi-SimCLR"].flatMap { name in f.map { "\(name) \($0)" } }
    let rows = results.map { r -> [String] in
        let rep = r.report
        let picks = [rep.stages[0].alone.probe, rep.stages[rep.stages.count - 1].integrated.probe,
                     rep.multiSimCLR?.probe ?? []]
        return [String(r.seed)] + picks.flatMap { $0.map(pct) }
    }
    return "Per seed, linear-probe accuracy (%):\n\n" + formatTable(header: header, rows: rows)
}

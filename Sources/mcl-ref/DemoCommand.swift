import Foundation
import MCLReference

/// `mcl-ref demo`: the paper's key comparison on the built-in `easy-hard` data — SimCLR (stage 0),
/// MCL (stages 0…N−1 integrated) and Multi-SimCLR (N SimCLR encoders) — over several seeds; with
/// `--method moco` the same with MoCo-v2 as the backbone.
let demoCommand = CommandSpec(
    words: ["demo"],
    summary: "Show feature suppression and its recovery: SimCLR vs MCL vs Multi-SimCLR on built-in data.",
    discussion: """
    Runs `train --dataset easy-hard --multi-simclr` once per seed and prints the per-stage table of the
    first seed and a summary (mean ± standard deviation, min–max over seeds) of linear-probe accuracy.
    Every MCL option of `train` applies. --images runs the image demo instead (CNN encoder on
    cifar-mnist-like and trifeature; image-demo defaults for settings not given). --clip runs the
    multimodal demo: CLIP pretraining and MCL stages on shapes-captions, MMVP-style pair accuracy per
    attribute (paper Table 3 layout), zero-shot and probe accuracy (CLIPDemo.swift; about a minute
    per seed on 2 cores with the defaults, release build).
    """,
    options: [
        .value("seeds", "LIST", "seeds to run, comma-separated", default: demoDefaultSeeds.map(String.init).joined(separator: ",")),
        .value("samples", "N", "train samples (the test set has as many; --clip: 2000 train / 1000 test pairs)", default: "2048"),
        .value("report", "FILE", "also write an HTML report (as 'mcl-ref report') of the first seed's run and the summary over seeds"),
    ] + mclOptions.filter { $0.name != "multi-simclr" } + imageDemoOptions + baselineDemoOptions + clipDemoOptions,
    run: runDemo
)

/// The seeds `demo` runs when --seeds is not given.
let demoDefaultSeeds = [0, 1, 2]

struct SeedResult {
    var seed: UInt64
    var report: MCLReport
}

func runDemo(_ args: ParsedArguments) throws -> Int32 {
    if args.has("clip") { return try runCLIPDemo(args) }
    if args.string("method") == ContrastiveMethod.clip.rawValue {
        throw CLIError("--method clip: the CLIP demo is 'mcl-ref demo --clip' (demo --method takes the unimodal methods)")
    }
    try refuseCLIPOnlyOptions(args, extra: ["no-control", "encoder"], context: "demo --clip")
    if args.has("baselines") { return try runBaselinesDemo(args) }
    if let flag = ["quick", "taus"].first(where: { args.has($0) || args.string($0) != nil }) {
        throw CLIError("--\(flag) applies with --baselines only")
    }
    if args.has("images") {
        if args.string("report") != nil { throw CLIError("--report applies to the vector demo only (not --images)") }
        return try runImageDemo(args)
    }
    if let file = args.string("report") { try checkReportDestination(file, option: "report") }
    for name in ["dataset", "size", "conv-widths"] where args.string(name) != nil {
        throw CLIError("--\(name) applies only to the image demo (--images)")
    }
    var c = try mclConfiguration(args)
    c.multiSimCLR = true
    let seeds = try args.intList("seeds", min: 0) ?? demoDefaultSeeds
    if seeds.isEmpty { throw CLIError("--seeds: expected at least one seed") }
    if args.string("seed") != nil { throw CLIError("--seed: demo takes --seeds LIST") }
    let n = try args.int("samples", default: 2048, min: 2)!
    if n < c.batchSize { throw CLIError("--samples \(n) is fewer than one batch (--batch-size \(c.batchSize))") }
    try checkBuiltInSize(samples: n, valuesPerSample: 32)
    try checkStepCount(samples: n, batchSize: c.batchSize, epochs: c.epochs)
    try checkStageBudget(c, trainCount: n)
    try checkModelSize(c, sampleShape: [32])
    let warnings = WarningLog()
    let printer = ProgressPrinter(quiet: args.has("quiet"))
    let start = DispatchTime.now().uptimeNanoseconds
    var results: [SeedResult] = []
    var provenance: Provenance?
    for (i, seed) in seeds.enumerated() {
        c.seed = UInt64(seed)
        printer.log("demo: seed \(seed) (\(i + 1) of \(seeds.count)), \(n) train / \(n) test samples, threads \(Parallel.maxThreads)")
        let data = try DataPreparation.prepare(.builtIn(name: "easy-hard", samples: n, imageSize: 0), seed: c.seed, as: Float.self)
        let (train, test) = (data.train, data.test)
        provenance = provenance ?? Provenance(builtIn: "easy-hard", train: train, test: test)
        let run = try MultistageContrastiveLearning<Float>(configuration: c).run(
            train: train, test: test, progress: progressHandler(printer, warnings: warnings))
        results.append(SeedResult(seed: c.seed, report: run.report))
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    let summary = demoSummary(results)
    if let file = args.string("report") {
        let first = try RunSummary(json: results[0].report.json, path: "demo")
        let heading = "Linear-probe accuracy (%) over seeds \(seeds.map(String.init).joined(separator: ",")): mean ± sd [min–max]"
        try writeHTMLReport(HTMLReport(summary: first, title: "mcl-ref demo (easy-hard), seed \(results[0].seed)",
                                       source: "mcl-ref demo, \(n) train / \(n) test samples", notes: [(heading, summary.table)]),
                            to: file, option: "report")
        printer.log("wrote \(file)")
    }
    if args.has("json") {
        print(JSONValue.object([
            ("seeds", .array(results.map { .string(String($0.seed)) })),
            ("summary", summary.json),
            ("runs", .array(results.map { .object([("seed", .string(String($0.seed))), ("report", $0.report.json)]) })),
            ("seconds", .number((seconds * 10).rounded() / 10)),
            ("warnings", warnings.json),
            ("provenance", provenance!.json),
        ]).serialized())
        return 0
    }
    print("Per-stage linear-probe and kNN accuracy (%), seed \(results[0].seed):\n")
    print(results[0].report.table)
    print("Linear-probe accuracy (%) over seeds \(seeds.map(String.init).joined(separator: ",")): mean ± sd [min–max]\n")
    print(summary.table)
    let f = results[0].report.features
    if f.count == 2, summary.rows.count == 3 {
        print(DemoConclusion(simclr: summary.rows[0], mcl: summary.rows[1], multi: summary.rows[2], features: f,
                             easy: 0, hard: 1, stages: c.stages, method: c.method.displayName).text)
    }
    print(String(format: "(%.0f s on %d threads)", seconds, Parallel.maxThreads))
    return 0
}

func pct(_ x: Double) -> String { String(format: "%.1f", 100 * x) }

/// Mean, standard deviation and range of the probe accuracy of three representations over seeds.
struct DemoSummary {
    struct Row {
        var name: String, mean: [Double] = [], sd: [Double] = [], min: [Double] = [], max: [Double] = []

        /// Mean, sample standard deviation and range over seeds of `pick(report)[j]` for each feature j.
        init(name: String, results: [SeedResult], features: Int, _ pick: (MCLReport) -> [Double]) {
            self.name = name
            let values = results.map { pick($0.report) }
            for j in 0..<features {
                let v = values.map { $0[j] }
                let mean = v.reduce(0, +) / Double(v.count)
                let variance = v.count > 1 ? v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count - 1) : 0
                self.mean.append(mean); sd.append(variance.squareRoot()); min.append(v.min()!); max.append(v.max()!)
            }
        }
    }
    var features: [String]
    var rows: [Row]

    var table: String {
        formatTable(header: ["representation"] + features, rows: rows.map { r in
            [r.name] + features.indices.map { j in
                String(format: "%.1f ± %.1f [%.1f–%.1f]", 100 * r.mean[j], 100 * r.sd[j], 100 * r.min[j], 100 * r.max[j])
            }
        })
    }

    var json: JSONValue {
        .object(rows.map { r in
            (r.name, .object(features.indices.map { j in
                (features[j], .object([("mean", .number(rounded(r.mean[j]))), ("sd", .number(rounded(r.sd[j]))),
                                       ("min", .number(r.min[j])), ("max", .number(r.max[j]))]))
            }))
        })
    }

    func rounded(_ x: Double) -> Double { (x * 1e4).rounded() / 1e4 }
}

func demoSummary(_ results: [SeedResult]) -> DemoSummary {
    let features = results[0].report.features
    func row(_ name: String, _ pick: (MCLReport) -> [Double]) -> DemoSummary.Row {
        DemoSummary.Row(name: name, results: results, features: features.count, pick)
    }
    let stages = results[0].report.stages.count
    let method = results[0].report.methodName
    return DemoSummary(features: features, rows: [
        row("\(method) (stage 0)") { $0.stages[0].alone.probe },
        row("MCL, \(stagesText(stages))") { $0.stages[stages - 1].integrated.probe },
        row("Multi-\(method) ×\(stages)") { $0.multiSimCLR!.probe },
    ])
}

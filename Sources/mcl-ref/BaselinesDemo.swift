import Foundation
import MCLReference

/// `mcl-ref demo --baselines`: the workshop paper's Table 3 comparison (issue 14) on the built-in
/// `easy-hard` vectors — SimCLR, MCL (N stages, integrated), Multi-SimCLR, IFM, TS, FD and DCL — over
/// seeds, at each τ of the grid where τ applies, by linear-probe accuracy per feature.
///
/// Runs per seed and τ: one MCL run with the Multi-SimCLR ablation (SimCLR = its stage 0, the same
/// encoder and seed streams), one IFM, one FD and one DCL encoder (one stage, as many epochs as one
/// MCL stage, as the paper trains IFM and FD for as long as one MCL stage). Per seed once: TS, one
/// stage of N × epochs (the paper trains TS for 600 epochs against MCL's 3 × 200), because its
/// schedule replaces τ.
///
/// `--images` runs the same comparison on `cifar-mnist-like` (features natural, digit) with the CNN
/// encoder and the image demo's settings (ImageDemoCommand.swift: 1024 images of 16×16, 10 epochs
/// per stage); FD's viewmaker is then the convolutional one. `--quick` halves both.
let baselineDemoOptions: [OptionSpec] = [
    .flag("baselines", "run the baseline comparison (SimCLR, MCL, Multi-SimCLR, IFM, TS, FD, DCL; paper Table 3) instead of the demo"),
    .flag("quick", "with --baselines: 1024 samples and 20 epochs per stage (about a sixth of the full run's time); with --images 512 images and 5 epochs"),
    .value("taus", "LIST", "with --baselines: the τ grid, comma-separated", default: "0.1,0.25,0.5"),
]

/// The methods of the comparison in table order, with their JSON keys.
let baselineMethods: [(key: String, name: String)] = [
    ("simclr", "SimCLR"), ("mcl", "MCL"), ("multi_simclr", "Multi-SimCLR"), ("ifm", "IFM"), ("ts", "TS"), ("fd", "FD"), ("dcl", "DCL"),
]

/// Probe accuracy per seed (outer) and feature (inner) of one method at one τ.
struct BaselineCell {
    var perSeed: [[Double]] = []
    func mean(_ j: Int) -> Double { perSeed.map { $0[j] }.reduce(0, +) / Double(perSeed.count) }
    func sd(_ j: Int) -> Double {
        guard perSeed.count > 1 else { return 0 }
        let m = mean(j)
        return (perSeed.map { ($0[j] - m) * ($0[j] - m) }.reduce(0, +) / Double(perSeed.count - 1)).squareRoot()
    }
    /// Mean over features of the mean over seeds (how the best τ of a method is chosen).
    var overall: Double { (0..<(perSeed.first?.count ?? 0)).map(mean).reduce(0, +) / Double(max(1, perSeed.first?.count ?? 1)) }
}

func runBaselinesDemo(_ args: ParsedArguments) throws -> Int32 {
    let images = args.has("images")
    for name in ["report", "seed"] + (images ? [] : ["dataset", "size", "conv-widths"]) where args.string(name) != nil {
        throw CLIError("--\(name) does not apply to --baselines\(images ? "" : " (without --images)")")
    }
    if images, let d = args.string("dataset"), d != "cifar-mnist-like" {
        throw CLIError("--dataset: the image comparison runs on cifar-mnist-like only, got '\(d)'")
    }
    let quick = args.has("quick")
    let dataset = images ? "cifar-mnist-like" : "easy-hard"
    let imageSettings = ImageDemoSettings.cifarMnistLike
    var base = images ? try imageDemoConfiguration(args, imageSettings, dataset: dataset) : try mclConfiguration(args)
    if quick && args.string("epochs") == nil { base.epochs = images ? imageSettings.epochs / 2 : 20 }
    base.probeRawInput = false
    let taus = try baselineTaus(args)
    let seeds = try args.intList("seeds", min: 0) ?? demoDefaultSeeds
    if seeds.isEmpty { throw CLIError("--seeds: expected at least one seed") }
    let defaultSamples = images ? (quick ? imageSettings.samples / 2 : imageSettings.samples) : (quick ? 1024 : 2048)
    let n = try args.int("samples", default: defaultSamples, min: 2)!
    if n < base.batchSize { throw CLIError("--samples \(n) is fewer than one batch (--batch-size \(base.batchSize))") }
    let size = try args.int("size", default: imageSettings.size)!
    if images {
        guard size == 16 || size == 32 else { throw CLIError("--size: must be 16 or 32, got \(size)") }
        let shape = [3 + CifarMnistLike.digitCopies, size, size]
        try checkBuiltInSize(samples: n, valuesPerSample: shape.reduce(1, *))
        try checkStepCount(samples: n, batchSize: base.batchSize, epochs: base.epochs)
        try checkModelSize(base, sampleShape: shape)
    }
    /// The train and held-out sets of one seed.
    func data(seed: Int) throws -> (LabeledData<Float>, LabeledData<Float>) {
        if images { return try makeImageDataset(dataset, samples: n, size: size, seed: UInt64(seed)) }
        let all = EasyHardVectors.make(count: 2 * n, seed: UInt64(seed), as: Float.self)
        return (all.subset(Array(0..<n)), all.subset(Array(n..<(2 * n))))
    }
    // --ifm / --debiased / --temperature-schedule set that baseline's constants; defaults are the official ones.
    var ifm = InfoNCEVariant.ifm(epsilon: IFM.defaultEpsilon, alpha: IFM.defaultAlpha)
    var dcl = InfoNCEVariant.debiased(tauPlus: DebiasedContrastive.defaultTauPlus)
    switch base.lossVariant {
    case .ifm: ifm = base.lossVariant
    case .debiased: dcl = base.lossVariant
    case .plain: break
    }
    let tsEpochs = base.epochs * base.stages
    let schedule = base.temperatureSchedule ?? demoTemperatureSchedule(epochs: tsEpochs)
    let viewmakerBudget = base.viewmakerBudget ?? 0.05   // --viewmaker sets FD's ε; official default 0.05
    base.lossVariant = .plain
    base.temperatureSchedule = nil
    base.viewmakerBudget = nil

    let printer = ProgressPrinter(quiet: args.has("quiet"))
    let start = DispatchTime.now().uptimeNanoseconds
    var cells: [String: [String: BaselineCell]] = [:]
    var features: [String] = []
    let runsPerSeed = 4 * taus.count + 1
    for (si, seed) in seeds.enumerated() {
        let (train, test) = try data(seed: seed)
        var runIndex = 0
        func run(_ label: String, _ c: MCLConfiguration) throws -> MCLReport {
            runIndex += 1
            printer.log("baselines: seed \(seed) (\(si + 1) of \(seeds.count)), run \(runIndex) of \(runsPerSeed): \(label)")
            var c = c
            c.seed = UInt64(seed)
            return try MultistageContrastiveLearning<Float>(configuration: c)
                .run(train: train, test: test, progress: progressHandler(printer)).report
        }
        func record(_ method: String, _ tau: String, _ probe: [Double]) {
            cells[method, default: [:]][tau, default: BaselineCell()].perSeed.append(probe)
        }
        for tau in taus {
            let key = tauKey(tau)
            var c = base
            c.temperature = tau
            c.multiSimCLR = true
            let mcl = try run("SimCLR, MCL (\(c.stages) stages) and Multi-SimCLR at τ = \(key)", c)
            features = mcl.features
            record("simclr", key, mcl.stages[0].alone.probe)
            record("mcl", key, mcl.stages[mcl.stages.count - 1].integrated.probe)
            record("multi_simclr", key, mcl.multiSimCLR!.probe)
            for (method, variant) in [("ifm", ifm), ("dcl", dcl)] {
                var one = base
                one.stages = 1
                one.temperature = tau
                one.lossVariant = variant
                record(method, key, try run("\(variant.description) at τ = \(key)", one).stages[0].alone.probe)
            }
            var fd = base
            fd.stages = 1
            fd.temperature = tau
            fd.viewmakerBudget = viewmakerBudget
            record("fd", key, try run("FD (viewmaker ε = \(viewmakerBudget)) at τ = \(key)", fd).stages[0].alone.probe)
        }
        var ts = base
        ts.stages = 1
        ts.epochs = tsEpochs
        ts.temperatureSchedule = schedule
        record("ts", schedule.text, try run("TS \(schedule.text), \(tsEpochs) epochs", ts).stages[0].alone.probe)
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    let result = BaselineComparison(features: features, taus: taus.map(tauKey), cells: cells)
    if args.has("json") {
        print(JSONValue.object([
            ("baselines", result.json),
            ("seeds", .array(seeds.map { .string(String($0)) })),
            ("dataset", .string(dataset)),
            ("settings", .object([("samples", .number(Double(n))), ("epochs_per_stage", .number(Double(base.epochs))),
                                  ("stages", .number(Double(base.stages))), ("ts_epochs", .number(Double(tsEpochs))),
                                  ("ifm", .string(ifm.description)), ("dcl", .string(dcl.description)),
                                  ("ts", .string(schedule.text)), ("fd_budget", .number(viewmakerBudget)),
                                  ("quick", .bool(quick))])),
            ("seconds", .number((seconds * 10).rounded() / 10)),
        ]).serialized())
        return 0
    }
    print("Linear-probe accuracy (%) on \(dataset)\(images ? " (\(size)×\(size), CNN)" : ""), mean ± sd over seeds \(seeds.map(String.init).joined(separator: ",")); * = best in the row")
    print("(\(n) train / \(n) test samples, \(base.epochs) epochs per stage, MCL \(base.stages) stages; TS \(schedule.text) for \(tsEpochs) epochs;")
    print(" \(ifm.description), \(dcl.description); FD viewmaker ε = \(viewmakerBudget))\n")
    for tau in result.taus {
        print("τ = \(tau)")
        print(result.table(tau: tau))
    }
    print("Best τ of each method (by mean probe accuracy over features):")
    print(result.bestTable)
    print(String(format: "(%.0f s on %d threads)", seconds, Parallel.maxThreads))
    return 0
}

/// The τ grid of --taus (every value > 0).
func baselineTaus(_ args: ParsedArguments) throws -> [Double] {
    let text = args.string("taus") ?? "0.1,0.25,0.5"
    var out: [Double] = []
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
        guard let v = Double(part.trimmingCharacters(in: .whitespaces)), v.isFinite, v > 0 else {
            throw CLIError("--taus: expected comma-separated temperatures > 0, got '\(text)'")
        }
        out.append(v)
    }
    if args.string("temperature") != nil { throw CLIError("--temperature does not apply to --baselines; use --taus LIST") }
    return out
}

/// τ as a JSON key: "0.1", "0.25", "0.5".
func tauKey(_ tau: Double) -> String { String(tau) }

/// The demo's TS: τ ∈ [0.1, 1] (the MCL paper's TS range, docs/ALGORITHM.md) with the official
/// code's ratio of period to training length (T = 400 epochs of 1000): T = 0.4 × epochs (≥ 2).
func demoTemperatureSchedule(epochs: Int) -> TemperatureSchedule {
    TemperatureSchedule(minimum: 0.1, maximum: 1.0, periodEpochs: max(2, (0.4 * Double(epochs)).rounded()))
}

/// The comparison's numbers and their tables.
struct BaselineComparison {
    var features: [String]
    var taus: [String]
    /// method key → τ key → cell (TS has its schedule as the only key).
    var cells: [String: [String: BaselineCell]]

    /// The cell of `method` at `tau` (TS: its one cell, whatever τ).
    func cell(_ method: String, _ tau: String) -> BaselineCell? {
        method == "ts" ? cells["ts"]?.values.first : cells[method]?[tau]
    }

    private func formatted(_ cells: [BaselineCell?]) -> [[String]] {
        features.indices.map { j in
            let best = cells.compactMap { $0?.mean(j) }.max() ?? 0
            return [features[j]] + cells.map { c in
                guard let c else { return "-" }
                let star = abs(c.mean(j) - best) < 5e-4 ? "*" : " "
                return String(format: "%.1f ± %.1f%@", 100 * c.mean(j), 100 * c.sd(j), star)
            }
        }
    }

    /// One row per feature, one column per method, at τ (TS's schedule in every table).
    func table(tau: String) -> String {
        formatTable(header: ["feature"] + baselineMethods.map(\.name), rows: formatted(baselineMethods.map { cell($0.key, tau) }))
    }

    /// The τ with the best mean over features for each method.
    func bestTau(_ method: String) -> String? {
        cells[method]?.max { $0.value.overall < $1.value.overall }?.key
    }

    var bestTable: String {
        let picks = baselineMethods.map { m in bestTau(m.key).map { (m.name + " (τ \($0))", cells[m.key]![$0]!) } }
        return formatTable(header: ["feature"] + picks.enumerated().map { $1?.0 ?? baselineMethods[$0].name },
                           rows: formatted(picks.map { $0?.1 }))
    }

    var json: JSONValue {
        .object(baselineMethods.compactMap { m in
            guard let byTau = cells[m.key] else { return nil }
            return (m.key, .object(byTau.keys.sorted().map { tau in
                let c = byTau[tau]!
                return (tau, .object(features.indices.map { j in
                    (features[j], .object([("mean", .number(rounded(c.mean(j)))), ("sd", .number(rounded(c.sd(j)))),
                                           ("per_seed", .array(c.perSeed.map { .number($0[j]) }))]))
                }))
            }))
        })
    }

    private func rounded(_ x: Double) -> Double { (x * 1e4).rounded() / 1e4 }
}

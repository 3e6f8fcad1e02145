import Foundation
import MCLNumerics
import MCLReference

/// `mcl-ref bench train`: training throughput of the CNN path (images per second) and where a step
/// spends its time (GEMM vs im2col/col2im, BatchNorm, ReLU, pooling, loss, optimiser, augmentation).
let benchTrainCommand = CommandSpec(
    words: ["bench", "train"],
    summary: "Measure CNN training throughput (images/s) and the share of a step spent in GEMM.",
    discussion: """
    Runs --steps training steps (after --warmup untimed ones) through the step a stage runs
    (TrainingStep): a batch of B images, two augmented views, forward through the CNN encoder and
    projection head, the method's loss, backward, Adam step. A profiler times every layer's forward
    and backward, the loss and the optimiser (wall clock), and GEMM calls are timed inside
    (GEMMProfile). "images/s" counts training samples (each is 2 views,
    forward and backward). With several threads the GEMM seconds are summed over threads, so the
    GEMM share is exact only with --threads 1; the layer breakdown is wall time either way.
    """,
    options: [
        .value("dataset", "NAME", "trifeature | cifar-mnist-like", default: "cifar-mnist-like"),
        .value("size", "S", "image size, 16 or 32", default: "16"),
        .value("conv-widths", "LIST", "cnn channel widths", default: "16,32,64"),
        .value("rep-width", "R", "representation width", default: "64"),
        .value("batch-size", "B", "samples per batch (2B views)", default: "256"),
        .value("method", "NAME", "simclr | moco", default: "simclr"),
        .value("steps", "N", "timed steps", default: "10"),
        .value("warmup", "N", "untimed steps first", default: "2"),
        .flag("json", "print exactly one JSON object on stdout"),
    ],
    run: runBenchTrain
)

func runBenchTrain(_ args: ParsedArguments) throws -> Int32 {
    let dataset = try args.choice("dataset", builtInImageDatasets, default: "cifar-mnist-like")
    let size = try args.int("size", default: 16)!
    guard size == 16 || size == 32 else { throw CLIError("--size: must be 16 or 32, got \(size)") }
    var c = MCLConfiguration()
    c.encoder = .cnn
    c.convWidths = try args.intList("conv-widths", min: 1) ?? c.convWidths
    c.representationWidth = try args.int("rep-width", default: 64, min: 1)!
    c.batchSize = try args.int("batch-size", default: 256, min: 2)!
    c.imageAugmentation = ImageAugmentationPreset(rawValue: dataset)!
    c.seed = try args.uint64("seed", default: 0)
    c.method = ContrastiveMethod(rawValue: try args.choice("method", ContrastiveMethod.unimodal.map(\.rawValue), default: "simclr"))!
    c.temperature = c.method.defaultTemperature
    let steps = try args.int("steps", default: 10, min: 1)!
    let warmup = try args.int("warmup", default: 2, min: 0)!
    let (data, _) = try makeImageDataset(dataset, samples: c.batchSize, size: size, seed: c.seed)
    let trainer = StageTrainer<Float>(configuration: c)
    let (model, initialRNG) = trainer.initialModel(sampleShape: data.sampleShape, stream: RNGStream.stageTraining(0))
    var rng = initialRNG
    let augmentation = c.imageAugmentation.augmentation(sampleShape: data.sampleShape)
    var objectiveRNG = rng.split()
    // The step training runs (TrainingStep.swift), timed part by part through a profiler.
    var step = TrainingStep(model: model, objective: trainer.makeObjective(model: model, sampleCount: data.count, rng: &objectiveRNG),
                            optimizer: Optimizer<Float>(c.optimizer, lr: c.learningRate, weightDecay: c.weightDecay))
    let profiler = StepProfiler()
    func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
    var totalSeconds = 0.0
    for t in 0..<(warmup + steps) {
        let timed = t >= warmup
        if t == warmup { GEMMProfile.reset(); GEMMProfile.enabled = true }
        profiler.enabled = timed
        let stepStart = now()
        let views = profiler.measure("augmentation") {
            Matrix.vconcat([augmentation.apply(data.x, rng: &rng), augmentation.apply(data.x, rng: &rng)])
        }
        let result = step(views: views, labels: nil, learningRate: c.learningRate, profiler: profiler)
        guard result.status == .ok else { throw CLIError("bench train: step \(t) ended with \(result.status)", exitCode: 1) }
        if timed { totalSeconds += Double(now() - stepStart) * 1e-9 }
    }
    let times = profiler.seconds, order = profiler.order
    GEMMProfile.enabled = false
    let gemmSeconds = GEMMProfile.seconds, gemmCalls = GEMMProfile.calls
    let imagesPerSecond = Double(steps * c.batchSize) / totalSeconds
    let threads = Parallel.maxThreads
    if args.has("json") {
        print(JSONValue.object([
            ("dataset", .string(dataset)), ("size", .number(Double(size))),
            ("conv_widths", .array(c.convWidths.map { .number(Double($0)) })),
            ("batch_size", .number(Double(c.batchSize))), ("steps", .number(Double(steps))),
            ("threads", .number(Double(threads))),
            ("images_per_second", .number(imagesPerSecond.rounded())),
            ("seconds_per_step", .number((totalSeconds / Double(steps) * 1e4).rounded() / 1e4)),
            ("gemm_seconds_per_step", .number((gemmSeconds / Double(steps) * 1e4).rounded() / 1e4)),
            ("gemm_share", .number((gemmSeconds / totalSeconds * 1e3).rounded() / 1e3)),
            ("gemm_calls_per_step", .number(Double(gemmCalls / steps))),
            ("layers", .object(order.map { ($0, .number((times[$0]! / Double(steps) * 1e5).rounded() / 1e5)) })),
        ]).serialized())
        return 0
    }
    print("bench train: \(dataset) \(size)×\(size), conv widths \(c.convWidths.map(String.init).joined(separator: ",")), "
        + "batch \(c.batchSize) (\(2 * c.batchSize) views), \(steps) steps, threads \(threads)\n")
    let rows = order.map { key -> [String] in
        [key, String(format: "%.2f", 1e3 * times[key]! / Double(steps)), String(format: "%.1f", 100 * times[key]! / totalSeconds)]
    }
    print(formatTable(header: ["component", "ms/step", "% of step"], rows: rows))
    print(String(format: "step: %.1f ms  →  %.0f images/s (%.0f views/s, forward + backward)", 1e3 * totalSeconds / Double(steps),
                 imagesPerSecond, 2 * imagesPerSecond))
    print(String(format: "GEMM: %.1f ms/step in %d calls/step = %.1f%% of the step%@", 1e3 * gemmSeconds / Double(steps),
                 gemmCalls / steps, 100 * gemmSeconds / totalSeconds,
                 threads > 1 ? " (thread-seconds summed over \(threads) threads: use --threads 1 for an exact share)" : ""))
    return 0
}

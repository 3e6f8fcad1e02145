import Foundation
import MCLNumerics
import MCLReference

/// `mcl-ref bench mlp`: median time of one SimCLR training step of the MLP encoder + head.
let benchMLPCommand = CommandSpec(
    words: ["bench", "mlp"],
    summary: "Measure one SimCLR training step (forward, NT-Xent, backward, Adam) of the MLP model.",
    discussion: """
    The step `train` repeats: the 2B views go through encoder Linear-BatchNorm-ReLU-Linear and head
    Linear-BatchNorm-ReLU-Linear, NT-Xent (τ 0.5) gives the loss and dL/dz, the backward pass gives
    every parameter's gradient and Adam updates the weights. Float32. Views are drawn once, so
    augmentation and batch gathering are not timed. scripts/bench_step.sh times the same step in
    PyTorch eager and JAX jit (scripts/bench_step_torch.py, bench_step_jax.py) with the same method,
    scripts/bench_mlp.sh in numpy. --export DIR writes the initial parameters (<name>.npy, PyTorch's
    names) and the views (views.npy) so that those peers start from exactly this data; "loss_step0"
    is the loss of the first step. --breakdown prints the time of each part of the step
    (StepProfiler: wall clock per layer forward/backward, loss, optimiser) after the timing.
    """,
    options: [
        .value("batch-size", "B", "samples per step (2B views)", default: "256"),
        .value("input-width", "D", "input width", default: "32"),
        .value("hidden", "H", "encoder hidden width", default: "128"),
        .value("rep-width", "R", "representation width", default: "16"),
        .value("head-hidden", "P", "projection head hidden width", default: "64"),
        .value("embedding", "E", "embedding width", default: "32"),
        .value("repeats", "R", "timed samples (the median is reported)", default: "11"),
        .value("export", "DIR", "write the initial parameters and the views as .npy files into DIR"),
        .flag("breakdown", "also time each part of the step (layers, loss, optimiser)"),
        .flag("json", "print exactly one JSON object on stdout"),
    ],
    run: runBenchMLP
)

func runBenchMLP(_ args: ParsedArguments) throws -> Int32 {
    let b = try args.int("batch-size", default: 256, min: 2)!
    let d = try args.int("input-width", default: 32, min: 1)!
    let h = try args.int("hidden", default: 128, min: 1)!
    let r = try args.int("rep-width", default: 16, min: 1)!
    let p = try args.int("head-hidden", default: 64, min: 1)!
    let e = try args.int("embedding", default: 32, min: 1)!
    let repeats = try args.int("repeats", default: 11, min: 1)!
    var rng = RNG(seed: try args.uint64("seed", default: 0))
    let model = ContrastiveModel<Float>(
        encoder: .mlpEncoder(inputWidth: d, hiddenWidths: [h], outputWidth: r, rng: &rng),
        head: .projectionHead(inputWidth: r, hiddenWidth: p, outputWidth: e, rng: &rng))
    let views: Matrix<Float> = rng.normalMatrix(2 * b, d)
    // The step training runs (TrainingStep.swift): SimCLR's objective, Adam.
    if let dir = args.string("export") {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, value) in model.namedParameters() { try NPY.write(value, to: dir + "/" + name + ".npy") }
        try NPY.write(views, to: dir + "/views.npy")
    }
    var step = TrainingStep(model: model, objective: .simclr(NTXent(temperature: 0.5)), optimizer: .adam(Adam(lr: 1e-3)))
    let loss0 = step(views: views, labels: nil, learningRate: 1e-3).loss
    var lastLoss: Float = 0
    let seconds = medianSeconds(repeats: repeats) {
        lastLoss = step(views: views, labels: nil, learningRate: 1e-3).loss
    }
    guard lastLoss.isFinite else { throw CLIError("bench mlp: the loss diverged (\(lastLoss))", exitCode: 1) }
    let samplesPerSecond = Double(b) / seconds
    var parts: [(String, Double)] = []
    if args.has("breakdown") {
        let profiler = StepProfiler(), steps = max(1, Int(0.2 / seconds))
        for _ in 0..<steps { _ = step(views: views, labels: nil, learningRate: 1e-3, profiler: profiler) }
        parts = profiler.order.map { ($0, profiler.seconds[$0]! / Double(steps)) }
    }
    if args.has("json") {
        print(JSONValue.object([("train_step", .object([
            ("batch_size", .number(Double(b))), ("input_width", .number(Double(d))), ("hidden", .number(Double(h))),
            ("rep_width", .number(Double(r))), ("head_hidden", .number(Double(p))), ("embedding", .number(Double(e))),
            ("threads", .number(Double(Parallel.maxThreads))),
            ("ms_per_step", .number((seconds * 1e5).rounded() / 100)),
            ("samples_per_second", .number(samplesPerSecond.rounded())),
            ("loss_step0", .number(Double(loss0))),
        ] + (parts.isEmpty ? [] : [("parts_ms", .object(parts.map { ($0.0, .number(($0.1 * 1e6).rounded() / 1e3)) }))])))
        ]).serialized())
    } else {
        print(String(format: "SimCLR step B=%d D=%d [%d]→%d head [%d]→%d, %d threads: %.3f ms/step, %.0f samples/s",
                     b, d, h, r, p, e, Parallel.maxThreads, seconds * 1e3, samplesPerSecond))
        if !parts.isEmpty {
            let total = parts.reduce(0) { $0 + $1.1 }
            print(formatTable(header: ["part", "ms/step", "% of parts"], rows: parts.map {
                [$0.0, String(format: "%.3f", $0.1 * 1e3), String(format: "%.1f", 100 * $0.1 / total)] }))
        }
    }
    return 0
}

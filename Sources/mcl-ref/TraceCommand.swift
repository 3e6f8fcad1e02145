import Foundation
import MCLNumerics
import MCLReference

/// `mcl-ref trace`: an MCL run recorded step by step, for replaying in another backend.
let traceCommand = CommandSpec(
    words: ["trace"],
    summary: "Run a (small) MCL job and record everything needed to replay it in another backend.",
    discussion: """
    Same data and settings as 'train' (and the same bits: the trace's representations, clusters and
    losses equal those of 'train' with the same options). Recorded: the data as trained on; per stage
    the initial weights and pseudo labels; for steps s < --first-steps and every s % --steps-every
    == 0: batch indices, augmented views, loss, gradients by parameter name, weights and optimiser
    state after the step (and before it, when step s-1 is not recorded); after each stage the
    weights, representations, K-means centroids and labels; the probe results (report.json).
    trace.json indexes every file with its dtype, shape and meaning. DIR is written as a whole: into
    a temporary sibling first, then renamed into place (an existing DIR is replaced only if it holds
    a previous trace). Keep the job small (e.g. --samples 256 --epochs 2 --batch-size 32): every
    recorded step stores the whole model twice.
    """,
    options: dataOptions + [
        .value("out", "DIR", "the trace directory (required)"),
        .value("first-steps", "N", "record every step s < N of each stage", default: "3"),
        .value("steps-every", "M", "and every step s with s % M == 0", default: "50"),
    ] + imageOptions + mclOptions.filter { $0.name != "multi-simclr" && $0.name != "json" },
    run: runTrace
)

func runTrace(_ args: ParsedArguments) throws -> Int32 {
    var c = try mclConfiguration(args)
    guard let out = try outOption(args) else { throw CLIError("--out: missing (the directory to write the trace into)") }
    let firstSteps = try args.int("first-steps", default: 3, min: 0)!
    let stepsEvery = try args.int("steps-every", default: 50, min: 1)!
    let fm = FileManager.default
    var isDir: ObjCBool = false
    let outExists = fm.fileExists(atPath: out, isDirectory: &isDir)
    if outExists {
        guard isDir.boolValue else { throw CLIError("--out: '\(out)' exists and is not a directory") }
        let contents = (try? fm.contentsOfDirectory(atPath: out)) ?? []
        if !contents.isEmpty && !fm.fileExists(atPath: out + "/trace.json") {
            throw CLIError("--out: '\(out)' exists, is not empty and holds no trace.json; choose a new directory")
        }
    }
    let (train, test, source) = try loadTrainTest(args, seed: c.seed)
    try applyImageOptions(args, &c, data: train, source: source)
    try validate(train, c, source: source)
    let printer = ProgressPrinter(quiet: args.has("quiet"))
    printer.log("mcl-ref trace: \(source), \(train.count) train / \(test.count) test samples, seed \(c.seed), "
        + "threads \(Parallel.maxThreads), recording steps < \(firstSteps) and every \(stepsEvery)th")

    let trimmed = out.hasSuffix("/") && out.count > 1 ? String(out.dropLast()) : out
    let pid = ProcessInfo.processInfo.processIdentifier
    let temp = "\(trimmed).tmp-\(pid)"
    try? fm.removeItem(atPath: temp)
    do {
        let recorder = try TraceRecorder<Float>(directory: temp, firstSteps: firstSteps, stepsEvery: stepsEvery)
        try recorder.recordData(train: train, test: test)
        let mcl = MultistageContrastiveLearning<Float>(configuration: c, observer: recorder.observer)
        let run = try mcl.run(train: train, test: test, progress: progressHandler(printer),
                              stageCompleted: { try recorder.stageCompleted($0) })
        try recorder.finish(run: run, header: [
            ("format_version", 1), ("tool", "mcl-ref trace"), ("version", .string(MCLReference.version)), ("precision", "f32"),
            ("source", .string(source)), ("seed", .string(String(c.seed))),
            ("threads", .number(Double(Parallel.maxThreads))),
            ("command", .array(CommandLine.arguments.dropFirst().map { .string($0) })),
            ("configuration", .object(c.json)),
            ("conventions", .object(traceConventions)),
        ])
        // Into place: an existing (empty, or previous-trace) directory is moved aside first.
        var old: String?
        if fm.fileExists(atPath: trimmed) {
            old = "\(trimmed).old-\(pid)"
            try? fm.removeItem(atPath: old!)
            guard rename(trimmed, old!) == 0 else { throw CLIError("--out: cannot move the previous '\(trimmed)' aside") }
        }
        guard rename(temp, trimmed) == 0 else {
            if let old { _ = rename(old, trimmed) }
            throw CLIError("--out: cannot rename \(temp) to \(trimmed)")
        }
        if let old { try? fm.removeItem(atPath: old) }
    } catch {
        try? fm.removeItem(atPath: temp)
        if let e = error as? FileWriteError { throw CLIError("\(e)") }
        throw error
    }
    printer.log("wrote \(trimmed)/ (index: \(trimmed)/trace.json)")
    return 0
}

/// What a backend needs to know to replay a step (written into trace.json).
let traceConventions: [(String, JSONValue)] = [
    ("model", "encoder = mlpEncoder (Linear → BatchNorm1d → ReLU per hidden width, then Linear to R; no BatchNorm with batch_norm false), head = Linear → BatchNorm1d → ReLU → Linear; names are PyTorch state_dict names encoder.<i>.<field>, head.<i>.<field>; a layer index without parameters is a ReLU"),
    ("step", "z = head(encoder(views)) in train mode (BatchNorm statistics over all 2b rows, eps 1e-5, momentum 0.1, unbiased running_var); loss = NT-Xent at temperature τ with u = z/max(‖z‖, 1e-12), the positive of row i is row (i + b) mod 2b, the denominator holds all 2b − 1 other rows (positive included), restricted to rows whose mask label equals the anchor's when mask_labels.npy exists; loss = mean over the 2b anchors"),
    ("optimizer", "adam: torch.optim.Adam (betas 0.9, 0.999, eps 1e-8; weight_decay as L2 added to the gradient), adamw: torch.optim.AdamW, sgd: momentum 0.9; the step's learning rate is 'lr' of the step entry"),
    ("replay", "load state_before (and optimizer_before), run the step on views.npy, compare loss.npy and grad/*, apply the optimiser, compare state_after/*; float32 computations agree with these float32 values to about 1e-4 relative on gradients (BatchNorm backward cancels), see Examples/replay_trace.py"),
    ("representations", "f_j(x) in eval mode (BatchNorm running statistics); K-means runs on the L2-normalised rows with k-means++ restarts, best inertia kept"),
    ("shapes", "Linear weights out×in, other parameters, buffers and optimiser moments 1-D, num_batches_tracked and optimiser step 0-d int64; batch indices int64"),
]

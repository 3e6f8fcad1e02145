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
        .value("world-size", "W", "simulate DistributedDataParallel on W ranks (SimCLR): each step records every rank's batch, views and loss, the all-reduced gradient and the update", default: "1"),
    ] + imageOptions + mclOptions.filter { $0.name != "multi-simclr" && $0.name != "json" },
    run: runTrace
)

func runTrace(_ args: ParsedArguments) throws -> Int32 {
    var c = try mclConfiguration(args)
    if !c.method.hasNegatives {  // the trace conventions and replay_trace.py describe SimCLR and MoCo steps
        throw CLIError("--method \(c.method.rawValue): trace records simclr and moco steps only (its conventions describe no \(c.method.displayName) step)")
    }
    if let flag = ["ifm", "debiased", "temperature-schedule", "viewmaker"].first(where: { args.string($0) != nil }) {
        throw CLIError("--\(flag): a trace's conventions describe the plain loss at a fixed τ; trace a baseline with 'train' instead")
    }
    guard let out = try outOption(args) else { throw CLIError("--out: missing (the directory to write the trace into)") }
    let firstSteps = try args.int("first-steps", default: 3, min: 0)!
    let stepsEvery = try args.int("steps-every", default: 50, min: 1)!
    let worldSize = try args.int("world-size", default: 1, min: 1)!
    if worldSize > 1 && c.method != .simclr {
        throw CLIError("--world-size: data parallelism is modelled for --method simclr only, not \(c.method.rawValue)")
    }
    let fm = FileManager.default
    var isDir: ObjCBool = false
    let outExists = fm.fileExists(atPath: out, isDirectory: &isDir)
    if outExists {
        guard isDir.boolValue else { throw CLIError("--out: '\(out)' exists and is not a directory") }
        let contents = (try? fm.contentsOfDirectory(atPath: out)) ?? []
        if !contents.isEmpty && !fm.fileExists(atPath: out + "/" + TraceRecorder<Float>.indexFile) {
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
        var mcl = MultistageContrastiveLearning<Float>(configuration: c, observer: recorder.observer)
        mcl.worldSize = worldSize
        let run = try mcl.run(train: train, test: test, progress: progressHandler(printer),
                              stageCompleted: { try recorder.stageCompleted($0) })
        try recorder.finish(run: run, header: [
            ("format_version", 2), ("tool", "mcl-ref trace"), ("version", .string(MCLReference.version)), ("precision", "f32"),
            ("source", .string(source)), ("seed", .string(String(c.seed))),
            ("threads", .number(Double(Parallel.maxThreads))),
            ("command", .array(CommandLine.arguments.dropFirst().map { .string($0) })),
            ("configuration", .object(c.json)),
            ("sample_shape", .array(train.sampleShape.map { .number(Double($0)) })),
            ("world_size", .number(Double(worldSize))),
            ("conventions", .object(traceConventions(c) + (c.method == .moco ? mocoTraceConventions : [])
                                    + (worldSize > 1 ? dataParallelTraceConventions : []))),
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
    printer.log("wrote \(trimmed)/ (index: \(trimmed)/\(TraceRecorder<Float>.indexFile))")
    return 0
}

/// What a backend needs to know to replay a step (written into trace.json): the conventions of the
/// encoder the run actually uses (MLP or CNN), then those shared by both.
func traceConventions(_ c: MCLConfiguration) -> [(String, JSONValue)] {
    let head = "head = Linear → BatchNorm1d → ReLU → Linear (no BatchNorm with batch_norm false)"
    let names = "names are PyTorch state_dict names encoder.<i>.<field>, head.<i>.<field>"
    var model: [(String, JSONValue)]
    switch c.encoder {
    case .mlp:
        model = [
            ("model", .string("encoder = mlpEncoder (Linear → BatchNorm1d → ReLU per hidden width, then Linear to R; no BatchNorm with batch_norm false), \(head); \(names); a layer index without parameters is a ReLU")),
            ("input", "views.npy and data/*_x.npy rows are the D input values of a sample (sample_shape [D])"),
            ("shapes", "Linear weights out×in, other parameters, buffers and optimiser moments 1-D, num_batches_tracked and optimiser step 0-d int64; batch indices int64"),
        ]
    case .cnn:
        model = [
            ("model", .string("encoder = cnnEncoder: for each width w_i of conv_widths, Conv2d(C_{i-1}, w_i, 3×3, stride 1 for i = 0 and 2 after, padding 1, bias) → BatchNorm2d(w_i) → ReLU; then AdaptiveAvgPool2d(1) → Flatten → Linear(w_last, R); \(head); \(names); layer indices without parameters are ReLU, the pool and Flatten (as PyTorch's nn.Sequential of these modules)")),
            ("input", "views.npy and data/*_x.npy rows are images of sample_shape [C, H, W], flattened in C order (row r reshaped to (C, H, W) is PyTorch's NCHW sample)"),
            ("batch_norm_2d", "BatchNorm2d statistics per channel over all 2b·H·W positions of the batch (unbiased running_var with n = 2b·H·W), eps 1e-5, momentum 0.1"),
            ("shapes", "Conv2d weights are stored 4-D (O, C, kh, kw), as PyTorch's; Linear weights out×in; other parameters, buffers and optimiser moments 1-D; num_batches_tracked and optimiser step 0-d int64; batch indices int64"),
            ("augmentation", .string("views are given (views.npy); they were made by the '\(c.imageAugmentation.rawValue)' image augmentation, which a replay does not need")),
        ]
    }
    return model + [
        ("step", "z = head(encoder(views)) in train mode (BatchNorm statistics over all 2b rows, eps 1e-5, momentum 0.1, unbiased running_var); loss = NT-Xent at temperature τ with u = z/max(‖z‖, 1e-12), the positive of row i is row (i + b) mod 2b, the denominator holds all 2b − 1 other rows (positive included), restricted to rows whose mask label equals the anchor's when mask_labels.npy exists; loss = mean over the 2b anchors"),
        ("optimizer", "adam: torch.optim.Adam (betas 0.9, 0.999, eps 1e-8; weight_decay as L2 added to the gradient), adamw: torch.optim.AdamW, sgd: momentum 0.9; the step's learning rate is 'lr' of the step entry"),
        ("replay", "load state_before (and optimizer_before), run the step on views.npy, compare loss.npy and grad/*, apply the optimiser, compare state_after/*; float32 computations agree with these float32 values to about 1e-4 relative on gradients (BatchNorm backward cancels); Examples/replay_trace.py does this in numpy for the MLP and the CNN encoder"),
        ("representations", "f_j(x) in eval mode (BatchNorm running statistics); K-means runs on the L2-normalised rows with k-means++ restarts, best inertia kept"),
    ]
}

/// What differs in a MoCo trace (`--method moco`): the "step" convention above describes SimCLR.
let mocoTraceConventions: [(String, JSONValue)] = [
    ("method", "moco"),
    ("moco_step", "MoCo-v2 replaces 'step': (1) key model ← m·key + (1 − m)·model, parameters only (m = configuration.moco_momentum); (2) q = head(encoder(view 1 = rows 0..<b)) in train mode, k = normalize(key_head(key_encoder(view 2 = rows b..<2b))) in train mode (separate BatchNorm statistics); (3) loss = mean_i −log softmax([q̂_i·k_i, q̂_i·queue_l …]/τ)[0] over admissible queue entries l: all at stage 0, else those whose queue label equals mask_labels[i] (−1 never matches); (4) backward through q only, optimiser; (5) enqueue k_i with mask_labels[i] (0 at stage 0) at queue_pointer, wrapping. key_state_after, queue_after, queue_labels_after and queue_pointer_after hold the state after the step; the queue before step s is the one after step s − 1, before step 0 stage<j>/initial_queue.npy (labels initial_queue_labels.npy); the key model before step 0 is the initial model"),
]

/// What differs in a data-parallel trace (`--world-size W`, W > 1).
let dataParallelTraceConventions: [(String, JSONValue)] = [
    ("data_parallel", "each step is one DistributedDataParallel step on W ranks: rank r takes batch r of the sampler built with world_size W and rank r (steps/<s>/rank<r>/batch.npy), forwards its own views (rank<r>/views.npy) in train mode with its own BatchNorm statistics, and computes its own loss, a mean over its own batch (rank<r>/loss.npy); grad/* is the all-reduced gradient, the mean over ranks of each rank's gradient, i.e. the gradient of loss.npy = the mean of the ranks' losses; the optimiser applies it once; BatchNorm running statistics in state_after are rank 0's (DDP broadcasts rank 0's buffers). batch.npy and views.npy of the step are rank 0's"),
]

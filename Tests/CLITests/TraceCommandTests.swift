import Foundation
import XCTest
import MCLNumerics
import MCLReference

/// `mcl-ref trace`: same bits as `train`, every file indexed, steps replayable (in Swift bit for bit,
/// in numpy within Examples/replay_trace.py's documented tolerances), atomic output.
final class TraceCommandTests: XCTestCase {
    var scratch = ""
    override func setUpWithError() throws { scratch = try makeScratchDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    /// A tiny 2-stage job: 128 samples, batch 32 → 4 steps per epoch, 2 epochs → 8 steps per stage.
    static let settings = ["--samples", "128", "--epochs", "2", "--batch-size", "32", "--stages", "2", "--clusters", "3",
                           "--hidden", "16", "--rep-width", "4", "--kmeans-restarts", "1", "--seed", "11", "--quiet"]

    /// The configuration `settings` give (what a replay needs: architecture, τ, optimiser).
    static var configuration: MCLConfiguration {
        var c = MCLConfiguration()
        c.stages = 2; c.clusters = 3; c.epochs = 2; c.batchSize = 32
        c.encoderHidden = [16]; c.representationWidth = 4; c.kmeansRestarts = 1; c.seed = 11
        return c
    }

    func trace(_ out: String, _ extra: [String] = ["--first-steps", "2", "--steps-every", "3"]) throws -> ProcessResult {
        try runMCLRef(["trace"] + TraceCommandTests.settings + ["--out", out] + extra)
    }

    func json(_ path: String) throws -> JSONValue {
        try JSONValue.parse(String(contentsOfFile: path, encoding: .utf8))
    }

    func testTraceAgreesBitForBitWithTrainAndIndexesEveryFile() throws {
        let trained = scratch + "/train", traced = scratch + "/trace"
        let t = try runMCLRef(["train"] + TraceCommandTests.settings + ["--out", trained])
        XCTAssertEqual(t.status, 0, t.stderr)
        let r = try trace(traced)
        XCTAssertEqual(r.status, 0, r.stderr)
        for j in 0..<2 {
            for (a, b) in [("stage\(j)_representations.npy", "stage\(j)/representations.npy"),
                           ("stage\(j)_test_representations.npy", "stage\(j)/test_representations.npy"),
                           ("stage\(j)_cluster_labels.npy", "stage\(j)/kmeans_labels.npy"),
                           ("stage\(j)_centroids.npy", "stage\(j)/kmeans_centroids.npy"),
                           ("pseudo_labels_stage\(j).npy", "stage\(j)/pseudo_labels.npy")] {
                XCTAssertEqual(FileManager.default.contents(atPath: "\(trained)/\(a)"),
                               FileManager.default.contents(atPath: "\(traced)/\(b)"), "\(a) vs \(b)")
            }
            // Final weights: train and trace write the same PyTorch-shaped state dict, byte for byte.
            let names = try FileManager.default.contentsOfDirectory(atPath: "\(trained)/stage\(j)_weights")
            XCTAssertEqual(names.count, 18)
            for name in names {
                XCTAssertEqual(FileManager.default.contents(atPath: "\(trained)/stage\(j)_weights/\(name)"),
                               FileManager.default.contents(atPath: "\(traced)/stage\(j)/final_state/\(name)"), "stage \(j) \(name)")
            }
        }
        XCTAssertEqual(FileManager.default.contents(atPath: "\(trained)/integrated_representations.npy"),
                       FileManager.default.contents(atPath: "\(traced)/integrated_representations.npy"))
        // The same losses, probe and kNN accuracies (everything in the report but the timings).
        let ra = try json(trained + "/report.json"), rb = try json(traced + "/report.json")
        for (sa, sb) in zip(ra["per_stage"]!.arrayValue!, rb["per_stage"]!.arrayValue!) {
            for key in ["loss", "probe", "knn", "inertia", "groups"] { XCTAssertEqual(sa[key], sb[key], key) }
        }
        XCTAssertEqual(ra["integrated"], rb["integrated"])

        // trace.json lists exactly the files present, and the recorded steps follow the rule
        // (s < 2 or s % 3 == 0 of 8 steps per stage).
        let index = try json(traced + "/trace.json")
        let listed = Set(index["files"]!.arrayValue!.map { $0["file"]!.stringValue! })
        var present = Set<String>()
        let walker = FileManager.default.enumerator(atPath: traced)!
        while let f = walker.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(traced)/\(f)", isDirectory: &isDir), !isDir.boolValue { present.insert(f) }
        }
        XCTAssertEqual(listed, present, "listed but absent: \(listed.subtracting(present)); present but unlisted: \(present.subtracting(listed))")
        for stage in index["stages"]!.arrayValue! {
            XCTAssertEqual(stage["total_steps"]?.intValue, 8)
            XCTAssertEqual(stage["recorded_steps"]!.arrayValue!.map { $0["step"]!.intValue! }, [0, 1, 3, 6])
        }
        XCTAssertEqual(index["stages"]?.arrayValue?.map { $0["masked_loss"]! }, [false, true])
        XCTAssertNotNil(index["probe"]?["per_stage"])
        // Nothing left beside the output (the temporary directory was renamed).
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch).sorted(), ["trace", "train"])
    }

    /// Replaying a step in Swift from the trace alone (state and optimiser before it, the views, the
    /// mask labels) reproduces the traced loss, every gradient and the state after it, bit for bit.
    /// Image data gets the same encoder as `train` (a CNN by default) and the trace records its weights.
    func testImageTraceUsesTheCNNAndAgreesWithTrain() throws {
        let trained = scratch + "/train", traced = scratch + "/trace"
        let settings = ["--dataset", "trifeature", "--samples", "64", "--epochs", "1", "--stages", "2", "--batch-size", "32",
                        "--conv-widths", "4,8", "--rep-width", "8", "--clusters", "2", "--quiet"]
        let t = try runMCLRef(["train"] + settings + ["--out", trained])
        XCTAssertEqual(t.status, 0, t.stderr)
        let r = try runMCLRef(["trace"] + settings + ["--out", traced])
        XCTAssertEqual(r.status, 0, r.stderr)
        let index = try json(traced + "/trace.json")
        XCTAssertEqual(index["configuration"]?["encoder"]?.stringValue, "cnn")
        // The conventions describe the CNN that was used (not the MLP), and the stored conv weights
        // have the layout they state: PyTorch's (O, C, kh, kw).
        XCTAssertEqual(index["sample_shape"], .array([3, 16, 16]))
        let model = index["conventions"]?["model"]?.stringValue ?? ""
        XCTAssert(model.contains("cnnEncoder") && model.contains("Conv2d") && model.contains("AdaptiveAvgPool2d(1)")
                  && !model.contains("mlpEncoder"), model)
        XCTAssert(index["conventions"]?["shapes"]?.stringValue?.contains("Conv2d weights are stored 4-D (O, C, kh, kw)") == true)
        XCTAssert(index["conventions"]?["batch_norm_2d"]?.stringValue?.contains("2b·H·W") == true)
        for (file, shape) in [("encoder.0.weight", [4, 3, 3, 3]), ("encoder.3.weight", [8, 4, 3, 3])] {
            XCTAssertEqual(try NPY.read("\(traced)/stage0/initial_state/\(file).npy").shape, shape, file)
        }
        for j in 0..<2 {
            XCTAssertEqual(FileManager.default.contents(atPath: "\(trained)/stage\(j)_representations.npy"),
                           FileManager.default.contents(atPath: "\(traced)/stage\(j)/representations.npy"), "stage \(j)")
        }
    }

    func testAStepReplaysBitForBitFromTheTraceAlone() throws {
        let traced = scratch + "/trace"
        XCTAssertEqual(try trace(traced).status, 0)
        let index = try json(traced + "/trace.json")
        XCTAssert(index["conventions"]?["model"]?.stringValue?.hasPrefix("encoder = mlpEncoder") == true)
        XCTAssertEqual(index["sample_shape"]?.arrayValue?.count, 1)
        let stage = index["stages"]!.arrayValue![1]
        // Step 6 of stage 1: step 5 is not recorded, so its "before" state is stored with it.
        let entry = stage["recorded_steps"]!.arrayValue!.first { $0["step"]?.intValue == 6 }!
        XCTAssertEqual(entry["state_before"]?.stringValue, "stage1/steps/000006/state_before")
        func named(_ folder: String) throws -> NamedMatrices<Float> {
            try FileManager.default.contentsOfDirectory(atPath: "\(traced)/\(folder)").sorted().map { file in
                let a = try NPY.read("\(traced)/\(folder)/\(file)")
                // mcl-ref holds vectors as 1×n and scalars (num_batches_tracked, Adam's step) as 1×1.
                let m: Matrix<Float> = a.dtype.isFloatingPoint
                    ? (a.shape.count == 2 ? try a.asMatrix(Float.self) : Matrix(rows: 1, cols: a.count, storage: try a.asFloats()))
                    : Matrix(rows: 1, cols: 1, storage: [Float(try a.asInts().values[0])])
                return (String(file.dropLast(4)), m)
            }
        }
        let c = TraceCommandTests.configuration
        let dir = "\(traced)/\(entry["dir"]!.stringValue!)"
        var (model, _) = StageTrainer<Float>(configuration: c).initialModel(sampleShape: [32], stream: RNGStream.stageTraining(1))
        try model.loadStateDict(try named(entry["state_before"]!.stringValue!))
        let views = try NPY.readMatrix("\(dir)/views.npy", as: Float.self)
        let mask = try NPY.readIntArray("\(dir)/mask_labels.npy").values
        let (_, z, cache) = model.forward(views, mode: .train)
        let out = NTXent<Float>(temperature: Float(c.temperature))(z, pseudoLabels: mask)
        XCTAssertEqual(try NPY.read("\(dir)/loss.npy").asFloats(), [out.loss])
        let grads = model.namedGradients(model.backward(out.dEmbeddings, cache).gradients)
        let traced_grads = try named(entry["dir"]!.stringValue! + "/grad")
        XCTAssertEqual(grads.count, traced_grads.count)
        for (name, g) in grads {
            XCTAssertEqual(traced_grads.first { $0.name == name }?.value.storage, g.storage, name)
        }
        var adam = Optimizer<Float>.adam(Adam(lr: Float(entry["lr"]!.doubleValue!)))
        try adam.loadNamedState(try named(entry["optimizer_before"]!.stringValue!), names: model.parameterNames)
        var params = model.parameterTensors
        adam.step(&params, gradients: grads.map { $0.value.storage })
        model.updateParameters { k, p in p = params[k] }
        let after = try named(entry["dir"]!.stringValue! + "/state_after")
        for (name, v) in model.stateDict() {
            XCTAssertEqual(after.first { $0.name == name }?.value.storage, v.storage, name)
        }
    }

    /// Examples/replay_trace.py recomputes every recorded step in numpy within its tolerances, and
    /// its --broken variant (positive left out of the denominator) is caught (needs python3 + numpy).
    func testNumpyReplayPassesAndItsBrokenVariantFails() throws {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").map { "\($0)/python3" }
        let python = path.first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let python, try runProcess(URL(fileURLWithPath: python), ["-c", "import numpy"]).status == 0 else {
            throw XCTSkip("python3 with numpy not available")
        }
        let traced = scratch + "/trace"
        XCTAssertEqual(try trace(traced).status, 0)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = root.appendingPathComponent("Examples/replay_trace.py").path
        let good = try runProcess(URL(fileURLWithPath: python), [script, traced])
        XCTAssertEqual(good.status, 0, good.stdout + good.stderr)
        XCTAssert(good.stdout.contains("8 steps replayed: all within tolerance"), good.stdout)
        let bad = try runProcess(URL(fileURLWithPath: python), [script, traced, "--broken"])
        XCTAssertEqual(bad.status, 1, bad.stdout + bad.stderr)
        XCTAssert(bad.stdout.contains("FAIL stage0/step0/loss"), bad.stdout)
    }

    func testUsageErrorsAndReplacingAPreviousTrace() throws {
        let noOut = try runMCLRef(["trace"] + TraceCommandTests.settings)
        XCTAssertEqual(noOut.status, 2)
        XCTAssert(noOut.stderr.contains("--out"), noOut.stderr)
        // A non-empty directory that is not a trace is refused and left alone.
        let other = scratch + "/other"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: false)
        _ = FileManager.default.createFile(atPath: other + "/keep.txt", contents: Data("x".utf8))
        let refused = try trace(other)
        XCTAssertEqual(refused.status, 2)
        XCTAssert(refused.stderr.contains("holds no trace.json"), refused.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: other), ["keep.txt"])
        // A previous trace is replaced as a whole.
        let traced = scratch + "/trace"
        XCTAssertEqual(try trace(traced, ["--first-steps", "8"]).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: traced + "/stage0/steps/000007"))
        XCTAssertEqual(try trace(traced, ["--first-steps", "1", "--steps-every", "100"]).status, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: traced + "/stage0/steps"), ["000000"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch).sorted(), ["other", "trace"])
        let zero = try trace(scratch + "/z", ["--steps-every", "0"])
        XCTAssertEqual(zero.status, 2)
        XCTAssert(zero.stderr.contains("--steps-every"), zero.stderr)
    }
}

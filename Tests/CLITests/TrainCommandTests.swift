import Foundation
import XCTest
import MCLNumerics

/// `mcl-ref train` and `mcl-ref demo` as a script sees them: the --json contract, the files --out
/// writes, the table on stdout and progress on stderr. Tiny runs (a few epochs on 256 samples):
/// these test the plumbing; the accuracy claims are measured by `demo` and reported in README.md.
final class TrainCommandTests: XCTestCase {
    var scratch = ""
    override func setUpWithError() throws { scratch = try makeScratchDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    let tiny = ["--samples", "256", "--epochs", "2", "--batch-size", "64", "--stages", "3", "--clusters", "3",
                "--hidden", "16", "--rep-width", "8", "--kmeans-restarts", "1"]

    /// The probe/kNN scores of one feature map are accuracies in [0, 1] keyed by the feature names.
    func assertScores(_ v: JSONValue?, _ features: [String], _ context: String,
                      file: StaticString = #filePath, line: UInt = #line) {
        guard let pairs = v?.objectValue else { return XCTFail("\(context): not an object", file: file, line: line) }
        XCTAssertEqual(pairs.map { $0.0 }, features, context, file: file, line: line)
        for (name, score) in pairs {
            guard let x = score.doubleValue else { XCTFail("\(context).\(name) not a number", file: file, line: line); continue }
            XCTAssert(x >= 0 && x <= 1, "\(context).\(name) = \(x)", file: file, line: line)
        }
    }

    func testJSONIsOneObjectWithTheDocumentedShape() throws {
        let r = try runMCLRef(["train", "--json", "--multi-simclr"] + tiny)
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONValue.parse(r.stdout, source: "stdout")
        let features = ["easy", "hard"]
        XCTAssertEqual(json["features"]?.arrayValue?.compactMap { $0.stringValue }, features)
        let perStage = try XCTUnwrap(json["per_stage"]?.arrayValue)
        XCTAssertEqual(perStage.count, 3)
        for (j, s) in perStage.enumerated() {
            XCTAssertEqual(s["stage"]?.intValue, j)
            assertScores(s["probe"], features, "per_stage[\(j)].probe")
            assertScores(s["knn"], features, "per_stage[\(j)].knn")
            XCTAssert(s["loss"]?.doubleValue?.isFinite == true)
        }
        XCTAssertEqual(perStage[0]["groups"]?.intValue, 1, "stage 0 is plain SimCLR: one group")
        XCTAssertGreaterThan(perStage[2]["groups"]?.intValue ?? 0, 1)
        let integrated = try XCTUnwrap(json["integrated"]?.arrayValue)
        XCTAssertEqual(integrated.map { $0["stages"]?.intValue }, [1, 2, 3])
        for (j, s) in integrated.enumerated() { assertScores(s["probe"], features, "integrated[\(j)].probe") }
        // Integrating one stage is that stage alone.
        XCTAssertEqual(integrated[0]["probe"], perStage[0]["probe"])
        assertScores(json["multi_simclr"]?["probe"], features, "multi_simclr.probe")
        assertScores(json["multi_simclr"]?["knn"], features, "multi_simclr.knn")
        // Progress went to stderr, not into the JSON.
        XCTAssert(r.stderr.contains("stage 2 done"), r.stderr)
        XCTAssertNil(try runMCLRef(["train", "--json"] + tiny + ["--stages", "1"]).stdout
            .split(separator: "\n").dropFirst().first, "exactly one line of JSON")
    }

    func testOutWritesEveryArtifactWithConsistentShapes() throws {
        let out = scratch + "/run"
        let r = try runMCLRef(["train", "--out", out, "--quiet"] + tiny)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssert(r.stderr.split(separator: "\n").allSatisfy { $0.hasPrefix("warning: ") },
                  "--quiet prints only warnings on stderr: \(r.stderr)")
        XCTAssert(r.stdout.contains("wrote \(out)/"), r.stdout)
        var blocks: [Matrix<Float>] = []
        for j in 0..<3 {
            let z = try NPY.readMatrix("\(out)/stage\(j)_representations.npy", as: Float.self)
            XCTAssertEqual([z.rows, z.cols], [256, 8])
            XCTAssertEqual(try NPY.readMatrix("\(out)/stage\(j)_test_representations.npy", as: Float.self).rows, 256)
            let labels = try NPY.readIntArray("\(out)/stage\(j)_cluster_labels.npy").values
            XCTAssertEqual(labels.count, 256)
            XCTAssert(labels.allSatisfy { (0..<3).contains($0) })
            let centroids = try NPY.readMatrix("\(out)/stage\(j)_centroids.npy", as: Float.self)
            XCTAssertEqual([centroids.rows, centroids.cols], [3, 8])
            let pseudo = try NPY.readIntArray("\(out)/pseudo_labels_stage\(j).npy").values
            XCTAssertEqual(pseudo.count, 256)
            if j == 0 { XCTAssert(pseudo.allSatisfy { $0 == 0 }, "stage 0 has one group") }
            // Stage 1's pseudo labels are stage 0's clusters, relabelled densely (Eq. 2 with one stage).
            if j == 1 {
                let previous = try NPY.readIntArray("\(out)/stage0_cluster_labels.npy").values
                var map: [Int: Int] = [:]
                for (a, b) in zip(previous, pseudo) { XCTAssertEqual(map.updateValue(b, forKey: a) ?? b, b) }
                XCTAssertEqual(Set(map.values).count, map.count, "a bijection between clusters and groups")
            }
            let weights = try FileManager.default.contentsOfDirectory(atPath: "\(out)/stage\(j)_weights")
            XCTAssert(weights.contains("encoder.0.weight.npy"), "\(weights)")
            blocks.append(z)
        }
        // Eq. 5: the integrated representation is the stages side by side.
        let integrated = try NPY.readMatrix("\(out)/integrated_representations.npy", as: Float.self)
        XCTAssertEqual(integrated, Matrix.hconcat(blocks))
        let report = try JSONValue.read("\(out)/report.json")
        XCTAssertEqual(report["per_stage"]?.arrayValue?.count, 3)
        XCTAssertEqual(report["configuration"]?["clusters"]?.intValue, 3)
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: out).filter { $0.contains(".tmp") }
        XCTAssertEqual(leftovers, [], "no temporary files left behind")
    }

    func testTableOnStdoutHasARowPerStageAndFeature() throws {
        let r = try runMCLRef(["train"] + tiny)
        XCTAssertEqual(r.status, 0, r.stderr)
        for j in 0..<3 { XCTAssert(r.stdout.contains("stage \(j)"), r.stdout) }
        XCTAssert(r.stdout.contains("easy") && r.stdout.contains("hard"), r.stdout)
        XCTAssert(r.stderr.contains("stage 2 done"), "progress on stderr: \(r.stderr)")
        XCTAssertFalse(r.stdout.contains("done in"), "no progress on stdout")
    }

    func testUserDataRunsAndNamesItsFeatures() throws {
        var rng = RNG(seed: 5)
        let n = 200
        let x: Matrix<Double> = rng.normalMatrix(n, 6)
        var labels: [Int] = []
        for i in 0..<n { labels += [x[i, 0] > 0 ? 1 : 0, (x[i, 1] > 0 ? 1 : 0) + (x[i, 2] > 0 ? 1 : 0)] }
        try NPY.write(x, to: scratch + "/x.npy")
        try NPY.write(ints: labels, shape: [n, 2], to: scratch + "/y.npy")
        let r = try runMCLRef(["train", "--data", scratch + "/x.npy", "--labels", scratch + "/y.npy",
                               "--feature-names", "sign0,count12", "--json", "--stages", "2", "--epochs", "2",
                               "--batch-size", "32", "--clusters", "2", "--hidden", "16", "--rep-width", "4"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONValue.parse(r.stdout)
        XCTAssertEqual(json["features"]?.arrayValue?.compactMap { $0.stringValue }, ["sign0", "count12"])
        XCTAssertEqual(json["per_stage"]?.arrayValue?.count, 2)
        XCTAssert(r.stderr.contains("100 train / 100 test"), "default test fraction 0.5: \(r.stderr)")
    }

    func testDemoJSONCarriesTheThreeMethodsPerSeed() throws {
        let r = try runMCLRef(["demo", "--json", "--seeds", "3,4", "--samples", "256", "--epochs", "2",
                               "--batch-size", "64", "--quiet"])
        // Without --seeds the demo runs its advertised default seeds.
        let defaults = try runMCLRef(["demo", "--json", "--samples", "128", "--epochs", "1", "--batch-size", "64",
                                      "--stages", "2", "--quiet"])
        XCTAssertEqual(defaults.status, 0, defaults.stderr)
        XCTAssertEqual(try JSONValue.parse(defaults.stdout)["seeds"]?.arrayValue?.compactMap { $0.stringValue },
                       ["0", "1", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONValue.parse(r.stdout)
        XCTAssertEqual(json["seeds"]?.arrayValue?.compactMap { $0.stringValue }, ["3", "4"])
        let runs = try XCTUnwrap(json["runs"]?.arrayValue, r.stdout)
        XCTAssertEqual(runs.compactMap { $0["seed"]?.stringValue }, ["3", "4"])
        for run in runs {
            assertScores(run["report"]?["multi_simclr"]?["probe"], ["easy", "hard"], "multi_simclr.probe")
            XCTAssertEqual(run["report"]?["per_stage"]?.arrayValue?.count, 3)
        }
        // The summary's mean is the mean over the seeds' reports.
        let hard = runs.compactMap { $0["report"]?["per_stage"]?.arrayValue?.first?["probe"]?["hard"]?.doubleValue }
        let summary = try XCTUnwrap(json["summary"]?["SimCLR (stage 0)"]?["hard"], r.stdout)
        XCTAssertEqual(summary["mean"]?.doubleValue ?? -1, hard.reduce(0, +) / 2, accuracy: 1e-4)
        XCTAssertEqual(summary["min"]?.doubleValue ?? -1, hard.min()!, accuracy: 1e-4, "reports round to 4 digits")
    }
}

import Foundation
import XCTest
import MCLNumerics

/// The bench commands' --json contract (their timings are benchmarks: nothing here checks a speed).
final class BenchCommandTests: XCTestCase {
    func testMatmulJSONHasOneRowPerShapeAndKernel() throws {
        let r = try runMCLRef(["bench", "matmul", "--sizes", "8", "--shape", "3x5x7", "--repeats", "1",
                               "--reference", "--threads", "2", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try XCTUnwrap(JSONValue.parse(r.stdout)["matmul"]?.arrayValue)
        XCTAssertEqual(rows.map { [$0["kernel"]?.stringValue ?? "", "\($0["m"]?.intValue ?? 0)x\($0["n"]?.intValue ?? 0)x\($0["k"]?.intValue ?? 0)"] },
                       [["fast", "8x8x8"], ["reference", "8x8x8"], ["fast", "3x5x7"], ["reference", "3x5x7"]])
        XCTAssert(rows.allSatisfy { ($0["gflops"]?.doubleValue ?? 0) > 0 && $0["threads"]?.intValue == 2 })
        XCTAssertEqual(try runMCLRef(["bench", "matmul", "--shape", "3x5"]).status, 2)
    }

    /// The JSON carries the blocking in use: derived from this machine's caches, or the override.
    func testMatmulJSONCarriesTheBlocking() throws {
        let derived = GEMMBlockings.derived(for: Float.self)
        let r = try runMCLRef(["bench", "matmul", "--sizes", "8", "--repeats", "1", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONValue.parse(r.stdout)
        let blocking = try XCTUnwrap(json["blocking"])
        XCTAssertEqual(blocking["kc"]?.intValue, derived.kc)
        XCTAssertEqual(blocking["mc"]?.intValue, derived.mc)
        XCTAssertEqual(blocking["nc"]?.intValue, derived.nc)
        XCTAssertEqual(blocking["derived"], .bool(true))
        XCTAssertEqual(json["caches"]?["l1d"]?.intValue, CacheSizes.host.l1d)
        let o = try runMCLRef(["bench", "matmul", "--sizes", "8", "--repeats", "1", "--kc", "40", "--json"])
        XCTAssertEqual(o.status, 0, o.stderr)
        let overridden = try JSONValue.parse(o.stdout)["blocking"]
        XCTAssertEqual(overridden?["kc"]?.intValue, 40)
        XCTAssertEqual(overridden?["derived"], .bool(false))
        XCTAssertEqual(try runMCLRef(["bench", "matmul", "--kc", "0"]).status, 2)
    }

    func testTrainStepJSON() throws {
        let r = try runMCLRef(["bench", "mlp", "--batch-size", "16", "--hidden", "8", "--repeats", "1", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let step = try XCTUnwrap(JSONValue.parse(r.stdout)["train_step"])
        XCTAssertEqual(step["batch_size"]?.intValue, 16)
        XCTAssertEqual(step["hidden"]?.intValue, 8)
        XCTAssert((step["ms_per_step"]?.doubleValue ?? 0) > 0)
        XCTAssert((step["samples_per_second"]?.doubleValue ?? 0) > 0)
        XCTAssertEqual(try runMCLRef(["bench", "mlp", "--batch-size", "1"]).status, 2)
    }

    /// --export writes what scripts/bench_step_*.py load (PyTorch's names, the views), and the
    /// step-0 loss they compare; --breakdown adds the parts of the step.
    func testMLPExportAndBreakdown() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try runMCLRef(["bench", "mlp", "--batch-size", "5", "--hidden", "7", "--repeats", "1",
                               "--export", dir + "/init", "--breakdown", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let step = try XCTUnwrap(JSONValue.parse(r.stdout)["train_step"])
        XCTAssert(step["loss_step0"]?.doubleValue?.isFinite ?? false)
        XCTAssertNotNil(step["parts_ms"]?["loss"]?.doubleValue)
        let views: Matrix<Float> = try NPY.readMatrix(dir + "/init/views.npy")
        XCTAssertEqual([views.rows, views.cols], [10, 32])
        let w: Matrix<Float> = try NPY.readMatrix(dir + "/init/encoder.0.weight.npy")
        XCTAssertEqual([w.rows, w.cols], [7, 32])
        for name in ["encoder.1.bias", "encoder.3.weight", "head.0.weight", "head.1.weight", "head.3.bias"] {
            XCTAssert(FileManager.default.fileExists(atPath: dir + "/init/\(name).npy"), name)
        }
    }
}

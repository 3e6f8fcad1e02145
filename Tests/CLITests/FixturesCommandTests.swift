import Foundation
import XCTest

/// The result of running the built `mcl-ref` binary.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The built `mcl-ref` executable: `$MCL_REF_BINARY` if set, else the `mcl-ref` next to the test
/// bundle (SwiftPM puts both in `.build/<triple>/<config>/`; on Linux `Bundle.main` is the xctest
/// runner's directory, on macOS the bundle sits inside it).
func mclRefBinary() throws -> URL {
    if let path = ProcessInfo.processInfo.environment["MCL_REF_BINARY"] { return URL(fileURLWithPath: path) }
    var places: [URL] = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        places.append(bundle.bundleURL.deletingLastPathComponent())
    }
    places.append(URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent())
    for dir in places {
        let candidate = dir.appendingPathComponent("mcl-ref")
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
           FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
    }
    throw XCTSkip("mcl-ref binary not found next to the tests (looked in \(places.map { $0.path })); build it or set MCL_REF_BINARY")
}

/// Runs `executable` with `arguments` and collects its output.
func runProcess(_ executable: URL, _ arguments: [String]) throws -> ProcessResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    // stdout through a pipe, stderr through a file, so neither can fill up and block the child.
    let errPath = NSTemporaryDirectory() + "/mcl-cli-stderr-\(getpid())-\(UUID().uuidString)"
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: errPath) }
    let out = Pipe()
    let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    process.standardOutput = out
    process.standardError = errHandle
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    try errHandle.close()
    let errData = FileManager.default.contents(atPath: errPath) ?? Data()
    return ProcessResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

func runMCLRef(_ arguments: [String]) throws -> ProcessResult {
    try runProcess(try mclRefBinary(), arguments)
}

/// A fresh scratch directory, removed by the caller's tearDown.
func makeScratchDirectory() throws -> String {
    let dir = NSTemporaryDirectory() + "/mcl-cli-\(getpid())-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

final class FixturesCommandTests: XCTestCase {
    var scratch = ""
    override func setUpWithError() throws { scratch = try makeScratchDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    func testListPrintsEveryCase() throws {
        let r = try runMCLRef(["fixtures", "--list"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for name in ["gemm_nn", "gemm_tt", "linear", "relu", "batchnorm1d_train", "l2_normalize", "ntxent_masked_t0.1",
                     "ntxent_plain_saturated_t0.1", "kmeans_lloyd", "pseudo_labels_3stage", "cluster_batch_sampler",
                     "linear_probe", "simclr_step", "conv2d_s1_p1", "conv2d_s2_p1", "conv2d_s2_p0", "batchnorm2d_train",
                     "maxpool2d_k2_s2", "maxpool2d_k3_s2", "avgpool2d_k2_s2", "avgpool2d_k3_s2"] {
            XCTAssert(r.stdout.contains(name + " "), "missing \(name) in:\n\(r.stdout)")
        }
    }

    func testWritesSelectedCasesCompletelyAndNothingElse() throws {
        let out = scratch + "/fx"
        let r = try runMCLRef(["fixtures", "--out", out, "--case", "linear", "--case", "kmeans_lloyd", "--precision", "f32"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(), ["kmeans_lloyd", "linear"])
        let files = try FileManager.default.contentsOfDirectory(atPath: out + "/linear").sorted()
        XCTAssertEqual(files, ["bias.npy", "d_bias.npy", "d_out.npy", "d_weight.npy", "d_x.npy", "manifest.json", "weight.npy", "x.npy", "y.npy"])
        let manifest = try String(contentsOfFile: out + "/linear/manifest.json", encoding: .utf8)
        XCTAssert(manifest.contains("\"precision\": \"f32\""), manifest)
        XCTAssert(manifest.contains("\"dtype\": \"<f4\""), manifest)
        // Writing again replaces the cases in place.
        XCTAssertEqual(try runMCLRef(["fixtures", "--out", out, "--case", "linear"]).status, 0)
        XCTAssert(try String(contentsOfFile: out + "/linear/manifest.json", encoding: .utf8).contains("\"precision\": \"f64\""))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(), ["kmeans_lloyd", "linear"])
    }

    func testUsageErrorsExitTwo() throws {
        let unknown = try runMCLRef(["fixtures", "--out", scratch, "--case", "nonexistent"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssert(unknown.stderr.contains("unknown case 'nonexistent'"), unknown.stderr)
        let noOut = try runMCLRef(["fixtures"])
        XCTAssertEqual(noOut.status, 2)
        XCTAssert(noOut.stderr.contains("--out"), noOut.stderr)
        let badPrecision = try runMCLRef(["fixtures", "--out", scratch, "--precision", "f16"])
        XCTAssertEqual(badPrecision.status, 2)
        XCTAssert(badPrecision.stderr.contains("f16"), badPrecision.stderr)
        // --out pointing at a file
        _ = FileManager.default.createFile(atPath: scratch + "/file", contents: Data("x".utf8))
        let onFile = try runMCLRef(["fixtures", "--out", scratch + "/file", "--case", "relu"])
        XCTAssertEqual(onFile.status, 2)
        XCTAssert(onFile.stderr.contains(scratch + "/file"), onFile.stderr)
    }
}

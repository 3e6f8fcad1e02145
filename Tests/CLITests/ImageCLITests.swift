import Foundation
import XCTest
import MCLNumerics

/// `train` on images through the binary: a tiny built-in CNN run, user images, and the errors for
/// arrays whose shape does not fit the encoder.
final class ImageCLITests: XCTestCase {
    var scratch = ""
    override func setUpWithError() throws { scratch = try makeScratchDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    let tiny = ["--stages", "2", "--epochs", "1", "--batch-size", "16", "--clusters", "2", "--conv-widths", "4,8",
                "--rep-width", "4", "--kmeans-restarts", "1", "--quiet", "--json"]

    func testBuiltInImageSetTrainsWithTheCNNByDefault() throws {
        let r = try runMCLRef(["train", "--dataset", "cifar-mnist-like", "--samples", "40"] + tiny)
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONValue.parse(r.stdout).serialized()
        XCTAssert(json.contains("\"encoder\":\"cnn\""), json)
        XCTAssert(json.contains("\"image_augmentation\":\"cifar-mnist-like\""), json)
        XCTAssert(json.contains("\"features\":[\"natural\",\"digit\"]"), json)
    }

    func testUserImagesAndShapeErrors() throws {
        var rng = RNG(seed: 3)
        let n = 40
        let values: [Float] = (0..<(n * 3 * 8 * 8)).map { _ in Float(rng.nextDouble()) }
        try NPY.write(floats: values, shape: [n, 3, 8, 8], to: scratch + "/x4.npy")
        try NPY.write(floats: values, shape: [n, 3 * 8 * 8], to: scratch + "/x2.npy")
        try NPY.write(ints: (0..<n).map { $0 % 2 }, shape: [n], to: scratch + "/y.npy")
        let ok = try runMCLRef(["train", "--data", scratch + "/x4.npy", "--labels", scratch + "/y.npy"] + tiny)
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssert(ok.stdout.contains("\"image_augmentation\":\"translate\""), ok.stdout)

        let flat = try runMCLRef(["train", "--data", scratch + "/x2.npy", "--labels", scratch + "/y.npy", "--encoder", "cnn"] + tiny)
        XCTAssertEqual(flat.status, 2)
        XCTAssert(flat.stderr.contains("x2.npy: expected a 4-D array (N, C, H, W)"), flat.stderr)
        XCTAssert(flat.stderr.contains("(40, 192)"), flat.stderr)

        let mlp = try runMCLRef(["train", "--data", scratch + "/x4.npy", "--labels", scratch + "/y.npy", "--encoder", "mlp"] + tiny)
        XCTAssertEqual(mlp.status, 2)
        XCTAssert(mlp.stderr.contains("use --encoder cnn"), mlp.stderr)
    }
}

import Foundation
import XCTest
@testable import MCLReference

/// The image path of the pipeline: a tiny CNN run end to end, its shapes and wiring, bit-identical
/// results for any thread count, and the errors for images that do not fit the encoder.
final class ImagePipelineTests: XCTestCase {
    /// Just enough to exercise every step with the CNN encoder (16×16, widths 4 and 8).
    func tinyImageConfiguration() -> MCLConfiguration {
        var c = MCLConfiguration()
        c.encoder = .cnn
        c.convWidths = [4, 8]
        c.imageAugmentation = .cifarMnistLike
        c.stages = 2
        c.clusters = 3
        c.epochs = 1
        c.batchSize = 20
        c.representationWidth = 6
        c.headHidden = 12
        c.embeddingWidth = 8
        c.kmeansRestarts = 1
        c.probeRawInput = false
        c.seed = 11
        return c
    }

    func tinyImages() -> (LabeledData<Float>, LabeledData<Float>) {
        let all: LabeledData<Float> = CifarMnistLike.make(count: 100, size: 16, seed: 5)
        return (all.subset(Array(0..<60)), all.subset(Array(60..<100)))
    }

    func testTwoStageCNNRunWiresShapesAndReport() throws {
        let (train, test) = tinyImages()
        let c = tinyImageConfiguration()
        let run = try MultistageContrastiveLearning<Float>(configuration: c).run(train: train, test: test)
        XCTAssertEqual(run.stages.count, 2)
        for s in run.stages {
            XCTAssertEqual(s.trainRepresentations.rows, 60)
            XCTAssertEqual(s.trainRepresentations.cols, 6)
            XCTAssertEqual(s.testRepresentations.rows, 40)
            XCTAssert(s.model.hasConvolution)
            XCTAssertEqual(s.model.encoder.layers.first?.kindName, "Conv2d")
            XCTAssert(s.report.loss.isFinite)
            // The pipeline's representations are the encoder's eval-mode output, row for row.
            XCTAssertEqual(s.trainRepresentations, s.model.represent(train.x))
        }
        XCTAssertEqual(run.integratedTrain.cols, 12)
        // Stage 1 trains with stage 0's clusters as pseudo labels (Eq. 2).
        let expected = try PseudoLabels(history: [run.stages[0].clustering.labels], clusterCounts: [3])
        XCTAssertEqual(run.stages[1].pseudoLabels, expected.labels)
        // The report names the encoder and its settings.
        let json = run.report.json.serialized()
        XCTAssert(json.contains("\"encoder\":\"cnn\""), json)
        XCTAssert(json.contains("\"conv_widths\":[4,8]"), json)
        XCTAssert(json.contains("\"image_augmentation\":\"cifar-mnist-like\""), json)
        // Vector reports carry no image keys.
        XCTAssertFalse(MCLConfiguration().json.contains { $0.0 == "encoder" })
    }

    /// Chunked evaluation equals the one-shot encoder output, row for row.
    func testChunkedRepresentationsEqualOneShot() {
        var rng = RNG(seed: 2)
        let enc = Sequential<Float>.cnnEncoder(inputShape: [4, 16, 16], widths: [4, 8], outputWidth: 5, rng: &rng)
        let head = Sequential<Float>.projectionHead(inputWidth: 5, hiddenWidth: 6, outputWidth: 3, rng: &rng)
        let model = ContrastiveModel(encoder: enc, head: head)
        let x: Matrix<Float> = rng.normalMatrix(45, 4 * 16 * 16)
        XCTAssertEqual(model.representInChunks(x, chunk: 7), model.represent(x))
    }

    /// The whole CNN run — data, augmentation, conv groups, BatchNorm2d, K-means, probes — gives the
    /// same bits with 1, 2 and 3 threads (batches of 20 span three conv sample groups).
    func testCNNRunBitIdenticalAcrossThreadCounts() throws {
        let saved = Parallel.maxThreads
        defer { Parallel.maxThreads = saved }
        let (train, test) = tinyImages()
        var c = tinyImageConfiguration()
        c.epochs = 2
        func run(_ threads: Int) throws -> MCLRun<Float> {
            Parallel.maxThreads = threads
            return try MultistageContrastiveLearning<Float>(configuration: c).run(train: train, test: test)
        }
        let one = try run(1)
        for threads in [2, 3] {
            let other = try run(threads)
            for j in 0..<2 {
                XCTAssertEqual(one.stages[j].trainRepresentations, other.stages[j].trainRepresentations, "threads \(threads)")
                XCTAssertEqual(one.stages[j].model, other.stages[j].model, "threads \(threads)")
                XCTAssertEqual(one.stages[j].report.loss, other.stages[j].report.loss, "threads \(threads)")
                XCTAssertEqual(one.stages[j].clustering.labels, other.stages[j].clustering.labels)
                XCTAssertEqual(one.report.stages[j].integrated, other.report.stages[j].integrated)
            }
        }
    }

    func testCNNRefusesNonImageSamples() throws {
        var c = tinyImageConfiguration()
        XCTAssertThrowsError(try c.validateInput(sampleShape: [48])) { error in
            XCTAssert("\(error)".contains("[C, H, W]"), "\(error)")
        }
        XCTAssertNoThrow(try c.validateInput(sampleShape: [3, 8, 8]))
        c.encoder = .mlp
        XCTAssertNoThrow(try c.validateInput(sampleShape: [48]))
        // The trainer checks too, before anything is built.
        let x: Matrix<Float> = Matrix(rows: 40, cols: 12)
        XCTAssertThrowsError(try StageTrainer<Float>(configuration: tinyImageConfiguration())
            .train(x, pseudoLabels: nil, stream: 1000, name: "stage 0", progress: { _ in }))
    }

    func testUserImagesLoadAndShapeErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mcl-img-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = RNG(seed: 9)
        let values: [Float] = (0..<(6 * 2 * 3 * 4)).map { _ in Float(rng.nextDouble() * 2 - 1) }
        try NPY.write(floats: values, shape: [6, 2, 3, 4], to: dir + "/x4.npy")
        try NPY.write(floats: values, shape: [6, 24], to: dir + "/x2.npy")
        try NPY.write(floats: values, shape: [6, 2, 12], to: dir + "/x3.npy")
        try NPY.write(ints: [0, 1, 0, 1, 2, 2], shape: [6], to: dir + "/y.npy")
        let images = try UserData.loadImages(data: dir + "/x4.npy", labels: dir + "/y.npy", featureNames: nil, as: Float.self)
        XCTAssertEqual(images.sampleShape, [2, 3, 4])
        XCTAssertEqual(images.x.rows, 6)
        XCTAssertEqual(images.x.storage, values)
        for (file, hint) in [("x2.npy", "use the MLP encoder"), ("x3.npy", "(6, 2, 12)")] {
            XCTAssertThrowsError(try UserData.loadImages(data: dir + "/" + file, labels: dir + "/y.npy", featureNames: nil,
                                                         as: Float.self)) { error in
                XCTAssert("\(error)".contains("expected a 4-D array (N, C, H, W)"), "\(error)")
                XCTAssert("\(error)".contains(hint), "\(error)")
            }
        }
        var bad = values
        bad[2 * 12 + 5] = .nan  // sample 0, channel 0 is 12 values; index 29 = [1, 0, 1, 1]
        try NPY.write(floats: bad, shape: [6, 2, 3, 4], to: dir + "/nan.npy")
        XCTAssertThrowsError(try UserData.loadImages(data: dir + "/nan.npy", labels: dir + "/y.npy", featureNames: nil,
                                                     as: Float.self)) { error in
            XCTAssert("\(error)".contains("[1, 0, 1, 1]"), "\(error)")
        }
    }

    /// Per-channel standardisation: train channels get mean 0 and standard deviation 1; the test set
    /// is mapped with the train statistics.
    func testPerChannelStandardisation() {
        var rng = RNG(seed: 4)
        var train: Matrix<Double> = rng.normalMatrix(10, 2 * 9)
        for i in 0..<10 { for k in 9..<18 { train[i, k] = 5 + 3 * train[i, k] } }
        var test = train
        standardizeImageChannels(&train, &test, sampleShape: [2, 3, 3])
        for ch in 0..<2 {
            let v = (0..<10).flatMap { i in (0..<9).map { train[i, ch * 9 + $0] } }
            let mean = v.reduce(0, +) / Double(v.count)
            let sd = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)).squareRoot()
            XCTAssertEqual(mean, 0, accuracy: 1e-12)
            XCTAssertEqual(sd, 1, accuracy: 1e-12)
        }
        XCTAssertEqual(test, train)
    }
}

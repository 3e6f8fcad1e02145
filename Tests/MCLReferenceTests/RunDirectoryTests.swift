import Foundation
import XCTest
@testable import MCLReference

/// `RunDirectory` at the library level: what a stage writes (read back byte by byte against the
/// safetensors spec), what loading gives back, checksums, and `RunEncoder`. The CLI tests
/// (TrainResumeTests, EncodeCommandTests) run the same code through `train` and `encode`.
final class RunDirectoryTests: XCTestCase {
    var scratch = ""
    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "/mcl-run-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    /// The tiny run of CheckpointTests: 2 stages of 2 epochs on 64 + 64 `easy-hard` samples.
    func configuration() -> MCLConfiguration {
        var c = MCLConfiguration()
        c.stages = 2; c.clusters = 2; c.epochs = 2; c.batchSize = 16
        c.encoderHidden = [8]; c.representationWidth = 4; c.headHidden = 8; c.embeddingWidth = 4
        c.kmeansRestarts = 1; c.probeRawInput = false; c.seed = 5
        return c
    }

    /// A finished tiny run on standardised user-like data, written through `RunDirectory`.
    func writeRun() throws -> (RunDirectory, MCLRun<Float>, LabeledData<Float>, LabeledData<Float>, raw: Matrix<Float>) {
        let c = configuration()
        let all = EasyHardVectors.make(count: 128, seed: 5, as: Float.self)
        var (train, test) = (all.subset(Array(0..<64)), all.subset(Array(64..<128)))
        let rawTest = test.x
        let s = Standardizer(fitting: train.x)
        train.x = s.transform(train.x)
        test.x = s.transform(test.x)
        train.standardization = .perColumn(s)
        let dir = RunDirectory(scratch + "/run")
        var checkpoint = try dir.start(arguments: ["--stages", "2"], configuration: c, train: train, test: test)
        let run = try MultistageContrastiveLearning<Float>(configuration: c).run(
            train: train, test: test, stageCompleted: { try dir.commit($0, to: &checkpoint) })
        try dir.finish(run)
        return (dir, run, train, test, rawTest)
    }

    /// stage<j>.safetensors read with nothing but the spec: 8-byte little-endian length, JSON header,
    /// data tiled by the offsets; every tensor is the model's value in PyTorch's shape and dtype.
    func testStageSafetensorsMatchesTheSpecByteByByte() throws {
        let (dir, run, _, _, _) = try writeRun()
        for stage in run.stages {
            let bytes = [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: dir.path(of: "stage\(stage.stage).safetensors"))))
            let n = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
            XCTAssertEqual(n % 8, 0, "header padded to 8 bytes")
            let headerText = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
            XCTAssert(headerText.hasPrefix("{") && headerText.trimmingCharacters(in: .whitespaces).hasSuffix("}"))
            let header = try JSONValue.parse(headerText)
            let data = Array(bytes[(8 + n)...])
            XCTAssertEqual(header["__metadata__"]?["format"]?.stringValue, "pt")
            let entries = try XCTUnwrap(header.objectValue).filter { $0.0 != "__metadata__" }
            let state = stage.model.stateDict()
            XCTAssertEqual(entries.map { $0.0 }, state.map { $0.name }, "state_dict names in order")
            var offset = 0
            for ((name, entry), (_, value)) in zip(entries, state) {
                let begin = try XCTUnwrap(entry["data_offsets"]?.arrayValue?[0].intValue)
                let end = try XCTUnwrap(entry["data_offsets"]?.arrayValue?[1].intValue)
                XCTAssertEqual(begin, offset, name)
                offset = end
                let shape = entry["shape"]?.arrayValue?.compactMap { $0.intValue }
                var expected: [UInt8] = []
                if name.hasSuffix("num_batches_tracked") {
                    XCTAssertEqual(entry["dtype"]?.stringValue, "I64", name)
                    XCTAssertEqual(shape, [], name)
                    let v = UInt64(Int64(value.storage[0]))
                    expected = (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) }
                } else {
                    XCTAssertEqual(entry["dtype"]?.stringValue, "F32", name)
                    let isWeightMatrix = name.hasSuffix(".weight") && value.rows > 1
                    XCTAssertEqual(shape, isWeightMatrix ? [value.rows, value.cols] : [value.count], name)
                    for x in value.storage { expected += (0..<4).map { UInt8(truncatingIfNeeded: x.bitPattern >> (8 * UInt32($0))) } }
                }
                XCTAssertEqual(Array(data[begin..<end]), expected, name)
            }
            XCTAssertEqual(offset, data.count, "the tensors tile the data exactly")
            // And the .npy state dict holds the same tensors: same shapes, dtypes and bytes.
            let file = try SafeTensors.read(dir.path(of: "stage\(stage.stage).safetensors"))
            let npyFiles = try FileManager.default.contentsOfDirectory(atPath: dir.path(of: "stage\(stage.stage)_weights"))
            XCTAssertEqual(Set(npyFiles), Set(state.map { $0.name + ".npy" }))
            for (name, tensor) in file.tensors {
                XCTAssertEqual(try NPY.read(dir.path(of: "stage\(stage.stage)_weights/\(name).npy")), tensor, name)
            }
        }
    }

    func testResumeLoadsWhatWasWrittenAndRefusesAChangedFileByName() throws {
        let (dir, run, train, test, _) = try writeRun()
        let checkpoint = try dir.readCheckpoint()
        XCTAssertEqual(checkpoint.sampleShape, [train.x.cols])
        XCTAssertEqual(checkpoint.standardization, "per-column")
        XCTAssertEqual(checkpoint.stageFiles.map { $0.count }, [25, 25], "5 arrays, 18 weights, 1 safetensors, 1 spectrum per stage")
        let c = try dir.configuration(checkpoint)
        let loaded: [StageArtifacts<Float>] = try dir.resume(checkpoint, configuration: c, train: train, test: test)
        for (a, b) in zip(loaded, run.stages) {
            XCTAssertEqual(a.model, b.model)
            XCTAssertEqual(a.trainRepresentations, b.trainRepresentations)
            XCTAssertEqual(a.testRepresentations, b.testRepresentations)
            XCTAssertEqual(a.clustering.labels, b.clustering.labels)
            XCTAssertEqual(a.pseudoLabels, b.pseudoLabels)
        }
        // One cluster label changed, still a valid .npy of the right size and range: refused by name.
        let file = dir.path(of: RunDirectory.File.clusterLabels(stage: 1))
        var labels = try NPY.readIntArray(file).values
        labels[0] = 1 - labels[0]
        try NPY.write(ints: labels, shape: [labels.count], to: file)
        XCTAssertThrowsError(try dir.resume(checkpoint, configuration: c, train: train, test: test) as [StageArtifacts<Float>]) {
            XCTAssert("\($0)".hasPrefix(file + ": changed since stage 1 wrote it (checksum fnv1a64:"), "\($0)")
        }
        // A different run's data or settings are refused naming checkpoint.json.
        var other = c
        other.temperature = 0.25
        XCTAssertThrowsError(try dir.resume(checkpoint, configuration: other, train: train, test: test) as [StageArtifacts<Float>]) {
            XCTAssert("\($0)".contains("checkpoint.json: the stored configuration does not match") && "\($0)".contains("temperature"), "\($0)")
        }
    }

    /// The encoder of a run reproduces its test representations from the raw (unstandardised) rows.
    func testRunEncoderReproducesTheStoredTestRepresentations() throws {
        let (dir, run, _, _, rawTest) = try writeRun()
        let encoder = try RunEncoder<Float>(dir)
        XCTAssertEqual(encoder.completedStages, 2)
        XCTAssertEqual(encoder.standardization?.kind, "per-column")
        XCTAssertEqual(encoder.encode(rawTest, stages: [0, 1]), run.integratedTest)
        XCTAssertEqual(encoder.encode(rawTest, stages: [1]), run.stages[1].testRepresentations)
        XCTAssertEqual(try NPY.readMatrix(dir.path(of: RunDirectory.File.integratedTestRepresentations), as: Float.self), run.integratedTest)
    }

    func testConfigurationJSONRoundTrips() throws {
        var c = configuration()
        c.optimizer = .adamw; c.sampler = .clusterBatch; c.seed = UInt64.max; c.warmupFraction = 0.1; c.cosineSchedule = true
        XCTAssertEqual(JSONValue.object(try MCLConfiguration(json: .object(c.json), path: "cp").json), .object(c.json))
        c.encoder = .cnn; c.convWidths = [3, 5]; c.imageAugmentation = .cifarMnistLike
        XCTAssertEqual(JSONValue.object(try MCLConfiguration(json: .object(c.json), path: "cp").json), .object(c.json))
        let broken = JSONValue.object(c.json.filter { $0.0 != "representation_width" })
        XCTAssertThrowsError(try MCLConfiguration(json: broken, path: "cp")) {
            XCTAssertEqual("\($0)", "cp: configuration: missing or invalid 'representation_width' (expected an integer ≥ 1)")
        }
    }

    /// The per-channel statistics stored for images reproduce `standardizeImageChannels` bit for bit.
    func testChannelStandardizationReappliesBitForBit() {
        let shape = [2, 3, 3]
        var train = RNG(seed: 3).normalMatrixCopy(5, 18).converted(to: Float.self)
        var test = RNG(seed: 4).normalMatrixCopy(4, 18).converted(to: Float.self)
        for i in 0..<train.storage.count where i % 18 < 9 { train.storage[i] = train.storage[i] * 7 + 3 }
        let rawTest = test
        let s = standardizeImageChannels(&train, &test, sampleShape: shape)
        XCTAssertEqual(s.apply(rawTest, sampleShape: shape), test)
        let back = InputStandardization(kind: s.kind, mean: s.mean, std: s.std)
        XCTAssertEqual(back, s)
        XCTAssertFalse(s.accepts(sampleShape: [3, 3, 3]))
    }
}

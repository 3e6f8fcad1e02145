import Foundation
import XCTest
@testable import MCLReference

/// `MCLCheckpoint` (checkpoint.json) and `run(resuming:)` at the library level. The CLI tests
/// (TrainResumeTests) kill a real run and check that resuming is bit-identical.
final class CheckpointTests: XCTestCase {
    func tinyConfiguration() -> MCLConfiguration {
        var c = MCLConfiguration.tiny(stages: 2, clusters: 2, batchSize: 16, hidden: 8, representation: 4, headHidden: 8,
                                      embedding: 4, seed: 5)
        c.probeRawInput = false
        return c
    }

    func tinyData() -> (LabeledData<Float>, LabeledData<Float>) {
        let all = EasyHardVectors.make(count: 128, seed: 5, as: Float.self)
        return (all.subset(Array(0..<64)), all.subset(Array(64..<128)))
    }

    /// Resuming from stage 0 of a run gives stage 1 exactly as the uninterrupted run computed it.
    func testResumingFromGivenStagesReproducesTheRemainingStages() throws {
        let c = tinyConfiguration()
        let (train, test) = tinyData()
        let full = try MultistageContrastiveLearning<Float>(configuration: c).run(train: train, test: test)
        var called: [Int] = []
        let resumed = try MultistageContrastiveLearning<Float>(configuration: c).run(
            train: train, test: test, resuming: [full.stages[0]], stageCompleted: { called.append($0.stage) })
        XCTAssertEqual(called, [1], "only the missing stage is trained and reported")
        XCTAssertEqual(resumed.stages[1].trainRepresentations, full.stages[1].trainRepresentations)
        XCTAssertEqual(resumed.stages[1].clustering.labels, full.stages[1].clustering.labels)
        XCTAssertEqual(resumed.integratedTest, full.integratedTest)
        XCTAssertEqual(resumed.report.stages.map { $0.integrated }, full.report.stages.map { $0.integrated })
    }

    /// A non-finite loss in a later stage names that stage and step; the completed stage is not
    /// touched and no stage after it is reported complete.
    func testNonFiniteLossInALaterStageNamesItAndReportsNothingMore() throws {
        let c = tinyConfiguration()
        let (train, test) = tinyData()
        let stage0 = try MultistageContrastiveLearning<Float>(configuration: c).run(train: train, test: test).stages[0]
        var bad = c
        bad.optimizer = .sgd
        bad.learningRate = 1e30  // overflows the weights on the first step
        var called: [Int] = []
        XCTAssertThrowsError(try MultistageContrastiveLearning<Float>(configuration: bad).run(
            train: train, test: test, resuming: [stage0], stageCompleted: { called.append($0.stage) })) { error in
            let text = "\(error)"
            XCTAssertNotNil(text.range(of: #"^stage 1, step \d+: .*not finite.*last finite loss [0-9.]+"#, options: .regularExpression), text)
            XCTAssert(text.contains("lower the learning rate"), text)
            XCTAssertFalse(text.contains("--"), "a library error speaks in library terms: \(text)")
            XCTAssert((error as? TrainingError)?.settings.contains(.learningRate) == true, "\(error)")
        }
        XCTAssertEqual(called, [])
    }

    func testCheckpointJSONRoundTripsAndRejectsDamage() throws {
        let c = tinyConfiguration()
        let (train, test) = tinyData()
        let run = try MultistageContrastiveLearning<Float>(configuration: c).run(train: train, test: test)
        var checkpoint = MCLCheckpoint(arguments: ["--stages", "2"], configuration: .object(c.json),
                                       dataFingerprint: MCLCheckpoint.fingerprint(train: train, test: test),
                                       sampleShape: train.sampleShape)
        for s in run.stages { checkpoint.record(s, files: ["stage\(s.stage).safetensors": "fnv1a64:0123456789abcdef"]) }
        let text = checkpoint.json.serialized(pretty: true)
        let back = try MCLCheckpoint(json: try JSONValue.parse(text), path: "cp.json")
        XCTAssertEqual(back.json, checkpoint.json)
        XCTAssertEqual(back.stages.map { $0.loss }, run.report.stages.map { $0.loss }, "losses kept at full precision")
        // The fingerprint sees a one-bit change of one sample.
        var changed = train
        changed.x.storage[17] = changed.x.storage[17].nextUp
        XCTAssertNotEqual(MCLCheckpoint.fingerprint(train: changed, test: test), checkpoint.dataFingerprint)
        // Damage is a CheckpointError naming the file and the field.
        for (from, to, mention) in [("\"completed_stages\": 2", "\"completed_stages\": 3", "completed_stages"),
                                    ("\"format_version\": 2", "\"format_version\": 7", "format_version 7"),
                                    ("\"checksum\": \"fnv1a64\"", "\"checksum\": \"md5\"", "'checksum'"),
                                    ("\"fnv1a64:0123456789abcdef\"", "7", "stages[0]: missing or invalid 'files'"),
                                    ("\"kmeans_restart\": 0", "\"kmeans_restart\": -1", "stages[0]: missing or invalid 'kmeans_restart'"),
                                    ("\"format\": \"mcl-ref checkpoint\"", "\"format\": \"other\"", "not an mcl-ref checkpoint")] {
            XCTAssert(text.contains(from), from)
            let damaged = text.replacingOccurrences(of: from, with: to)
            XCTAssertThrowsError(try MCLCheckpoint(json: try JSONValue.parse(damaged), path: "cp.json")) {
                XCTAssert($0 is CheckpointError && "\($0)".hasPrefix("cp.json: ") && "\($0)".contains(mention), "\($0)")
            }
        }
    }
}

import XCTest
@testable import MCLReference

/// The warning about anchors without negatives counts the batches the trainer really trains on:
/// the same number follows from the mask labels an observer sees at every step.
final class MaskNegativeCountTests: XCTestCase {
    func testWarningMatchesTheStepsTheTrainerTook() throws {
        let all = EasyHardVectors.make(count: 320, seed: 3, as: Double.self)
        let train = all.subset(Array(0..<192)), test = all.subset(Array(192..<320))
        var c = MCLConfiguration.tiny(stages: 2, clusters: 6, epochs: 3, batchSize: 16, hidden: 12, representation: 6,
                                      headHidden: 12, embedding: 8, seed: 3)
        c.probeRawInput = false
        var observed = 0, observedAnchors = 0
        let observer: TrainingObserver<Double> = { event in
            guard case let .step(s) = event, s.name == "stage 1", let labels = s.maskLabels else { return }
            var count: [Int: Int] = [:]
            for l in labels { count[l, default: 0] += 1 }
            observed += 2 * labels.filter { count[$0] == 1 }.count
            observedAnchors += 2 * labels.count
        }
        var notes: [String] = []
        _ = try MultistageContrastiveLearning<Double>(configuration: c, observer: observer)
            .run(train: train, test: test, progress: { if case let .note(t) = $0 { notes.append(t) } })
        XCTAssertGreaterThan(observed, 0, "no anchor was alone: the test no longer exercises the warning")
        let warning = try XCTUnwrap(notes.first { $0.contains("anchor views") }, "\(notes)")
        XCTAssert(warning.hasPrefix("warning: stage 1: \(observed) of \(observedAnchors) anchor views"), warning)
    }

    func testCountsAnchorsAloneInTheirGroupWithinABatch() throws {
        // Batches of 4 from labels [0, 0, 1, 2, …]: a sample alone with its label in a batch gives 2 anchors.
        let labels = [0, 0, 1, 2, 1, 1, 3, 3]
        let sampler = try MaskBatchSampler(pseudoLabels: labels, batchSize: 4, seed: 9, dropLast: true)
        var expected = 0
        for batch in sampler.batches(epoch: 0) {
            let l = batch.map { labels[$0] }
            expected += 2 * l.filter { x in l.filter { $0 == x }.count == 1 }.count
        }
        let count = MaskNegativeCount(sampler: sampler, epochs: 1)
        XCTAssertEqual(count.anchorsWithoutNegatives, expected)
        XCTAssertEqual(count.anchors, 16)
    }
}

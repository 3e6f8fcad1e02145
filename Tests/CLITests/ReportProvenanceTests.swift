import Foundation
import XCTest
import MCLNumerics
import MCLReference

/// Results that speak for themselves (issue 11 item 2): provenance in every JSON result, warnings
/// counted in the report, and demo sentences derived from the numbers.
final class ReportProvenanceTests: XCTestCase {
    let tiny = ["--samples", "128", "--epochs", "1", "--batch-size", "32", "--hidden", "8", "--rep-width", "4",
                "--kmeans-restarts", "1", "--threads", "1", "--quiet"]

    func testTrainJSONCarriesProvenance() throws {
        let r = try runMCLRef(["train", "--json", "--stages", "2", "--clusters", "2"] + tiny)
        XCTAssertEqual(r.status, 0, r.stderr)
        let p = try XCTUnwrap(try JSONValue.parse(r.stdout)["provenance"])
        XCTAssertEqual(p["tool"]?.stringValue, "mcl-ref")
        XCTAssertEqual(p["version"]?.stringValue, MCLReference.version)
        let command = p["command"]?.arrayValue?.compactMap { $0.stringValue } ?? []
        XCTAssertEqual(Array(command.prefix(3)), ["mcl-ref", "train", "--json"])
        XCTAssertEqual(p["data"]?["source"]?.stringValue, "built-in")
        XCTAssertEqual(p["data"]?["name"]?.stringValue, "easy-hard")
        XCTAssertEqual(p["data"]?["train_samples"]?.intValue, 128)
        XCTAssertEqual(p["data"]?["test_samples"]?.intValue, 128)
        let features = try XCTUnwrap(p["data"]?["features"]?.arrayValue)
        XCTAssertEqual(features.compactMap { $0["name"]?.stringValue }, ["easy", "hard"])
        XCTAssertEqual(features.compactMap { $0["classes"]?.intValue }, [10, 10])
        XCTAssertEqual(features[1]["label_values"]?.arrayValue?.compactMap { $0.intValue }, Array(0..<10))
        XCTAssert(p["accuracy_unit"]?.stringValue?.contains("0 to 1") == true)
    }

    func testVersionIsTheLibraryConstant() throws {
        let r = try runMCLRef(["--version"])
        XCTAssertEqual(r.stdout.trimmingCharacters(in: .newlines), "mcl-ref " + MCLReference.version)
        XCTAssert(MCLReference.version.split(separator: ".").count == 3)
    }

    /// With `--stages 1` MCL is stage 0: the demo must not claim a lift (it used to print "lifting
    /// it to X%" with X equal to SimCLR's number), and the row says "1 stage".
    func testDemoSentencesFollowTheNumbers() throws {
        let one = try runMCLRef(["demo", "--seeds", "0", "--stages", "1"] + tiny)
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssert(one.stdout.contains("MCL, 1 stage "), one.stdout)
        XCTAssertFalse(one.stdout.contains("1 stages"), one.stdout)
        XCTAssert(one.stdout.contains("no lift"), one.stdout)
        XCTAssertFalse(one.stdout.contains("lifting") || one.stdout.contains(" lift '"), one.stdout)
        let json = try runMCLRef(["demo", "--seeds", "0", "--stages", "1", "--json"] + tiny)
        let p = try XCTUnwrap(try JSONValue.parse(json.stdout)["provenance"])
        XCTAssertEqual(p["data"]?["name"]?.stringValue, "easy-hard")
        XCTAssertEqual(p["version"]?.stringValue, MCLReference.version)
    }

    func testImageDemoSentencesFollowTheNumbersToo() throws {
        let r = try runMCLRef(["demo", "--images", "--dataset", "cifar-mnist-like", "--seeds", "0", "--stages", "1",
                               "--samples", "64", "--epochs", "1", "--batch-size", "32", "--conv-widths", "4,8",
                               "--rep-width", "4", "--kmeans-restarts", "1", "--threads", "1", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssert(r.stdout.contains("MCL, 1 stage ") && r.stdout.contains("no lift"), r.stdout)
        XCTAssertFalse(r.stdout.contains(" lift '"), r.stdout)
    }

    /// K-means on representations with fewer distinct points than K: a 1-wide representation,
    /// L2-normalised, is ±1, so K = 3 finds at most 2 clusters.
    func testFewerDistinctClustersThanKIsAWarningCountedInTheReport() throws {
        let r = try runMCLRef(["train", "--json", "--stages", "2", "--clusters", "3"] + tiny.map { $0 == "4" ? "1" : $0 })
        XCTAssertEqual(r.status, 0, r.stderr)
        let warnings = r.stderr.split(separator: "\n").filter { $0.hasPrefix("warning: ") }
        XCTAssert(warnings.contains { $0.contains("K-means found only 2 distinct clusters of K = 3") }, r.stderr)
        XCTAssertEqual(try JSONValue.parse(r.stdout)["warnings"]?["count"]?.intValue, warnings.count)
    }

    /// Eq. 4 holds (K = 4 ≤ M/b = 128/32) but a cluster smaller than a batch cannot be trained under
    /// cluster-batch: say how many samples that drops.
    func testClusterBatchDropsAreAWarningEvenWhenEquation4Holds() throws {
        let r = try runMCLRef(["train", "--json", "--stages", "2", "--clusters", "4", "--sampler", "cluster-batch"] + tiny)
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try JSONValue.parse(r.stdout)
        let untrained = try XCTUnwrap(report["per_stage"]?.arrayValue?.last?["untrained_samples"]?.intValue)
        let warning = r.stderr.split(separator: "\n").first { $0.contains("Eq. 4 holds, but") }
        if untrained > 0 {
            XCTAssert(warning?.contains("\(untrained) of 128 samples are in") == true, r.stderr)
        } else {
            XCTAssertNil(warning, r.stderr)
        }
        XCTAssertGreaterThan(untrained, 0, "the settings no longer leave a cluster smaller than a batch: pick others")
    }
}

import Foundation
import XCTest
#if canImport(FoundationXML)
import FoundationXML
#endif
import MCLNumerics

/// `mcl-ref report DIR --out FILE` and `demo --report FILE`: a page a browser shows, parsed here as
/// XML; bad input is one line on stderr, exit 2 and no file.
final class ReportCommandTests: XCTestCase {
    var scratch = ""
    override func setUpWithError() throws { scratch = try makeScratchDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    /// Element names and text of a well-formed XML document, or the parser's error.
    final class Outline: NSObject, XMLParserDelegate {
        var elements: [String] = []
        var text = ""
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) { elements.append(name) }
        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        static func parse(_ path: String) throws -> Outline {
            let outline = Outline()
            let parser = XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: path)))
            parser.delegate = outline
            guard parser.parse() else { throw parser.parserError ?? NSError(domain: "xml", code: 1) }
            return outline
        }
    }

    let small = ["--samples", "256", "--epochs", "2", "--stages", "2", "--batch-size", "32", "--clusters", "3", "--quiet"]

    func testReportOfATrainedRunIsAWellFormedPageWithItsNumbers() throws {
        let run = scratch + "/run", page = scratch + "/report.html"
        let t = try runMCLRef(["train"] + small + ["--multi-simclr", "--out", run])
        XCTAssertEqual(t.status, 0, t.stderr)
        let r = try runMCLRef(["report", run, "--out", page])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "wrote \(page) (2 stages, features easy, hard)\n")
        let outline = try Outline.parse(page)
        // 2 features × (probe, kNN) + the loss chart + the spectrum chart + 2 stages × (groups, clusters)
        XCTAssertEqual(outline.elements.filter { $0 == "svg" }.count, 10)
        XCTAssert(outline.text.contains("Eigen-spectrum"), "the spectrum section")
        XCTAssertFalse(outline.elements.contains("script"))
        let report = try JSONValue.read(run + "/report.json")
        for (j, stage) in (report["per_stage"]?.arrayValue ?? []).enumerated() {
            for kind in ["probe", "knn"] {
                for f in ["easy", "hard"] {
                    let x = try XCTUnwrap(stage[kind]?[f]?.doubleValue)
                    let text = abs(100 * x - (100 * x).rounded()) < 1e-9 ? String(format: "%.0f", 100 * x) : String(format: "%.1f", 100 * x)
                    XCTAssert(outline.text.contains(text), "stage \(j) \(kind) \(f) = \(text) not in the page")
                }
            }
            XCTAssertEqual(stage["loss_per_epoch"]?.arrayValue?.count, 2)
            XCTAssertEqual(stage["group_sizes"]?.arrayValue?.compactMap { $0.intValue }.reduce(0, +), 256)
        }
        XCTAssert(outline.text.contains("Multi-SimCLR"), "the Multi-SimCLR reference line")
        XCTAssert(outline.text.contains("b = 32"), "the batch size against the group sizes (Eq. 4)")

        // --json, --title, and a rewrite replaces the file
        let j = try runMCLRef(["report", run, "--out", page, "--title", "Run <A>", "--json"])
        XCTAssertEqual(j.status, 0, j.stderr)
        XCTAssertEqual(try JSONValue.parse(j.stdout)["stages"], .number(2))
        XCTAssert(try Outline.parse(page).text.contains("Run <A>"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch).sorted(), ["report.html", "run"])
    }

    func testBadInputIsOneLineExitTwoAndNoFile() throws {
        let page = scratch + "/report.html"
        let empty = scratch + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let broken = scratch + "/broken"
        try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
        try Data(#"{"features": ["a"], "per_stage": [{"stage": 0, "loss": 1, "probe": {"a": 0.5}}], "integrated": [{}]}"#.utf8)
            .write(to: URL(fileURLWithPath: broken + "/report.json"))
        let cases: [([String], String)] = [
            (["report", scratch + "/absent", "--out", page], "\(scratch)/absent: no such directory"),
            (["report", empty, "--out", page], "\(empty)/report.json: missing file"),
            (["report", broken, "--out", page], "\(broken)/report.json: per_stage[0].knn.a: expected the kNN accuracy"),
            (["report", empty], "--out: missing"),
            (["report", "--out", page], "missing the run directory"),
            (["report", empty, "--out", scratch + "/no/such/dir/r.html"], "--out: the directory '\(scratch)/no/such/dir'"),
            (["report", empty, "--out", empty], "--out: '\(empty)' is a directory"),
            (["report", empty, "extra", "--out", page], "unexpected argument 'extra'"),
        ]
        for (arguments, message) in cases {
            let r = try runMCLRef(arguments)
            XCTAssertEqual(r.status, 2, "\(arguments)")
            XCTAssert(r.stderr.hasPrefix("mcl-ref: error: ") && r.stderr.contains(message), "\(arguments): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: page), "\(arguments) wrote a file")
        }
        let help = try runMCLRef(["report", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssert(help.stdout.hasPrefix("USAGE: mcl-ref report DIR [options]"), help.stdout)
    }

    func testDemoWritesTheReportOfItsFirstSeedWithTheSummaryOverSeeds() throws {
        let page = scratch + "/demo.html"
        let r = try runMCLRef(["demo", "--seeds", "1,2", "--report", page] + small)
        XCTAssertEqual(r.status, 0, r.stderr)
        let outline = try Outline.parse(page)
        XCTAssert(outline.text.contains("mcl-ref demo (easy-hard), seed 1"))
        XCTAssert(outline.text.contains("over seeds 1,2") && outline.text.contains("Multi-SimCLR ×2"), outline.text)
        XCTAssertEqual(outline.elements.filter { $0 == "svg" }.count, 10)

        // checked before training; --images does not take it
        var bad = try runMCLRef(["demo", "--report", scratch + "/absent/x.html"] + small)
        XCTAssertEqual(bad.status, 2)
        XCTAssert(bad.stderr.contains("--report: the directory '\(scratch)/absent'"), bad.stderr)
        bad = try runMCLRef(["demo", "--images", "--report", page])
        XCTAssertEqual(bad.status, 2)
        XCTAssert(bad.stderr.contains("--report applies to the vector demo only"), bad.stderr)
    }
}

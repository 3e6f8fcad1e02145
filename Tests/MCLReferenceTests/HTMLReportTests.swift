import Foundation
import XCTest
#if canImport(FoundationXML)
import FoundationXML
#endif
import MCLNumerics
@testable import MCLReference

/// Collects what an XML parser sees in a document: element names, the text content, and the first
/// error (nil when the document is well-formed).
final class XMLOutline: NSObject, XMLParserDelegate {
    var elements: [String] = []
    var attributes: [[String: String]] = []
    var text = ""
    var error: Error?

    /// Parses `document`; `error` is set when it is not well-formed XML.
    static func parse(_ document: String) -> XMLOutline {
        let outline = XMLOutline()
        let parser = XMLParser(data: Data(document.utf8))
        parser.delegate = outline
        if !parser.parse() { outline.error = outline.error ?? parser.parserError ?? NSError(domain: "xml", code: 1) }
        return outline
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append(name)
        self.attributes.append(attributes)
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = error ?? parseError }
}

/// The per-stage report data the HTML report draws (loss per epoch, cluster and group sizes) and the
/// page itself: well-formed, self-contained, every number present.
final class HTMLReportTests: XCTestCase {
    func tinyConfiguration() -> MCLConfiguration {
        .tiny(stages: 2, clusters: 3, epochs: 3, batchSize: 16, hidden: 8, representation: 4, headHidden: 8, embedding: 4, seed: 3)
    }

    func tinyRun(_ c: MCLConfiguration) throws -> MCLRun<Float> {
        let all = EasyHardVectors.make(count: 192, seed: 3, as: Float.self)
        return try MultistageContrastiveLearning<Float>(configuration: c).run(
            train: all.subset(Array(0..<96)), test: all.subset(Array(96..<192)))
    }

    func testEachStageRecordsItsLossPerEpochAndItsClusterAndGroupSizes() throws {
        let c = tinyConfiguration()
        var seen: [Double] = []
        let all = EasyHardVectors.make(count: 192, seed: 3, as: Float.self)
        let run = try MultistageContrastiveLearning<Float>(configuration: c).run(
            train: all.subset(Array(0..<96)), test: all.subset(Array(96..<192)), progress: { event in
                if case let .epoch(_, _, _, loss, _) = event { seen.append(loss) }
            })
        XCTAssertEqual(run.stages.flatMap { $0.report.epochLosses }, seen, "the epochs' mean losses, in order")
        for s in run.stages {
            let r = s.report
            XCTAssertEqual(r.epochLosses.count, c.epochs)
            XCTAssertEqual(r.epochLosses.last, r.loss, "the stage's loss is its last epoch's")
            XCTAssertEqual(r.clusterSizes.count, c.clusters)
            XCTAssertEqual(r.clusterSizes, (0..<c.clusters).map { k in s.clustering.labels.filter { $0 == k }.count })
            XCTAssertEqual(r.groupSizes.count, r.groups)
            XCTAssertEqual(r.groupSizes, (0..<r.groups).map { g in s.pseudoLabels.filter { $0 == g }.count })
        }
        XCTAssertEqual(run.stages[0].report.groupSizes, [96], "stage 0 trains with one group")
        XCTAssertEqual(run.stages[1].report.groupSizes.reduce(0, +), 96)
        // report.json carries them
        let stage1 = run.report.json["per_stage"]?.arrayValue?[1]
        XCTAssertEqual(stage1?["loss_per_epoch"]?.arrayValue?.count, c.epochs)
        XCTAssertEqual(stage1?["cluster_sizes"]?.arrayValue?.compactMap { $0.intValue }, run.stages[1].report.clusterSizes)
        XCTAssertEqual(stage1?["group_sizes"]?.arrayValue?.compactMap { $0.intValue }, run.stages[1].report.groupSizes)
    }

    func testCheckpointKeepsTheNewStageFieldsAndReadsOlderCheckpoints() throws {
        let run = try tinyRun(tinyConfiguration())
        var checkpoint = MCLCheckpoint(arguments: [], configuration: .object([]), dataFingerprint: "0", sampleShape: [8])
        for s in run.stages { checkpoint.record(s, files: [:]) }
        let back = try MCLCheckpoint(json: try JSONValue.parse(checkpoint.json.serialized()), path: "c.json")
        for (a, b) in zip(back.stages, run.stages.map { $0.report }) {
            XCTAssertEqual(a.epochLosses, b.epochLosses)
            XCTAssertEqual(a.clusterSizes, b.clusterSizes)
            XCTAssertEqual(a.groupSizes, b.groupSizes)
        }
        // A checkpoint written before these fields existed still loads (with empty lists).
        func strip(_ v: JSONValue) -> JSONValue {
            switch v {
            case .object(let pairs):
                return .object(pairs.filter { !["loss_per_epoch", "cluster_sizes", "group_sizes"].contains($0.0) }
                    .map { ($0.0, strip($0.1)) })
            case .array(let items): return .array(items.map(strip))
            default: return v
            }
        }
        let old = try MCLCheckpoint(json: strip(checkpoint.json), path: "c.json")
        XCTAssertEqual(old.stages.map { $0.epochLosses }, [[], []])
        XCTAssertEqual(old.stages.map { $0.loss }, run.stages.map { $0.report.loss })
    }

    func testThePageIsWellFormedSelfContainedAndHoldsEveryNumber() throws {
        let c = tinyConfiguration()
        var run = try tinyRun(c)
        run.report.multiSimCLR = FeatureScores(probe: [0.5, 0.25], knn: [0.75, 0.125])
        let json = run.report.json
        let summary = try RunSummary(json: json, path: "report.json")
        let html = HTMLReport(summary: summary, source: "runs/a/report.json").html
        let outline = XMLOutline.parse(html)
        XCTAssertNil(outline.error, "\(outline.error.map { "\($0)" } ?? "")\n\(html.prefix(2000))")
        // per feature a probe and a kNN chart, one loss chart, one spectrum chart, per stage a group and a cluster chart
        XCTAssertEqual(outline.elements.filter { $0 == "svg" }.count, 2 * 2 + 1 + 1 + 2 * 2)
        XCTAssertEqual(outline.elements.filter { $0 == "polyline" }.count, 2 + 2, "one loss curve and one spectrum per stage")
        for st in summary.stages {
            XCTAssertEqual(st.spectrum.count, c.representationWidth, "stage \(st.stage): one eigenvalue per dimension")
            XCTAssertEqual(st.spectrum.reduce(0, +), 1, accuracy: 1e-9)
            let rank = try XCTUnwrap(st.effectiveRank)
            XCTAssert(outline.text.contains("stage \(st.stage) \(String(format: "%.2f", rank))"), "effective rank of stage \(st.stage)")
        }
        // nothing is loaded from elsewhere and nothing runs
        for banned in ["<script", "src=", "href=", "@import", "url(", "@font-face"] {
            XCTAssertFalse(html.contains(banned), banned)
        }
        // the numbers: every accuracy of report.json, as a percentage, in the text
        for s in run.report.stages {
            for x in s.alone.probe + s.alone.knn + s.integrated.probe + s.integrated.knn {
                XCTAssert(outline.text.contains(HTMLReport.percent(rounded(x))), "\(HTMLReport.percent(x)) missing")
            }
            XCTAssert(outline.text.contains(String(format: "%.4f", s.loss)))
            for size in s.groupSizes { XCTAssert(outline.text.contains("\(size)")) }
        }
        XCTAssert(outline.text.contains("Multi-SimCLR 50"), "the Multi-SimCLR reference line and its value")
        XCTAssert(outline.text.contains("Multi-SimCLR 12.5"))
        XCTAssert(outline.text.contains("SimCLR \(HTMLReport.percent(rounded(run.report.stages[0].alone.probe[1])))"))
        XCTAssert(outline.text.contains("b = 16"), "the batch size line of Eq. 4")
        XCTAssert(outline.text.contains("batch_size") && outline.text.contains("runs/a/report.json"))
        // the bars carry their values as tooltips, for every stage alone and integrated
        let titles = outline.elements.enumerated().filter { $0.element == "title" }.count
        XCTAssertGreaterThanOrEqual(titles, 2 * 2 * 3)
    }

    func testWithoutMultiSimCLROrRawInputThoseLinesAreAbsent() throws {
        var c = tinyConfiguration()
        c.probeRawInput = false
        let run = try tinyRun(c)
        let html = HTMLReport(summary: try RunSummary(json: run.report.json, path: "r"), source: "r").html
        XCTAssertNil(XMLOutline.parse(html).error)
        XCTAssertFalse(html.contains("Multi-SimCLR"))
        XCTAssertFalse(html.contains("raw input"))
        XCTAssert(html.contains(">SimCLR "))
    }

    func testNamesAreEscapedAndAnOlderReportStillRenders() throws {
        let scores: JSONValue = .object([("probe", .object([("a<b & \"c\"", .number(0.5))])),
                                         ("knn", .object([("a<b & \"c\"", .number(0.625))]))])
        func merge(_ base: JSONValue, _ extra: [(String, JSONValue)]) -> JSONValue {
            .object((base.objectValue ?? []) + extra)
        }
        // no loss_per_epoch, cluster_sizes, group_sizes; an unknown top-level key (provenance)
        let json: JSONValue = .object([
            ("features", .array([.string("a<b & \"c\"")])),
            ("per_stage", .array([merge(scores, [("stage", 0), ("loss", 5.25)])])),
            ("integrated", .array([merge(scores, [("stages", 1)])])),
            ("provenance", .object([("command", .string("mcl-ref train --out <x>"))])),
        ])
        let html = HTMLReport(summary: try RunSummary(json: json, path: "old.json"), source: "old.json").html
        let outline = XMLOutline.parse(html)
        XCTAssertNil(outline.error, "\(outline.error.map { "\($0)" } ?? "")")
        XCTAssert(outline.text.contains("a<b & \"c\": linear probe accuracy (%)"), "names round-trip through escaping")
        XCTAssert(outline.text.contains("did not record the loss per epoch") && outline.text.contains("5.2500"))
        XCTAssert(outline.text.contains("did not record cluster and group sizes"))
        XCTAssert(outline.text.contains("mcl-ref train --out <x>"), "provenance shown as given")
    }

    func testAReportMissingAFieldIsRefusedNamingIt() {
        let cases: [(JSONValue, String)] = [
            (.array([]), "expected a JSON object"),
            (.object([("features", .array([]))]), "'features'"),
            (.object([("features", .array(["x"])), ("per_stage", .array([.object([("stage", 0), ("loss", 1)])])),
                      ("integrated", .array([.object([])]))]), "per_stage[0].probe.x"),
            (.object([("features", .array(["x"])), ("per_stage", .array([.object([("stage", 0)])])),
                      ("integrated", .array([]))]), "'integrated': expected one entry per stage (1)"),
        ]
        for (json, expected) in cases {
            XCTAssertThrowsError(try RunSummary(json: json, path: "r.json")) { error in
                XCTAssert("\(error)".hasPrefix("r.json: ") && "\(error)".contains(expected), "\(error)")
            }
        }
    }

    func testTicksAreRoundAndLieInTheRange() {
        XCTAssertEqual(niceTicks(low: 0, high: 1, count: 6), [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1])
        XCTAssertEqual(niceTicks(low: 0, high: 560), [0, 200, 400])
        let t = niceTicks(low: 1.83, high: 4.12)
        XCTAssertEqual(t, [2, 3, 4])
        XCTAssertEqual(xmlEscaped("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;")
    }
}

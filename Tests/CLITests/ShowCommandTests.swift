import Foundation
import XCTest
import MCLReference

/// `mcl-ref show`: a PNG/PPM grid whose size follows the layout rule, and one label row per cell.
final class ShowCommandTests: XCTestCase {
    var scratch = ""
    override func setUpWithError() throws { scratch = try makeScratchDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    func bigEndian32(_ b: [UInt8], _ at: Int) -> Int { b[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }

    func testPNGGridHasTheLayoutSizeAndALabelRowPerCell() throws {
        let out = scratch + "/grid.png"
        let r = try runMCLRef(["show", "--dataset", "trifeature", "--samples", "5", "--size", "16", "--scale", "2",
                               "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let png = [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: out)))
        XCTAssertEqual(Array(png.prefix(8)), [137, 80, 78, 71, 13, 10, 26, 10], "PNG signature")
        XCTAssertEqual(String(decoding: png[12..<16], as: UTF8.self), "IHDR")
        // 5 cells → 3 columns × 2 rows of 32×32 px cells with 2 px borders.
        XCTAssertEqual(bigEndian32(png, 16), 3 * 32 + 4 * 2)
        XCTAssertEqual(bigEndian32(png, 20), 2 * 32 + 3 * 2)
        let lines = r.stdout.split(separator: "\n")
        XCTAssert(lines[1].hasPrefix("cell") && lines[1].contains("shape") && lines[1].contains("texture")
                  && lines[1].contains("color"), r.stdout)
        XCTAssertEqual(lines.count, 2 + 5, "a comment, a header and one row per sample")
    }

    func testPPMShowsTheGlyphPanelOfCifarMnistLike() throws {
        let out = scratch + "/grid.ppm"
        let r = try runMCLRef(["show", "--dataset", "cifar-mnist-like", "--samples", "1", "--size", "16", "--scale", "1",
                               "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let ppm = try XCTUnwrap(FileManager.default.contents(atPath: out))
        // One cell of two 16-px panels with a 2 px border between them and around: 38 × 20.
        XCTAssert(ppm.starts(with: Data("P6\n38 20\n255\n".utf8)), String(decoding: ppm.prefix(16), as: UTF8.self))
        XCTAssertEqual(ppm.count, "P6\n38 20\n255\n".utf8.count + 38 * 20 * 3)
    }

    func testBadArgumentsExitTwoAndWriteNothing() throws {
        for (args, mentions) in [(["--dataset", "mnist", "--out", scratch + "/a.png"], "--dataset"),
                                 (["--dataset", "trifeature", "--out", scratch + "/a.jpg"], "--out"),
                                 (["--dataset", "trifeature", "--size", "20", "--out", scratch + "/a.png"], "--size"),
                                 (["--dataset", "trifeature"], "--out")] {
            let r = try runMCLRef(["show"] + args)
            XCTAssertEqual(r.status, 2, "\(args)")
            XCTAssert(r.stderr.contains(mentions), "\(args): \(r.stderr)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch), [])
    }

    /// shapes-captions: the grid, and each cell's labels with its caption in the table.
    func testShapesCaptionsPrintsEachCellsCaption() throws {
        let out = scratch + "/pairs.png"
        let r = try runMCLRef(["show", "--dataset", "shapes-captions", "--samples", "3", "--size", "16", "--scale", "1",
                               "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssert(FileManager.default.fileExists(atPath: out))
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2 + 3, r.stdout)
        XCTAssert(lines[1].hasPrefix("cell") && lines[1].contains("direction") && lines[1].hasSuffix("caption"), lines[1])
        let pairs = ShapesCaptions.make(count: 3, size: 16, seed: 0, as: Float.self)
        for i in 0..<3 {
            let caption = pairs.captionText(i)
            XCTAssert(lines[2 + i].hasSuffix("\"\(caption)\""), "cell \(i): \(lines[2 + i]) should end with \(caption)")
        }
    }
}

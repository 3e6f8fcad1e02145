import Foundation
import XCTest
@testable import MCLNumerics

final class AtomicFileTests: XCTestCase {
    private func entries(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    func testWritesContentAndLeavesNoTemporaryFiles() throws {
        let dir = try makeTemporaryDirectory("atomic")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/out.bin"
        let payload = Data((0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try AtomicFile.write(payload, to: path)
        XCTAssertEqual(FileManager.default.contents(atPath: path), payload)
        XCTAssertEqual(entries(dir), ["out.bin"])
        try AtomicFile.write(Data(), to: URL(fileURLWithPath: dir + "/empty"))
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/empty"), Data())
        XCTAssertEqual(entries(dir), ["empty", "out.bin"])
    }

    func testReplacesAnExistingFileWhole() throws {
        let dir = try makeTemporaryDirectory("atomic-replace")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/report.json"
        try AtomicFile.write(Data(repeating: 0x41, count: 100_000), to: path)
        // A reader that opened the old file keeps seeing the old content after the replacement.
        let old = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        try AtomicFile.write(JSONValue.object([("a", 1), ("b", [true, nil])]), to: path)
        XCTAssertEqual(try old.readToEnd()?.count, 100_000)
        try old.close()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(try JSONValue.parse(text), JSONValue.object([("a", 1), ("b", [true, nil])]))
        XCTAssertTrue(text.hasSuffix("}\n"))
        try JSONValue.array([1, "two"]).write(to: path, pretty: false)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "[1,\"two\"]\n")
        XCTAssertEqual(entries(dir), ["report.json"])
    }

    func testConcurrentWritersNeverInterleave() throws {
        let dir = try makeTemporaryDirectory("atomic-concurrent")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/x"
        let payloads = (0..<8).map { Data(repeating: UInt8($0), count: 50_000) }
        DispatchQueue.concurrentPerform(iterations: 32) { i in
            try? AtomicFile.write(payloads[i % 8], to: path)
        }
        let final = try XCTUnwrap(FileManager.default.contents(atPath: path))
        XCTAssertTrue(payloads.contains(final), "the file is a mix of two writes")
        XCTAssertEqual(entries(dir), ["x"])
    }

    func testFailuresAreOneLineAndCleanUp() throws {
        let dir = try makeTemporaryDirectory("atomic-fail")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertThrowsError(try AtomicFile.write(Data([1]), to: dir + "/missing/x.bin")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix(dir + "/missing/x.bin: "), text)
            XCTAssertFalse(text.contains("\n"))
        }
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: false)
        XCTAssertThrowsError(try AtomicFile.write(Data([1]), to: dir + "/sub")) {
            XCTAssertEqual("\($0)", dir + "/sub: is a directory")
        }
        XCTAssertEqual(entries(dir), ["sub"])
    }

    func testPrepareOutputDirectory() throws {
        let dir = try makeTemporaryDirectory("atomic-dir")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try AtomicFile.prepareOutputDirectory(dir + "/a/b/c")
        try AtomicFile.prepareOutputDirectory(dir + "/a/b/c")  // existing directory: fine
        var isDirectory: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/a/b/c", isDirectory: &isDirectory))
        XCTAssertTrue(isDirectory.boolValue)
        try AtomicFile.write("x", to: dir + "/file")
        XCTAssertThrowsError(try AtomicFile.prepareOutputDirectory(dir + "/file")) {
            XCTAssertEqual("\($0)", dir + "/file: exists and is not a directory")
        }
        XCTAssertThrowsError(try AtomicFile.prepareOutputDirectory(dir + "/file/sub")) {
            XCTAssertTrue("\($0)".hasPrefix(dir + "/file/sub: "))
        }
    }
}

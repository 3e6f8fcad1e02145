import XCTest
import Foundation
@testable import MCLNumerics

final class PNGTests: XCTestCase {
    func testChecksumsKnownValues() {
        XCTAssertEqual(PNG.crc32(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(PNG.crc32([UInt8]()), 0)
        XCTAssertEqual(PNG.adler32(Array("Wikipedia".utf8)), 0x11E6_0398)
        XCTAssertEqual(PNG.adler32([UInt8]()), 1)
        // Long input (past the 5552-byte reduction point): compare with the plain mod-every-step form.
        let long = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) }
        var a: UInt32 = 1, b: UInt32 = 0
        for x in long { a = (a + UInt32(x)) % 65521; b = (b + a) % 65521 }
        XCTAssertEqual(PNG.adler32(long), (b << 16) | a)
        // IEND's CRC is the well-known AE 42 60 82.
        XCTAssertEqual(PNG.crc32(Array("IEND".utf8)), 0xAE42_6082)
    }

    func testStoredBlocksLayout() {
        let data = (0..<10).map { UInt8($0) }
        let z = PNG.zlibStored(data, blockSize: 4)
        XCTAssertEqual(Array(z.prefix(2)), [0x78, 0x01])
        XCTAssertEqual((UInt16(z[0]) << 8 | UInt16(z[1])) % 31, 0)
        // Blocks of 4, 4, 2 bytes: header byte + LEN + NLEN + data each, then Adler32.
        XCTAssertEqual(z.count, 2 + 3 * 5 + 10 + 4)
        XCTAssertEqual(Array(z[2..<7]), [0, 4, 0, 0xFB, 0xFF])
        XCTAssertEqual(z[2 + 2 * 9], 1)  // the last block is final
        XCTAssertEqual(Array(PNG.zlibStored([]).dropFirst(2)), [1, 0, 0, 0xFF, 0xFF, 0, 0, 0, 1])
    }

    func testPNGStructure() {
        let png = PNG.encodeRGB(width: 2, height: 1, rgb: [255, 0, 0, 0, 0, 255])
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertEqual(Array(png[12..<16]), Array("IHDR".utf8))
        XCTAssertEqual(Array(png.suffix(12)), [0, 0, 0, 0] + Array("IEND".utf8) + [0xAE, 0x42, 0x60, 0x82])
        let ppm = PNG.encodePPM(width: 2, height: 1, rgb: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(ppm, Array("P6\n2 1\n255\n".utf8) + [1, 2, 3, 4, 5, 6])
    }

    /// Python's zlib inflates our IDAT and every chunk CRC checks (skipped without python3).
    func testPythonZlibInflatesIDAT() throws {
        guard let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else { throw XCTSkip("python3 not found") }
        // 150×150 RGB: 67 950 raw bytes, so two stored blocks.
        let w = 150, h = 150
        let rgb = (0..<(w * h * 3)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 7)) }
        let png = PNG.encodeRGB(width: w, height: h, rgb: rgb)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("png-test-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pngURL = dir.appendingPathComponent("t.png"), rawURL = dir.appendingPathComponent("t.raw")
        try Data(png).write(to: pngURL)
        try Data(rgb).write(to: rawURL)
        let script = """
        import struct, sys, zlib
        d = open(sys.argv[1], 'rb').read(); raw = open(sys.argv[2], 'rb').read()
        assert d[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
        i = 8; idat = b''; w = h = None
        while i < len(d):
            n, = struct.unpack('>I', d[i:i+4]); t = d[i+4:i+8]; body = d[i+8:i+8+n]
            crc, = struct.unpack('>I', d[i+8+n:i+12+n])
            assert zlib.crc32(t + body) & 0xffffffff == crc, t
            if t == b'IHDR': w, h = struct.unpack('>II', body[:8]); assert body[8:] == b'\\x08\\x02\\x00\\x00\\x00'
            if t == b'IDAT': idat += body
            i += 12 + n
        data = zlib.decompress(idat)
        rows = [data[r*(1+3*w):(r+1)*(1+3*w)] for r in range(h)]
        assert all(r[0] == 0 for r in rows)
        assert b''.join(r[1:] for r in rows) == raw
        print('OK', w, h)
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", script, pngURL.path, rawURL.path]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run(); p.waitUntilExit()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 0, "python: \(stderr)")
        XCTAssertEqual(stdout.trimmingCharacters(in: .whitespacesAndNewlines), "OK 150 150")
    }
}

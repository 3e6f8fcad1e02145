import Foundation

/// A minimal PNG encoder: 8-bit RGB, no interlacing, filter type 0 on every row, and a zlib stream
/// of *stored* (uncompressed) deflate blocks — correct and simple, not small. Also the two checksums
/// it needs. Enough to look at data sets (`mcl-ref show`); not a general image library.
///
/// File layout (PNG spec, RFC 2083; zlib RFC 1950; deflate RFC 1951):
///
///     signature 89 50 4E 47 0D 0A 1A 0A
///     chunk = length (4, big-endian, data only) | type (4) | data | CRC32(type + data) (4)
///     IHDR: width, height (4 each), bit depth 8, colour type 2 (RGB), compression 0, filter 0, interlace 0
///     IDAT: zlib( rows, each = filter byte 0 followed by W·3 bytes R G B … )
///           zlib = 0x78 0x01 | deflate blocks | Adler32 (big-endian)
///           stored block = BFINAL/BTYPE=00 byte | LEN (2, little-endian) | ~LEN | LEN bytes, LEN ≤ 65535
///     IEND: empty
public enum PNG {
    /// CRC-32 as in PNG, zlib and gzip (reflected polynomial 0xEDB88320, initial and final XOR
    /// 0xFFFFFFFF). `crc32("123456789") == 0xCBF43926`.
    public static func crc32<S: Sequence>(_ bytes: S, initial: UInt32 = 0) -> UInt32 where S.Element == UInt8 {
        var c = ~initial
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return ~c
    }

    static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// Adler-32 (zlib): a = 1 + Σ bytes, b = Σ a after each byte, both mod 65521; (b << 16) | a.
    /// `adler32("Wikipedia") == 0x11E60398`.
    public static func adler32<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
        var a: UInt32 = 1, b: UInt32 = 0
        var pending = 0
        for byte in bytes {
            a += UInt32(byte); b += a
            pending += 1
            if pending == 5552 { a %= 65521; b %= 65521; pending = 0 }  // 5552: largest run without UInt32 overflow
        }
        return ((b % 65521) << 16) | (a % 65521)
    }

    /// A zlib stream holding `data` in stored deflate blocks of at most `blockSize` (≤ 65535) bytes.
    /// An empty input gives one empty final block.
    public static func zlibStored(_ data: [UInt8], blockSize: Int = 65535) -> [UInt8] {
        precondition(blockSize > 0 && blockSize <= 65535, "zlibStored: blockSize=\(blockSize) must be in 1...65535")
        var out: [UInt8] = [0x78, 0x01]  // CM 8 (deflate), 32K window; no dictionary, level 0; 0x7801 % 31 == 0
        out.reserveCapacity(data.count + data.count / blockSize * 5 + 11)
        var start = 0
        repeat {
            let n = min(blockSize, data.count - start)
            let final = start + n == data.count
            out.append(final ? 1 : 0)
            let len = UInt16(n), nlen = ~UInt16(n)
            out += [UInt8(len & 0xFF), UInt8(len >> 8), UInt8(nlen & 0xFF), UInt8(nlen >> 8)]
            out += data[start..<(start + n)]
            start += n
        } while start < data.count
        let adler = adler32(data)
        out += bigEndian(adler)
        return out
    }

    /// PNG bytes of an RGB image; `rgb` holds height rows of width·3 bytes, top row first.
    public static func encodeRGB(width: Int, height: Int, rgb: [UInt8]) -> [UInt8] {
        precondition(width > 0 && height > 0, "PNG.encodeRGB: width=\(width), height=\(height) must be positive")
        precondition(rgb.count == width * height * 3,
                     "PNG.encodeRGB: \(rgb.count) bytes for \(width)×\(height) RGB (expected \(width * height * 3))")
        var raw = [UInt8]()
        raw.reserveCapacity(height * (1 + width * 3))
        for y in 0..<height {
            raw.append(0)  // filter type 0: None
            raw += rgb[(y * width * 3)..<((y + 1) * width * 3)]
        }
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        let ihdr = bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, 2, 0, 0, 0]
        appendChunk(&out, "IHDR", ihdr)
        appendChunk(&out, "IDAT", zlibStored(raw))
        appendChunk(&out, "IEND", [])
        return out
    }

    static func appendChunk(_ out: inout [UInt8], _ type: String, _ data: [UInt8]) {
        let typeBytes = Array(type.utf8)
        out += bigEndian(UInt32(data.count))
        out += typeBytes
        out += data
        out += bigEndian(crc32(typeBytes + data))
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    /// Binary PPM (P6) bytes of the same RGB image: header `P6\n<W> <H>\n255\n`, then the bytes.
    public static func encodePPM(width: Int, height: Int, rgb: [UInt8]) -> [UInt8] {
        precondition(rgb.count == width * height * 3, "PNG.encodePPM: \(rgb.count) bytes for \(width)×\(height) RGB")
        return Array("P6\n\(width) \(height)\n255\n".utf8) + rgb
    }
}

import Foundation

/// The checksum a run directory records for every file it writes: 64-bit FNV-1a over the file's
/// bytes, written `fnv1a64:<16 hex digits>`.
///
/// FNV-1a: h ← 14695981039346656037; for each byte b: h ← (h XOR b) · 1099511628211 (mod 2⁶⁴).
/// It detects accidental change (a byte edited, a file replaced by another run's, a truncated copy)
/// with probability 1 − 2⁻⁶⁴ per file; it is not a cryptographic hash and does not resist a
/// deliberate forgery.
public enum FileChecksum {
    /// The name recorded next to the checksums.
    public static let algorithm = "fnv1a64"

    /// The checksum text of `bytes`.
    public static func of<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        let hex = String(h, radix: 16)
        return algorithm + ":" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}

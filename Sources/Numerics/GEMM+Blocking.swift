import Foundation

/// The cache blocking of the packed GEMM (KC, MC, NC), derived once per process from the cache
/// sizes the operating system reports, instead of constants tuned for one CPU.
///
/// The register tile MR×NR is fixed at compile time by the vector registers (see
/// `GEMM+Microkernel.swift`); the three cache blocks follow from it and from the caches with
/// BLIS-style rules (Low et al., "Analytical modeling is enough for high-performance BLIS", 2016),
/// `s` the scalar size in bytes:
///
///     KC:  KC·NR·s ≤ L1d             the B micro-panel KC×NR, reused for every A micro-panel of a
///                                    row block, fills the L1d; the A micro-panels (MR×KC, a
///                                    quarter of its size with the AVX-512 tile) stream from L2;
///                                    rounded down to a multiple of 16, clamped to 64…512.
///     MC:  MC·KC·s ≤ ½·L2            the A block MC×KC, reused for every B micro-panel of the
///                                    worker's columns, stays in (one core's) L2 next to the B
///                                    micro-panels streaming through; a multiple of MR, clamped
///                                    to MR…1024.
///     NC:  KC·NC·s ≤ ½·L3            the packed B panel KC×NC, shared by the workers, stays in
///          (or ½·L2 without an L3)   the last-level cache; a multiple of NR, clamped to NR…4096.
///
/// Why KC fills the whole L1d rather than the textbook half to ¾ of it with the A micro-panel
/// included: every depth block reads and writes all of C once (2·MR·NR·KC flops per MR×NR tile
/// of C loaded and stored), and at 1024³–2048³ that C traffic, not the L1 misses of B, limits the
/// kernel. Measured on the Zen 4 VM (1 thread, process CPU time, GFLOPS at 1024³ / 2048³):
/// KC = 144 (the ¾-L1d rule with A) 85–93 / 78–81, KC = 192 89–99 / 84–95, KC = 256 93–103 /
/// 93–97, KC = 512 97–100 / 100–103 (OpenBLAS 96–100 / 100–103); KC = 512 loses at 512³, where C
/// fits in L2. See BENCHMARKS.md.
///
/// For this project's two reference machines (AVX-512 build, Float: MR = 8, NR = 32, s = 4):
///
/// | CPU | L1d / L2 / L3 | KC | MC | NC |
/// |---|---|---:|---:|---:|
/// | AMD EPYC Zen 4 (KVM) | 32 KB / 1 MB / 32 MB | 256 | 512 | 4096 |
/// | Intel Xeon (KVM, issue 12) | 48 KB / 2 MB / — | 384 | 680 | 672 |
///
/// (the table is checked by `GEMMBlockingTests`).
///
/// KC sets the summation order of each C element (one run of KC products per depth block), so
/// results may differ in the last bits *between machines* whose caches differ; on one machine the
/// blocking is fixed for the life of the process and results are bit-identical for every thread
/// count. MC and NC only change which tiles are computed together, never a C element's arithmetic.
public struct GEMMBlocking: Sendable, Equatable, CustomStringConvertible {
    /// Depth of one packed block (A micro-panel MR×KC, B micro-panel KC×NR).
    public var kc: Int
    /// Rows of A per row block (a multiple of MR).
    public var mc: Int
    /// Columns per packed B panel (a multiple of NR).
    public var nc: Int

    public init(kc: Int, mc: Int, nc: Int) {
        precondition(kc >= 1 && mc >= 1 && nc >= 1, "GEMMBlocking: KC=\(kc) MC=\(mc) NC=\(nc) must be ≥ 1")
        self.kc = kc; self.mc = mc; self.nc = nc
    }

    public var description: String { "KC=\(kc) MC=\(mc) NC=\(nc)" }

    /// The blocking for a register tile MR×NR of `scalarSize`-byte scalars on `caches` (the rules in
    /// the type's comment). MC is rounded to a multiple of `mr`, NC to a multiple of `nr`.
    public static func derive(caches: CacheSizes, mr: Int, nr: Int, scalarSize: Int) -> GEMMBlocking {
        precondition(mr >= 1 && nr >= 1 && scalarSize >= 1)
        func roundDown(_ x: Int, _ multiple: Int) -> Int { x / multiple * multiple }
        let kcRaw = caches.l1d / (nr * scalarSize)
        let kc = min(512, max(64, roundDown(kcRaw, 16)))
        let mcRaw = caches.l2 / 2 / (kc * scalarSize)
        let mc = min(roundDown(1024, mr), max(mr, roundDown(mcRaw, mr)))
        let last = caches.l3 ?? caches.l2
        let ncRaw = last / 2 / (kc * scalarSize)
        let nc = min(roundDown(4096, nr), max(nr, roundDown(ncRaw, nr)))
        return GEMMBlocking(kc: kc, mc: mc, nc: nc)
    }
}

/// Per-core data cache sizes in bytes, as the OS reports them (L3 is often shared; `nil` when the
/// machine has none or does not say).
public struct CacheSizes: Sendable, Equatable, CustomStringConvertible {
    public var l1d: Int
    public var l2: Int
    public var l3: Int?
    /// Whether the sizes were read from the OS (false: the fallback defaults).
    public var detected: Bool

    public init(l1d: Int, l2: Int, l3: Int?, detected: Bool = true) {
        self.l1d = l1d; self.l2 = l2; self.l3 = l3; self.detected = detected
    }

    /// Used when the OS does not report the caches (macOS, some containers): 32 KB L1d, 512 KB L2,
    /// no L3 — smaller than any current x86-64 or AArch64 server core, so the blocks still fit.
    public static let fallback = CacheSizes(l1d: 32 << 10, l2: 512 << 10, l3: nil, detected: false)

    public var description: String {
        func kb(_ b: Int) -> String { b % (1 << 20) == 0 ? "\(b >> 20) MB" : "\(b >> 10) KB" }
        let sizes = "L1d \(kb(l1d)), L2 \(kb(l2)), L3 \(l3.map(kb) ?? "none")"
        return detected ? sizes : sizes + " (defaults: not reported by the OS)"
    }

    /// The caches of CPU 0 from Linux sysfs, `<root>/index*/{level,type,size}` (`size` like "32K",
    /// "1024K", "2M"). Instruction caches are skipped. Falls back to `fallback` for any level that
    /// is missing (L3 stays `nil`) or when the directory does not exist.
    public static func read(root: String = "/sys/devices/system/cpu/cpu0/cache") -> CacheSizes {
        var l1d: Int?, l2: Int?, l3: Int?
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(atPath: root) else { return fallback }
        for entry in entries where entry.hasPrefix("index") {
            func field(_ name: String) -> String? {
                (try? String(contentsOfFile: "\(root)/\(entry)/\(name)", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard let level = field("level").flatMap(Int.init), let type = field("type"),
                  type != "Instruction", let size = field("size").flatMap(parseSize) else { continue }
            switch level {
            case 1: l1d = size
            case 2: l2 = size
            case 3: l3 = size
            default: break
            }
        }
        guard let l1d, let l2 else { return fallback }
        return CacheSizes(l1d: l1d, l2: l2, l3: l3)
    }

    /// "32K" → 32768, "2M" → 2097152, "512" → 512; nil for anything else.
    static func parseSize(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        if let last = text.last, let unit = units[Character(last.uppercased())] {
            return Int(text.dropLast()).map { $0 * unit }
        }
        return Int(text)
    }

    /// This machine's caches, read once.
    public static let host = CacheSizes.read()
}

/// The blocking the fast GEMM uses, per scalar type: derived from `CacheSizes.host` on first use,
/// replaceable for tests and experiments (`set`). Not synchronised: change it only while no GEMM
/// runs (tests run one at a time; the CLI sets it at start-up).
public enum GEMMBlockings {
    nonisolated(unsafe) static var float = derived(for: Float.self)
    nonisolated(unsafe) static var double = derived(for: Double.self)

    /// The blocking derived from the host's caches for `type` (Float or Double).
    public static func derived<T: MCLFloat>(for type: T.Type) -> GEMMBlocking {
        let (mr, nr) = tile(for: type)
        return GEMMBlocking.derive(caches: .host, mr: mr, nr: nr, scalarSize: MemoryLayout<T>.size)
    }

    /// The register tile MR×NR of this build for `type`.
    public static func tile<T: MCLFloat>(for type: T.Type) -> (mr: Int, nr: Int) {
        T.self == Double.self ? (DoubleGEMM.mr, DoubleGEMM.nr) : (FloatGEMM.mr, FloatGEMM.nr)
    }

    /// The blocking currently in use for `type`.
    public static func current<T: MCLFloat>(for type: T.Type) -> GEMMBlocking {
        T.self == Double.self ? double : float
    }

    /// Replaces the blocking for `type` (`nil`: back to the derived one). MC and NC are rounded up
    /// to multiples of MR and NR.
    public static func set<T: MCLFloat>(_ blocking: GEMMBlocking?, for type: T.Type) {
        let (mr, nr) = tile(for: type)
        var b = blocking ?? derived(for: type)
        b.mc = (b.mc + mr - 1) / mr * mr
        b.nc = (b.nc + nr - 1) / nr * nr
        if T.self == Double.self { double = b } else { float = b }
    }
}

import Foundation
import XCTest
@testable import MCLNumerics

/// The cache blocking: its derivation from cache sizes, reading the sizes from sysfs, and the fast
/// GEMM against the reference under blockings other than this machine's.
final class GEMMBlockingTests: XCTestCase {
    /// The two reference machines of `GEMM+Blocking.swift`'s table, both builds' tiles.
    func testDerivationOnZen4AndXeonCaches() {
        let zen4 = CacheSizes(l1d: 32 << 10, l2: 1 << 20, l3: 32 << 20)
        let xeon = CacheSizes(l1d: 48 << 10, l2: 2 << 20, l3: nil)
        // AVX-512 Float tile 8×32: KC·32·4 ≤ L1d.
        XCTAssertEqual(GEMMBlocking.derive(caches: zen4, mr: 8, nr: 32, scalarSize: 4), GEMMBlocking(kc: 256, mc: 512, nc: 4096))
        XCTAssertEqual(GEMMBlocking.derive(caches: xeon, mr: 8, nr: 32, scalarSize: 4), GEMMBlocking(kc: 384, mc: 680, nc: 672))
        // AVX-512 Double tile 8×16.
        XCTAssertEqual(GEMMBlocking.derive(caches: zen4, mr: 8, nr: 16, scalarSize: 8), GEMMBlocking(kc: 256, mc: 256, nc: 4096))
        XCTAssertEqual(GEMMBlocking.derive(caches: xeon, mr: 8, nr: 16, scalarSize: 8), GEMMBlocking(kc: 384, mc: 336, nc: 336))
        // AVX2 Float tile 6×16 on the Zen 4 caches: the narrower tile allows a deeper KC (clamped).
        XCTAssertEqual(GEMMBlocking.derive(caches: zen4, mr: 6, nr: 16, scalarSize: 4), GEMMBlocking(kc: 512, mc: 252, nc: 4096))
        // Every derived block keeps its footprint inside its cache and its multiples.
        for caches in [zen4, xeon, CacheSizes.fallback, CacheSizes(l1d: 64 << 10, l2: 4 << 20, l3: 256 << 20)] {
            for (mr, nr, s) in [(8, 32, 4), (8, 16, 8), (6, 16, 4), (6, 8, 8)] {
                let b = GEMMBlocking.derive(caches: caches, mr: mr, nr: nr, scalarSize: s)
                XCTAssertLessThanOrEqual(nr * b.kc * s, caches.l1d, "\(caches) \(mr)×\(nr)")
                XCTAssertLessThanOrEqual(b.mc * b.kc * s, caches.l2 / 2, "\(caches) \(mr)×\(nr)")
                XCTAssertLessThanOrEqual(b.kc * b.nc * s, (caches.l3 ?? caches.l2) / 2, "\(caches) \(mr)×\(nr)")
                XCTAssert(b.kc % 16 == 0 && b.mc % mr == 0 && b.nc % nr == 0, "\(b)")
            }
        }
        // Tiny caches clamp to the minimum blocks instead of zero.
        let tiny = GEMMBlocking.derive(caches: CacheSizes(l1d: 1024, l2: 4096, l3: nil), mr: 8, nr: 32, scalarSize: 4)
        XCTAssertEqual(tiny, GEMMBlocking(kc: 64, mc: 8, nc: 32))
    }

    func testReadsSysfsLayoutAndFallsBack() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mcl-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        for (index, level, type, size) in [(0, 1, "Data", "48K"), (1, 1, "Instruction", "32K"),
                                           (2, 2, "Unified", "2048K"), (3, 3, "Unified", "105M")] {
            let dir = root.appendingPathComponent("index\(index)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try "\(level)\n".write(to: dir.appendingPathComponent("level"), atomically: true, encoding: .utf8)
            try "\(type)\n".write(to: dir.appendingPathComponent("type"), atomically: true, encoding: .utf8)
            try "\(size)\n".write(to: dir.appendingPathComponent("size"), atomically: true, encoding: .utf8)
        }
        XCTAssertEqual(CacheSizes.read(root: root.path), CacheSizes(l1d: 48 << 10, l2: 2 << 20, l3: 105 << 20))
        try FileManager.default.removeItem(at: root.appendingPathComponent("index3"))
        XCTAssertEqual(CacheSizes.read(root: root.path), CacheSizes(l1d: 48 << 10, l2: 2 << 20, l3: nil))
        try FileManager.default.removeItem(at: root.appendingPathComponent("index2"))
        XCTAssertEqual(CacheSizes.read(root: root.path), .fallback)          // no L2: defaults
        XCTAssertEqual(CacheSizes.read(root: "/nonexistent/mcl-ref"), .fallback)
        XCTAssertEqual(CacheSizes.parseSize("32K"), 32768)
        XCTAssertEqual(CacheSizes.parseSize("2M"), 2 << 20)
        XCTAssertEqual(CacheSizes.parseSize("512"), 512)
        XCTAssertNil(CacheSizes.parseSize("lots"))
    }
}

/// The fast GEMM against the reference, and across thread counts, under blockings other than this
/// machine's (so every test machine also covers the others' depth blocks and panel widths).
extension GEMMTests {
    /// Blockings far from any machine's: KC prime and tiny (many depth blocks, every KC a
    /// non-multiple), MC one tile, NC one micro-panel — and a mid-sized one.
    static let blockings = [GEMMBlocking(kc: 7, mc: 1, nc: 1), GEMMBlocking(kc: 100, mc: 20, nc: 50)]

    /// Runs `body` with `blocking` for both Float and Double, then restores the derived ones.
    func withBlocking(_ blocking: GEMMBlocking, _ body: () -> Void) {
        GEMMBlockings.set(blocking, for: Float.self)
        GEMMBlockings.set(blocking, for: Double.self)
        defer {
            GEMMBlockings.set(nil, for: Float.self)
            GEMMBlockings.set(nil, for: Double.self)
        }
        body()
    }

    func testFastMatchesReferenceUnderOtherBlockings() {
        for blocking in GEMMTests.blockings {
            withBlocking(blocking) {
                for (m, n, k) in [(1, 1, 1), (7, 5, 3), (13, 31, 257), (29, 1, 23), (31, 67, 300), (130, 70, 101)] {
                    for ta in Transpose.allCases {
                        for tb in Transpose.allCases {
                            checkBoth(Case(m: m, n: n, k: k, transA: ta, transB: tb,
                                           alpha: -0.75, beta: 1.5, extraLD: 3))
                        }
                    }
                }
                checkBoth(Case(m: 64, n: 64, k: 20, beta: 0, nanC: true))
            }
        }
        XCTAssertEqual(GEMMBlockings.current(for: Float.self), GEMMBlockings.derived(for: Float.self))
    }

    /// With blocks small enough that 128-ish products split into many chunks and several depth
    /// blocks and panels, every thread count gives the same bits (per blocking).
    func testBitIdenticalAcrossThreadCountsUnderSmallBlockings() {
        func run<T: MCLFloat>(_: T.Type, _ m: Int, _ n: Int, _ k: Int, _ ta: Transpose, _ tb: Transpose) {
            var rng = RNG(seed: 7)
            let a: Matrix<T> = ta == .none ? rng.uniformMatrix(m, k, -1, 1) : rng.uniformMatrix(k, m, -1, 1)
            let b: Matrix<T> = tb == .none ? rng.uniformMatrix(k, n, -1, 1) : rng.uniformMatrix(n, k, -1, 1)
            let c0: Matrix<T> = rng.uniformMatrix(m, n, -1, 1)
            var results: [[T]] = []
            for threads in [1, 2, 3] {
                var c = c0
                gemm(a, b, transA: ta, transB: tb, alpha: 1.25, beta: 0.5, into: &c, kernel: .fast, threads: threads)
                results.append(c.storage)
            }
            for r in results.dropFirst() {
                XCTAssert(r == results[0], "\(T.self) \(m)×\(n)×\(k) \(ta)\(tb) \(GEMMBlockings.current(for: T.self)) differs across thread counts")
            }
        }
        for blocking in [GEMMBlocking(kc: 48, mc: 16, nc: 64), GEMMBlocking(kc: 33, mc: 8, nc: 100)] {
            withBlocking(blocking) {
                run(Float.self, 128, 128, 128, .none, .none)
                run(Float.self, 127, 131, 129, .transpose, .none)
                run(Double.self, 128, 128, 128, .none, .transpose)
                run(Double.self, 130, 97, 140, .transpose, .transpose)
            }
        }
    }
}

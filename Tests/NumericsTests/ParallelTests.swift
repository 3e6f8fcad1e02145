import XCTest
import Synchronization
@testable import MCLNumerics

final class ParallelTests: XCTestCase {
    /// Every index runs exactly once, for several counts and thread counts (including more threads
    /// than indices), and nested calls (which run serially) also cover every index.
    func testForEachRunsEveryIndexOnce() {
        for threads in [1, 2, 3, 8] {
            for count in [0, 1, 2, 7, 100, 1000] {
                let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(count, 1))
                hits.initialize(repeating: 0)
                Parallel.forEach(count, threads: threads) { i in hits[i] += 1 }   // disjoint writes
                XCTAssert(hits.prefix(count).allSatisfy { $0 == 1 }, "count \(count) threads \(threads)")
                hits.deallocate()
            }
        }
        let nested = UnsafeMutableBufferPointer<Int>.allocate(capacity: 8 * 16)
        nested.initialize(repeating: 0)
        Parallel.forEach(8, threads: 2) { i in
            Parallel.forEach(16, threads: 2) { j in nested[i * 16 + j] += 1 }
        }
        XCTAssert(nested.allSatisfy { $0 == 1 })
        nested.deallocate()
    }

    /// Many back-to-back small regions (the hand-off path that must not lose a wake-up).
    func testManySmallRegions() {
        let total = Atomic<Int>(0)
        for _ in 0..<20_000 {
            Parallel.forEach(2, threads: 2) { _ in total.add(1, ordering: .relaxed) }
        }
        XCTAssertEqual(total.load(ordering: .relaxed), 40_000)
    }

    /// Back-to-back regions of changing width and count, each index claimed exactly once per
    /// region: a worker that arrives late for a region must neither run a closed region's indices
    /// nor miss the next one.
    func testRegionsOfChangingWidthRunEveryIndexOnce() {
        let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: 8)
        defer { hits.deallocate() }
        for round in 0..<5_000 {
            let count = 2 + round % 5, threads = 2 + round % 3
            hits.initialize(repeating: 0)
            Parallel.forEach(count, threads: threads) { i in hits[i] += 1 }
            XCTAssert(hits.prefix(count).allSatisfy { $0 == 1 } && hits[count...].allSatisfy { $0 == 0 },
                      "round \(round): count \(count) threads \(threads) hits \(Array(hits))")
        }
    }
}

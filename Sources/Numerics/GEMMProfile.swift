import Dispatch
import Synchronization

/// Opt-in accounting of the time spent inside `gemm` (for `mcl-ref bench train`'s GEMM share).
///
/// Off by default; when `enabled`, every `gemm` call adds its wall time and one call to the
/// counters. Calls made concurrently from several threads each add their own time, so the total
/// is thread-time: compare it with the wall time of a single-threaded run (`--threads 1`) for a
/// share of the run. Costs one branch per call when off.
public enum GEMMProfile {
    nonisolated(unsafe) public static var enabled = false
    @usableFromInline static let nanosecondCounter = Atomic<UInt64>(0)
    @usableFromInline static let callCounter = Atomic<Int>(0)

    /// Seconds spent in `gemm` since the last `reset()`.
    public static var seconds: Double { Double(nanosecondCounter.load(ordering: .relaxed)) * 1e-9 }
    /// Number of `gemm` calls since the last `reset()`.
    public static var calls: Int { callCounter.load(ordering: .relaxed) }

    public static func reset() {
        nanosecondCounter.store(0, ordering: .relaxed)
        callCounter.store(0, ordering: .relaxed)
    }

    @usableFromInline static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    @usableFromInline static func record(since start: UInt64) {
        nanosecondCounter.add(DispatchTime.now().uptimeNanoseconds &- start, ordering: .relaxed)
        callCounter.add(1, ordering: .relaxed)
    }
}

import Dispatch
import Foundation

/// Parallel execution for the numerics. `maxThreads` is set once at start-up (the CLI's `--threads`)
/// and read by kernels; results never depend on it (work is split so that each output element is
/// computed by exactly one worker in a fixed order).
public enum Parallel {
    /// Upper bound on worker threads used by parallel kernels. Defaults to the active core count.
    nonisolated(unsafe) public static var maxThreads: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Runs `body(i)` for every i in 0..<count on up to `threads` workers (the caller included).
    /// Each index runs exactly once; the order among indices is unspecified, so bodies must write
    /// disjoint outputs.
    public static func forEach(_ count: Int, threads: Int = Parallel.maxThreads, _ body: (Int) -> Void) {
        if count <= 0 { return }
        let workers = min(max(1, threads), count)
        if workers == 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                var i = w
                while i < count { body(i); i += workers }
            }
        }
    }
}

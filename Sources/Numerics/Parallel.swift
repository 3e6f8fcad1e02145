import Dispatch
import Foundation
import Synchronization

/// Parallel execution for the numerics. `maxThreads` is set once at start-up (the CLI's `--threads`)
/// and read by kernels; results never depend on it (work is split so that each output element is
/// computed by exactly one worker in a fixed order).
///
/// Why a private pool instead of `DispatchQueue.concurrentPerform`: on the 2-core VM this code was
/// tuned on, an idle Dispatch worker takes ~15 µs to wake, which is the whole run time of a 128³
/// GEMM. The pool's workers instead spin briefly (`WorkerPool.spinNanoseconds`) after each job
/// before parking on a semaphore, so back-to-back kernel calls (a training step) start in well under
/// a microsecond, while an idle process does not burn CPU for long.
public enum Parallel {
    /// Upper bound on worker threads used by parallel kernels. Defaults to the active core count.
    nonisolated(unsafe) public static var maxThreads: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Runs `body(i)` for every i in 0..<count on up to `threads` workers (the caller included).
    /// Each index runs exactly once; the order among indices is unspecified, so bodies must write
    /// disjoint outputs. Worker w (0-based, the caller is worker 0) runs i = w, w + W, w + 2W, …
    ///
    /// Safe to call from inside a parallel region (or from several threads at once): the pool runs
    /// one region at a time, and a call that finds it busy runs its indices serially on the calling
    /// thread — never a deadlock, and still every index exactly once.
    public static func forEach(_ count: Int, threads: Int = Parallel.maxThreads, _ body: (Int) -> Void) {
        if count <= 0 { return }
        let workers = min(max(1, threads), count, WorkerPool.maxWidth)
        if workers > 1 {
            let ran = WorkerPool.shared.run(width: workers) { w in
                var i = w
                while i < count { body(i); i &+= workers }
            }
            if ran { return }
        }
        for i in 0..<count { body(i) }
    }
}

/// A shared counter from which the workers of one parallel region claim work items 0, 1, 2, … in
/// turn (dynamic scheduling). Use it only where the result of an item does not depend on which
/// worker computes it.
public final class WorkCounter: @unchecked Sendable {
    private let next = Atomic<Int>(0)
    public init() {}
    /// The next unclaimed item (relaxed: the region's join publishes the results).
    @inline(__always) public func claim() -> Int { next.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// A fixed set of worker threads that execute one *job* at a time: `run(width: W, body)` calls
/// `body(0)` on the calling thread and `body(1)`, …, `body(W-1)` on workers 0…W-2, and returns when
/// all have finished.
///
/// Protocol (all shared state is atomic or published through an atomic):
/// - `ticket` packs (generation << 16 | width). The submitter stores the job closure in `job`, then
///   publishes a new ticket (sequentially consistent, hence also a release). A worker that loads a
///   ticket it has not seen (acquire) and whose index is below the width runs the job and then
///   decrements `pending` (release); the submitter spins until `pending` is 0 (acquire) before it
///   clears `job`, so `job` is never written while a worker may read it.
/// - Parking: an idle worker spins on `ticket` for `spinNanoseconds`, then sets its `state` to
///   *parked* and re-checks the ticket. The submitter, after publishing, swaps each needed
///   worker's state to *awake* and signals its semaphore only if it was parked. Sequential
///   consistency guarantees that either the worker sees the new ticket or the submitter sees the
///   parked state, so no wake-up is lost; a worker that un-parks itself by compare-exchange never
///   gets a stray signal, and one that loses the exchange consumes the signal that is coming.
/// - `busy` makes the pool single-entry: `run` returns false instead of blocking when a job is
///   already running (a nested call from inside a job, or a concurrent caller), and the caller then
///   runs the work serially.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()
    /// Widths are packed into 16 bits of the ticket.
    static let maxWidth = 1 << 15
    /// How long an idle worker spins before parking. Long enough to bridge the gaps between the
    /// GEMMs of one training step, short enough not to steal a shared machine's core for long.
    static let spinNanoseconds: UInt64 = 200_000

    private final class Worker: @unchecked Sendable {
        let index: Int                   // runs body(index + 1)
        let state = Atomic<Int>(0)       // 0 awake, 1 parked
        let wake = DispatchSemaphore(value: 0)
        init(index: Int) { self.index = index }
    }

    private let busy = Atomic<Bool>(false)
    private let ticket = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    /// The current job; written only by the `busy` owner while no worker can be reading it.
    private var job: ((Int) -> Void)?
    /// Mutated only by the `busy` owner.
    private var workers: [Worker] = []

    /// Runs `body(w)` for w in 0..<width, one call per thread. Returns false (running nothing) if
    /// the pool is already busy.
    func run(width: Int, _ body: (Int) -> Void) -> Bool {
        precondition(width >= 1 && width <= WorkerPool.maxWidth)
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return false
        }
        while workers.count < width - 1 { spawn() }
        withoutActuallyEscaping(body) { body in
            job = body
            pending.store(width - 1, ordering: .relaxed)
            let generation = (ticket.load(ordering: .relaxed) >> 16) &+ 1
            ticket.store((generation << 16) | width, ordering: .sequentiallyConsistent)
            for w in workers.prefix(width - 1) where w.state.exchange(0, ordering: .sequentiallyConsistent) == 1 {
                w.wake.signal()
            }
            body(0)
            var spins = 0
            while pending.load(ordering: .acquiring) != 0 {
                spins &+= 1
                if spins & 1023 == 0 { sched_yield() }  // a worker was descheduled: let it run
            }
            job = nil
        }
        busy.store(false, ordering: .releasing)
        return true
    }

    private func spawn() {
        let worker = Worker(index: workers.count)
        workers.append(worker)
        // The ticket current at spawn time (the next job is not published yet: we own `busy`). A
        // worker that read the ticket only once running could miss the job published meanwhile.
        let initial = ticket.load(ordering: .relaxed)
        let thread = Thread { [unowned self] in self.workerLoop(worker, seen: initial) }
        thread.name = "mcl-worker-\(worker.index + 1)"
        thread.start()
    }

    /// Calls the job for one worker in a frame of its own, so that every retain of the closure is
    /// released before the worker reports completion (`withoutActuallyEscaping` checks this).
    @inline(never)
    private func runJob(_ index: Int) {
        job.unsafelyUnwrapped(index)
    }

    private func workerLoop(_ worker: Worker, seen initial: Int) -> Never {
        var seen = initial
        while true {
            var current = ticket.load(ordering: .acquiring)
            if current == seen {
                let start = DispatchTime.now().uptimeNanoseconds
                var spins = 0
                while current == seen {
                    spins &+= 1
                    if spins & 255 == 0,
                       DispatchTime.now().uptimeNanoseconds &- start > WorkerPool.spinNanoseconds {
                        park(worker, seen: seen)
                        spins = 0
                    }
                    current = ticket.load(ordering: .acquiring)
                }
            }
            seen = current
            if worker.index + 1 < current & 0xFFFF {
                runJob(worker.index + 1)
                pending.subtract(1, ordering: .releasing)
            }
        }
    }

    /// Parks until a submitter wakes this worker, unless a ticket newer than `seen` already exists.
    private func park(_ worker: Worker, seen: Int) {
        worker.state.store(1, ordering: .sequentiallyConsistent)
        if ticket.load(ordering: .sequentiallyConsistent) != seen,
           worker.state.compareExchange(expected: 1, desired: 0, ordering: .sequentiallyConsistent).exchanged {
            return
        }
        worker.wake.wait()
    }
}

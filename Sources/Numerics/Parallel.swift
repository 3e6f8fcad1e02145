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
///
/// The caller never waits for a worker that has not started: indices are claimed from a shared
/// counter, the caller claims too, and once every index is claimed the job is closed to
/// late-comers. A worker that is parked, slow to wake, or descheduled (another process on its
/// core, or the OS placing it on the caller's core) therefore costs nothing but its share of the
/// speed-up; before this, the caller spun until every worker had run its fixed share, and a 2-thread
/// 128³ GEMM could take 10× its 1-thread time.
public enum Parallel {
    /// Upper bound on worker threads used by parallel kernels. Defaults to the active core count.
    nonisolated(unsafe) public static var maxThreads: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Runs `body(i)` for every i in 0..<count on up to `threads` threads (the caller included).
    /// Each index runs exactly once, on whichever participating thread claims it first; the order
    /// among indices and the thread that runs an index are unspecified, so bodies must write
    /// disjoint outputs and their results must not depend on the thread.
    ///
    /// Safe to call from inside a parallel region (or from several threads at once): the pool runs
    /// one region at a time, and a call that finds it busy runs its indices serially on the calling
    /// thread — never a deadlock, and still every index exactly once.
    public static func forEach(_ count: Int, threads: Int = Parallel.maxThreads, _ body: (Int) -> Void) {
        if count <= 0 { return }
        let workers = min(max(1, threads), count, WorkerPool.maxWidth)
        if workers > 1, WorkerPool.shared.run(width: workers, count: count, body) { return }
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

/// A fixed set of worker threads that execute one *job* at a time: `run(width: W, count: n, body)`
/// calls `body(i)` for every i in 0..<n on the calling thread and up to W-1 workers, and returns
/// when all n calls have finished.
///
/// Protocol (all shared state is atomic or published through an atomic):
/// - The submitter stores the job closure and its index count, resets `next` (the index counter)
///   and opens `gate` for the new generation, then publishes `ticket` = (generation << 16 | width)
///   (sequentially consistent, hence also a release).
/// - A worker that loads a ticket it has not seen (acquire) and whose index is below the width
///   tries to *enter*: a compare-exchange on `gate` that succeeds only if the gate is open and of
///   the ticket's generation, and counts the worker in. An entered worker claims indices from `next`
///   until they run out, then counts itself out (release).
/// - The submitter claims indices the same way; when they run out it *closes* the gate (no worker
///   can enter any more) and spins until the entered workers have counted out (acquire), then clears
///   the job. So the job closure is never cleared while a worker may call it, and the submitter
///   waits only for workers that are running claimed indices — never for one still asleep.
/// - Parking: an idle worker spins on `ticket` for `spinNanoseconds`, then sets its `state` to
///   *parked* and re-checks the ticket. The submitter, after publishing, swaps each needed
///   worker's state to *awake* and signals its semaphore only if it was parked. Sequential
///   consistency guarantees that either the worker sees the new ticket or the submitter sees the
///   parked state, so no wake-up is lost; a worker that un-parks itself by compare-exchange never
///   gets a stray signal, and one that loses the exchange consumes the signal that is coming. A
///   worker woken for a job that is already closed just goes back to spinning.
/// - Spinning threads call `sched_yield` every few hundred iterations, so that a thread the OS has
///   put on the same core (the submitter, or a worker holding claimed indices) gets to run.
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

    /// `gate` layout: generation (low 40 bits) << 20 | closed << 19 | workers inside (19 bits).
    private static let closedBit = 1 << 19
    private static let insideMask = (1 << 19) - 1
    private static let generationMask = (1 << 40) - 1

    private final class Worker: @unchecked Sendable {
        let index: Int                   // the worker's position; it joins jobs of width > index + 1
        let state = Atomic<Int>(0)       // 0 awake, 1 parked
        let wake = DispatchSemaphore(value: 0)
        init(index: Int) { self.index = index }
    }

    private let busy = Atomic<Bool>(false)
    private let ticket = Atomic<Int>(0)
    private let gate = Atomic<Int>(0)
    private let next = Atomic<Int>(0)
    /// The current job and its index count; written only by the `busy` owner while no worker can
    /// be inside the gate.
    private var job: ((Int) -> Void)?
    private var jobCount = 0
    /// Mutated only by the `busy` owner.
    private var workers: [Worker] = []

    /// Runs `body(i)` for i in 0..<count on the caller and up to width-1 workers. Returns false
    /// (running nothing) if the pool is already busy.
    func run(width: Int, count: Int, _ body: (Int) -> Void) -> Bool {
        precondition(width >= 1 && width <= WorkerPool.maxWidth)
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return false
        }
        while workers.count < width - 1 { spawn() }
        withoutActuallyEscaping(body) { body in
            job = body
            jobCount = count
            next.store(0, ordering: .relaxed)
            let generation = ((ticket.load(ordering: .relaxed) >> 16) &+ 1) & WorkerPool.generationMask
            gate.store(generation << 20, ordering: .relaxed)
            ticket.store((generation << 16) | width, ordering: .sequentiallyConsistent)
            for w in workers.prefix(width - 1) where w.state.exchange(0, ordering: .sequentiallyConsistent) == 1 {
                w.wake.signal()
            }
            while case let i = next.wrappingAdd(1, ordering: .relaxed).oldValue, i < count { body(i) }
            // Close the gate: from here no worker enters; wait for those inside to finish.
            var inside = gate.bitwiseOr(WorkerPool.closedBit, ordering: .acquiringAndReleasing).newValue
            var spins = 0
            while inside & WorkerPool.insideMask != 0 {
                spins &+= 1
                if spins & 255 == 0 { sched_yield() }  // a worker was descheduled: let it run
                inside = gate.load(ordering: .acquiring)
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

    /// Claims and runs indices of the current job in a frame of its own, so that every retain of
    /// the closure is released before the worker counts itself out (`withoutActuallyEscaping`
    /// checks this).
    @inline(never)
    private func runClaimed() {
        let body = job.unsafelyUnwrapped
        let count = jobCount
        while case let i = next.wrappingAdd(1, ordering: .relaxed).oldValue, i < count { body(i) }
    }

    /// Counts the worker into the job of `generation` if its gate is still open.
    private func enter(generation: Int) -> Bool {
        var state = gate.load(ordering: .relaxed)
        while state >> 20 == generation && state & WorkerPool.closedBit == 0 {
            let (exchanged, original) = gate.compareExchange(expected: state, desired: state &+ 1,
                                                             ordering: .acquiring)
            if exchanged { return true }
            state = original
        }
        return false
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
                    if spins & 255 == 0 {
                        if DispatchTime.now().uptimeNanoseconds &- start > WorkerPool.spinNanoseconds {
                            park(worker, seen: seen)
                            spins = 0
                        } else if spins & 1023 == 0 {
                            sched_yield()  // let a thread sharing this core (the submitter) run
                        }
                    }
                    current = ticket.load(ordering: .acquiring)
                }
            }
            seen = current
            if worker.index + 1 < current & 0xFFFF, enter(generation: current >> 16) {
                runClaimed()
                gate.subtract(1, ordering: .releasing)
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

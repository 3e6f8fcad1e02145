/// How many threads the training step's own GEMM calls (Linear, InfoNCE) ask for.
///
/// A product of F flops takes about F / 100 GFLOPS on one core: 2 MFLOP (the largest product of the
/// `bench mlp` step at B = 128) is ~20 µs, the same order as waking a second worker and joining it —
/// and on a loaded machine a woken worker may not run for much longer. So the step splits a GEMM
/// over `Parallel.maxThreads` only from 8 MFLOP (4 MFLOP per worker on 2 cores) and runs smaller
/// ones on the calling thread. Results do not depend on this: the GEMM gives the same bits for any
/// thread count (GEMM+Fast.swift), and FastKernelTests checks the whole step for 1, 2 and 3 threads.
@usableFromInline let stepGEMMMinimumParallelFlops = 1 << 23

/// Threads for an M×N×K product inside the step: `Parallel.maxThreads` for large products, else 1.
@inlinable func stepGEMMThreads(m: Int, n: Int, k: Int) -> Int {
    2 &* m &* n &* k >= stepGEMMMinimumParallelFlops ? Parallel.maxThreads : 1
}

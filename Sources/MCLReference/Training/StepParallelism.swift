/// How many threads the training step's own GEMM calls (Linear, InfoNCE) ask for.
///
/// A product of F flops takes about F / 100 GFLOPS on one core: 2 MFLOP (the largest product of the
/// `bench mlp` step at B = 128) is ~20 µs, the same order as waking a second worker and joining it —
/// and on a loaded machine a woken worker may not run for much longer (measured on the shared 2-core
/// VM: with the GEMMs split from 8 MFLOP, B = 256 took 4.0 ms/step on 2 threads against 1.9 on one).
/// So the step splits a GEMM over `Parallel.maxThreads` only from 32 MFLOP (16 per worker on 2 cores;
/// at B = 1024 that is the three 2B×2B×E products of the loss) and runs smaller ones on the calling
/// thread. Results do not depend on this: the GEMM gives the same bits for any thread count
/// (GEMM+Fast.swift), and FastKernelTests checks the whole step for 1, 2 and 3 threads.
@usableFromInline let stepGEMMMinimumParallelFlops = 1 << 25

/// Threads for an M×N×K product inside the step: `Parallel.maxThreads` for large products, else 1.
@inlinable func stepGEMMThreads(m: Int, n: Int, k: Int) -> Int {
    2 &* m &* n &* k >= stepGEMMMinimumParallelFlops ? Parallel.maxThreads : 1
}

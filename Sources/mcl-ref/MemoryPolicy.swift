#if canImport(Glibc)
import Glibc
#endif

/// How the process's allocator treats the large blocks of a training step.
///
/// A step allocates its activations and gradients anew (a CNN step at B = 256: about forty blocks
/// of 1–8 MB). glibc's malloc returns blocks above its mmap threshold, and free memory above its
/// trim threshold at the top of the heap, to the kernel on `free`, so the next step faults the
/// same pages in again — measured with `perf` at about 15% of a `bench train` step (page faults,
/// page clearing, unmapping), and worse with 2 threads, which share one address space. Keeping
/// freed blocks up to 32 MB (glibc's largest mmap threshold) in the heap, and not trimming it,
/// makes `bench train` 1.1× (1 thread) and 1.35× (2 threads) faster on the 2-core EPYC VM; the
/// numbers computed do not change. Elsewhere (other C libraries) this does nothing.
/// (`mallopt` is looked up at run time: glibc's malloc.h is not part of Swift's Glibc module.)
func keepFreedMemoryForReuse() {
    #if canImport(Glibc)
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    let mTrimThreshold: Int32 = -1, mMmapThreshold: Int32 = -3  // <malloc.h>
    guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "mallopt") else { return }
    let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
    _ = mallopt(mMmapThreshold, 32 << 20)
    _ = mallopt(mTrimThreshold, 1 << 30)
    #endif
}

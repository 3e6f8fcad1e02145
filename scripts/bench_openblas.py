#!/usr/bin/env python3
"""Median GFLOPS of numpy's OpenBLAS sgemm on the shapes `mcl-ref bench matmul` measures.

Shapes are C = M×N with inner dimension K (A M×K, B K×N, float32), as in mcl-ref:
`--shape 256x128x512` is 256×512 · 512×128. Timing method identical to mcl-ref: one warm-up call
that also calibrates a batch size so that each sample lasts >= 2 ms, then the median over
`--repeats` samples of the per-call time; GFLOPS = 2·M·N·K / time.

The thread count must be fixed before numpy is imported (OpenBLAS reads OPENBLAS_NUM_THREADS at
load time), so argument parsing happens first.

    python3 scripts/bench_openblas.py --sizes 128,256 --shape 256x128x512 --threads 2 --json
"""
import argparse
import json
import os
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="256,512,1024", help="square sizes M=N=K, comma-separated ('' for none)")
    p.add_argument("--shape", action="append", default=[], help="extra MxNxK shape (repeatable)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=11)
    p.add_argument("--json", action="store_true", help="print exactly one JSON object")
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                   help="wall clock, or process CPU time (for --threads 1 on a loaded machine; as mcl-ref)")
    args = p.parse_args()

    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import numpy as np  # noqa: E402  (after the thread count is set)

    shapes = [(s, s, s) for s in (int(x) for x in args.sizes.split(",") if x.strip())]
    for s in args.shape:
        m, n, k = (int(x) for x in s.lower().split("x"))
        shapes.append((m, n, k))

    clock = time.perf_counter if args.clock == "wall" else time.process_time
    rng = np.random.default_rng(0)
    rows = []
    for m, n, k in shapes:
        a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
        b = rng.uniform(-1, 1, (k, n)).astype(np.float32)
        c = np.empty((m, n), dtype=np.float32)
        t0 = clock()
        np.matmul(a, b, out=c)
        first = max(clock() - t0, 1e-9)
        batch = max(1, int(0.002 / first))
        times = []
        for _ in range(args.repeats):
            t0 = clock()
            for _ in range(batch):
                np.matmul(a, b, out=c)
            times.append((clock() - t0) / batch)
        times.sort()
        t = times[len(times) // 2]
        gflops = round(2.0 * m * n * k / t * 1e-9, 1)
        rows.append({"kernel": "openblas", "m": m, "n": n, "k": k, "threads": args.threads, "gflops": gflops})
        if not args.json:
            print(f"openblas {m:5d} {n:5d} {k:5d}  {args.threads:7d}  {gflops:7.1f}")
    if args.json:
        print(json.dumps({"matmul": rows}))


if __name__ == "__main__":
    sys.exit(main())

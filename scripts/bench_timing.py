"""The command line and the timing rule every peer benchmark in scripts/ shares with `mcl-ref bench` (BenchCommand.swift).

One warm-up call (the caller makes its own first call before, e.g. to read the step-0 loss), which
also calibrates how many calls make one sample last at least 2 ms; then `repeats` samples; the
result is the median time per call, in seconds.
"""
import argparse
import time


def median_seconds_per_call(call, repeats: int, min_sample_seconds: float = 0.002) -> float:
    start = time.perf_counter()
    call()
    batch = max(1, int(min_sample_seconds / max(time.perf_counter() - start, 1e-9)))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(batch):
            call()
        times.append((time.perf_counter() - start) / batch)
    return sorted(times)[len(times) // 2]


def parse_step_arguments(doc: str) -> argparse.Namespace:
    """The options of a `bench mlp` peer: the step's shapes (defaults = `mcl-ref bench mlp`'s), threads,
    repeats, `--init DIR` (weights and views exported by `bench mlp --export`) and `--json`."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in [("batch-size", 256), ("input-width", 32), ("hidden", 128), ("rep-width", 16),
                          ("head-hidden", 64), ("embedding", 32), ("threads", 1), ("repeats", 11)]:
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--init", help="directory of .npy files from `mcl-ref bench mlp --export`")
    p.add_argument("--json", action="store_true")
    return p.parse_args()

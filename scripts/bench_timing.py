"""The timing rule every peer benchmark in scripts/ shares with `mcl-ref bench` (BenchCommand.swift).

One warm-up call (the caller makes its own first call before, e.g. to read the step-0 loss), which
also calibrates how many calls make one sample last at least 2 ms; then `repeats` samples; the
result is the median time per call, in seconds.
"""
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

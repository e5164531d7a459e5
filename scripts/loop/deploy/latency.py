"""Time PyTorch and the deployed model on the same inputs: median and p90 per runtime."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

WARM_UP = 2  # untimed runs before timing each input


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds of ``repeat`` calls of ``fn``, after ``WARM_UP`` untimed ones."""
    for _ in range(WARM_UP):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def stats(times: list[float]) -> dict:
    ordered = sorted(times)
    return dict(median_ms=round(statistics.median(ordered), 3), p90_ms=round(ordered[int(0.9 * (len(ordered) - 1))], 3))


def measure(pair, samples: list[str], repeat: int) -> dict:
    """Raw forward latency of ``pair`` (a ``scripts.loop.deploy.parity.Pair``) on each sample: the original PyTorch
    model (eager, no rewrites) and the deployed model, with the median speed-up of the deployed one."""
    torch_times, deployed_times = [], []
    for sample in samples:
        data, args = pair.inputs(sample)
        torch_times += timed(lambda data=data: pair.run_eager(data), repeat)
        deployed_times += timed(lambda args=args: pair.run_deployed(args), repeat)
    latency = {"pytorch": stats(torch_times), pair.backend: stats(deployed_times)}
    latency["speedup_median"] = round(latency["pytorch"]["median_ms"] / latency[pair.backend]["median_ms"], 3)
    return latency

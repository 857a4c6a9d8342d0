"""Thread pools of the in-process benchmarks, set as the service processes run them."""

from __future__ import annotations

import torch
from threadpoolctl import threadpool_limits


def threads_as_in_the_services() -> None:
    """One thread for torch and one for BLAS, as every service process runs (the stack sets
    OMP_NUM_THREADS=1; the nlp service sets torch's threads). With two threads each on two cores,
    the pools stall each other: bench.assistant measured the model's p95 at 110 ms with them and
    15 ms with one thread (2026-12-04)."""
    torch.set_num_threads(1)
    threadpool_limits(1)

"""Per-process CPU time and resident memory from /proc (Linux), for the stack's processes."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    # After the command name: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / _TICKS


def rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_snapshot(pids: Mapping[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def cpu_share(
    before: Mapping[str, float], after: Mapping[str, float], seconds: float
) -> dict[str, float]:
    """Cores used per process between two snapshots (1.0 = one core busy all the time)."""
    return {name: round((after[name] - before[name]) / seconds, 3) for name in before}


class MemorySampler:
    """Samples every process's RSS every `interval` seconds on a background thread."""

    def __init__(self, pids: Mapping[str, int], interval: float = 10.0) -> None:
        self._pids = dict(pids)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._started = time.monotonic()

    def _sample(self) -> None:
        sample = {name: rss_mib(pid) for name, pid in self._pids.items()}
        self.samples.append((time.monotonic() - self._started, sample))

    def _run(self) -> None:
        while True:
            self._sample()
            if self._stop.wait(self._interval):
                return

    def __enter__(self) -> MemorySampler:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def first_vs_last(self, window: float) -> dict[str, tuple[float, float]]:
        """Mean RSS (MiB) per process over the first and the last `window` seconds."""
        if not self.samples:
            return {}
        end = self.samples[-1][0]
        first = [s for t, s in self.samples if t <= window] or [self.samples[0][1]]
        last = [s for t, s in self.samples if t >= end - window] or [self.samples[-1][1]]

        def mean(group: list[dict[str, float]], name: str) -> float:
            return sum(s[name] for s in group) / len(group)

        return {name: (mean(first, name), mean(last, name)) for name in self._pids}

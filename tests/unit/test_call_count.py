"""bench/load's call counter (traced_process) and the call_count report built from its counts."""

from __future__ import annotations

import json
import pathlib
import sys

from bench.load.call_count import per_request, report
from bench.load.traced_process import CallCounter


def _twice(values: list[int]) -> int:
    return len(values) * 2


def test_counts_python_functions_and_builtins_only_while_on(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "calls.json"
    counter = CallCounter(out)
    _twice([1])  # before start: not counted
    counter.start()
    try:
        for _ in range(3):
            _twice([1, 2])
    finally:
        counter.stop()
    _twice([1])  # after stop: not counted
    assert sys.getprofile() is None
    calls = json.loads(out.read_text(encoding="utf-8"))
    ours = [name for name in calls if name.endswith(":_twice")]
    assert ours == [f"tests/unit/test_call_count.py:{_twice.__code__.co_firstlineno}:_twice"]
    assert calls[ours[0]] == 3
    assert calls["C:len"] == 3


def test_start_again_forgets_the_last_span(tmp_path: pathlib.Path) -> None:
    counter = CallCounter(tmp_path / "calls.json")
    counter.start()
    _twice([])
    counter.stop()
    counter.start()
    counter.stop()
    calls = json.loads((tmp_path / "calls.json").read_text(encoding="utf-8"))
    assert not any(name.endswith(":_twice") for name in calls)


def test_report_totals_and_largest_differences_first() -> None:
    project = per_request(
        {"services/common/logs.py:35:format": 10, "C:len": 40, "asyncio:1:_run": 20}, 10
    )
    bare = per_request({"C:len": 30, "asyncio:1:_run": 20}, 10)
    lines = report(project, bare, top=5)
    assert lines[0].startswith("Python-level calls per GET /insights/{id}: insight process 7, ")
    assert "bare service 5 (difference +2); in services/ code itself 1" in lines[0]
    # Equal counts are left out; larger differences first, then by name.
    assert lines[2:] == ["    +1.00  C:len", "    +1.00  services/common/logs.py:35:format"]

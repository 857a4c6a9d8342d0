"""bench.load's summary of fixed-rate runs: one median p99 per rate and side."""

from __future__ import annotations

import pytest

from bench.load.__main__ import print_rate_p99s


def _run(p99: float) -> dict[str, object]:
    return {"total": {"p99_ms": p99}}


def test_each_rate_gets_the_median_p99_of_each_side(capsys: pytest.CaptureFixture[str]) -> None:
    at_rate = [
        {
            "rate": 800.0,
            "pairs": [
                {"reads": _run(17.4), "bare": _run(7.4)},
                {"reads": _run(52.1), "bare": _run(9.0)},
                {"reads": _run(15.2), "bare": _run(6.8)},
            ],
        },
        {"rate": 1200.0, "pairs": [{"reads": _run(436.2), "bare": _run(25.1)}]},
    ]
    print_rate_p99s(at_rate)
    assert [entry["p99"] for entry in at_rate] == [
        {"reads": 17.4, "bare": 7.4},
        {"reads": 436.2, "bare": 25.1},
    ]
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "p99 at 800 req/s, project: median 17.4 ms (17.4, 52.1, 15.2)"
    assert out[3] == "p99 at 1200 req/s, bare: median 25.1 ms (25.1)"

"""Benchmarks' scratch folders: removed when the run ends, kept (and named) on request."""

from __future__ import annotations

import pathlib
import shutil

import pytest

from bench.common import scratch_dir


def test_the_scratch_folder_goes_when_the_run_ends_even_a_failed_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("INSIGHT_BENCH_KEEP", raising=False)
    seen: list[pathlib.Path] = []
    with pytest.raises(RuntimeError), scratch_dir("insight-bench-test-") as path:
        seen.append(path)
        (path / "logs").mkdir()
        (path / "logs" / "insight.log").write_text("a line\n")
        raise RuntimeError("the run failed")
    assert seen and not seen[0].exists()


def test_insight_bench_keep_keeps_it_and_prints_where(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INSIGHT_BENCH_KEEP", "1")
    with scratch_dir("insight-bench-test-") as path:
        (path / "store.sqlite3").write_text("")
    try:
        assert (path / "store.sqlite3").exists()
        assert str(path) in capsys.readouterr().err
    finally:
        shutil.rmtree(path)

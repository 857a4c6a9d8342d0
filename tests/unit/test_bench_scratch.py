"""Benchmarks' scratch folders: removed when the run ends (a failed start too), kept (and named)
on request."""

from __future__ import annotations

import pathlib
import shutil
import tempfile

import pytest

from bench.common import scratch_dir
from bench.load.baseline import BareGateway
from gateway.stack import StackConfig


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


def test_the_bare_baseline_makes_its_folder_in_the_with_block_and_removes_it_on_failure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    monkeypatch.delenv("INSIGHT_BENCH_KEEP", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    bare = BareGateway(2)
    assert list(tmp_path.iterdir()) == []  # nothing made before `with`

    def no_config(*_: object) -> StackConfig:
        raise RuntimeError("no free ports")

    monkeypatch.setattr(StackConfig, "on_free_ports", no_config)
    with pytest.raises(RuntimeError, match="no free ports"), bare:
        pass
    assert list(tmp_path.iterdir()) == []

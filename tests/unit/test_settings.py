"""Settings.from_env: a malformed setting stops the process with a message naming it."""

from __future__ import annotations

import pytest

from services.common.config import DEFAULT_SEARCH_MIN_SIMILARITY, Settings


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSIGHT_JWT_SECRET", "x" * 32)


def test_the_search_similarity_defaults_and_can_be_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INSIGHT_SEARCH_MIN_SIMILARITY", raising=False)
    assert Settings.from_env().search_min_similarity == DEFAULT_SEARCH_MIN_SIMILARITY
    monkeypatch.setenv("INSIGHT_SEARCH_MIN_SIMILARITY", "0.45")
    assert Settings.from_env().search_min_similarity == 0.45


@pytest.mark.parametrize("raw", ["high", "1.5", "-0.1", "nan"])
def test_a_similarity_outside_zero_to_one_is_refused(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("INSIGHT_SEARCH_MIN_SIMILARITY", raw)
    with pytest.raises(SystemExit, match="INSIGHT_SEARCH_MIN_SIMILARITY"):
        Settings.from_env()


def test_a_port_that_is_not_a_number_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSIGHT_INSIGHT_PORT", "fifty")
    with pytest.raises(SystemExit, match="INSIGHT_INSIGHT_PORT"):
        Settings.from_env()

"""GET /insights?query= through Envoy on the whole stack: an insight is found by its words at
once, and by its meaning once the pipeline has enriched it (the query embedded by nlp, compared
with the person's vectors in the graph service). Only ever the caller's own insights."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import bearer, register_and_login
from tests.e2e.test_pipeline_rest import wait_for

pytestmark = [pytest.mark.envoy, pytest.mark.redis]

BREAD = "Sourdough bread needs a long cold proof overnight"
TRIP = "Pack sunscreen and hiking boots for the trip"
SERVER = "Server latency spikes every night at midnight"


def search(rest: httpx.Client, token: str, **params: Any) -> list[str]:
    reply = rest.get("/insights", params=params, headers=bearer(token))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["totalSize"] == len(body["insights"]) or body["nextPageToken"], body
    return [insight["text"] for insight in body["insights"]]


@pytest.fixture()
def notes(rest: httpx.Client, person: dict[str, str]) -> dict[str, str]:
    token = person["access"]
    ids = {}
    for text, tags in [(BREAD, ["food"]), (TRIP, ["holiday"]), (SERVER, ["work"])]:
        reply = rest.post("/insights", json={"text": text, "tags": tags}, headers=bearer(token))
        assert reply.status_code == 200, reply.text
        ids[text] = reply.json()["insight"]["id"]
    for insight_id in ids.values():
        assert wait_for(rest, token, insight_id, {"READY", "FAILED"})["status"] == "READY"
    return ids


def test_a_query_finds_insights_close_in_meaning_without_their_words(
    rest: httpx.Client, person: dict[str, str], notes: dict[str, str]
) -> None:
    token = person["access"]
    # Cosine with all-MiniLM-L6-v2: "bread baking" ~0.46 with BREAD, under 0.2 with the others.
    assert search(rest, token, query="bread baking") == [BREAD]
    assert search(rest, token, query="travel plans") == [TRIP]


def test_words_and_meaning_together_newest_first_with_the_other_filters(
    rest: httpx.Client, person: dict[str, str], notes: dict[str, str]
) -> None:
    token = person["access"]
    assert search(rest, token, query="midnight") == [SERVER]  # its word
    assert search(rest, token, query="bread baking", tag="food") == [BREAD]
    assert search(rest, token, query="bread baking", tag="holiday") == []
    first = rest.get(
        "/insights", params={"query": "bread baking", "pageSize": 1}, headers=bearer(token)
    ).json()
    assert first["totalSize"] == 1 and first["nextPageToken"] == ""


def test_words_find_an_insight_before_it_is_enriched(
    rest: httpx.Client, person: dict[str, str]
) -> None:
    token = person["access"]
    created = rest.post(
        "/insights", json={"text": "Quarterly zebra migration report"}, headers=bearer(token)
    )
    assert created.status_code == 200, created.text
    assert search(rest, token, query="ZEBRA migration") == ["Quarterly zebra migration report"]


def test_another_persons_insights_are_never_found_by_meaning(
    rest: httpx.Client, person: dict[str, str], notes: dict[str, str]
) -> None:
    stranger = register_and_login(rest)
    assert search(rest, stranger["access"], query="bread baking") == []
    assert search(rest, stranger["access"], query="Sourdough bread") == []

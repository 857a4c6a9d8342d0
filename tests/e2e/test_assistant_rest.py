"""The assistant through Envoy: suggestions, feedback, training that changes themes, statistics."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.conftest import bearer, register_and_login
from tests.e2e.test_pipeline_rest import SETTLE_SECONDS, wait_for

pytestmark = [pytest.mark.envoy, pytest.mark.redis]

RUST = [
    "Rust's borrow checker prevents data races between threads",
    "Ownership and lifetimes in Rust make concurrent code safe",
    "Tokio runs async Rust tasks on a multi-threaded runtime",
    "Rust channels let threads pass messages without shared state",
]
GARDEN = [
    "Tomatoes need full sun and deep watering in summer",
    "Compost improves clay soil in the vegetable garden",
    "Prune the roses in late winter before new growth",
    "Mulch keeps weeds down and the soil moist",
]


def _create_ready(rest: httpx.Client, token: str, texts: list[str]) -> list[dict[str, Any]]:
    ids = [
        rest.post("/insights", json={"text": t}, headers=bearer(token)).json()["insight"]["id"]
        for t in texts
    ]
    return [wait_for(rest, token, i, {"READY", "FAILED"}) for i in ids]


def test_context_suggests_the_persons_related_insights_first(
    rest: httpx.Client, person: dict[str, str]
) -> None:
    token = person["access"]
    rust = {i["id"] for i in _create_ready(rest, token, RUST)}
    _create_ready(rest, token, GARDEN)
    reply = rest.get(
        "/suggestions",
        params={"context": "How do I share data between threads safely in Rust?", "limit": 5},
        headers=bearer(token),
    )
    assert reply.status_code == 200, reply.text
    suggestions = reply.json()["suggestions"]
    related = [s for s in suggestions if s["kind"] in {"RELATED", "RESURFACE"}]
    assert related, suggestions
    assert related[0]["insightId"] in rust
    assert all(s["reason"] for s in suggestions)
    assert all(0 <= s["score"] <= 1 for s in suggestions)

    rejected = related[0]
    # Without `accepted` (proto3 would read false) nothing is recorded: the suggestion stays.
    unsaid = rest.post(
        "/suggestions/feedback",
        json={"suggestion": rejected["id"], "insightId": rejected["insightId"]},
        headers=bearer(token),
    )
    assert unsaid.status_code == 400, unsaid.text
    assert unsaid.json()["message"] == "invalid request: accepted: is required"
    still = rest.get(
        "/suggestions",
        params={"context": "How do I share data between threads safely in Rust?", "limit": 5},
        headers=bearer(token),
    ).json()["suggestions"]
    assert rejected["id"] in {s["id"] for s in still}

    feedback = rest.post(
        "/suggestions/feedback",
        json={"suggestion": rejected["id"], "insightId": rejected["insightId"], "accepted": False},
        headers=bearer(token),
    )
    assert feedback.status_code == 200, feedback.text
    again = rest.get(
        "/suggestions",
        params={"context": "How do I share data between threads safely in Rust?", "limit": 5},
        headers=bearer(token),
    ).json()["suggestions"]
    assert rejected["id"] not in {s["id"] for s in again}


def test_suggestions_need_a_context_or_an_insight(
    rest: httpx.Client, person: dict[str, str]
) -> None:
    reply = rest.get("/suggestions", headers=bearer(person["access"]))
    assert reply.status_code == 400
    too_many = rest.get(
        "/suggestions", params={"context": "x", "limit": 51}, headers=bearer(person["access"])
    )
    assert too_many.status_code == 400


def test_training_on_corrected_themes_changes_new_insights(
    rest: httpx.Client, person: dict[str, str]
) -> None:
    token = person["access"]
    for theme, texts in (("Rust", RUST), ("Gardening", GARDEN)):
        for insight in _create_ready(rest, token, texts):
            corrected = rest.put(
                f"/insights/{insight['id']}", json={"theme": theme}, headers=bearer(token)
            )
            assert corrected.status_code == 200
    started = rest.post("/train", json={}, headers=bearer(token))
    assert started.status_code == 200, started.text
    job = started.json()["job"]
    assert job["status"] in {"QUEUED", "RUNNING", "SUCCEEDED"}
    deadline = time.monotonic() + SETTLE_SECONDS
    while job["status"] in {"QUEUED", "RUNNING"} and time.monotonic() < deadline:
        time.sleep(0.2)
        job = rest.get(f"/train/{job['id']}", headers=bearer(token)).json()["job"]
    assert job["status"] == "SUCCEEDED", job
    assert job["examplesUsed"] == len(RUST) + len(GARDEN)
    assert job["promoted"] is True
    assert job["modelVersion"] >= 1
    assert 0 < job["linkThreshold"] < 1

    fresh = _create_ready(rest, token, ["Rust's Arc and Mutex share state across threads"])[0]
    assert fresh["theme"] == "Rust"

    stranger = register_and_login(rest)
    assert rest.get(f"/train/{job['id']}", headers=bearer(stranger["access"])).status_code == 404


def test_stats_count_what_exists(rest: httpx.Client, person: dict[str, str]) -> None:
    token = person["access"]
    created = _create_ready(rest, token, RUST[:2])
    rest.put(
        f"/insights/{created[0]['id']}", json={"tags": ["rust", "threads"]}, headers=bearer(token)
    )
    reply = rest.get("/stats", headers=bearer(token))
    assert reply.status_code == 200, reply.text
    stats = reply.json()
    assert stats["totalInsights"] == 2
    assert {c["key"]: c["count"] for c in stats["byStatus"]} == {"READY": 2}
    assert {c["key"]: c["count"] for c in stats["bySource"]} == {"TEXT": 2}
    assert {c["key"]: c["count"] for c in stats["byTag"]} == {"rust": 1, "threads": 1}
    assert sum(c["count"] for c in stats["insightsPerDay"]) == 2
    assert stats["topEntities"] is not None
    assert stats["pipelineLatency"]["p50Ms"] > 0
    types = {c["key"]: c["count"] for c in stats["relationshipsByType"]}
    assert sum(types.values()) >= 1

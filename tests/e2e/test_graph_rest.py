"""Relationships and the mind map through Envoy, on insights enriched by the real pipeline."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.conftest import bearer, register_and_login
from tests.e2e.test_pipeline_rest import wait_for

pytestmark = [pytest.mark.envoy, pytest.mark.redis]

GRAPH_NOTES = [
    "Graph databases like Neo4j store notes as nodes connected by relationships",
    "Connected notes in a knowledge graph make related ideas easy to find",
    "A graph database links my notes so I can explore connections between ideas",
]
BAKING = "Sourdough bread needs a long cold proof overnight in the fridge"


def _ready_insights(rest: httpx.Client, token: str, texts: list[str]) -> list[dict[str, Any]]:
    ids = [
        rest.post("/insights", json={"text": t}, headers=bearer(token)).json()["insight"]["id"]
        for t in texts
    ]
    ready = [wait_for(rest, token, i, {"READY", "FAILED"}) for i in ids]
    assert [r["status"] for r in ready] == ["READY"] * len(texts)
    return ready


def _neighbours(rest: httpx.Client, token: str, insight_id: str) -> dict[str, dict[str, Any]]:
    reply = rest.get(f"/relationships/{insight_id}", headers=bearer(token))
    assert reply.status_code == 200, reply.text
    found: dict[str, dict[str, Any]] = {}
    for rel in reply.json()["relationships"]:
        other = rel["targetId"] if rel["sourceId"] == insight_id else rel["sourceId"]
        found[other] = rel
    return found


def test_related_insights_are_linked_with_reasons(
    rest: httpx.Client, person: dict[str, str]
) -> None:
    token = person["access"]
    notes = _ready_insights(rest, token, [*GRAPH_NOTES, BAKING])
    graph_ids, baking_id = [n["id"] for n in notes[:3]], notes[3]["id"]
    for insight_id in graph_ids:
        neighbours = _neighbours(rest, token, insight_id)
        assert set(graph_ids) - {insight_id} <= set(neighbours)
        assert baking_id not in neighbours
        for rel in neighbours.values():
            assert rel["reason"] and 0 < rel["score"] <= 1
            assert rel["type"] in {"SEMANTIC", "SHARED_ENTITY"}
        scores = [
            r["score"]
            for r in rest.get(f"/relationships/{insight_id}", headers=bearer(token)).json()[
                "relationships"
            ]
        ]
        assert scores == sorted(scores, reverse=True)
    assert _neighbours(rest, token, baking_id) == {}

    mind_map = rest.get(f"/mindmap/{graph_ids[0]}", params={"depth": 2}, headers=bearer(token))
    assert mind_map.status_code == 200
    body = mind_map.json()
    assert body["root"]["id"] == graph_ids[0]
    assert set(graph_ids) <= {n["id"] for n in body["nodes"]}
    assert baking_id not in {n["id"] for n in body["nodes"]}
    assert all(len(n["label"]) <= 60 for n in body["nodes"])
    assert body["edges"]
    assert (
        rest.get(f"/mindmap/{graph_ids[0]}", params={"depth": 4}, headers=bearer(token)).status_code
        == 400
    )


def test_manual_links_follow_the_contract(rest: httpx.Client, person: dict[str, str]) -> None:
    token = person["access"]
    first, second = _ready_insights(rest, token, ["Rust has fearless concurrency", BAKING])
    link = {"sourceId": first["id"], "targetId": second["id"], "reason": "both need patience"}
    created = rest.post("/relationships", json=link, headers=bearer(token))
    assert created.status_code == 200, created.text
    relationship = created.json()["relationship"]
    assert relationship["type"] == "MANUAL" and relationship["reason"] == "both need patience"
    reversed_link = {"sourceId": second["id"], "targetId": first["id"]}
    assert rest.post("/relationships", json=link, headers=bearer(token)).status_code == 409
    assert rest.post("/relationships", json=reversed_link, headers=bearer(token)).status_code == 409
    self_link = {"sourceId": first["id"], "targetId": first["id"]}
    assert rest.post("/relationships", json=self_link, headers=bearer(token)).status_code == 400

    stranger = register_and_login(rest)
    theirs = _ready_insights(rest, stranger["access"], ["A stranger's private note"])[0]
    foreign = {"sourceId": first["id"], "targetId": theirs["id"]}
    assert rest.post("/relationships", json=foreign, headers=bearer(token)).status_code == 404
    assert (
        rest.get(f"/relationships/{first['id']}", headers=bearer(stranger["access"])).status_code
        == 404
    )
    assert (
        rest.delete(
            f"/relationships/{relationship['id']}", headers=bearer(stranger["access"])
        ).status_code
        == 404
    )

    assert (
        rest.delete(f"/relationships/{relationship['id']}", headers=bearer(token)).status_code
        == 200
    )
    assert second["id"] not in _neighbours(rest, token, first["id"])


def test_a_deleted_automatic_link_is_not_recreated(
    rest: httpx.Client, person: dict[str, str]
) -> None:
    token = person["access"]
    first, second = _ready_insights(rest, token, GRAPH_NOTES[:2])
    relationship = _neighbours(rest, token, first["id"])[second["id"]]
    assert (
        rest.delete(f"/relationships/{relationship['id']}", headers=bearer(token)).status_code
        == 200
    )
    # Re-processing (an edit of the text) must not bring the same automatic link back.
    rest.put(f"/insights/{first['id']}", json={"text": GRAPH_NOTES[0] + "."}, headers=bearer(token))
    assert wait_for(rest, token, first["id"], {"READY", "FAILED"})["status"] == "READY"
    again = _neighbours(rest, token, first["id"]).get(second["id"])
    assert again is None or again["type"] != relationship["type"]


def test_deleting_an_insight_removes_its_relationships(
    rest: httpx.Client, person: dict[str, str]
) -> None:
    token = person["access"]
    first, second = _ready_insights(rest, token, GRAPH_NOTES[:2])
    assert second["id"] in _neighbours(rest, token, first["id"])
    assert rest.delete(f"/insights/{second['id']}", headers=bearer(token)).status_code == 200
    # The removal goes through the insight service's outbox: give it a moment, bounded.
    deadline = time.monotonic() + 30
    while second["id"] in _neighbours(rest, token, first["id"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert second["id"] not in _neighbours(rest, token, first["id"])

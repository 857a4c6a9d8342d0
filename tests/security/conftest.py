"""Fixtures of the security suite: an owner with one of each resource, and a client per module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from gateway.stack import Stack
from tests.conftest import bearer, register_and_login
from tests.security.routes import Ids

# Modules that need only one engine run on the embedded stack: the REST and auth layers are the
# same code on both; the injection module runs on both.
EMBEDDED_ONLY = pytest.mark.parametrize("stack", ["embedded"], indirect=True, scope="session")


@dataclass(frozen=True)
class Owner:
    account: dict[str, str]
    ids: Ids

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.account["access"])


@pytest.fixture(scope="module")
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.config.rest_url, timeout=60.0) as http:
        yield http


def ok_json(reply: httpx.Response) -> dict[str, Any]:
    assert reply.status_code == 200, f"{reply.request.url}: {reply.text}"
    body: dict[str, Any] = reply.json()
    return body


def create_owner(client: httpx.Client) -> Owner:
    """A person with two insights, a manual link between them and a training job."""
    account = register_and_login(client)
    headers = bearer(account["access"])
    first, second = (
        ok_json(client.post("/insights", json={"text": text, "tags": ["mine"]}, headers=headers))[
            "insight"
        ]["id"]
        for text in ("The owner's first private note", "The owner's second private note")
    )
    link = {"sourceId": first, "targetId": second, "reason": "the owner's link"}
    relationship = ok_json(client.post("/relationships", json=link, headers=headers))
    job = ok_json(client.post("/train", json={}, headers=headers))
    ids = Ids(first, second, relationship["relationship"]["id"], job["job"]["id"])
    return Owner(account, ids)


def snapshot(client: httpx.Client, owner: Owner) -> dict[str, Any]:
    """What the owner wrote and made; the pipeline's enrichment may move on meanwhile."""
    headers = owner.headers
    keys = ("id", "text", "tags", "version", "source", "createTime")
    insights = []
    for insight_id in (owner.ids.insight, owner.ids.other):
        insight = ok_json(client.get(f"/insights/{insight_id}", headers=headers))["insight"]
        insights.append({k: insight[k] for k in keys})
    links = ok_json(client.get(f"/relationships/{owner.ids.insight}", headers=headers))
    manual = [r for r in links["relationships"] if r["type"] == "MANUAL"]
    job = ok_json(client.get(f"/train/{owner.ids.job}", headers=headers))["job"]
    listed = ok_json(client.get("/insights", params={"tag": "mine"}, headers=headers))
    return {
        "insights": insights,
        "manual": manual,
        "job": job["id"],
        "count": listed["totalSize"],
    }

"""The benchmark's people, their insights and the request mixes sent on their behalf."""

from __future__ import annotations

import time
import urllib.parse
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from bench.load.loadgen import Target

PASSWORD = "benchmark password"  # noqa: S105 - throwaway benchmark accounts
TOPICS = [
    "Apple is opening a research lab in Berlin",
    "Graph databases make connected notes easy to explore",
    "Sourdough bread needs a long cold proof overnight",
    "Rust's ownership model prevents data races at compile time",
    "A morning walk clears my head before deep work",
    "Our team should write design documents before large changes",
]
CONTEXTS = [
    "sharing data between threads in Rust",
    "baking bread at home this weekend",
    "planning the research roadmap for next quarter",
    "how to keep focus during the afternoon",
]
DEFAULT_MIX = {"get": 80.0, "list": 15.0, "create": 2.5, "suggest": 2.5}


@dataclass
class Person:
    email: str
    token: str = ""
    insight_ids: list[str] = field(default_factory=list)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def login(client: httpx.Client, people: Sequence[Person]) -> None:
    """Fresh access tokens (they last 15 minutes; a soak outlives the first ones)."""
    for person in people:
        reply = client.post("/auth/login", json={"email": person.email, "password": PASSWORD})
        reply.raise_for_status()
        person.token = reply.json()["accessToken"]


def prepare(client: httpx.Client, users: int, insights_per_user: int) -> list[Person]:
    """Registers `users` people, each with `insights_per_user` insights, and waits until the
    pipeline has enriched them all, so the measured reads do not compete with it."""
    people = [Person(f"load-{uuid.uuid4().hex[:10]}@example.com") for _ in range(users)]
    for person in people:
        client.post("/auth/register", json={"email": person.email, "password": PASSWORD})
    login(client, people)
    for person in people:
        for n in range(insights_per_user):
            text = f"{TOPICS[n % len(TOPICS)]} ({n})"
            reply = client.post(
                "/insights", json={"text": text, "tags": ["bench"]}, headers=person.auth
            )
            reply.raise_for_status()
            person.insight_ids.append(reply.json()["insight"]["id"])
    wait_for_pipeline(client, people)
    return people


def wait_for_pipeline(client: httpx.Client, people: Sequence[Person], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    for person in people:
        while time.monotonic() < deadline:
            busy = sum(
                client.get(
                    "/insights", params={"status": status, "pageSize": 1}, headers=person.auth
                ).json()["totalSize"]
                for status in ("PENDING", "PROCESSING")
            )
            if busy == 0:
                break
            time.sleep(0.5)


def read_targets(people: Sequence[Person]) -> list[Target]:
    """GET /insights/{id}: each person reads their own insights, round robin."""
    return [
        Target("get", "GET", [f"/insights/{i}" for i in p.insight_ids], headers=p.auth)
        for p in people
    ]


def parse_mix(text: str) -> dict[str, float]:
    mix: dict[str, float] = {}
    for part in text.split(","):
        kind, _, weight = part.partition("=")
        if kind not in DEFAULT_MIX or not weight:
            raise ValueError(f"mix: expected KIND=WEIGHT with KIND in {sorted(DEFAULT_MIX)}")
        mix[kind] = float(weight)
    return mix


def mixed_targets(people: Sequence[Person], mix: Mapping[str, float]) -> list[Target]:
    """The fixed-rate workload: reads, lists, creates and suggestions, spread over the people."""
    targets: list[Target] = []
    share = 1.0 / len(people)
    for p in people:
        per = {kind: weight * share for kind, weight in mix.items()}
        if per.get("get"):
            ids = [f"/insights/{i}" for i in p.insight_ids]
            targets.append(Target("get", "GET", ids, per["get"], headers=p.auth))
        if per.get("list"):
            lists = ["/insights?pageSize=20", "/insights?pageSize=10&tag=bench"]
            targets.append(Target("list", "GET", lists, per["list"], headers=p.auth))
        if per.get("create"):
            for n, topic in enumerate(TOPICS):
                body = f'{{"text": "{topic} (load {n})", "tags": ["load"]}}'
                weight = per["create"] / len(TOPICS)
                targets.append(Target("create", "POST", ["/insights"], weight, body, p.auth))
        if per.get("suggest"):
            paths = [
                "/suggestions?" + urllib.parse.urlencode({"context": c, "limit": 5})
                for c in CONTEXTS
            ]
            targets.append(Target("suggest", "GET", paths, per["suggest"], headers=p.auth))
    return targets
